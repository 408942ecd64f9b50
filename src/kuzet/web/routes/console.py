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
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from kuzet.access.permissions import Perm, clauses_of, footage_bounds, holds_somewhere
from kuzet.access.sessions import IDLE_LOCK_S, Caller
from kuzet.catalog.paths import is_camera_name
from kuzet.errors import Unauthenticated
from kuzet.web.deps import SESSION_COOKIE, Public, services
from kuzet.web.errors import who
from kuzet.web.i18n import LANG_COOKIE, LANGUAGES, NAMES, pick, translator

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
                       Perm.GRANT_APPROVE, Perm.SECOND_FACTOR_RESET})
HEALTH_READERS = frozenset({Perm.HEALTH_READ, Perm.AUDIT_VERIFY})


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
    refused: dict[str, str] | None = None
    if caller is not None and needs and not _holds(caller, needs, svc.clock()):
        refused = {"perms": ", ".join(sorted(needs)), "clauses": clauses_of(needs),
                   "who": who(svc.roles.all(), needs, caller.principal.roles, lang)}
    html = TEMPLATES.get_template(template).render(
        lang=lang, _=translator(lang), languages=[(c, NAMES[c]) for c in LANGUAGES],
        zone=svc.settings.display_timezone, me=caller, refused=refused, keep=keep,
        menu=_menu(request, caller) if caller else [], idle_lock_s=IDLE_LOCK_S,
        here=request.url.path, **context)
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


@router.get("/health")
def health_page(request: Request) -> Response:
    """Alarms, volumes, camera states and the audit log's integrity (clause 3.4.3); the API
    checks `health.read` and `audit.verify`."""
    return _page(request, "health.html", needs=HEALTH_READERS)


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
