"""The console's pages: server-rendered shells in the viewer's language.

The pages hold no video and no names of cameras the viewer may not see: what they show
comes through the guarded API and WebSockets, so the pages themselves are public (the
RBAC matrix still lists them). Each answer forbids framing and loading anything from
elsewhere (Content-Security-Policy).

Still, a page knows who asks (the session cookie), for the person's sake: without a
session it sends them to the login, which brings them back; its menu (`MENU`) shows only
what their roles let them use; a page their roles do not reach says so, naming the
permission, its clause and the roles that hold it, instead of an empty table; and a
locked screen (`Sessions.lock`) shows nothing but the wall's live video.

Every page but the login also carries the operator's status bar (`Bar`) and the menu's
counts of what waits for the person (`Work`, shown in full as "my work" on the home page),
computed here for the caller alone, as the API would list them to them (issue 21);
`GET /status-bar` gives the same figures to the page's script that refreshes them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import func, select

from kuzet.access.permissions import (
    Perm,
    clauses_of,
    decide,
    footage_bounds,
    holds_somewhere,
)
from kuzet.access.sessions import Caller
from kuzet.analytics.models import Event
from kuzet.catalog.paths import is_camera_name
from kuzet.endpoints import ITEM_NAME
from kuzet.errors import NotFound, Unauthenticated
from kuzet.governance.models import Protocol
from kuzet.notice.public import PLACE_KINDS, ZONE_WORDS, notice
from kuzet.web.deps import SESSION_COOKIE, Public, services
from kuzet.web.errors import titles, who
from kuzet.web.i18n import LANG_COOKIE, LANGUAGES, NAMES, pick, translator
from kuzet.web.routes.cameras import visible
from kuzet.web.services import Services

router = APIRouter(include_in_schema=False, dependencies=[Depends(Public())])
TEMPLATES = Environment(loader=FileSystemLoader(Path(__file__).parents[1] / "templates"),
                        autoescape=select_autoescape(["html"]))
HEADERS = {
    "content-security-policy": "default-src 'self'; media-src 'self' blob:; "
                               "connect-src 'self'; img-src 'self' data:; "
                               "frame-ancestors 'none'; base-uri 'none'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
}


PROTOCOL_READERS = frozenset({Perm.PROTOCOL_WRITE, Perm.PROTOCOL_REVIEW, Perm.PROTOCOL_READ})
TRANSFER_READERS = frozenset({Perm.TRANSFER_REGISTER, Perm.TRANSFER_DECIDE,
                              Perm.EXPORT_EXECUTE})
# Each register and the permissions its list answers to (the API's guards).
REGISTERS: dict[str, frozenset[Perm]] = {
    "acts": frozenset({Perm.ACT_WRITE, Perm.PROTOCOL_REVIEW, Perm.PROTOCOL_READ}),
    "viewings": frozenset({Perm.ARCHIVE_VIEW, Perm.PROTOCOL_REVIEW}),
    "holds": frozenset({Perm.HOLD_READ}),
}
APPROVERS = frozenset({Perm.TRANSFER_DECIDE, Perm.HOLD_APPROVE, Perm.ROLE_APPROVE,
                       Perm.GRANT_APPROVE, Perm.SECOND_FACTOR_RESET, Perm.EDITION_APPROVE,
                       Perm.CENTRE_APPROVE})
HEALTH_READERS = frozenset({Perm.HEALTH_READ, Perm.AUDIT_VERIFY})
DISK_READERS = frozenset({Perm.CAMERA_STATUS, Perm.HEALTH_READ})
EQUIPMENT_READERS = frozenset({Perm.HEALTH_READ})  # the register's (issue 22, 3.4.3)
ACQUAINTANCE_KEEPERS = frozenset({Perm.ACQUAINTANCE_KEEP})  # staff and students' lists
CENTRE_KEEPERS = frozenset({Perm.CENTRE_PREPARE, Perm.CENTRE_APPROVE, Perm.RESTREAM_CUT})
# the Centres page: the register's keepers, and a guard who may push an incident's camera
CENTRE_PAGE = CENTRE_KEEPERS | {Perm.RESTREAM_PUSH}


@dataclass(frozen=True)
class Item:
    """A main menu entry: shown to whoever holds one of `perms` (everyone when empty)."""

    href: str
    label: str
    perms: frozenset[Perm]


MENU = (
    Item("/", "Cameras", frozenset()),
    Item("/wall", "Video wall", frozenset({Perm.LIVE_VIEW})),
    Item("/archive", "Archive", frozenset({Perm.ARCHIVE_VIEW})),
    Item("/events", "Events", frozenset({Perm.LIVE_VIEW})),
    Item("/protocols", "Protocols", PROTOCOL_READERS),
    Item("/registers", "Registers", frozenset().union(*REGISTERS.values())),
    Item("/transfers", "Transfers", TRANSFER_READERS),
    Item("/approvals", "Approvals", APPROVERS),
    Item("/health", "Health", HEALTH_READERS),
    Item("/equipment", "Equipment", EQUIPMENT_READERS),
    Item("/places", "Places and signs", EQUIPMENT_READERS),
    Item("/acquaintance", "Acquaintance", ACQUAINTANCE_KEEPERS),
    Item("/centres", "Centres", CENTRE_PAGE),
    Item("/editions", "Regulation", frozenset()),
)


def _holds(caller: Caller, perms: frozenset[Perm], now_ns: int) -> bool:
    return any(holds_somewhere(caller.principal, p, now_ns) for p in perms)


def _menu(request: Request, caller: Caller) -> list[tuple[str, str]]:
    """(href, label) of the entries the caller's roles and grants let them use; the
    registers entry opens the first register they may read."""
    now = services(request).clock()
    out = []
    for item in MENU:
        if item.perms and not _holds(caller, item.perms, now):
            continue
        href = item.href
        if href == "/registers":
            kind = next(k for k, perms in REGISTERS.items() if _holds(caller, perms, now))
            href = f"/registers/{kind}"
        out.append((href, item.label))
    return out


@dataclass(frozen=True)
class Bar:
    """The status bar (issue 21) as the caller may see it; None: not theirs to see.

    `recording`/`not_recording`: the cameras they may see, by the recorder's state;
    `alarms`: detection events not yet acknowledged on the cameras they may watch (the
    wall's alarm panel); `equipment`: open alarms of disks, volumes and integrity
    (`health.read`, clause 3.4.3); `disk_days`: days of recording that fit in the enabled
    volumes' free space above their floors at the cameras' present bitrate, shown
    (`disk_shown`) to `camera.status` or `health.read`, None while nothing records;
    `clock_ms`: this server's clock against the campus's time servers (3.4.1), signed
    milliseconds as the last check measured them (`equipment.clockwatch`), None ("—")
    while no server answered, never a made-up figure; `clock_over`: past the alarm's
    limit. Everyone with a bar sees the clock: it tells the time of every recording."""

    recording: int | None
    not_recording: int | None
    alarms: int | None
    equipment: int | None
    disk_days: int | None
    disk_shown: bool
    clock_ms: str | None
    clock_over: bool


@dataclass(frozen=True)
class Work:
    """What waits for the caller ("my work", issue 21), None where it is not theirs: a
    guard's alarms and own protocol drafts (3.5.7), the head of security's protocols to
    review, an approver's requests (what the Approvals page lists, counted alike)."""

    alarms: int | None
    drafts: int | None
    review: int | None
    approvals: int | None

    def badge(self, href: str) -> int:
        """The count beside a menu entry: 0 for none."""
        if href == "/events":
            return self.alarms or 0
        if href == "/protocols":
            return (self.drafts or 0) + (self.review or 0)
        if href == "/approvals":
            return self.approvals or 0
        return 0


BADGED = ("/events", "/protocols", "/approvals")  # the menu entries that show a count


def _watched(svc: Services, caller: Caller, now: int) -> list[int]:
    """Ids of the cameras whose events the caller may see (as `GET /api/events`)."""
    return [c.id for c in svc.cameras().values()
            if decide(caller.principal, Perm.LIVE_VIEW, now, c.id).allowed]


def _open_alarms(svc: Services, cameras: list[int]) -> int:
    """Events not acknowledged on `cameras`, counted in SQL: the events' pictures are
    large, and this runs on every page."""
    with svc.detection.session() as s:
        return int(s.scalar(select(func.count()).select_from(Event).where(
            Event.camera_id.in_(cameras), Event.acknowledged_ns.is_(None))) or 0)


def _protocols(svc: Services, state: str, author: str | None) -> int:
    with svc.protocols.session() as s:
        q = select(func.count()).select_from(Protocol).where(Protocol.state == state)
        if author is not None:
            q = q.where(Protocol.author == author)
        return int(s.scalar(q) or 0)


def _approvals(svc: Services, caller: Caller, now: int) -> int:
    """What the Approvals page lists for the caller (static/approvals.js), section by
    section, each for whoever holds its permission."""
    def has(perm: Perm) -> bool:
        return holds_somewhere(caller.principal, perm, now)

    n = 0
    if has(Perm.TRANSFER_DECIDE):
        n += len(svc.transfers.listing("pending"))
    if has(Perm.HOLD_APPROVE):
        n += sum(1 for v in svc.holds.list(now)
                 if v.state.value in ("pending", "lapsed") and not v.transfer)
    if has(Perm.ROLE_APPROVE):
        n += len(svc.roles.assignments(state="pending"))
        rectors = [a for a in svc.roles.assignments(state="active") if a.role == "rector"]
        n += len(rectors) if len(rectors) > 1 else 0
    if has(Perm.GRANT_APPROVE):
        n += sum(1 for g in svc.grants.list(now) if g.state == "pending")
    if has(Perm.SECOND_FACTOR_RESET):
        n += sum(1 for u in svc.accounts.list() if u.totp_reset_by is not None)
    if has(Perm.EDITION_APPROVE):
        n += svc.editions.pending()
    if has(Perm.CENTRE_APPROVE):  # requests, and incident pushes to review afterwards
        n += len(svc.centres.pending()) + len(svc.centres.pushes(unreviewed=True))
    return n


def work_of(svc: Services, caller: Caller) -> Work:
    """The caller's work, each count asked only of whoever holds its permission: a few
    counting statements per page, no row of footage or pictures read."""
    now = svc.clock()
    live = _holds(caller, frozenset({Perm.LIVE_VIEW}), now)
    writes = _holds(caller, frozenset({Perm.PROTOCOL_WRITE}), now)
    reviews = _holds(caller, frozenset({Perm.PROTOCOL_REVIEW}), now)
    return Work(
        alarms=_open_alarms(svc, _watched(svc, caller, now)) if live else None,
        drafts=_protocols(svc, "draft", caller.name) if writes else None,
        review=_protocols(svc, "submitted", None) if reviews else None,
        approvals=_approvals(svc, caller, now) if _holds(caller, APPROVERS, now) else None)


def _disk_days(svc: Services) -> int | None:
    """Whole days the enabled, present volumes' free space above their floors holds at
    the recording cameras' summed bitrate; None while nothing records."""
    rate = sum(int(st.get("bitrate_bps") or 0) for st in svc.status().values()
               if st.get("state") == "recording") / 8
    if rate <= 0:
        return None
    room = 0
    for v in svc.catalog.volumes():
        if v.state == "enabled" and svc.volumes.present(v):
            u = svc.volumes.usage(v)
            room += max(0, u.free - u.floor)
    return int(room / rate // 86400)


def _clock(svc: Services) -> tuple[str | None, bool]:
    """The server's offset from its last time check ("time" in the recorder's status),
    signed to a tenth of a millisecond, and whether it is past the alarm's limit."""
    reading = svc.parts().get("time")
    if not reading:
        return None, False
    offset = float(reading["offset_ms"])
    return f"{offset:+.1f}", abs(offset) > float(reading["limit_ms"])


def bar_of(svc: Services, caller: Caller, work: Work) -> Bar:
    """The caller's status bar: cameras as `GET /api/cameras` lists them to them, the
    alarms of their `work`, the rest by permission."""
    now = svc.clock()
    statuses = svc.status()
    seen = [c for c in svc.cameras().values()
            if c.removed_ns is None and visible(caller, now, c)]
    recording = sum(1 for c in seen
                    if (statuses.get(c.name) or {}).get("state") == "recording")
    disk = _holds(caller, DISK_READERS, now)
    clock_ms, clock_over = _clock(svc)
    return Bar(recording=recording if seen else None,
               not_recording=len(seen) - recording if seen else None,
               alarms=work.alarms,
               equipment=len(svc.alarms.list()) if _holds(caller, frozenset(
                   {Perm.HEALTH_READ}), now) else None,
               disk_days=_disk_days(svc) if disk else None, disk_shown=disk,
               clock_ms=clock_ms, clock_over=clock_over)


def _caller(request: Request) -> Caller | None:
    """Who the session cookie stands for, or None without a live session or with one
    that still owes a new password or a second factor (the login page finishes it)."""
    svc = services(request)
    sid = request.cookies.get(SESSION_COOKIE)
    if not sid:
        return None
    try:
        caller = svc.sessions.caller_from_session(sid, svc.clock())
    except Unauthenticated:
        return None
    return None if caller.second_factor_missing or caller.must_change_password else caller


def _to_login(request: Request, lang: str | None) -> RedirectResponse:
    """To the login, which comes back to this page (its path and query) once logged in."""
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    to = f"/login?next={quote(here, safe='')}" + (f"&lang={lang}" if lang else "")
    return RedirectResponse(to, status_code=303, headers=HEADERS)


def _to_acquaint(request: Request) -> RedirectResponse:
    """To the edition the account owes its acknowledgement (3.1.4, 3.4.7: read before
    anything else, a locked screen's owner at the unlock too), and back here after. While
    it is owed a page shows no menu, status bar or count: nothing of the console."""
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/acquaint?next={quote(here, safe='')}", status_code=303,
                            headers=HEADERS)


def _page(request: Request, template: str, *, needs: frozenset[Perm] | None = frozenset(),
          keep: bool = False, **context: object) -> Response:
    """The page in the viewer's language. `needs`: None for a page open to anyone (the
    login); else a live session, holding one of `needs` when not empty — without it the
    page says why, unless `keep` (a page whose own script tells the refusal per camera)."""
    asked = request.query_params.get("lang")
    lang = pick(asked or request.cookies.get(LANG_COOKIE))
    caller = _caller(request)
    if needs is not None and caller is None:
        return _to_login(request, asked if asked in LANGUAGES else None)
    svc = services(request)
    now = svc.clock()
    owed = caller is not None and svc.editions.owed(caller.name, now) is not None
    if needs is not None and owed and request.url.path != "/acquaint":
        return _to_acquaint(request)
    work = bar = None
    if caller is not None and not caller.locked and not owed and request.url.path != "/login":
        work = work_of(svc, caller)
        bar = bar_of(svc, caller, work)
    refused: dict[str, str] | None = None
    if caller is not None and needs and not _holds(caller, needs, svc.clock()):
        refused = {"perms": ", ".join(sorted(needs)), "clauses": clauses_of(needs),
                   "who": who(svc.roles.all(), needs, caller.principal.roles, lang)}
    html = TEMPLATES.get_template(template).render(
        lang=lang, _=translator(lang), languages=[(c, NAMES[c]) for c in LANGUAGES],
        zone=svc.settings.display_timezone, me=caller, refused=refused, keep=keep,
        menu=_menu(request, caller) if caller and not owed else [],
        idle_lock_s=svc.settings.screen_lock_s,
        here=request.url.path, bar=bar, work=work, in_force=svc.editions.in_force(now),
        badges={h: work.badge(h) for h in BADGED} if work else {}, **context)
    response = HTMLResponse(html, headers=HEADERS)
    if asked in LANGUAGES:
        response.set_cookie(LANG_COOKIE, lang, secure=True, samesite="strict",
                            max_age=365 * 86400)
        if caller is not None:  # a language picked while logged in becomes the account's
            svc.accounts.set_language(caller.name, lang)
    return response


@router.get("/")
def index(request: Request) -> Response:
    return _page(request, "index.html")


@router.get("/status-bar")
def status_bar(request: Request) -> Response:
    """The status bar's figures and the menu's counts for the page's script
    (static/statusbar.js): the session's own, as the page rendered them; refused, with no
    body, without a live session or while its screen is locked (3.5.1)."""
    caller = _caller(request)
    svc = services(request)
    if caller is None or caller.locked or svc.editions.owed(caller.name, svc.clock()):
        return Response(status_code=401, headers=HEADERS)
    work = work_of(svc, caller)
    return JSONResponse({**asdict(bar_of(svc, caller, work)),
                         "badges": {h: work.badge(h) for h in BADGED}},
                        headers={**HEADERS, "cache-control": "no-store"})


@router.get("/login")
def login_page(request: Request) -> Response:
    return _page(request, "login.html", needs=None)


@router.get("/wall")
def wall_page(request: Request) -> Response:
    return _page(request, "wall.html", needs=frozenset({Perm.LIVE_VIEW}))


@router.get("/archive")
def archive_start(request: Request) -> Response:
    """The menu's Archive: the first camera (by name) whose footage the caller may see,
    by a role or a grant; the camera list when there is none."""
    svc = services(request)
    caller = _caller(request)
    if caller is None:
        return _to_login(request, None)
    now = svc.clock()
    if svc.editions.owed(caller.name, now):
        return _to_acquaint(request)
    for name, cam in sorted(svc.cameras().items()):
        if cam.removed_ns is None and footage_bounds(caller.principal, Perm.ARCHIVE_VIEW,
                                                     cam.id, now):
            return RedirectResponse(f"/archive/{quote(name)}", status_code=303,
                                    headers=HEADERS)
    return RedirectResponse("/", status_code=303, headers=HEADERS)


@router.get("/archive/{name}")
def archive_page(name: str, request: Request) -> Response:
    return _page(request, "archive.html", needs=frozenset({Perm.ARCHIVE_VIEW}), keep=True,
                 camera=name if is_camera_name(name) else "")


@router.get("/live/{name}")
def live_page(name: str, request: Request) -> Response:
    if not is_camera_name(name):
        name = ""
    return _page(request, "live.html", needs=frozenset({Perm.LIVE_VIEW}), camera=name)


@router.get("/cameras/{name}/detection")
def detection_page(name: str, request: Request) -> Response:
    """Zones, lines, masks drawn on the camera's picture; the API checks `camera.admin`."""
    return _page(request, "detection.html", needs=frozenset({Perm.CAMERA_ADMIN}),
                 camera=name if is_camera_name(name) else "")


@router.get("/protocols")
def protocols_page(request: Request) -> Response:
    return _page(request, "protocols.html", needs=PROTOCOL_READERS)


@router.get("/protocols/{protocol_id}")
def protocol_page(protocol_id: int, request: Request) -> Response:
    return _page(request, "protocol.html", needs=PROTOCOL_READERS, protocol_id=protocol_id)



@router.get("/transfers")
def transfers_page(request: Request) -> Response:
    return _page(request, "transfers.html", needs=TRANSFER_READERS)


@router.get("/transfers/{transfer_id}")
def transfer_page(transfer_id: int, request: Request) -> Response:
    return _page(request, "transfer.html", needs=TRANSFER_READERS, transfer_id=transfer_id)


@router.get("/approvals")
def approvals_page(request: Request) -> Response:
    return _page(request, "approvals.html", needs=APPROVERS)


@router.get("/centres")
def centres_page(request: Request) -> Response:
    """The centres that receive live video, their sessions and their register (3.2.11)."""
    return _page(request, "centres.html", needs=CENTRE_PAGE)


@router.get("/editions")
def editions_page(request: Request) -> Response:
    """The register of the regulation's editions (4.1, 4.3): everyone reads it."""
    return _page(request, "editions.html")


@router.get("/editions/{edition_id}")
def edition_page(edition_id: int, request: Request) -> Response:
    """One edition: its text in the page's language, its order, and the steps the caller
    may take (prepare's scan, the rector's decision)."""
    svc = services(request)
    lang = pick(request.query_params.get("lang") or request.cookies.get(LANG_COOKIE))
    try:
        return _page(request, "edition.html", edition=svc.editions.get(edition_id),
                     text=svc.editions.text(edition_id, lang))
    except NotFound:
        return _page(request, "edition.html", edition=None, text=None)


@router.get("/places")
def places_page(request: Request) -> Response:
    """Places under the cameras' view and their signs, the coverage report (3.4.5)."""
    return _page(request, "places.html", needs=EQUIPMENT_READERS, zone_words=ZONE_WORDS,
                 place_kinds=PLACE_KINDS)


@router.get("/places/{name}")
def place_page(name: str, request: Request) -> Response:
    return _page(request, "place.html", needs=EQUIPMENT_READERS,
                 place=name if ITEM_NAME.fullmatch(name) else "")


@router.get("/acquaintance")
def acquaintance_page(request: Request) -> Response:
    """Staff and students' acquaintance and the general meetings (3.1.4, 3.4.6, 3.4.7)."""
    return _page(request, "acquaintance.html", needs=ACQUAINTANCE_KEEPERS)


@router.get("/sheets/{sheet_id}")
def sheet_page(sheet_id: int, request: Request) -> Response:
    return _page(request, "sheet.html", needs=ACQUAINTANCE_KEEPERS, sheet_id=sheet_id)


@router.get("/acquaint")
def acquaint_page(request: Request) -> Response:
    """The edition in force to read to its end and acknowledge (3.1.4, 3.4.7); then on to
    `next` (static/acquaint.js keeps it on this server, as the login does)."""
    svc = services(request)
    lang = pick(request.query_params.get("lang") or request.cookies.get(LANG_COOKIE))
    caller = _caller(request)
    now = svc.clock()
    edition = ((svc.editions.owed(caller.name, now) if caller else None)
               or svc.editions.in_force(now))
    text = svc.editions.text(edition.id, lang) if edition else None
    return _page(request, "acquaint.html", edition=edition, text=text)


def notice_of(svc: Services) -> dict[str, Any]:
    """The public notice's facts (kuzet.notice.public), and who may see stored footage in
    each language: the roles that hold archive.view now (roles are data, 4.1)."""
    roles = svc.roles.all()
    return {"notice": notice(svc.cameras().values(), svc.settings.retention_days),
            "zone_words": ZONE_WORDS, "viewers": {
                lang: titles(roles, lang, having=frozenset({Perm.ARCHIVE_VIEW}))
                for lang in LANGUAGES}}


@router.get("/notice")
def notice_page(request: Request) -> Response:
    """The public notice (3.2.1, 3.4.4): no login, on the LAN like every page."""
    return _page(request, "notice.html", needs=None, **notice_of(services(request)))


@router.get("/health")
def health_page(request: Request) -> Response:
    """Alarms, volumes, camera states and the audit log's integrity (clause 3.4.3); the API
    checks `health.read` and `audit.verify`."""
    return _page(request, "health.html", needs=HEALTH_READERS)


@router.get("/equipment")
def equipment_page(request: Request) -> Response:
    """The equipment register (3.3.1-3.3.8, 3.4.3): items with filters, checks due, and for
    `equipment.admin` adding items and importing a spreadsheet; the API checks each."""
    return _page(request, "equipment.html", needs=EQUIPMENT_READERS,
                 buildings=services(request).settings.buildings)


@router.get("/equipment/{name}")
def equipment_item_page(name: str, request: Request) -> Response:
    """An item's passport, links, open alarms and log; no picture, not even a camera's."""
    return _page(request, "equipment_item.html", needs=EQUIPMENT_READERS, item=name,
                 buildings=services(request).settings.buildings)


@router.get("/registers/{kind}")
def register_page(kind: str, request: Request) -> Response:
    kind = kind if kind in REGISTERS else "acts"
    return _page(request, "register.html", needs=REGISTERS[kind], kind=kind,
                 kinds=tuple(REGISTERS))


@router.get("/acts/{act_id}")
def act_page(act_id: int, request: Request) -> Response:
    return _page(request, "act.html", needs=REGISTERS["acts"], act_id=act_id)


@router.get("/events")
def events_page(request: Request) -> Response:
    return _page(request, "events.html", needs=frozenset({Perm.LIVE_VIEW}))


FAVICON = Path(__file__).parents[1] / "static" / "favicon.svg"


@router.get("/favicon.ico")
def favicon() -> Response:
    """The icon at the address browsers and tools ask for without a page's link (issue 21:
    a 404 each time); pages link the same drawing, `/static/favicon.svg`. Sent with the
    pages' headers (no sniffing, no script in the SVG)."""
    return Response(FAVICON.read_bytes(), media_type="image/svg+xml",
                    headers={**HEADERS, "cache-control": "max-age=86400"})
