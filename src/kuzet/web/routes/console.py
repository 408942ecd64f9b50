"""The console's pages: server-rendered shells in the viewer's language.

The pages hold no video and no names of cameras the viewer may not see: what they show
comes through the guarded API and WebSockets, so the pages themselves are public (the
RBAC matrix still lists them). Each answer forbids framing and loading anything from
elsewhere (Content-Security-Policy).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from kuzet.catalog.paths import is_camera_name
from kuzet.errors import Unauthenticated
from kuzet.web.deps import SESSION_COOKIE, Public, services
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


def _page(request: Request, template: str, **context: object) -> HTMLResponse:
    asked = request.query_params.get("lang")
    lang = pick(asked or request.cookies.get(LANG_COOKIE))
    html = TEMPLATES.get_template(template).render(
        lang=lang, _=translator(lang), languages=[(c, NAMES[c]) for c in LANGUAGES],
        zone=services(request).settings.display_timezone, **context)
    response = HTMLResponse(html, headers=HEADERS)
    if asked in LANGUAGES:
        response.set_cookie(LANG_COOKIE, lang, secure=True, samesite="strict",
                            max_age=365 * 86400)
        _keep_for_account(request, lang)
    return response


def _keep_for_account(request: Request, lang: str) -> None:
    """A language picked while logged in becomes the account's (pages are public: no
    session simply means nothing to remember it on)."""
    svc = services(request)
    sid = request.cookies.get(SESSION_COOKIE)
    if not sid:
        return
    try:
        caller = svc.sessions.caller_from_session(sid, svc.clock())
    except Unauthenticated:
        return
    svc.accounts.set_language(caller.name, lang)


@router.get("/")
def index(request: Request) -> HTMLResponse:
    return _page(request, "index.html")


@router.get("/login")
def login_page(request: Request) -> HTMLResponse:
    return _page(request, "login.html")


@router.get("/wall")
def wall_page(request: Request) -> HTMLResponse:
    return _page(request, "wall.html")


@router.get("/archive/{name}")
def archive_page(name: str, request: Request) -> HTMLResponse:
    return _page(request, "archive.html", camera=name if is_camera_name(name) else "")


@router.get("/live/{name}")
def live_page(name: str, request: Request) -> HTMLResponse:
    if not is_camera_name(name):
        name = ""
    return _page(request, "live.html", camera=name)


@router.get("/cameras/{name}/detection")
def detection_page(name: str, request: Request) -> HTMLResponse:
    """Zones, lines, masks drawn on the camera's picture; the API checks `camera.admin`."""
    return _page(request, "detection.html", camera=name if is_camera_name(name) else "")


@router.get("/protocols")
def protocols_page(request: Request) -> HTMLResponse:
    return _page(request, "protocols.html")


@router.get("/protocols/{protocol_id}")
def protocol_page(protocol_id: int, request: Request) -> HTMLResponse:
    return _page(request, "protocol.html", protocol_id=protocol_id)



@router.get("/transfers")
def transfers_page(request: Request) -> HTMLResponse:
    return _page(request, "transfers.html")


@router.get("/transfers/{transfer_id}")
def transfer_page(transfer_id: int, request: Request) -> HTMLResponse:
    return _page(request, "transfer.html", transfer_id=transfer_id)


@router.get("/approvals")
def approvals_page(request: Request) -> HTMLResponse:
    return _page(request, "approvals.html")


@router.get("/health")
def health_page(request: Request) -> HTMLResponse:
    """Alarms, volumes, camera states and the audit log's integrity (clause 3.4.3); the API
    checks `health.read` and `audit.verify`."""
    return _page(request, "health.html")


REGISTERS = ("acts", "viewings", "holds")


@router.get("/registers/{kind}")
def register_page(kind: str, request: Request) -> HTMLResponse:
    return _page(request, "register.html", kind=kind if kind in REGISTERS else "acts",
                 kinds=REGISTERS)


@router.get("/acts/{act_id}")
def act_page(act_id: int, request: Request) -> HTMLResponse:
    return _page(request, "act.html", act_id=act_id)


@router.get("/events")
def events_page(request: Request) -> HTMLResponse:
    return _page(request, "events.html")
