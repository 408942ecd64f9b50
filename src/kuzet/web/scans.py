"""A request's raw body as an uploaded file (a basis document, a signed edition or sheet,
a meeting's minutes, a sign's photograph, a list): read as it streams in and refused as
soon as it passes `upload_max_bytes`, never held whole beyond it; a scan is told by its
first bytes (`governance.uploads`), never by its name or declared type. And a scan given
back as a download."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from kuzet.errors import TooLarge
from kuzet.governance.uploads import check_upload
from kuzet.web.deps import services


async def body_of(request: Request) -> bytes:
    cap = services(request).settings.upload_max_bytes
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > cap:
            raise TooLarge("the upload is over {cap} bytes", cap=cap)
    return bytes(data)


async def scan_of(request: Request) -> tuple[bytes, str]:
    """The body and its media type: a PDF, JPEG or PNG agreeing with Content-Type."""
    data = await body_of(request)
    return data, check_upload(data, request.headers.get("content-type", ""),
                              services(request).settings.upload_max_bytes)


EXTENSIONS = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}


def scan_answer(data: bytes, media_type: str, stem: str) -> Response:
    """A stored scan as a download named `<stem>.<its kind's extension>`, never sniffed
    by the browser nor cached."""
    return Response(data, media_type=media_type, headers={
        "content-disposition": f'attachment; filename="{stem}.{EXTENSIONS[media_type]}"',
        "x-content-type-options": "nosniff", "cache-control": "no-store"})
