"""The regulation's editions and amendments (UE-10-22 4.1, 4.3) and their acquaintance by
every account (3.1.4, 3.4.7); `kuzet.notice.editions` holds the rules.

The head of internal security or the administrator prepares an edition (`edition.prepare`)
and attaches the signed scan; the rector alone approves it with the order that brings it
into force, or rejects it (`edition.approve`: the rector's own account and second factor,
never a token nor the command line). Every account reads the edition in force and
acknowledges it before anything else (`kuzet.web.deps`): the acknowledgement is a
person's, so it is taken from a console session only, never from an API token.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from kuzet.access.permissions import Perm
from kuzet.access.sessions import Caller
from kuzet.errors import Denied, NotFound
from kuzet.notice.editions import EditionView, Text
from kuzet.timefmt import format_instant
from kuzet.web.deps import Authenticated, Require, services, source
from kuzet.web.i18n import language
from kuzet.web.replies import a_file
from kuzet.web.replies.editions import AcquaintanceReply, EditionReply, EditionTextReply
from kuzet.web.scans import scan_answer, scan_of
from kuzet.web.schemas import Decision, EditionApproval, EditionRead, NewEdition, RowId
from kuzet.web.times import out

router = APIRouter(prefix="/api", tags=["documents"])
ANYONE = Depends(Authenticated())
PREPARE = Depends(Require(Perm.EDITION_PREPARE))
APPROVE = Depends(Require(Perm.EDITION_APPROVE))
KEEPERS = Depends(Require(Perm.EDITION_PREPARE, Perm.EDITION_APPROVE))
Language = Annotated[str | None, Query(pattern="^(kk|ru|en)$")]


def reply(request: Request, e: EditionView) -> EditionReply:
    force = services(request).editions.in_force(services(request).clock())
    return EditionReply(
        id=e.id, number=e.number, kind=e.kind, label=e.label(), title=e.title,
        summary=e.summary, state=e.state, in_force=force is not None and force.id == e.id,
        prepared_by=e.prepared_by, prepared=format_instant(e.prepared_ns),
        order_no=e.order_no, order_date=e.order_date, effective=e.effective,
        decided_by=e.decided_by, decided=out(e.decided_ns), note=e.note,
        scan_type=e.scan_type, languages=list(e.languages))


def _text(request: Request, caller: Caller, e: EditionView, shown: Text) -> EditionTextReply:
    done = services(request).editions.acquaintance(caller.name, e.id)
    return EditionTextReply(edition=reply(request, e), language=shown.language,
                            text=shown.text, text_sha256=shown.sha256,
                            acknowledged=out(done.at_ns if done else None))


@router.get("/editions")
def editions(request: Request, caller: Caller = ANYONE) -> list[EditionReply]:
    """The register of editions and amendments, newest first."""
    return [reply(request, e) for e in services(request).editions.listing()]


@router.get("/editions/current")
def current_edition(request: Request, caller: Caller = ANYONE, lang: Language = None
                    ) -> EditionTextReply:
    """What the caller reads and acknowledges before anything else: the first of the
    edition in force and its amendments not yet acknowledged (else the latest in force),
    its text in the caller's language (`lang`, else the console's)."""
    svc = services(request)
    e = svc.editions.owed(caller.name, svc.clock()) or svc.editions.in_force(svc.clock())
    if e is None:
        raise NotFound("no edition of the regulation is in force in Kuzet's register")
    return _text(request, caller, e, svc.editions.text(e.id, lang or language(request)))


@router.get("/editions/{edition}")
def edition_text(edition: RowId, request: Request, caller: Caller = ANYONE,
                 lang: Language = None) -> EditionTextReply:
    svc = services(request)
    e = svc.editions.get(edition)
    return _text(request, caller, e, svc.editions.text(e.id, lang or language(request)))


@router.post("/editions", status_code=201)
def prepare_edition(body: NewEdition, request: Request, caller: Caller = PREPARE
                    ) -> EditionReply:
    svc = services(request)
    return reply(request, svc.editions.prepare(
        caller.actor(source(request)), body.number, body.kind, body.title, body.text_kk,
        body.text_ru, body.text_en, body.summary, svc.clock()))


@router.put("/editions/{edition}/scan")
async def attach_scan(edition: RowId, request: Request, caller: Caller = PREPARE
                      ) -> EditionReply:
    """The signed document as the raw request body (PDF, JPEG or PNG, told by its first
    bytes); to a draft, or once to an approved edition."""
    svc = services(request)
    data, kind = await scan_of(request)
    return reply(request, svc.editions.attach_scan(caller.actor(source(request)), edition,
                                                   data, kind))


@router.get("/editions/{edition}/scan", **a_file("application/pdf", "image/jpeg", "image/png"))
def edition_scan(edition: RowId, request: Request, caller: Caller = ANYONE) -> Response:
    data, kind = services(request).editions.scan(edition)
    return scan_answer(data, kind, f"edition-{edition}")


@router.post("/editions/{edition}/approve")
def approve_edition(edition: RowId, body: EditionApproval, request: Request,
                    caller: Caller = APPROVE) -> EditionReply:
    svc = services(request)
    return reply(request, svc.editions.approve(caller.actor(source(request)), edition,
                                               body.order_no, body.order_date,
                                               body.effective, svc.clock()))


@router.post("/editions/{edition}/reject")
def reject_edition(edition: RowId, body: Decision, request: Request, caller: Caller = APPROVE
                   ) -> EditionReply:
    svc = services(request)
    return reply(request, svc.editions.reject(caller.actor(source(request)), edition,
                                              body.note, svc.clock()))


@router.post("/editions/{edition}/withdraw")
def withdraw_edition(edition: RowId, request: Request, caller: Caller = KEEPERS
                     ) -> EditionReply:
    svc = services(request)
    return reply(request, svc.editions.withdraw(caller.actor(source(request)), edition,
                                                svc.clock()))


@router.post("/editions/{edition}/acknowledge")
def acknowledge_edition(edition: RowId, body: EditionRead, request: Request,
                        caller: Caller = ANYONE) -> AcquaintanceReply:
    """The caller's account acquainted with the edition in force (3.1.4, 3.4.7): the
    text it was shown, named by its SHA-256. A person's act: refused to an API token."""
    if caller.via != "session":
        raise Denied("refused: an edition is acknowledged by its reader in the console, not "
                     "by an API token (UE-10-22 3.1.4, 3.4.7)")
    svc = services(request)
    a = svc.editions.acknowledge(caller.actor(source(request)), edition, body.language,
                                 body.text_sha256, svc.clock())
    return AcquaintanceReply(account=a.account, edition=a.edition_id,
                             at=format_instant(a.at_ns), source=a.source,
                             language=a.language, text_sha256=a.text_sha256)


@router.get("/editions/{edition}/acquaintances")
def acquaintances(edition: RowId, request: Request, caller: Caller = KEEPERS
                  ) -> list[AcquaintanceReply]:
    """Who acknowledged the edition, when, from where and in which language."""
    svc = services(request)
    svc.editions.get(edition)  # a missing edition is a 404, not an empty list
    return [AcquaintanceReply(account=a.account, edition=a.edition_id,
                              at=format_instant(a.at_ns), source=a.source,
                              language=a.language, text_sha256=a.text_sha256)
            for a in svc.editions.acquainted(edition)]
