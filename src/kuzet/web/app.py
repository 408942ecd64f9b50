"""The HTTP API: FastAPI routers behind the LAN gate and a body-size cap."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from kuzet.access.lan import parse_networks
from kuzet.web import errors
from kuzet.web.lan import ASGIApp, BodyLimit, LanOnly, Receive, Scope, Send
from kuzet.web.routes import (
    acquaintance,
    acts,
    alerts_ws,
    archive_ws,
    auth,
    cameras,
    centres,
    console,
    detection,
    editions,
    equipment,
    layouts,
    live_ws,
    metrics,
    people,
    places,
    protocols,
    records,
    status_ws,
    transfers,
    viewings,
)
from kuzet.web.services import Services

ROUTERS = (auth.router, cameras.router, people.router, records.router, layouts.router,
           protocols.router, acts.router, viewings.router, transfers.router, status_ws.router,
           live_ws.router, archive_ws.router, detection.router, alerts_ws.router,
           equipment.router, metrics.router, editions.router, places.router,
           acquaintance.router, centres.router, console.router)
STATIC = Path(__file__).parent / "static"
UPLOAD_PATHS = re.compile(
    r"/api/(transfers/\d+/basis|editions/\d+/scan|places/[^/]+/signs/\d+/photo"
    r"|meetings/\d+/minutes|sheets/\d+/scan|people/import|centres/\d+/(basis|certificate))")


def create_app(svc: Services) -> StrictTransport:
    """`StrictTransport(LanOnly(BodyLimit(FastAPI)))`: the gate sees every request before
    anything else; HSTS goes on every answer, the gate's own included."""
    # No interactive docs page: FastAPI's loads its script from a CDN, and Kuzet loads
    # nothing from the Internet (clause 3.5.3 keeps it off the Internet anyway).
    api = FastAPI(title="Kuzet", version="0.1.0", openapi_url="/api/openapi.json",
                  docs_url=None, redoc_url=None)
    api.state.services = svc
    errors.install(api)
    for r in ROUTERS:
        api.include_router(r)
    api.mount("/static", StaticFiles(directory=STATIC), name="static")
    settings = svc.settings

    inner = BodyLimit(api, settings.max_body_bytes, UPLOAD_PATHS, settings.upload_max_bytes)
    return StrictTransport(LanOnly(inner, parse_networks(settings.allowed_networks),
                                   parse_networks(settings.trusted_proxies), svc.refusals.note))


HSTS = (b"strict-transport-security", b"max-age=31536000")


class StrictTransport:
    """HSTS on every answer given over HTTPS, the gate's 403 and the body cap's 413
    included: a browser that has reached Kuzet once goes straight to HTTPS for a year, so
    nobody on the LAN can answer its next plain-HTTP request in Kuzet's place. Never on
    plain HTTP (browsers ignore it there, RFC 6797 §8.1), so not on the redirect port."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("scheme") != "https":
            await self.app(scope, receive, send)
            return

        async def with_hsts(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), HSTS]}
            await send(message)

        await self.app(scope, receive, with_hsts)
