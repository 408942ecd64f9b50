"""Scanned basis documents: only PDF, JPEG or PNG, told by their first bytes, never by
the name or the type the browser claims. Pure: the web layer hands over the bytes."""

from __future__ import annotations

from kuzet.errors import Invalid, TooLarge, Unsupported

SIGNATURES = ((b"%PDF-", "application/pdf"), (b"\xff\xd8\xff", "image/jpeg"),
              (b"\x89PNG\r\n\x1a\n", "image/png"))
# Types a browser or client may send for "I do not know": the content decides then.
UNDECLARED = {"", "application/octet-stream"}


def sniff(data: bytes) -> str | None:
    for magic, kind in SIGNATURES:
        if data.startswith(magic):
            return kind
    return None


def check_upload(data: bytes, declared: str, max_bytes: int) -> str:
    """The upload's media type, or a refusal saying what is wrong with it."""
    if len(data) > max_bytes:
        raise TooLarge("the scan is {size} bytes; at most {max_bytes} are accepted",
                       size=len(data), max_bytes=max_bytes)
    if not data:
        raise Invalid("the upload is empty")
    kind = sniff(data)
    if kind is None:
        raise Unsupported("the scan must be a PDF, JPEG or PNG file; its content is none of them")
    claimed = declared.split(";", 1)[0].strip().lower()
    if claimed == "image/jpg":
        claimed = "image/jpeg"
    if claimed not in UNDECLARED and claimed != kind:
        raise Unsupported("the upload says it is {claimed} but its content is {kind}",
                          claimed=claimed, kind=kind)
    return kind
