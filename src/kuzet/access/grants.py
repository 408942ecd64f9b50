"""Grants by the rector's instruction (clause 3.5.5).

A grant names a user, cameras, the footage window it opens, its validity period and the
instruction it carries out. It is requested (by the head of security or the
administrator), approved by someone else who holds `grant.approve` (the rector), and
ends by itself when its validity passes; it can be revoked earlier. Each step is one of
the approval machine's (`access.approvals.GRANTS`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from kuzet.access import changes
from kuzet.access.approvals import (
    GRANTS,
    Action,
    ApprovalState,
    RequestFacts,
    current,
)
from kuzet.access.lookup import camera_ids, user_named
from kuzet.access.models import Grant, User
from kuzet.access.permissions import GRANTABLE, GrantFacts, Perm
from kuzet.access.roles import decider_of
from kuzet.access.steps import Entry, take_step
from kuzet.audit.actions import AuditAction
from kuzet.audit.log import Actor, append_act
from kuzet.catalog.models import Camera
from kuzet.errors import Invalid, NotFound

MAX_VALIDITY_NS = 366 * 86400 * 10**9
# The entry each step of the approval machine writes, taken or refused.
AUDITED = {Action.APPROVE: AuditAction.GRANT_APPROVE, Action.REJECT: AuditAction.GRANT_REJECT,
           Action.REVOKE: AuditAction.GRANT_REVOKE}


@dataclass(frozen=True)
class GrantView:
    id: int
    user: str
    perms: list[str]
    cameras: list[str]
    footage_from_ns: int
    footage_to_ns: int
    valid_from_ns: int
    valid_until_ns: int
    instruction: str
    state: str  # pending, active, expired, rejected, revoked
    requested_by: str
    decided_by: str | None


def _request(g: Grant, subject: str | None = None) -> RequestFacts:
    return RequestFacts(str(g.id), GRANTS.state(g.state), g.requested_by, subject,
                   expires_ns=g.valid_until_ns)


class Grants:
    def __init__(self, session: sessionmaker[Session]) -> None:
        self.session = session

    @changes.bumps
    def request(self, actor: Actor, user: str, perms: set[Perm], cameras: list[str],
                footage: tuple[int, int], valid: tuple[int, int], instruction: str,
                now_ns: int) -> GrantView:
        if not perms or not perms <= GRANTABLE:
            raise Invalid("a grant gives some of: {perms}", perms=", ".join(sorted(GRANTABLE)))
        if not cameras:
            raise Invalid("a grant names at least one camera")
        if footage[0] >= footage[1] or valid[0] >= valid[1]:
            raise Invalid("a window's start comes before its end")
        if valid[1] - valid[0] > MAX_VALIDITY_NS:
            raise Invalid("a grant is valid for at most a year")
        if valid[1] <= now_ns:
            raise Invalid("the grant's validity has already passed")
        instruction = instruction.strip()
        if not instruction:
            raise Invalid("clause 3.5.5: name the rector's instruction the grant carries out")
        with self.session.begin() as s:
            target = user_named(s, user)
            ids = camera_ids(s, cameras)
            g = Grant(user_id=target.id, perms=json.dumps(sorted(perms)),
                      cameras=json.dumps(sorted(ids)), footage_from_ns=footage[0],
                      footage_to_ns=footage[1], valid_from_ns=valid[0], valid_until_ns=valid[1],
                      instruction=instruction[:200], state=GRANTS.word(ApprovalState.PENDING),
                      requested_by=actor.name,
                      requested_ns=now_ns, decided_by=None, decided_ns=None)
            s.add(g)
            s.flush()
            append_act(s, actor, AuditAction.GRANT_REQUEST, user, grant=g.id, perms=sorted(perms),
                       cameras=sorted(cameras), footage=list(footage), valid=list(valid),
                       instruction=g.instruction)
            return _view(s, g, now_ns)

    @changes.bumps
    def decide(self, actor: Actor, grant_id: int, approve: bool, now_ns: int) -> None:
        self._step(actor, grant_id, Action.APPROVE if approve else Action.REJECT, now_ns)

    @changes.bumps
    def revoke(self, actor: Actor, grant_id: int, now_ns: int) -> None:
        self._step(actor, grant_id, Action.REVOKE, now_ns)

    def _step(self, actor: Actor, grant_id: int, action: Action, now_ns: int) -> None:
        """Take `action` on the grant as the approval machine allows, and audit it, taken
        or refused (`access.steps`)."""
        with take_step(self.session, actor) as step:
            g = step.session.get(Grant, grant_id)
            if g is None:
                raise NotFound("no grant {grant_id}", grant_id=grant_id)
            user = step.session.get(User, g.user_id)
            subject = user.name if user else str(g.user_id)
            entry = Entry(AUDITED[action], subject, {"grant": g.id})
            new = step.take(GRANTS, action, _request(g, subject),
                            decider_of(step.session, actor), now_ns, entry)
            g.state = GRANTS.word(new)
            g.decided_by, g.decided_ns = actor.name, now_ns
            step.record(entry)

    def list(self, now_ns: int, user: str | None = None) -> list[GrantView]:
        with self.session() as s:
            q = select(Grant).order_by(Grant.id)
            if user is not None:
                q = q.where(Grant.user_id == user_named(s, user).id)
            return [_view(s, g, now_ns) for g in s.scalars(q)]


def active_grants(s: Session, user_id: int, now_ns: int) -> tuple[GrantFacts, ...]:
    rows = s.scalars(select(Grant).where(Grant.user_id == user_id,
                                         Grant.state == GRANTS.word(ApprovalState.APPROVED),
                                         Grant.valid_until_ns > now_ns))
    return tuple(GrantFacts(g.id, frozenset(Perm(p) for p in json.loads(g.perms)),
                            frozenset(json.loads(g.cameras)), g.footage_from_ns,
                            g.footage_to_ns, g.valid_from_ns, g.valid_until_ns) for g in rows)


def _view(s: Session, g: Grant, now_ns: int) -> GrantView:
    user = s.get(User, g.user_id)
    ids = json.loads(g.cameras)
    names = {i: n for i, n in s.execute(select(Camera.id, Camera.name)
                                        .where(Camera.id.in_(ids)))}
    return GrantView(g.id, user.name if user else "?", json.loads(g.perms),
                     [names.get(i, str(i)) for i in ids], g.footage_from_ns, g.footage_to_ns,
                     g.valid_from_ns, g.valid_until_ns, g.instruction,
                     GRANTS.word(current(_request(g), now_ns)), g.requested_by, g.decided_by)
