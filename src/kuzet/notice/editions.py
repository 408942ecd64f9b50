"""The regulation's editions and amendments (UE-10-22 4.1, 4.3) and every account's
acquaintance with the one in force (3.1.4, 3.4.7).

An edition is prepared (its texts in Kazakh and Russian, an English working translation
if any) by the head of internal security or the administrator, and comes into force only
by the rector's approval, which names the rector's order and the campus day it takes
effect: one step of the one approval machine (`access.approvals.EDITIONS`), taken with the
rector's own account and second factor, never on the server's command line. The edition
in force is the approved one whose day has come, the latest of them; two never take
effect on the same day.

Until an account has acknowledged the edition in force (its full text in the account's
language, read to the end, confirmed in the console), the account is refused everything
else (`kuzet.web.deps`): a new edition asks every account again. The acknowledgement keeps
the SHA-256 of the exact text shown, the address it came from and the instant.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from kuzet.access.approvals import EDITIONS, Action, ApprovalState, RequestFacts
from kuzet.access.roles import decider_of
from kuzet.access.steps import Entry, take_step
from kuzet.audit.actions import AuditAction
from kuzet.audit.log import Actor, append_act
from kuzet.errors import Conflict, Invalid, NotFound, Phrase
from kuzet.notice import fields as form
from kuzet.notice.models import Acquaintance, Edition
from kuzet.timefmt import campus_day

KINDS = ("edition", "amendment")
LANGUAGES = ("kk", "ru", "en")
# The entry each step of the approval machine writes, taken or refused.
AUDITED = {Action.APPROVE: AuditAction.EDITION_APPROVE,
           Action.REJECT: AuditAction.EDITION_REJECT,
           Action.REVOKE: AuditAction.EDITION_WITHDRAW}
IN_FORCE_TTL_S = 1.0  # how long the edition in force is taken as read: one check a second
MAX_TEXT = 100_000  # characters of a text: the regulation's six pages are some 15 000


@dataclass(frozen=True)
class EditionView:
    id: int
    number: str
    kind: str
    title: str
    summary: str | None
    state: str  # pending, approved, rejected, withdrawn
    prepared_by: str
    prepared_ns: int
    order_no: str | None
    order_date: str | None
    effective: str | None
    decided_by: str | None
    decided_ns: int | None
    note: str | None
    scan_type: str | None
    languages: tuple[str, ...]  # the texts it has: kk and ru always, en if translated

    def label(self) -> Phrase:
        """How pages and refusals name it: "UE-10-22, edition 2" (in the reader's
        language where a refusal says it)."""
        if self.kind == "amendment":
            return Phrase("UE-10-22, amendment {number}", number=self.number)
        return Phrase("UE-10-22, edition {number}", number=self.number)

    def since(self) -> str:
        """The day it takes effect as people write it (21.09.2026); "" before approval."""
        day = self.effective or ""
        return f"{day[8:10]}.{day[5:7]}.{day[0:4]}" if day else ""


@dataclass(frozen=True)
class Text:
    language: str  # the language of the text given (en falls back to ru)
    text: str
    sha256: str


def _view(e: Edition, has_en: bool) -> EditionView:
    return EditionView(e.id, e.number, e.kind, e.title, e.summary, e.state, e.prepared_by,
                       e.prepared_ns, e.order_no, e.order_date, e.effective, e.decided_by,
                       e.decided_ns, e.note, e.scan_type,
                       ("kk", "ru", "en") if has_en else ("kk", "ru"))


HAS_EN = Edition.text_en.is_not(None).label("has_en")  # without reading the text


def _views(s: Session, where: Any = None) -> list[EditionView]:
    """The editions `where` selects (all, newest first), their texts left unread."""
    q = select(Edition, HAS_EN).order_by(Edition.id.desc())
    if where is not None:
        q = q.where(where)
    return [_view(e, bool(has_en)) for e, has_en in s.execute(q)]


def _facts(e: Edition) -> RequestFacts:
    return RequestFacts(e.number, EDITIONS.state(e.state), e.prepared_by, note=e.note)


def text_of(e: Edition, language: str) -> Text:
    """The text shown to a reader of `language`: Kazakh or Russian as written, English
    where a translation was given, else the Russian."""
    if language == "kk":
        lang, text = "kk", e.text_kk
    elif language == "en" and e.text_en:
        lang, text = "en", e.text_en
    else:
        lang, text = "ru", e.text_ru
    return Text(lang, text, hashlib.sha256(text.encode()).hexdigest())


class Editions:
    def __init__(self, session: sessionmaker[Session], zone: str) -> None:
        self.session = session
        self.zone = zone  # the campus's: the day an edition takes effect is its day there
        self._lock = threading.Lock()
        # (valid until, the campus day's ordinal, what is in force that day)
        self._in_force: tuple[float, int, tuple[EditionView, ...]] | None = None
        self._acquainted: set[tuple[str, int]] = set()  # (account, edition): never undone

    # -- the register ------------------------------------------------------------------
    def prepare(self, actor: Actor, number: str, kind: str, title: str, text_kk: str,
                text_ru: str, text_en: str | None, summary: str | None,
                now_ns: int) -> EditionView:
        """A draft for the rector's approval (4.1)."""
        if kind not in KINDS:
            raise Invalid("kind: edition or amendment, not {kind!r}", kind=kind)
        fields = {
            "number": form.text(number, Phrase("the number"), 32),
            "title": form.text(title, Phrase("the title"), 200),
            "text_kk": form.text(text_kk, Phrase("the Kazakh text"), MAX_TEXT),
            "text_ru": form.text(text_ru, Phrase("the Russian text"), MAX_TEXT),
            "text_en": form.text(text_en, Phrase("the English text"), MAX_TEXT, required=False),
            "summary": form.text(summary, Phrase("the summary"), 2000, required=False)}
        with self.session.begin() as s:
            e = Edition(kind=kind, state=EDITIONS.word(ApprovalState.PENDING),
                        prepared_by=actor.name, prepared_ns=now_ns, **fields)
            s.add(e)
            s.flush()
            view = _view(e, fields["text_en"] is not None)
            append_act(s, actor, AuditAction.EDITION_PREPARE, f"edition/{e.id}",
                       number=e.number, kind=kind,
                       texts={lang: text_of(e, lang).sha256 for lang in view.languages})
            return view

    def attach_scan(self, actor: Actor, edition_id: int, data: bytes,
                    media_type: str) -> EditionView:
        """The signed document (checked by the caller: `governance.uploads`), to a draft
        or an approved edition; never replaced once the edition is approved."""
        with self.session.begin() as s:
            e = self._row(s, edition_id)
            view = self._one(s, edition_id)
            if e.state not in ("pending", "approved"):
                raise Conflict("{label} was rejected or withdrawn: no scan is attached to it",
                               label=view.label())
            if e.state == "approved" and e.scan_type is not None:
                raise Conflict("{label} is in the register with its signed scan already",
                               label=view.label())
            e.scan, e.scan_type = data, media_type
            append_act(s, actor, AuditAction.EDITION_SCAN, f"edition/{e.id}",
                       sha256=hashlib.sha256(data).hexdigest(), type=media_type,
                       bytes=len(data))
            s.flush()
            return self._one(s, edition_id)

    def scan(self, edition_id: int) -> tuple[bytes, str]:
        with self.session() as s:
            e = self._row(s, edition_id)
            if e.scan is None or e.scan_type is None:
                raise NotFound("{label} has no scan attached",
                               label=self._one(s, edition_id).label())
            return e.scan, e.scan_type

    def approve(self, actor: Actor, edition_id: int, order_no: str, order_date: str,
                effective: str, now_ns: int) -> EditionView:
        """The rector's approval (4.1), by the order that brings it into force (4.3). The
        order's fields are checked once the approval machine allowed the step, so that an
        attempt by someone else is refused (and audited) whatever it carries."""
        def check(s: Session) -> dict[str, str | None]:
            number = form.text(order_no, Phrase("the rector's order number"), 64)
            ordered = form.day(order_date, Phrase("the order's date"))
            starts = form.day(effective, Phrase("the day it takes effect"))
            if starts < ordered:
                raise Invalid("it takes effect on or after its order's date ({ordered}), not "
                              "{starts}", ordered=ordered, starts=starts)
            if s.scalar(select(Edition.id).where(Edition.effective == starts,
                                                 Edition.id != edition_id)) is not None:
                raise Conflict("another edition takes effect on {day} already; one a day",
                               day=starts)
            e = s.get(Edition, edition_id)
            if e is not None and e.kind == "amendment" and s.scalar(select(Edition.id).where(
                    Edition.kind == "edition", Edition.state == EDITIONS.word(
                        ApprovalState.APPROVED), Edition.effective < starts)) is None:
                raise Conflict("an amendment changes an edition: approve the edition it "
                               "amends first, in force before it")
            force = self._force(s, campus_day(now_ns, self.zone).isoformat())
            if force and starts <= (force[-1].effective or ""):
                raise Conflict("it would take effect before {label}, in force since {day}, "
                               "and never be in force", label=force[-1].label(),
                               day=force[-1].since())
            return {"order_no": number, "order_date": ordered, "effective": starts}

        try:
            return self._step(actor, edition_id, Action.APPROVE, now_ns, check)
        except IntegrityError:
            raise Conflict("another edition takes effect on {day} already; one a day",
                           day=effective) from None

    def reject(self, actor: Actor, edition_id: int, note: str, now_ns: int) -> EditionView:
        return self._step(actor, edition_id, Action.REJECT, now_ns,
                          lambda s: {"note": note.strip() or None})

    def withdraw(self, actor: Actor, edition_id: int, now_ns: int) -> EditionView:
        return self._step(actor, edition_id, Action.REVOKE, now_ns, lambda s: {})

    def _step(self, actor: Actor, edition_id: int, action: Action, now_ns: int,
              values: Callable[[Session], dict[str, str | None]]) -> EditionView:
        with take_step(self.session, actor) as step:
            e = self._row(step.session, edition_id)
            entry = Entry(AUDITED[action], f"edition/{e.id}", {"number": e.number})
            new = step.take(EDITIONS, action, _facts(e), decider_of(step.session, actor),
                            now_ns, entry)
            changes = values(step.session)
            for column, value in changes.items():
                setattr(e, column, value)
            e.state = EDITIONS.word(new)
            e.decided_by, e.decided_ns = actor.name, now_ns
            step.session.flush()
            step.record(entry, **{k: v for k, v in changes.items() if v is not None})
            view = self._one(step.session, edition_id)
        with self._lock:
            self._in_force = None
        return view

    def listing(self) -> list[EditionView]:
        with self.session() as s:
            return _views(s)

    def pending(self) -> int:
        """How many drafts wait for the rector (the approvals' count), counted in SQL."""
        with self.session() as s:
            return int(s.scalar(select(func.count()).select_from(Edition).where(
                Edition.state == EDITIONS.word(ApprovalState.PENDING))) or 0)

    def get(self, edition_id: int) -> EditionView:
        with self.session() as s:
            return self._one(s, edition_id)

    def text(self, edition_id: int, language: str) -> Text:
        with self.session() as s:
            return text_of(self._row(s, edition_id), language)

    @staticmethod
    def _row(s: Session, edition_id: int) -> Edition:
        e = s.get(Edition, edition_id)
        if e is None:
            raise NotFound("no edition {edition_id}", edition_id=edition_id)
        return e

    @staticmethod
    def _one(s: Session, edition_id: int) -> EditionView:
        found = _views(s, Edition.id == edition_id)
        if not found:
            raise NotFound("no edition {edition_id}", edition_id=edition_id)
        return found[0]

    # -- in force, and acquaintance ----------------------------------------------------
    @staticmethod
    def _force(s: Session, day: str) -> tuple[EditionView, ...]:
        """What is in force on `day`: the latest edition whose day has come and the
        amendments that took effect after it, oldest first (an amendment changes the
        edition; it does not replace it)."""
        approved = [v for v in _views(s, (Edition.state == EDITIONS.word(
            ApprovalState.APPROVED)) & (Edition.effective <= day))]
        approved.sort(key=lambda v: v.effective or "")
        base = max((i for i, v in enumerate(approved) if v.kind == "edition"), default=0)
        return tuple(approved[base:])

    def force(self, now_ns: int) -> tuple[EditionView, ...]:
        """The edition in force and its amendments since, oldest first; read at most once
        a second (every request asks)."""
        ordinal = campus_day(now_ns, self.zone).toordinal()
        with self._lock:
            cached = self._in_force
            if cached is not None and cached[0] > time.monotonic() and cached[1] == ordinal:
                return cached[2]
        with self.session() as s:
            found = self._force(s, campus_day(now_ns, self.zone).isoformat())
        with self._lock:
            self._in_force = (time.monotonic() + IN_FORCE_TTL_S, ordinal, found)
        return found

    def in_force(self, now_ns: int) -> EditionView | None:
        """The latest of what is in force: the edition, or its latest amendment; None
        before any."""
        found = self.force(now_ns)
        return found[-1] if found else None

    def owed(self, account: str, now_ns: int) -> EditionView | None:
        """The first of what is in force that `account` has not acknowledged, if any: a
        new account reads the edition, then each amendment to it."""
        found = [e for e in self.force(now_ns) if (account, e.id) not in self._acquainted]
        if not found:
            return None
        with self.session() as s:
            done = set(s.scalars(select(Acquaintance.edition_id).where(
                Acquaintance.account == account,
                Acquaintance.edition_id.in_([e.id for e in found]))))
        with self._lock:
            self._acquainted |= {(account, i) for i in done}
        return next((e for e in found if e.id not in done), None)

    def acknowledge(self, actor: Actor, edition_id: int, language: str, shown_sha256: str,
                    now_ns: int) -> Acquaintance:
        """`actor`'s account acquainted with an edition or amendment in force, as the text
        of `shown_sha256` in `language` showed it; once (a second time answers the
        first)."""
        force = {e.id: e for e in self.force(now_ns)}
        edition = force.get(edition_id)
        if edition is None:
            latest = self.in_force(now_ns)
            raise Conflict("edition {edition_id} is not the one in force: acknowledge {what}",
                           edition_id=edition_id,
                           what=latest.label() if latest else Phrase("none: no edition is"))
        try:
            with self.session.begin() as s:
                shown = text_of(self._row(s, edition_id), language)
                if shown.sha256 != shown_sha256:
                    raise Conflict("the text acknowledged is not the text of {label} in "
                                   "force; read it again", label=edition.label())
                done = self._done(s, actor.name, edition_id)
                if done is None:
                    done = Acquaintance(account=actor.name, edition_id=edition_id,
                                        at_ns=now_ns, source=actor.source[:64],
                                        language=shown.language, text_sha256=shown.sha256)
                    s.add(done)
                    append_act(s, actor, AuditAction.EDITION_ACQUAINT,
                               f"edition/{edition_id}", number=edition.number,
                               language=shown.language, text_sha256=shown.sha256)
                s.flush()
                s.expunge(done)
        except IntegrityError:  # the same account's two windows at once: the first stands
            with self.session() as s:
                done = self._done(s, actor.name, edition_id)
                assert done is not None
                s.expunge(done)
        with self._lock:
            self._acquainted.add((actor.name, edition_id))
        return done

    @staticmethod
    def _done(s: Session, account: str, edition_id: int) -> Acquaintance | None:
        return s.scalar(select(Acquaintance).where(Acquaintance.account == account,
                                                   Acquaintance.edition_id == edition_id))

    def acquaintance(self, account: str, edition_id: int) -> Acquaintance | None:
        """The account's acknowledgement of the edition, if any."""
        with self.session() as s:
            done = self._done(s, account, edition_id)
            if done is not None:
                s.expunge(done)
            return done

    def acquainted(self, edition_id: int) -> list[Acquaintance]:
        """Who acknowledged the edition, in order."""
        with self.session() as s:
            rows = list(s.scalars(select(Acquaintance).where(
                Acquaintance.edition_id == edition_id).order_by(Acquaintance.at_ns)))
            for r in rows:
                s.expunge(r)
            return rows
