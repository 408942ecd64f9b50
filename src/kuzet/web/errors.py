"""Kuzet's error kinds to HTTP statuses, in one place: by kind, never by message."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from kuzet.errors import (
    Conflict,
    Denied,
    Invalid,
    KuzetError,
    NotFound,
    TooLarge,
    Unauthenticated,
    Unavailable,
    Unsupported,
)

# Most specific first: TooLarge and Unsupported are also Invalid.
STATUS: list[tuple[type[KuzetError], int]] = [
    (TooLarge, 413), (Unsupported, 415),
    (Unauthenticated, 401), (Denied, 403), (NotFound, 404), (Conflict, 409), (Invalid, 400),
    # a missing document font is the installation's to fix, not the caller's
    (Unavailable, 503),
]


def status_of(exc: KuzetError) -> int:
    for kind, status in STATUS:
        if isinstance(exc, kind):
            return status
    return 500


def install(app: FastAPI) -> None:
    async def handle(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, KuzetError)
        status = status_of(exc)
        detail = str(exc) if status != 500 else "internal error"
        return JSONResponse({"detail": detail}, status_code=status)

    async def invalid_request(request: Request, exc: Exception) -> JSONResponse:
        """FastAPI's own 422, without echoing the input: it may be what broke."""
        assert isinstance(exc, RequestValidationError)
        detail = [{"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")),
                   "type": str(e.get("type", ""))} for e in exc.errors()]
        return JSONResponse({"detail": detail}, status_code=422)

    async def bad_text(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": "text must be valid Unicode"}, status_code=400)

    app.add_exception_handler(KuzetError, handle)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(UnicodeError, bad_text)
