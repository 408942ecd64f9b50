"""The HTTP API: FastAPI routers behind the LAN gate and a body-size cap."""

from __future__ import annotations

import logging
import re
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from kuzet.access.lan import ClientAddress, parse_networks
from kuzet.audit.log import Actor
from kuzet.catalog.alarms import Severity
from kuzet.web import errors
from kuzet.web.lan import BodyLimit, LanOnly, Scope
from kuzet.web.routes import (
    acts,
    alerts_ws,
    archive_ws,
    auth,
    cameras,
    console,
    detection,
    layouts,
    live_ws,
    people,
    protocols,
    records,
    status_ws,
    transfers,
    viewings,
)
from kuzet.web.services import Services

log = logging.getLogger(__name__)
ROUTERS = (auth.router, cameras.router, people.router, records.router, layouts.router,
           protocols.router, acts.router, viewings.router, transfers.router, status_ws.router,
           live_ws.router, archive_ws.router, detection.router, alerts_ws.router,
           console.router)
STATIC = Path(__file__).parent / "static"
UPLOAD_PATHS = re.compile(r"/api/transfers/\d+/basis")


def create_app(svc: Services) -> LanOnly:
    """`LanOnly(BodyLimit(FastAPI))`: the gate sees every request before anything else."""
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

    def on_refusal(client: ClientAddress, scope: Scope) -> None:
        path = str(scope.get("path", ""))[:200]
        log.warning("refused a request from %s outside the local network", client.text)
        svc.audit.act(Actor("anonymous", (), client.text), "access.refused", path,
                      outcome="refused", reason="clause 3.5.3: source outside the local network",
                      kind=scope["type"])
        svc.alarms.raise_("non_lan_access", client.text, Severity.CRITICAL,
                          f"a {scope['type']} request to {path} came from {client.text}, "
                          "outside the local network (clause 3.5.3); refused")

    inner = BodyLimit(api, settings.max_body_bytes, UPLOAD_PATHS, settings.upload_max_bytes)
    return LanOnly(inner, parse_networks(settings.allowed_networks),
                   parse_networks(settings.trusted_proxies), on_refusal)
