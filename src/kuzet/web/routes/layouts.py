"""Wall layouts, saved per user: every user reads and writes only their own."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from kuzet.access.sessions import Caller
from kuzet.errors import NotFound
from kuzet.web.deps import Authenticated, services
from kuzet.web.replies.layouts import (
    LayoutDeletedReply,
    LayoutReply,
    LayoutsReply,
    SavedLayoutReply,
)
from kuzet.web.schemas import LayoutName, WallLayout

router = APIRouter(prefix="/api", tags=["console"])
SIGNED_IN = Depends(Authenticated())


@router.get("/layouts")
def my_layouts(request: Request, caller: Caller = SIGNED_IN) -> LayoutsReply:
    return LayoutsReply(layouts={
        name: LayoutReply(cols=p["cols"], rows=p["rows"], tiles=p["tiles"])
        for name, p in services(request).layouts.of(caller.name).items()})


@router.put("/layouts/{name}")
def save_layout(name: LayoutName, body: WallLayout, request: Request,
                caller: Caller = SIGNED_IN) -> SavedLayoutReply:
    svc = services(request)
    p = svc.layouts.put(caller.name, name, body.model_dump(), svc.clock())
    return SavedLayoutReply(name=name, cols=p["cols"], rows=p["rows"], tiles=p["tiles"])


@router.delete("/layouts/{name}")
def delete_layout(name: LayoutName, request: Request, caller: Caller = SIGNED_IN
                  ) -> LayoutDeletedReply:
    if not services(request).layouts.remove(caller.name, name):
        raise NotFound("no layout named {name!r}", name=name)
    return LayoutDeletedReply(name=name, deleted=True)
