"""Roles as data, camera groups, and role assignments that wait for the rector.

Rules (docs/design/access.md):
- a role that reaches stored video (archive view, export) or takes a decision of the
  rector's is *privileged*: assigning it makes a pending request that takes effect only
  when the rector approves, and once active it is taken away by the rector too, in the
  console or the API (never on the server's command line);
- the administrator's appointment carries the rector's order number and date (3.4.2),
  given with the request or by the rector when approving it (`kuzet init`'s request for
  the first administrator has none yet);
- a role is edited by the rector within the regulation's table (`access.entitlements`),
  recording the order the edit rests on (4.1);
- nobody decides on a request they made, nor on their own account: a role asked for
  one's own account waits for the rector, whatever role it is (3.4.2, 3.5.4), and so does
  a role that shows a picture of a camera asked for by someone who sees no stored video
  themselves (`kuzet init`'s installer, the server's command line), who could otherwise
  give it to an account they made and log in as it;
- who is rector: the first rector is made on the server's command line while there is
  none (source "local", audited with the operating-system user and host); after that a
  rector asked for on the command line waits for the current rector, whose approval hands
  the role over. The web API never gives the rector role. The rector's role is never taken
  by its holder, and the last one never: it ends only by a hand-over. Who is rector is
  decided under a lock on the rector's role row, so that two requests at once on
  PostgreSQL cannot both find no rector.
Decisions and revocations are steps of the approval machine (`access.approvals`
`ROLES`, `PRIVILEGED_ROLES`); `decider_of` tells it what a decider's roles give.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from kuzet.access import changes
from kuzet.access.approvals import (
    PRIVILEGED_ROLES,
    ROLES,
    Action,
    ApprovalState,
    Decider,
    Flow,
    RequestFacts,
)
from kuzet.access.entitlements import OUTSIDE_TABLE, check_entitlements
from kuzet.access.lookup import camera_ids, user_named
from kuzet.access.models import CameraGroup, CameraGroupMember, Role, RoleAssignment, User
from kuzet.access.permissions import PICTURE_PERMS, Perm, check_role_edit, is_privileged
from kuzet.access.steps import Entry, take_step
from kuzet.audit.actions import AuditAction
from kuzet.audit.log import Actor, append_act
from kuzet.catalog.alarms import Alarms
from kuzet.catalog.models import Camera
from kuzet.errors import Conflict, Denied, Invalid, NotFound, Phrase

LOCAL = "local"
RECTOR = "rector"
ADMINISTRATOR = "administrator"
ACTIVE = ROLES.word(ApprovalState.APPROVED)  # how an assignment in force is stored
# The entry each step of the approval machine writes, taken or refused.
AUDITED = {Action.APPROVE: AuditAction.ROLE_APPROVE, Action.REJECT: AuditAction.ROLE_REJECT,
           Action.REVOKE: AuditAction.ROLE_REVOKE}
# What shows a picture of a camera by itself. `camera.admin`'s still also needs archive
# view at its instant (`access.pictures`), so the installer's role shows none.
SHOWS_PICTURE = PICTURE_PERMS - {Perm.CAMERA_ADMIN}
# The alarm while more than one rector assignment is active (an installation upgraded from
# a Kuzet that made every rector asked for on the command line at once): subject "rector".
SEVERAL_RECTORS = "several_rectors"
ONE_RECTOR = "3.5.4, 4.1"  # the regulation's rector is one person, whose order rules
HAND_OVER_ONLY = Phrase("refused: a rector's role is not taken away by its holder, and the "
                        "last one by nobody: it ends when the rector approves a successor "
                        "asked for on the server's command line (UE-10-22 {clauses})",
                        clauses=ONE_RECTOR)


APPOINTED = Phrase("the administrator is appointed")


def role_perms(role: Role) -> frozenset[Perm]:
    return frozenset(Perm(p) for p in json.loads(role.perms))


def decider_of(s: Session, actor: Actor) -> Decider:
    """`actor` as the approval machine sees a decider: the permissions their roles give
    now (roles are data the rector may edit), and whether they act on the command line.
    The command line holds no role, whatever roles its actor names: whoever has a shell on
    the server is not the rector (clauses 3.3, 3.5.6)."""
    if actor.source == LOCAL:
        return Decider(actor.name, frozenset(), command_line=True)
    perms = frozenset(p for r in s.scalars(select(Role).where(Role.name.in_(actor.roles)))
                      for p in role_perms(r))
    return Decider(actor.name, perms)


@dataclass(frozen=True)
class Order:
    """The rector's order a step rests on: its number and its date (YYYY-MM-DD)."""

    no: str
    date: str

    @classmethod
    def of(cls, no: str | None, date: str | None, what: Phrase, clause: str) -> Order:
        """Both parts, checked, or the refusal naming `clause`: `what` rests on an order."""
        if not no or not no.strip() or not date:
            raise Invalid("refused: {what} by the rector's order: give its number and date "
                          "(UE-10-22 {clause})", what=what, clause=clause)
        try:
            dt.date.fromisoformat(date)
        except ValueError as exc:
            raise Invalid("refused: the order's date {date} is not YYYY-MM-DD "
                          "(UE-10-22 {clause})", date=repr(date), clause=clause) from exc
        return cls(no.strip(), date)


def active_rectors(s: Session) -> list[RoleAssignment]:
    """The rector assignments in force, oldest first (one, unless an older Kuzet made
    more: `access.reconcile`)."""
    return list(s.scalars(select(RoleAssignment).where(
        RoleAssignment.role == RECTOR, RoleAssignment.state == ACTIVE)
        .order_by(RoleAssignment.id)))


def lock_rector(s: Session) -> None:
    """Take the rector's role row for the rest of `s`'s transaction, before asking who is
    rector: on PostgreSQL a second transaction deciding the same waits here, and then
    sees what the first committed (SQLite runs one writer at a time anyway)."""
    s.execute(select(Role.name).where(Role.name == RECTOR).with_for_update())


@dataclass(frozen=True)
class AssignmentView:
    id: int
    user: str
    role: str
    group: str | None
    state: str
    requested_by: str
    decided_by: str | None
    order_no: str | None
    order_date: str | None


class Roles:
    def __init__(self, session: sessionmaker[Session]) -> None:
        self.session = session

    def all(self) -> list[Role]:
        with self.session() as s:
            roles = list(s.scalars(select(Role).order_by(Role.name)))
            s.expunge_all()
            return roles

    @changes.bumps
    def set_perms(self, actor: Actor, name: str, perms: set[Perm], order: Order) -> None:
        """Edit a role, by the rector's own account, within the regulation's table
        (`access.entitlements`, `permissions.check_role_edit`), on the order recorded with
        it and in its audit entry (4.1). A refusal by rule is audited; one for what the
        table does not allow changes nothing and is answered as bad input."""
        with take_step(self.session, actor) as step:
            s = step.session
            role = s.get(Role, name)
            if role is None:
                raise NotFound("no role named {name!r}", name=name)
            entry = Entry(AuditAction.ROLE_EDIT, name,
                          {"order_no": order.no, "order_date": order.date})
            if Perm.ROLE_EDIT not in decider_of(s, actor).perms:
                step.refuse(entry, Denied("refused: only the rector edits a role, with the "
                                          "rector's own account and second factor in the "
                                          "console or the API (UE-10-22 4.1)"))
            check_role_edit(name, perms)
            check_entitlements(name, perms)
            before = sorted(json.loads(role.perms))
            role.perms = json.dumps(sorted(perms))
            role.order_no, role.order_date = order.no, order.date
            step.record(entry, before=before, after=sorted(perms))
        # inside the table now: an alarm about its row from an older Kuzet has ended
        Alarms(self.session).clear(OUTSIDE_TABLE, name)

    # camera groups
    @changes.bumps
    def add_group(self, actor: Actor, name: str, cameras: list[str]) -> None:
        with self.session.begin() as s:
            if s.scalar(select(CameraGroup.id).where(CameraGroup.name == name)) is not None:
                raise Conflict("a camera group named {name!r} exists", name=name)
            ids = camera_ids(s, cameras)
            group = CameraGroup(name=name)
            s.add(group)
            s.flush()
            s.add_all(CameraGroupMember(group_id=group.id, camera_id=i) for i in ids)
            append_act(s, actor, AuditAction.GROUP_CREATE, name, cameras=sorted(cameras))

    def groups(self) -> dict[str, list[str]]:
        with self.session() as s:
            out: dict[str, list[str]] = {g: [] for g in s.scalars(select(CameraGroup.name))}
            rows = s.execute(select(CameraGroup.name, Camera.name)
                             .join(CameraGroupMember, CameraGroupMember.group_id == CameraGroup.id)
                             .join(Camera, Camera.id == CameraGroupMember.camera_id))
            for group, camera in rows:
                out[group].append(camera)
            return out

    # assignments
    @changes.bumps
    def request(self, actor: Actor, user: str, role: str, *, group: str | None = None,
                order_no: str | None = None, order_date: str | None = None,
                now_ns: int, bootstrap: bool = False) -> AssignmentView:
        """Give `role` to `user` at once, or ask the rector for it (`_waits`).

        The rector role is asked for only on the server's command line: at once while no
        rector is active (the first rector), else pending until the current rector
        approves. `bootstrap` is `kuzet init`'s request for the first administrator, made
        while no role is active anywhere: its order does not exist yet, so the rector gives
        it when approving. A refusal by rule is audited (`access.steps`).
        """
        order = None
        if role == ADMINISTRATOR and (not bootstrap or order_no or order_date):
            order = Order.of(order_no, order_date, APPOINTED, "3.4.2")
        entry = Entry(AuditAction.ROLE_REQUEST, user, {"role": role, "group": group})
        with take_step(self.session, actor) as step:
            s = step.session
            if role == RECTOR and actor.source != LOCAL:
                step.refuse(entry, Denied(
                    "refused: the rector role is asked for only on the server's command "
                    "line, and then confirmed by the current rector (UE-10-22 3.3, 3.5.6)"))
            if bootstrap and s.scalar(select(RoleAssignment.id).where(
                    RoleAssignment.state == ACTIVE).limit(1)) is not None:
                step.refuse(entry, Denied(
                    "refused: the first administrator is asked for only while no role is "
                    "active: the administrator is appointed by the rector's order (UE-10-22 "
                    "3.4.2)"))
            target = user_named(s, user)
            r = s.get(Role, role)
            if r is None:
                raise NotFound("no role named {role!r}", role=role)
            group_id = None
            if group is not None:
                group_id = s.scalar(select(CameraGroup.id).where(CameraGroup.name == group))
                if group_id is None:
                    raise NotFound("no camera group named {group!r}", group=group)
            if role == RECTOR:
                lock_rector(s)
            immediate = not _waits(s, actor, target.name, role, role_perms(r))
            a = RoleAssignment(user_id=target.id, role=role, group_id=group_id,
                               state=ACTIVE if immediate else ROLES.word(ApprovalState.PENDING),
                               requested_by=actor.name, requested_ns=now_ns,
                               decided_by=actor.name if immediate else None,
                               decided_ns=now_ns if immediate else None,
                               order_no=order.no if order else None,
                               order_date=order.date if order else None)
            s.add(a)
            s.flush()
            append_act(s, actor,
                       AuditAction.ROLE_ASSIGN if immediate else AuditAction.ROLE_REQUEST, user,
                       role=role, group=group, assignment=a.id, order_no=a.order_no,
                       order_date=a.order_date)
            return _view(s, a)

    @changes.bumps
    def decide(self, actor: Actor, assignment_id: int, approve: bool, now_ns: int,
               order_no: str | None = None, order_date: str | None = None) -> None:
        """Approve or reject an assignment. The administrator's approval rests on the
        rector's order: the one given here, else the one given with the request (3.4.2);
        a rector's approval hands the role over (`_hand_over`)."""
        self._step(actor, assignment_id, Action.APPROVE if approve else Action.REJECT, now_ns,
                   order_no, order_date)

    @changes.bumps
    def revoke(self, actor: Actor, assignment_id: int, now_ns: int) -> None:
        """End an assignment. A privileged one, once active, is taken away by the rector,
        as it was given (`PRIVILEGED_ROLES`)."""
        self._step(actor, assignment_id, Action.REVOKE, now_ns)

    def _step(self, actor: Actor, assignment_id: int, action: Action, now_ns: int,
              order_no: str | None = None, order_date: str | None = None) -> None:
        """Take `action` on the assignment as the approval machine allows, and audit it,
        taken or refused (`access.steps`). The last active rector assignment is never
        revoked: the rector's role ends by a hand-over, or the command line would make
        the next rector at once."""
        rector = False
        with take_step(self.session, actor) as step:
            s = step.session
            a = s.get(RoleAssignment, assignment_id)
            if a is None:
                raise NotFound("no role assignment {assignment_id}", assignment_id=assignment_id)
            rector = a.role == RECTOR
            if rector:
                lock_rector(s)
                s.refresh(a)
            user = s.get(User, a.user_id)
            subject = user.name if user else str(a.user_id)
            flow = _flow(s, a.role)
            entry = Entry(AUDITED[action], subject, {"role": a.role, "assignment": a.id})
            facts = RequestFacts(str(a.id), flow.state(a.state), a.requested_by, subject)
            ending_a_rector = rector and action is Action.REVOKE and a.state == ACTIVE
            if ending_a_rector and subject == actor.name:
                step.refuse(entry, Denied(HAND_OVER_ONLY))
            new = step.take(flow, action, facts, decider_of(s, actor), now_ns, entry)
            if ending_a_rector and [x.id for x in active_rectors(s)] == [a.id]:
                step.refuse(entry, Denied(HAND_OVER_ONLY))
            detail = {}
            if action is Action.APPROVE and a.role == ADMINISTRATOR:
                order = Order.of(order_no or a.order_no, order_date or a.order_date,
                                 APPOINTED, "3.4.2")
                a.order_no, a.order_date = order.no, order.date
                detail = {"order_no": order.no, "order_date": order.date}
            a.state = flow.word(new)
            a.decided_by, a.decided_ns = actor.name, now_ns
            step.record(entry, **detail)
            if action is Action.APPROVE and a.role == RECTOR:
                _hand_over(s, actor, a, subject, now_ns)
        if rector:
            self.settle_rectors(now_ns)

    def settle_rectors(self, now_ns: int) -> list[str]:
        """Who holds an active rector assignment; the `several_rectors` alarm is cleared
        once at most one does (a rector revoked the others, or handed the role over)."""
        with self.session() as s:
            holders = [_view(s, a).user for a in active_rectors(s)]
        if len(holders) <= 1:
            Alarms(self.session).clear(SEVERAL_RECTORS, RECTOR, now_ns=now_ns)
        return holders

    def assignments(self, user: str | None = None, state: str | None = None
                    ) -> list[AssignmentView]:
        with self.session() as s:
            q = select(RoleAssignment).order_by(RoleAssignment.id)
            if user is not None:
                q = q.where(RoleAssignment.user_id == user_named(s, user).id)
            if state is not None:
                q = q.where(RoleAssignment.state == state)
            return [_view(s, a) for a in s.scalars(q)]


def _waits(s: Session, actor: Actor, user: str, role: str, perms: frozenset[Perm]) -> bool:
    """Does giving `role` to `user` wait for the rector? A role that reaches stored video
    or takes a rector's decision does; the rector's while a rector is active; any role for
    the asker's own account (whoever gives a role is not its holder: 3.4.2, 3.5.4); and a
    role that shows a picture, asked for by someone who sees no stored video themselves
    (the installer, the command line: they could give it to an account they made)."""
    if role == RECTOR:
        return bool(active_rectors(s))
    if is_privileged(perms) or user == actor.name:
        return True
    return bool(perms & SHOWS_PICTURE) and Perm.ARCHIVE_VIEW not in decider_of(s, actor).perms


def _flow(s: Session, role: str) -> Flow:
    r = s.get(Role, role)
    return PRIVILEGED_ROLES if r is not None and is_privileged(role_perms(r)) else ROLES


def _view(s: Session, a: RoleAssignment) -> AssignmentView:
    user = s.get(User, a.user_id)
    group = s.get(CameraGroup, a.group_id) if a.group_id is not None else None
    return AssignmentView(a.id, user.name if user else "?", a.role,
                          group.name if group else None, a.state, a.requested_by,
                          a.decided_by, a.order_no, a.order_date)


def _hand_over(s: Session, actor: Actor, new: RoleAssignment, successor: str,
               now_ns: int) -> None:
    """The university has one rector: approving a successor's assignment ends every other
    active rector assignment in the same transaction, each audited as taken away by the
    approving rector, in favour of `successor`."""
    for old in s.scalars(select(RoleAssignment).where(
            RoleAssignment.role == RECTOR, RoleAssignment.state == ACTIVE,
            RoleAssignment.id != new.id)):
        old.state = PRIVILEGED_ROLES.word(ApprovalState.REVOKED)
        old.decided_by, old.decided_ns = actor.name, now_ns
        holder = s.get(User, old.user_id)
        append_act(s, actor, AuditAction.ROLE_REVOKE, holder.name if holder else "?",
                   role=RECTOR, assignment=old.id, handed_over_to=successor)
