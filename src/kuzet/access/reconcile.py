"""What an older Kuzet let the command line decide, found at start-up and put right.

Before issue 18, `kuzet init` made its `admin` an active administrator with no rector's
order, every `kuzet user add --role rector` was a rector at once, and a role edit was not
held to the regulation's table. Migrations cannot fix this: what changes who holds a role
is an act of the audit log, which is hash-chained and written by Kuzet alone. So `kuzet
serve` runs `reconcile` before it answers anyone, and `kuzet verify` reports `findings`
without changing anything:

- an active administrator assignment without the rector's order (3.4.2) ends, audited as
  `system`; its holder gets the installer's role (setting the system up, no picture) and a
  pending administrator request that the rector approves with the order, as for a new
  installation;
- more than one active rector assignment: the regulation's rector is one person (3.5.4,
  4.1), but which of them is the rector is the university's to say, not Kuzet's. Nothing
  is taken away: the `several_rectors` alarm is raised, each of them is told at their next
  login, and any of them revokes the others' assignments in the console (never the
  command line); the alarm ends when one is left;
- a role row outside the regulation's table (`access.entitlements`): the
  `role_outside_table` alarm for that role says what is outside and why, and nothing
  changes until the rector narrows the role by an edit, which ends the alarm.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from kuzet.access.approvals import PRIVILEGED_ROLES, ApprovalState
from kuzet.access.entitlements import OUTSIDE_TABLE, outside_table
from kuzet.access.models import Role, RoleAssignment, User
from kuzet.access.roles import (
    ACTIVE,
    ADMINISTRATOR,
    ONE_RECTOR,
    RECTOR,
    SEVERAL_RECTORS,
    Roles,
    active_rectors,
    role_perms,
)
from kuzet.audit.actions import AuditAction
from kuzet.audit.log import SYSTEM, Actor, append_act
from kuzet.catalog.alarms import Alarms, Severity
from kuzet.catalog.models import Alarm

INSTALLER = "installer"
SERVER = Actor(SYSTEM, (), "local")
PENDING = PRIVILEGED_ROLES.word(ApprovalState.PENDING)
REVOKED = PRIVILEGED_ROLES.word(ApprovalState.REVOKED)
UNAPPOINTED = ("the administrator is appointed by the rector's order, which this assignment "
               "lacks: the installer's role until the rector approves the administrator's "
               "with the order's number and date (UE-10-22 3.4.2)")


@dataclass(frozen=True)
class Findings:
    """What start-up finds: administrators without an order (their accounts), the holders
    of active rector assignments, and the roles outside the table with the reason of each."""

    unappointed: list[str]
    rectors: list[str]
    outside: dict[str, str]

    def lines(self) -> list[str]:
        """One line for people per finding, each naming its clause."""
        out = [f"{user}: administrator without the rector's order: the installer's role "
               "until the rector approves the administrator's, asked for again (UE-10-22 "
               "3.4.2)" for user in self.unappointed]
        if len(self.rectors) > 1:
            out.append(several_rectors(self.rectors))
        out += [f"role {role} is outside the regulation's table: {why}; the rector narrows "
                f"it by an edit" for role, why in sorted(self.outside.items())]
        return out


def several_rectors(holders: list[str]) -> str:
    return (f"{len(holders)} rector assignments are active ({', '.join(holders)}): the "
            "rector is one person; one of them revokes the others' in the console, "
            f"Approvals (UE-10-22 {ONE_RECTOR})")


def findings(sessions: sessionmaker[Session]) -> Findings:
    """What `reconcile` would act on, read only (`kuzet verify`)."""
    with sessions() as s:
        return Findings([u for _id, u in _unappointed(s)], _holders(s), _outside(s))


def reconcile(sessions: sessionmaker[Session], now_ns: int) -> Findings:
    """Put right what an older Kuzet left (the module's rules), every change audited as
    `system`; answers what it found."""
    with sessions.begin() as s:
        # one node at a time on a shared PostgreSQL catalog: the second sees the first's
        s.execute(select(Role.name).where(Role.name == ADMINISTRATOR).with_for_update())
        unappointed = _unappointed(s)
        for assignment_id, user in unappointed:
            _appoint_again(s, assignment_id, user, now_ns)
    holders = Roles(sessions).settle_rectors(now_ns)
    if len(holders) > 1:
        _tell_rectors(sessions, holders, now_ns)
    with sessions() as s:
        outside = _outside(s)
        alarmed = set(s.scalars(select(Alarm.subject).where(Alarm.kind == OUTSIDE_TABLE,
                                                            Alarm.cleared_ns.is_(None))))
    alarms = Alarms(sessions)
    for role, why in outside.items():
        alarms.raise_(OUTSIDE_TABLE, role, Severity.CRITICAL,
                      f"role {role} is outside the regulation's table: {why}; the rector "
                      "narrows it by an edit", now_ns=now_ns)
    for role in alarmed - set(outside):
        alarms.clear(OUTSIDE_TABLE, role, now_ns=now_ns)
    return Findings([u for _id, u in unappointed], holders, outside)


def _unappointed(s: Session) -> list[tuple[int, str]]:
    """Active administrator assignments resting on no order: (assignment, account)."""
    return [(a_id, user) for a_id, user in s.execute(
        select(RoleAssignment.id, User.name).join(User, User.id == RoleAssignment.user_id)
        .where(RoleAssignment.role == ADMINISTRATOR, RoleAssignment.state == ACTIVE,
               RoleAssignment.order_no.is_(None))
        .order_by(RoleAssignment.id))]


def _holders(s: Session) -> list[str]:
    names = {u.id: u.name for u in s.scalars(select(User))}
    return [names.get(a.user_id, str(a.user_id)) for a in active_rectors(s)]


def _outside(s: Session) -> dict[str, str]:
    return {r.name: why for r in s.scalars(select(Role).order_by(Role.name))
            if (why := outside_table(r.name, role_perms(r))) is not None}


def _appoint_again(s: Session, assignment_id: int, user: str, now_ns: int) -> None:
    """End the assignment; the installer's role and a pending administrator request in
    its place, each with its audit entry, in the caller's transaction."""
    old = s.get(RoleAssignment, assignment_id)
    if old is None:
        return
    old.state, old.decided_by, old.decided_ns = REVOKED, SYSTEM, now_ns
    append_act(s, SERVER, AuditAction.ROLE_REVOKE, user, role=ADMINISTRATOR,
               assignment=old.id, reason=UNAPPOINTED)
    held = set(s.scalars(select(RoleAssignment.role).where(
        RoleAssignment.user_id == old.user_id, RoleAssignment.state.in_((ACTIVE, PENDING)))))
    if INSTALLER not in held:
        _add(s, old, INSTALLER, ACTIVE, AuditAction.ROLE_ASSIGN, user, now_ns)
    if ADMINISTRATOR not in held:
        _add(s, old, ADMINISTRATOR, PENDING, AuditAction.ROLE_REQUEST, user, now_ns)


def _add(s: Session, old: RoleAssignment, role: str, state: str, action: AuditAction,
         user: str, now_ns: int) -> None:
    active = state == ACTIVE
    a = RoleAssignment(user_id=old.user_id, role=role, group_id=old.group_id, state=state,
                       requested_by=SYSTEM, requested_ns=now_ns,
                       decided_by=SYSTEM if active else None,
                       decided_ns=now_ns if active else None)
    s.add(a)
    s.flush()
    append_act(s, SERVER, action, user, role=role, assignment=a.id, replaces=old.id,
               clause="3.4.2")


def _tell_rectors(sessions: sessionmaker[Session], holders: list[str], now_ns: int) -> None:
    """The alarm, and an entry naming each holder, which each is shown at their next login
    (`access.accounts.NOTICE_ACTIONS`)."""
    message = several_rectors(holders)
    Alarms(sessions).raise_(SEVERAL_RECTORS, RECTOR, Severity.CRITICAL, message,
                            value=float(len(holders)), now_ns=now_ns)
    with sessions.begin() as s:
        for holder in holders:
            append_act(s, SERVER, AuditAction.ROLE_SEVERAL_RECTORS, holder,
                       rectors=holders, reason=message)
