"""One approval machine: a request, someone else's decision, an end by revocation or time.

Holds (clause 3.3), grants (3.5.5), role assignments (4.1) and transfers (3.5.6) are the
same story, and each used to tell it with its own checks and its own refusals (a hold
decided by its requester answered 400, a grant 403). Here it is told once: a `Flow` names,
as data, who may take each step from which state (the permission the regulation gives that
decision, whether the requester and the person concerned are barred, whether the server's
command line may take it: never a decision of the rector's); `check` answers the state a
step leads to or refuses it with one of Kuzet's error kinds. Pure: no database and no
clock — the caller passes the facts, the decider's permissions and the instant
(docs/design/documents.md, "One approval machine").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from kuzet.access.permissions import DECISION_PERMS, Perm
from kuzet.errors import Conflict, Denied, Phrase
from kuzet.timefmt import format_instant


class ApprovalState(StrEnum):
    PENDING = "pending"  # requested, awaiting a decision
    LAPSED = "lapsed"  # awaiting past its window (a hold, which then protects nothing)
    APPROVED = "approved"  # in force (stored as "active" by holds, grants and roles)
    REJECTED = "rejected"
    REVOKED = "revoked"  # ended early by a person (a hold's release)
    EXPIRED = "expired"  # ended by time: never stored, derived from `expires_ns`
    EXECUTED = "executed"  # carried out, once (a transfer)


class Action(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    REVOKE = "revoke"  # a hold's release, a grant's or a role's revocation
    EXECUTE = "execute"


AWAITING = frozenset({ApprovalState.PENDING, ApprovalState.LAPSED})
TERMINAL = frozenset({ApprovalState.REJECTED, ApprovalState.REVOKED, ApprovalState.EXPIRED,
                      ApprovalState.EXECUTED})
# Where each step leads, whatever the flow; a flow only says from where and by whom.
LEADS_TO = {Action.APPROVE: ApprovalState.APPROVED, Action.REJECT: ApprovalState.REJECTED,
            Action.REVOKE: ApprovalState.REVOKED, Action.EXECUTE: ApprovalState.EXECUTED}
# How a refusal names each step, said in the caller's language ("to approve a hold").
ACTION_WORDS = {Action.APPROVE: Phrase("approve"), Action.REJECT: Phrase("reject"),
                Action.REVOKE: Phrase("revoke"), Action.EXECUTE: Phrase("execute")}


@dataclass(frozen=True)
class Step:
    """Who may take `action` from `sources`: a holder of any of `perms` (or, when
    `command_line`, the server's command line in their stead: withdrawing a request or
    ending a role that is no decision of the rector's); when `others_only`, neither the
    requester nor the person the request concerns, whatever they hold (a decision is never
    one's own); when `requester`, also whoever made the request, whatever they hold, the
    server's command line included when it made it (withdrawing one's own request), and
    nobody else without `perms`. `refusal` is the message for a decider without `perms`."""

    action: Action
    sources: frozenset[ApprovalState]
    perms: frozenset[Perm]
    others_only: bool = False
    command_line: bool = False
    requester: bool = False
    refusal: Phrase | None = None

    def __post_init__(self) -> None:
        # A wrong step is a bug in the flows below, not bad input: raised as an assert
        # would be, but not stripped by -O.
        if not self.perms:
            raise AssertionError("every step names who may take it")
        if self.sources & TERMINAL:
            raise AssertionError("terminal states stay terminal")
        if (self.command_line or self.requester) and self.action in (Action.APPROVE,
                                                                     Action.REJECT):
            raise AssertionError("a decision is never the server's command line's, nor "
                                 "its requester's")
        if self.requester and self.others_only:
            raise AssertionError("a step is either its requester's or never theirs")


@dataclass(frozen=True)
class Flow:
    noun: Phrase  # how messages name one request: "hold", "transfer request"
    clause: str  # the clause of UE-10-22 that says who decides
    asked: Phrase  # how its requester asked: "requested", "registered"
    steps: tuple[Step, ...]
    words: Mapping[ApprovalState, str]  # how the flow stores and shows each of its states

    def state(self, word: str) -> ApprovalState:
        """The state a stored (or shown) word stands for."""
        for state, w in self.words.items():
            if w == word:
                return state
        raise ValueError(f"a {self.noun} is never {word!r}")

    def word(self, state: ApprovalState) -> str:
        return self.words[state]


@dataclass(frozen=True)
class RequestFacts:
    """What the machine needs of one request."""

    ref: str  # how messages name it: "7", "Т-2026/0001"
    state: ApprovalState  # as stored, before time is applied
    requested_by: str
    subject: str | None = None  # the person a grant or a role is for
    expires_ns: int | None = None  # an approval ends by itself at this instant
    note: str | None = None  # the decision's note, shown when a rejection is met again


@dataclass(frozen=True)
class Decider:
    name: str
    perms: frozenset[Perm]  # what the decider's roles give now (none on the command line)
    command_line: bool = False  # acting on the server's command line (source "local")


def current(request: RequestFacts, now_ns: int) -> ApprovalState:
    """The request's state at `now_ns`: an approval past its expiry has expired."""
    if (request.state is ApprovalState.APPROVED and request.expires_ns is not None
            and now_ns >= request.expires_ns):
        return ApprovalState.EXPIRED
    return request.state


def check(flow: Flow, action: Action, request: RequestFacts, decider: Decider,
          now_ns: int) -> ApprovalState:
    """The state `action` by `decider` takes `request` to at `now_ns`, or the refusal:
    Conflict when the request's state does not allow the step (decided already, not yet
    decided, ended), Denied when the decider may not take it (on the command line, a step
    it is never given is Denied whatever the state, so the attempt is audited)."""
    steps = [s for s in flow.steps if s.action is action]
    if decider.command_line and not any(s.command_line or s.requester for s in steps):
        raise Denied(_not_on_the_command_line(flow, action, steps))
    state = current(request, now_ns)
    step = next((s for s in steps if state in s.sources), None)
    if step is None:
        raise Conflict("{noun} {ref} {where}", noun=flow.noun, ref=request.ref,
                       where=_where(flow, request, state))
    if decider.command_line and not (step.command_line or step.requester):
        raise Denied(_not_on_the_command_line(flow, action, [step]))
    if step.others_only and decider.name in (request.requested_by, request.subject):
        if request.subject is not None:
            raise Denied("clause {clause}: a {noun} is decided by someone other than who "
                         "{asked} it or whom it concerns",
                         clause=flow.clause, noun=flow.noun, asked=flow.asked)
        raise Denied("clause {clause}: a {noun} is decided by someone other than who {asked} "
                     "it", clause=flow.clause, noun=flow.noun, asked=flow.asked)
    if step.requester and decider.name == request.requested_by:
        return LEADS_TO[action]
    # the command line holds no permission, whatever its decider names
    if not (step.command_line if decider.command_line else decider.perms & step.perms):
        raise Denied(step.refusal or Phrase(
            "clause {clause}: to {action} a {noun} takes {perms}", clause=flow.clause,
            action=ACTION_WORDS[action], noun=flow.noun, perms=" or ".join(sorted(step.perms))))
    return LEADS_TO[action]


def _not_on_the_command_line(flow: Flow, action: Action, steps: list[Step]) -> Phrase:
    """The refusal of `steps` (whatever state the request is in) on the server's command
    line: whoever has a shell on the server is not the rector (clauses 3.3, 3.5.6), so a
    decision of the rector's is taken by the rector's own account, password and second
    factor, in the console or the API."""
    if any(s.perms & DECISION_PERMS for s in steps):
        return Phrase("refused: only the rector decides, with the rector's own account and "
                      "second factor in the console or the API; the server's command line "
                      "may show a {noun} but never decide it (UE-10-22 {clause})",
                      noun=flow.noun, clause=flow.clause)
    return Phrase("refused: to {action} a {noun} takes a person's own account, not the "
                  "server's command line (UE-10-22 {clause})",
                  action=ACTION_WORDS[action], noun=flow.noun, clause=flow.clause)


def _where(flow: Flow, request: RequestFacts, state: ApprovalState) -> Phrase:
    """Where the request stands, for a step its state does not allow (a Phrase, so that
    the refusal is said in the caller's language; the state's word is the flow's own)."""
    if state in AWAITING:
        return Phrase("awaits a decision")
    if state is ApprovalState.APPROVED:
        return Phrase("was decided already ({word})", word=Phrase(flow.word(state)))
    if state is ApprovalState.REJECTED:
        return (Phrase("was rejected: {note}", note=request.note) if request.note
                else Phrase("was rejected"))
    if state is ApprovalState.EXPIRED:
        return (Phrase("expired") if request.expires_ns is None
                else Phrase("expired at {at}", at=format_instant(request.expires_ns)))
    if state is ApprovalState.EXECUTED:
        return Phrase("was executed already; it is carried out once")
    return Phrase("was {word} already", word=Phrase(flow.word(state)))


# How the flows store (and the API shows) their states: the words they stored before the
# machine, so no row changes.
_WORDS = {ApprovalState.PENDING: "pending", ApprovalState.REJECTED: "rejected",
                   ApprovalState.EXPIRED: "expired"}
_ACTIVE_WORDS = {**_WORDS, ApprovalState.APPROVED: "active",
                 ApprovalState.REVOKED: "revoked"}


def _decisions(perm: Perm, sources: frozenset[ApprovalState] = frozenset({
        ApprovalState.PENDING})) -> tuple[Step, ...]:
    """Approve and reject an awaiting request: by `perm`, never one's own."""
    return tuple(Step(a, sources, frozenset({perm}), others_only=True)
                 for a in (Action.APPROVE, Action.REJECT))


# Clause 3.3: the rector approves (with an expiry of at most three years) or rejects a
# hold, lapsed or not, and may release it early.
HOLDS = Flow(Phrase("hold"), "3.3", Phrase("requested"), (
    *_decisions(Perm.HOLD_APPROVE, AWAITING),
    Step(Action.REVOKE, frozenset({ApprovalState.APPROVED}), frozenset({Perm.HOLD_APPROVE})),
), {**_ACTIVE_WORDS, ApprovalState.LAPSED: "lapsed", ApprovalState.REVOKED: "released"})

# Clause 3.5.5: the rector approves a grant the head of security or the administrator
# asked for; either of them, or the rector, may revoke it before it ends by itself.
GRANTS = Flow(Phrase("grant"), "3.5.5", Phrase("requested"), (
    *_decisions(Perm.GRANT_APPROVE),
    Step(Action.REVOKE, frozenset({ApprovalState.PENDING, ApprovalState.APPROVED}),
         frozenset({Perm.GRANT_REQUEST, Perm.GRANT_APPROVE})),
), _ACTIVE_WORDS)

# Clause 4.1: a role that reaches no stored video is given and taken by the administrator
# (at once, so it is never pending unless it reached video when requested)...
_ROLE_REVOKE = frozenset({Perm.USER_ADMIN, Perm.ROLE_APPROVE})
ROLES = Flow(Phrase("role assignment"), "4.1", Phrase("requested"), (
    *_decisions(Perm.ROLE_APPROVE),
    Step(Action.REVOKE, frozenset({ApprovalState.PENDING, ApprovalState.APPROVED}),
         _ROLE_REVOKE, command_line=True),
), _ACTIVE_WORDS)
# ...one that reaches stored video or holds a rector's decision waits for the rector and,
# once active, is taken away by the rector too, in the console or the API, never on the
# command line: an administrator (or a shell on the server) who could strip the
# vice-rector's or the rector's role could then treat the account as one below their own,
# or make a rector of their choice (clauses 3.3, 3.4.2, 3.5.4). Nobody takes such a role
# from themselves (a rector's role ends by a hand-over: `access.roles`). While it waits,
# the request is withdrawn by whoever made it or by the rector: an administrator who
# could withdraw someone else's request for the vice-rector, or the rector's hand-over to
# a successor, would decide who holds them.
PRIVILEGED_ROLES = Flow(Phrase("role assignment"), "4.1", Phrase("requested"), (
    *_decisions(Perm.ROLE_APPROVE),
    Step(Action.REVOKE, frozenset({ApprovalState.PENDING}), frozenset({Perm.ROLE_APPROVE}),
         requester=True,
         refusal=Phrase("refused: a request for a role that reaches stored video or a "
                        "rector's decision is withdrawn by whoever made it, or decided by the "
                        "rector (UE-10-22 3.4.2, 3.5.4, 4.1)")),
    Step(Action.REVOKE, frozenset({ApprovalState.APPROVED}), frozenset({Perm.ROLE_APPROVE}),
         others_only=True,
         refusal=Phrase("clauses 3.4.2, 3.5.4: a role that reaches stored video is taken "
                        "away by the rector, as it was given")),
), _ACTIVE_WORDS)

# Clause 3.5.6: the rector decides a transfer request; the head of security or the
# administrator carries the approval out, once, before it expires.
TRANSFERS = Flow(Phrase("transfer request"), "3.5.6", Phrase("registered"), (
    *_decisions(Perm.TRANSFER_DECIDE),
    Step(Action.EXECUTE, frozenset({ApprovalState.APPROVED}),
         frozenset({Perm.EXPORT_EXECUTE})),
), {**_WORDS, ApprovalState.APPROVED: "approved",
    ApprovalState.EXECUTED: "executed"})

# Clauses 4.1, 4.3: an edition or amendment of the regulation, prepared by the head of
# internal security or the administrator, comes into force by the rector's approval, with
# the rector's order; a draft not approved is rejected by the rector or withdrawn by
# whoever prepared it.
EDITIONS = Flow(Phrase("regulation edition"), "4.1, 4.3", Phrase("prepared"), (
    *_decisions(Perm.EDITION_APPROVE),
    Step(Action.REVOKE, frozenset({ApprovalState.PENDING}), frozenset({Perm.EDITION_APPROVE}),
         requester=True),
), {**_WORDS, ApprovalState.APPROVED: "approved", ApprovalState.REVOKED: "withdrawn"})

# Clause 3.2.11: a centre that receives live video, and each change of its cameras, is
# prepared by the head of internal security or the administrator and in force only by the
# rector's approval; a request not yet decided is rejected by the rector or withdrawn by
# whoever made it.
CENTRES = Flow(Phrase("centre request"), "3.2.11", Phrase("requested"), (
    *_decisions(Perm.CENTRE_APPROVE),
    Step(Action.REVOKE, frozenset({ApprovalState.PENDING}), frozenset({Perm.CENTRE_APPROVE}),
         requester=True),
), {**_WORDS, ApprovalState.APPROVED: "approved", ApprovalState.REVOKED: "withdrawn"})

FLOWS = (HOLDS, GRANTS, ROLES, PRIVILEGED_ROLES, TRANSFERS, EDITIONS, CENTRES)
