"""Roles as data, camera groups, and role assignments that wait for the rector.

Rules (docs/design/access.md):
- a role that reaches stored video (archive view, export) is *privileged*: assigning it
  makes a pending request that takes effect only when the rector approves, and once
  active it is taken away by the rector too;
- the administrator's appointment carries the rector's order number and date (3.4.2);
- nobody decides on a request they made, nor on their own account;
- the rector role is given only on the server's command line (source "local"), never
  through the web API: whoever can do that already holds the server.
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
from kuzet.access.lookup import camera_ids, user_named
from kuzet.access.models import CameraGroup, CameraGroupMember, Role, RoleAssignment, User
from kuzet.access.permissions import Perm, check_role_edit, is_privileged
from kuzet.access.steps import Entry, take_step
from kuzet.audit.actions import AuditAction
from kuzet.audit.log import Actor, append_act
from kuzet.catalog.models import Camera
from kuzet.errors import Conflict, Denied, Invalid, NotFound

LOCAL = "local"
ACTIVE = ROLES.word(ApprovalState.APPROVED)  # how an assignment in force is stored
# The entry each step of the approval machine writes, taken or refused.
AUDITED = {Action.APPROVE: AuditAction.ROLE_APPROVE, Action.REJECT: AuditAction.ROLE_REJECT,
           Action.REVOKE: AuditAction.ROLE_REVOKE}


def role_perms(role: Role) -> frozenset[Perm]:
    return frozenset(Perm(p) for p in json.loads(role.perms))


def decider_of(s: Session, actor: Actor) -> Decider:
    """`actor` as the approval machine sees a decider: the permissions their roles give
    now (roles are data the rector may edit), and whether they act on the command line."""
    perms = frozenset(p for r in s.scalars(select(Role).where(Role.name.in_(actor.roles)))
                      for p in role_perms(r))
    return Decider(actor.name, perms, command_line=actor.source == LOCAL)


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
    def set_perms(self, actor: Actor, name: str, perms: set[Perm]) -> None:
        try:
            check_role_edit(name, perms)
        except ValueError as exc:
            raise Invalid(str(exc)) from exc
        with self.session.begin() as s:
            role = s.get(Role, name)
            if role is None:
                raise NotFound(f"no role named {name!r}")
            before = sorted(json.loads(role.perms))
            role.perms = json.dumps(sorted(perms))
            append_act(s, actor, AuditAction.ROLE_EDIT, name, before=before, after=sorted(perms))

    # camera groups
    @changes.bumps
    def add_group(self, actor: Actor, name: str, cameras: list[str]) -> None:
        with self.session.begin() as s:
            if s.scalar(select(CameraGroup.id).where(CameraGroup.name == name)) is not None:
                raise Conflict(f"a camera group named {name!r} exists")
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
        """Give `role` to `user`: at once when it reaches no stored video, else pending.

        `bootstrap` is `kuzet init`'s first administrator: there is no rector yet to
        approve, so it is active at once, allowed only while no role is active anywhere.
        """
        if role == "rector" and actor.source != LOCAL:
            raise Denied("the rector role is given only on the server's command line")
        if bootstrap:
            with self.session() as s:
                if s.scalar(select(RoleAssignment.id).where(RoleAssignment.state == ACTIVE)
                            .limit(1)) is not None:
                    raise Denied("the first administrator exists already")
        elif role == "administrator":
            if not order_no or not order_date:
                raise Invalid("clause 3.4.2: the administrator is appointed by the rector's "
                              "order: give its number and date")
            try:
                dt.date.fromisoformat(order_date)
            except ValueError as exc:
                raise Invalid("the order date is YYYY-MM-DD") from exc
        with self.session.begin() as s:
            target = user_named(s, user)
            r = s.get(Role, role)
            if r is None:
                raise NotFound(f"no role named {role!r}")
            group_id = None
            if group is not None:
                group_id = s.scalar(select(CameraGroup.id).where(CameraGroup.name == group))
                if group_id is None:
                    raise NotFound(f"no camera group named {group!r}")
            immediate = bootstrap or not is_privileged(role_perms(r)) or (
                role == "rector" and actor.source == LOCAL)
            a = RoleAssignment(user_id=target.id, role=role, group_id=group_id,
                               state=ACTIVE if immediate else ROLES.word(ApprovalState.PENDING),
                               requested_by=actor.name, requested_ns=now_ns,
                               decided_by=actor.name if immediate else None,
                               decided_ns=now_ns if immediate else None,
                               order_no=order_no, order_date=order_date)
            s.add(a)
            s.flush()
            append_act(s, actor,
                       AuditAction.ROLE_ASSIGN if immediate else AuditAction.ROLE_REQUEST, user,
                       role=role, group=group, assignment=a.id, order_no=order_no,
                       order_date=order_date)
            return _view(s, a)

    @changes.bumps
    def decide(self, actor: Actor, assignment_id: int, approve: bool, now_ns: int) -> None:
        self._step(actor, assignment_id, Action.APPROVE if approve else Action.REJECT, now_ns)

    @changes.bumps
    def revoke(self, actor: Actor, assignment_id: int, now_ns: int) -> None:
        """End an assignment. One that reaches stored video, once active, is taken away by
        the rector, as it was given (`PRIVILEGED_ROLES`)."""
        self._step(actor, assignment_id, Action.REVOKE, now_ns)

    def _step(self, actor: Actor, assignment_id: int, action: Action, now_ns: int) -> None:
        """Take `action` on the assignment as the approval machine allows, and audit it,
        taken or refused (`access.steps`)."""
        with take_step(self.session, actor) as step:
            s = step.session
            a = s.get(RoleAssignment, assignment_id)
            if a is None:
                raise NotFound(f"no role assignment {assignment_id}")
            user = s.get(User, a.user_id)
            subject = user.name if user else str(a.user_id)
            flow = _flow(s, a.role)
            entry = Entry(AUDITED[action], subject, {"role": a.role, "assignment": a.id})
            if action is Action.REVOKE and a.role == "rector" and actor.source != LOCAL:
                step.refuse(entry, Denied("clause 3.4.2: who is rector follows the "
                                          "university's order, so the rector role is changed "
                                          "only on the server's command line"))
            facts = RequestFacts(str(a.id), flow.state(a.state), a.requested_by, subject)
            new = step.take(flow, action, facts, decider_of(s, actor), now_ns, entry)
            a.state = flow.word(new)
            a.decided_by, a.decided_ns = actor.name, now_ns
            step.record(entry)

    def assignments(self, user: str | None = None, state: str | None = None
                    ) -> list[AssignmentView]:
        with self.session() as s:
            q = select(RoleAssignment).order_by(RoleAssignment.id)
            if user is not None:
                q = q.where(RoleAssignment.user_id == user_named(s, user).id)
            if state is not None:
                q = q.where(RoleAssignment.state == state)
            return [_view(s, a) for a in s.scalars(q)]


def _flow(s: Session, role: str) -> Flow:
    r = s.get(Role, role)
    return PRIVILEGED_ROLES if r is not None and is_privileged(role_perms(r)) else ROLES


def _view(s: Session, a: RoleAssignment) -> AssignmentView:
    user = s.get(User, a.user_id)
    group = s.get(CameraGroup, a.group_id) if a.group_id is not None else None
    return AssignmentView(a.id, user.name if user else "?", a.role,
                          group.name if group else None, a.state, a.requested_by,
                          a.decided_by, a.order_no, a.order_date)
