"""Prometheus's scrape (issue 22 item 5): the complex's figures for the IT office's own
monitoring (3.4.3), behind the LAN gate like every route and needing `health.read` (an API
token made for the scraper, or a session); never a picture nor a person."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST

from kuzet.access.permissions import Perm
from kuzet.access.sessions import Caller
from kuzet.web.deps import Require, services
from kuzet.web.metrics import exposition
from kuzet.web.replies import a_file

router = APIRouter(prefix="/api", tags=["metrics"])


@router.get("/metrics", **a_file("text/plain"))
def metrics(request: Request, caller: Caller = Depends(Require(Perm.HEALTH_READ))
            ) -> Response:
    return Response(exposition(services(request)), media_type=CONTENT_TYPE_LATEST)
