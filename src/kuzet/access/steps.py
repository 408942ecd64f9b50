"""One step of the approval machine in its transaction: checked, applied, audited.

`access.approvals` answers, purely, whether a step may be taken. What its users do with
the answer is the same for holds, grants, role assignments and transfers, and each used
to do it with its own copy: a refusal by rule (Denied) is an act of clause 4.2 too, so it
is written to the audit log as refused, in a transaction that must commit although the
step failed, and raised only once it has; a step taken writes the same entry as allowed,
in the transaction that changes the row. Here it is done once. `take_step` is that
transaction, and the rule is its shape rather than something each caller remembers: the
Denied that `StepTransaction.take` (or `refuse`) raises leaves the `with` block, the
transaction commits the refused entry, and the same Denied then reaches the caller; any
other error rolls everything back. (docs/design/documents.md, "One approval machine")
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, NoReturn

from sqlalchemy.orm import Session, sessionmaker

from kuzet.access.approvals import Action, ApprovalState, Decider, Flow, RequestFacts, check
from kuzet.audit.actions import AuditAction
from kuzet.audit.log import Actor, access_detail, append
from kuzet.catalog.models import AuditEntry
from kuzet.errors import Denied


@dataclass(frozen=True)
class Entry:
    """The audit entry a step writes, taken or refused: its action, its subject, the detail
    both outcomes carry, and its instant (None: when it is written; a hold's steps are
    logged at the step's own instant)."""

    action: AuditAction
    subject: str
    detail: Mapping[str, Any] = field(default_factory=dict)
    at_ns: int | None = None


class StepTransaction:
    """One step being taken by `actor` in `session`'s transaction (`take_step`)."""

    def __init__(self, session: Session, actor: Actor) -> None:
        self.session = session
        self.actor = actor
        self.refused: Denied | None = None

    def take(self, flow: Flow, action: Action, facts: RequestFacts, decider: Decider,
             now_ns: int, entry: Entry) -> ApprovalState:
        """The state `action` takes the request to (`approvals.check`), for the caller to
        store and then `record`. A Denied is written as `entry`, refused, and raised, to be
        committed and raised again by `take_step`; a Conflict is raised as it is."""
        try:
            return check(flow, action, facts, decider, now_ns)
        except Denied as exc:
            self.refuse(entry, exc)

    def refuse(self, entry: Entry, exc: Denied) -> NoReturn:
        """Refuse the step by a rule of the caller's own, as `take` refuses by the machine's."""
        self._write(entry, "refused", reason=str(exc))
        self.refused = exc
        raise exc

    def record(self, entry: Entry, **detail: Any) -> AuditEntry:
        """The step taken, in the audit log: `entry`, allowed, with `detail` added."""
        return self._write(entry, "allowed", **detail)

    def _write(self, entry: Entry, outcome: str, **detail: Any) -> AuditEntry:
        return append(self.session, self.actor.name, entry.action, entry.subject,
                      access_detail(self.actor, outcome=outcome, **entry.detail, **detail),
                      entry.at_ns)


@contextmanager
def take_step(sessions: sessionmaker[Session], actor: Actor) -> Iterator[StepTransaction]:
    """A transaction for one step by `actor`: committed when the block ends, or when it
    ends by the refusal the step wrote, which is raised after the commit."""
    with sessions.begin() as s:
        step = StepTransaction(s, actor)
        try:
            yield step
        except Denied as exc:
            if exc is not step.refused:
                raise
    if step.refused is not None:
        raise step.refused
