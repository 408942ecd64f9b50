"""Domain errors to HTTP statuses, in one place."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from kuzet.access.errors import AccessError, Conflict, Denied, Invalid, NotFound, Unauthenticated
from kuzet.access.passwords import WeakPassword
from kuzet.catalog.store import CatalogError
from kuzet.console.layouts import LayoutError
from kuzet.export.plan import ExportError
from kuzet.governance.documents import DocumentError
from kuzet.governance.uploads import TooLarge, Unsupported
from kuzet.storage.retention import PolicyError

STATUS: list[tuple[type[Exception], int]] = [
    (TooLarge, 413), (Unsupported, 415),
    (Unauthenticated, 401), (Denied, 403), (NotFound, 404), (Conflict, 409), (Invalid, 400),
    (WeakPassword, 400),
    # The storage layer's refusals (a hold decided by its requester, an expiry past three
    # years, an unknown camera) are the caller's to fix.
    (CatalogError, 400), (PolicyError, 400), (LayoutError, 400),
    # a missing document font is the installation's to fix, not the caller's
    (DocumentError, 503),
    # footage the export needs is gone or changed: the request stands, the archive does not
    (ExportError, 409),
]


def install(app: FastAPI) -> None:
    async def handle(request: Request, exc: Exception) -> JSONResponse:
        for kind, status in STATUS:
            if isinstance(exc, kind):
                return JSONResponse({"detail": str(exc)}, status_code=status)
        return JSONResponse({"detail": "internal error"}, status_code=500)

    async def invalid_request(request: Request, exc: Exception) -> JSONResponse:
        """FastAPI's own 422, without echoing the input: it may be what broke."""
        assert isinstance(exc, RequestValidationError)
        detail = [{"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")),
                   "type": str(e.get("type", ""))} for e in exc.errors()]
        return JSONResponse({"detail": detail}, status_code=422)

    async def bad_text(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"detail": "text must be valid Unicode"}, status_code=400)

    for kind in (AccessError, WeakPassword, CatalogError, PolicyError, LayoutError,
                 DocumentError, ExportError):
        app.add_exception_handler(kind, handle)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(UnicodeError, bad_text)
