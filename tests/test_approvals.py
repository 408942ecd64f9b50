"""The one approval machine (access.approvals), pure: who may take which step of a
hold, a grant, a role assignment or a transfer, from which state, and what refusals say."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kuzet.access.approvals import (
    AWAITING,
    FLOWS,
    GRANTS,
    HOLDS,
    PRIVILEGED_ROLES,
    ROLES,
    TERMINAL,
    TRANSFERS,
    Action,
    ApprovalState,
    Decider,
    Flow,
    RequestFacts,
    Step,
    check,
    current,
)
from kuzet.access.permissions import DECISION_PERMS, Perm
from kuzet.errors import Conflict, Denied

S = ApprovalState
NOW = 1_800_000_000 * 10**9
RECTOR = Decider("rector", frozenset(DECISION_PERMS | {Perm.HOLD_READ}))
HEAD = Decider("head", frozenset({Perm.HOLD_REQUEST, Perm.GRANT_REQUEST, Perm.EXPORT_EXECUTE,
                                  Perm.TRANSFER_REGISTER}))
ADMIN = Decider("admin", frozenset({Perm.USER_ADMIN, Perm.GRANT_REQUEST, Perm.HOLD_REQUEST}))
COMMAND_LINE = Decider("local:root", frozenset(), command_line=True)


def _asked(state: S = S.PENDING, by: str = "head", subject: str | None = None,
           expires_ns: int | None = None, note: str | None = None) -> RequestFacts:
    return RequestFacts("7", state, by, subject, expires_ns, note)


def test_the_rector_decides_what_someone_else_asked_for() -> None:
    for flow in (HOLDS, GRANTS, ROLES, TRANSFERS):
        assert check(flow, Action.APPROVE, _asked(), RECTOR, NOW) is S.APPROVED
        assert check(flow, Action.REJECT, _asked(), RECTOR, NOW) is S.REJECTED
    # a hold past its decision window (lapsed) is still the rector's to decide
    assert check(HOLDS, Action.APPROVE, _asked(S.LAPSED), RECTOR, NOW) is S.APPROVED


def test_nobody_decides_their_own_request_nor_one_about_themselves() -> None:
    with pytest.raises(Denied, match=r"clause 3\.3: a hold is decided by someone other than "
                                     "who requested it$"):
        check(HOLDS, Action.APPROVE, _asked(by="rector"), RECTOR, NOW)
    with pytest.raises(Denied, match=r"3\.5\.5.*or whom it concerns"):
        check(GRANTS, Action.APPROVE, _asked(subject="rector"), RECTOR, NOW)
    with pytest.raises(Denied, match=r"4\.1.*or whom it concerns"):
        check(ROLES, Action.REJECT, _asked(subject="rector"), RECTOR, NOW)
    with pytest.raises(Denied, match=r"3\.5\.6.*registered it"):
        check(TRANSFERS, Action.APPROVE, _asked(by="rector"), RECTOR, NOW)
    # nor on the command line, which decides nothing of the rector's at all
    with pytest.raises(Denied, match=r"^refused: only the rector decides.*\(UE-10-22 4\.1\)$"):
        check(ROLES, Action.APPROVE, _asked(by="local:root"), COMMAND_LINE, NOW)


def test_only_the_permission_the_regulation_names_decides() -> None:
    for flow in (HOLDS, GRANTS, ROLES, TRANSFERS):
        with pytest.raises(Denied, match="takes"):
            check(flow, Action.APPROVE, _asked(by="guard"), HEAD, NOW)
    # no command decides: a role assignment's approval is the rector's own account's
    with pytest.raises(Denied, match="command line"):
        check(ROLES, Action.APPROVE, _asked(), COMMAND_LINE, NOW)
    # the machine holds every decision to a permission only the rector's role may hold
    for flow in FLOWS:
        for step in flow.steps:
            if step.action in (Action.APPROVE, Action.REJECT):
                assert step.perms <= DECISION_PERMS, (flow.noun, step)
                assert step.others_only, (flow.noun, step)


def test_revoking_and_releasing() -> None:
    assert check(HOLDS, Action.REVOKE, _asked(S.APPROVED), RECTOR, NOW) is S.REVOKED
    with pytest.raises(Conflict, match="hold 7 awaits a decision"):
        check(HOLDS, Action.REVOKE, _asked(), RECTOR, NOW)
    with pytest.raises(Denied, match=r"hold\.approve"):
        check(HOLDS, Action.REVOKE, _asked(S.APPROVED), HEAD, NOW)
    # a grant is withdrawn by who asked for it, or ended by the rector
    assert check(GRANTS, Action.REVOKE, _asked(), HEAD, NOW) is S.REVOKED
    assert check(GRANTS, Action.REVOKE, _asked(S.APPROVED), RECTOR, NOW) is S.REVOKED
    # an active role that reaches stored video goes only by the rector, never by the
    # command line (which may withdraw a request, or end a role reaching no video)
    assert check(ROLES, Action.REVOKE, _asked(S.APPROVED), ADMIN, NOW) is S.REVOKED
    assert check(PRIVILEGED_ROLES, Action.REVOKE, _asked(by="admin"), ADMIN, NOW) is S.REVOKED
    with pytest.raises(Denied, match=r"^clauses 3\.4\.2, 3\.5\.4: a role that reaches"):
        check(PRIVILEGED_ROLES, Action.REVOKE, _asked(S.APPROVED), ADMIN, NOW)
    assert check(PRIVILEGED_ROLES, Action.REVOKE, _asked(S.APPROVED), RECTOR,
                 NOW) is S.REVOKED
    with pytest.raises(Denied, match=r"^refused: only the rector decides"):
        check(PRIVILEGED_ROLES, Action.REVOKE, _asked(S.APPROVED), COMMAND_LINE, NOW)
    for state in (S.PENDING, S.APPROVED):
        assert check(ROLES, Action.REVOKE, _asked(state), COMMAND_LINE, NOW) is S.REVOKED
    assert check(PRIVILEGED_ROLES, Action.REVOKE, _asked(by=COMMAND_LINE.name), COMMAND_LINE,
                 NOW) is S.REVOKED
    with pytest.raises(Conflict, match="grant 7 was revoked already"):
        check(GRANTS, Action.REVOKE, _asked(S.REVOKED), RECTOR, NOW)


def test_a_privileged_request_is_withdrawn_only_by_who_made_it_or_the_rector() -> None:
    """Issue 18 review, minor: any holder of user.admin (and any shell on the server)
    withdrew someone else's pending request for the vice-rector, or the rector's hand-over
    to a successor. Now the requester withdraws it, or the rector decides; the refusal
    names the clauses."""
    theirs = _asked(by="local:alice@recorder", subject="heir")
    shell = Decider("local:root@server", frozenset(DECISION_PERMS), command_line=True)
    for decider in (ADMIN, COMMAND_LINE, HEAD, shell):
        with pytest.raises(Denied, match=r"^refused: a request for a role that reaches stored "
                                         r"video.*\(UE-10-22 3\.4\.2, 3\.5\.4, 4\.1\)$"):
            check(PRIVILEGED_ROLES, Action.REVOKE, theirs, decider, NOW)
    alice = Decider("local:alice@recorder", frozenset(), command_line=True)
    assert check(PRIVILEGED_ROLES, Action.REVOKE, theirs, alice, NOW) is S.REVOKED
    assert check(PRIVILEGED_ROLES, Action.REVOKE, theirs, RECTOR, NOW) is S.REVOKED
    # a role reaching no stored video: still the administrator's and the command line's
    assert check(ROLES, Action.REVOKE, theirs, ADMIN, NOW) is S.REVOKED


def test_nobody_takes_a_privileged_role_from_themselves() -> None:
    """Issue 18 review, item 3: the rector revoked the rector's own role (then the command
    line made a new rector at once). The machine refuses an active privileged role's end
    to the person it concerns; `access.roles` also keeps the last rector."""
    with pytest.raises(Denied, match=r"4\.1.*or whom it concerns"):
        check(PRIVILEGED_ROLES, Action.REVOKE, _asked(S.APPROVED, by="local:root",
                                                      subject="rector"), RECTOR, NOW)
    assert check(PRIVILEGED_ROLES, Action.REVOKE, _asked(S.APPROVED, by="local:root",
                                                         subject="rector2"),
                 RECTOR, NOW) is S.REVOKED


def test_the_command_line_takes_no_decision_of_the_rectors_whatever_it_holds() -> None:
    """Issue 18, item 1: a shell on the server is not the rector. A decider on the command
    line is refused every step that takes a permission of the rector's (holds 3.3, grants
    3.5.5, roles 4.1, transfers 3.5.6), even one that names every such permission, with the
    flow's clause; the rector's own account takes the same step."""
    shell = Decider("local:root@server", frozenset(DECISION_PERMS), command_line=True)
    taken = 0
    for flow in FLOWS:
        for step in flow.steps:
            if not step.perms & DECISION_PERMS or step.command_line or step.requester:
                continue  # (a requester's own step: test_a_privileged_request_is_withdrawn…)
            for source in step.sources:
                asked = _asked(source)
                with pytest.raises(Denied) as refused:
                    check(flow, step.action, asked, shell, NOW)
                assert str(refused.value).startswith("refused: only the rector decides")
                assert str(refused.value).endswith(f"(UE-10-22 {flow.clause})")
                assert check(flow, step.action, asked, RECTOR, NOW) is not None
                taken += 1
    assert taken >= 12


def test_an_approval_expires_by_time() -> None:
    asked = _asked(S.APPROVED, expires_ns=NOW + 10)
    assert current(asked, NOW + 9) is S.APPROVED
    assert current(asked, NOW + 10) is S.EXPIRED
    assert current(_asked(S.PENDING, expires_ns=NOW), NOW + 10) is S.PENDING
    assert check(TRANSFERS, Action.EXECUTE, asked, HEAD, NOW + 9) is S.EXECUTED
    with pytest.raises(Conflict, match=r"transfer request 7 expired at 2027-01-15T08:00:00\.00"):
        check(TRANSFERS, Action.EXECUTE, asked, HEAD, NOW + 10)
    with pytest.raises(Conflict, match="grant 7 expired"):
        check(GRANTS, Action.REVOKE, asked, HEAD, NOW + 10)


def test_conflicts_say_where_the_request_stands() -> None:
    cases = [
        (TRANSFERS, Action.EXECUTE, _asked(), "transfer request 7 awaits a decision"),
        (TRANSFERS, Action.EXECUTE, _asked(S.REJECTED, note="No case number"),
         "transfer request 7 was rejected: No case number"),
        (TRANSFERS, Action.EXECUTE, _asked(S.EXECUTED),
         "transfer request 7 was executed already; it is carried out once"),
        (TRANSFERS, Action.APPROVE, _asked(S.APPROVED),
         "transfer request 7 was decided already (approved)"),
        (HOLDS, Action.REJECT, _asked(S.APPROVED), "hold 7 was decided already (active)"),
        (HOLDS, Action.APPROVE, _asked(S.REVOKED), "hold 7 was released already"),
        (ROLES, Action.APPROVE, _asked(S.REJECTED), "role assignment 7 was rejected"),
    ]
    for flow, action, asked, message in cases:
        with pytest.raises(Conflict) as exc:
            check(flow, action, asked, RECTOR, NOW)
        assert str(exc.value) == message


def test_flows_store_their_own_words() -> None:
    assert HOLDS.word(S.APPROVED) == GRANTS.word(S.APPROVED) == ROLES.word(S.APPROVED) == "active"
    assert TRANSFERS.word(S.APPROVED) == "approved"
    assert HOLDS.word(S.REVOKED) == "released"
    for flow in FLOWS:
        for state, word in flow.words.items():
            assert flow.state(word) is state
    with pytest.raises(ValueError, match="never 'executed'"):
        GRANTS.state("executed")


def test_a_step_out_of_a_terminal_state_cannot_be_declared() -> None:
    with pytest.raises(AssertionError, match="terminal"):
        Step(Action.REVOKE, frozenset({S.EXPIRED}), frozenset({Perm.HOLD_APPROVE}))
    with pytest.raises(AssertionError, match="never the server's command line"):
        Step(Action.APPROVE, frozenset({S.PENDING}), frozenset({Perm.HOLD_APPROVE}),
             command_line=True)


PEOPLE = ("head", "rector", "admin", "inspector", "local:root")
DECIDERS = {
    "head": HEAD, "rector": RECTOR, "admin": ADMIN,
    "inspector": Decider("inspector", frozenset({Perm.ARCHIVE_VIEW})), "local:root": COMMAND_LINE,
}


@settings(max_examples=300, deadline=None)
@given(flow=st.sampled_from(FLOWS), requester=st.sampled_from(PEOPLE),
       subject=st.none() | st.sampled_from(PEOPLE),
       expires_in=st.none() | st.integers(0, 100),
       steps=st.lists(st.tuples(st.sampled_from(list(Action)), st.sampled_from(PEOPLE),
                                st.integers(0, 30)), max_size=12))
def test_no_sequence_approves_ones_own_request_or_leaves_a_terminal_state(
        flow: Flow, requester: str, subject: str | None, expires_in: int | None,
        steps: list[tuple[Action, str, int]]) -> None:
    state, now = S.PENDING, NOW
    expires = None if expires_in is None else NOW + expires_in
    for action, who, wait in steps:
        now += wait
        asked = RequestFacts("1", state, requester, subject, expires)
        before = current(asked, now)
        try:
            after = check(flow, action, asked, DECIDERS[who], now)
        except Conflict:
            assert not any(s.action is action and before in s.sources for s in flow.steps)
            continue
        except Denied:
            continue
        assert before not in TERMINAL, "terminal states stay terminal"
        if action in (Action.APPROVE, Action.REJECT):
            assert before in AWAITING, (action, who)
            assert who not in (requester, subject), (action, who)
            assert DECIDERS[who].perms & DECISION_PERMS, "only the rector's permission decides"
        state = after
    final = current(RequestFacts("1", state, requester, subject, expires), now)
    if final in TERMINAL:
        for action in Action:
            with pytest.raises(Conflict):
                check(flow, action, RequestFacts("1", state, requester, subject, expires),
                      RECTOR, now)
