"""Wall layouts, saved per user: every user reads and writes only their own."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from kuzet.access.sessions import Caller
from kuzet.errors import NotFound
from kuzet.web.deps import Authenticated, services
from kuzet.web.schemas import LayoutName, WallLayout

router = APIRouter(prefix="/api", tags=["console"])
SIGNED_IN = Depends(Authenticated())


@router.get("/layouts")
def my_layouts(request: Request, caller: Caller = SIGNED_IN) -> dict[str, Any]:
    return {"layouts": services(request).layouts.of(caller.name)}


@router.put("/layouts/{name}")
def save_layout(name: LayoutName, body: WallLayout, request: Request,
                caller: Caller = SIGNED_IN) -> dict[str, Any]:
    svc = services(request)
    return {"name": name, **svc.layouts.put(caller.name, name, body.model_dump(), svc.clock())}


@router.delete("/layouts/{name}")
def delete_layout(name: LayoutName, request: Request, caller: Caller = SIGNED_IN
                  ) -> dict[str, Any]:
    if not services(request).layouts.remove(caller.name, name):
        raise NotFound(f"no layout named {name!r}")
    return {"name": name, "deleted": True}
