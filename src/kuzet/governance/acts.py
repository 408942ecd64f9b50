"""Acts (clause 3.5.8): the internal security service formalises a violation, resting on
registered protocols. Written by its author while a draft, then registered with the
year's number (`А-2026/0001`); the registration's audit entry carries a digest of the
content, as for protocols."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from kuzet.audit.actions import AuditAction
from kuzet.audit.log import Actor, append_act
from kuzet.errors import Conflict, Denied, Invalid, NotFound
from kuzet.governance.models import Act, Protocol, next_number

TEXT_FIELDS = ("what", "persons", "witnesses", "consequences", "measures")
MAX_TEXT = 10_000
MAX_PROTOCOLS = 50


@dataclass(frozen=True)
class ActFields:
    what: str | None = None
    persons: str | None = None
    witnesses: str | None = None
    consequences: str | None = None
    measures: str | None = None
    protocols: list[int] | None = None


def protocol_ids(a: Act) -> list[int]:
    return list(json.loads(a.protocol_ids))


def check_edit(a: Act, who: str) -> None:
    if a.author != who:
        raise Denied("only the act's author writes it")
    if a.state != "draft":
        raise Conflict("act {number} is registered: it can no longer be changed", number=a.number)


def check_register(a: Act, who: str) -> None:
    check_edit(a, who)
    if not a.what.strip():
        raise Invalid("write what happened before registering the act")
    if not protocol_ids(a):
        raise Invalid("an act rests on at least one registered protocol (3.5.8)")


class Acts:
    def __init__(self, session: sessionmaker[Session], zone: str) -> None:
        self.session = session
        self.zone = zone

    def start(self, actor: Actor, protocols: list[int], now_ns: int) -> Act:
        with self.session.begin() as s:
            ids = self._registered(s, protocols)
            a = Act(state="draft", protocol_ids=json.dumps(ids), what="", persons="",
                    witnesses="", consequences="", measures="", author=actor.name,
                    created_ns=now_ns)
            s.add(a)
            s.flush()
            append_act(s, actor, AuditAction.ACT_START, f"act/{a.id}", protocols=ids)
        return a

    def get(self, act_id: int) -> Act:
        with self.session() as s:
            a = s.get(Act, act_id)
            if a is None:
                raise NotFound("no act {act_id}", act_id=act_id)
            return a

    def listing(self, year: int | None = None) -> list[Act]:
        with self.session() as s:
            q = select(Act).order_by(Act.id)
            if year is not None:
                q = q.where(Act.year == year)
            return list(s.scalars(q))

    def edit(self, actor: Actor, act_id: int, fields: ActFields) -> Act:
        with self.session.begin() as s:
            a = self._row(s, act_id)
            check_edit(a, actor.name)
            for name in TEXT_FIELDS:
                value = getattr(fields, name)
                if value is not None:
                    setattr(a, name, value.strip()[:MAX_TEXT])
            if fields.protocols is not None:
                a.protocol_ids = json.dumps(self._registered(s, fields.protocols))
        return a

    def register(self, actor: Actor, act_id: int, now_ns: int) -> Act:
        with self.session.begin() as s:
            a = self._row(s, act_id)
            check_register(a, actor.name)
            a.year, a.seq, a.number = next_number(s, Act, "act", now_ns, self.zone)
            a.state, a.registered_ns = "registered", now_ns
            entry = append_act(s, actor, AuditAction.ACT_REGISTER, f"act/{a.id}", number=a.number,
                               digest=digest(a, self.numbers(s, a)))
            a.registered_entry = entry.seq
        return a

    def numbers(self, s: Session, a: Act) -> list[str]:
        """The numbers of the protocols an act rests on."""
        ids = protocol_ids(a)
        if not ids:
            return []
        return sorted(n for n in s.scalars(select(Protocol.number).where(
            Protocol.id.in_(ids))) if n)

    def protocol_numbers(self, a: Act) -> list[str]:
        with self.session() as s:
            return self.numbers(s, a)

    @staticmethod
    def _registered(s: Session, ids: list[int]) -> list[int]:
        """The ids, each a registered (submitted or reviewed) protocol."""
        wanted = sorted(set(ids))[:MAX_PROTOCOLS]
        found = set(s.scalars(select(Protocol.id).where(
            Protocol.id.in_(wanted), Protocol.number.is_not(None)))) if wanted else set()
        missing = [i for i in wanted if i not in found]
        if missing:
            raise Invalid("not registered protocols: {names}", names=', '.join(map(str, missing)))
        return wanted

    @staticmethod
    def _row(s: Session, act_id: int) -> Act:
        a = s.get(Act, act_id, with_for_update=True)
        if a is None:
            raise NotFound("no act {act_id}", act_id=act_id)
        return a


def digest(a: Act, protocols: list[str]) -> str:
    doc = {"number": a.number, "protocols": protocols, "author": a.author,
           **{f: getattr(a, f) for f in TEXT_FIELDS}}
    return hashlib.sha256(json.dumps(doc, sort_keys=True, ensure_ascii=False)
                          .encode()).hexdigest()
