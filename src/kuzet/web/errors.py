"""Domain errors to HTTP statuses, in one place."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from kuzet.access.errors import AccessError, Conflict, Denied, Invalid, NotFound, Unauthenticated
from kuzet.access.passwords import WeakPassword

STATUS: list[tuple[type[Exception], int]] = [
    (Unauthenticated, 401), (Denied, 403), (NotFound, 404), (Conflict, 409), (Invalid, 400),
    (WeakPassword, 400),
]


def install(app: FastAPI) -> None:
    async def handle(request: Request, exc: Exception) -> JSONResponse:
        for kind, status in STATUS:
            if isinstance(exc, kind):
                return JSONResponse({"detail": str(exc)}, status_code=status)
        return JSONResponse({"detail": "internal error"}, status_code=500)

    for kind in (AccessError, WeakPassword):
        app.add_exception_handler(kind, handle)
