"""Plain ASGI middleware that refuses non-LAN clients before any routing (clause 3.5.3).

Written as raw ASGI rather than Starlette's BaseHTTPMiddleware so that it also guards
WebSockets and does not buffer streaming responses.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, MutableMapping
from typing import Any

from kuzet.access.lan import ClientAddress, Network, allowed, client_address

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]  # as Starlette types it, so that its TestClient takes the app
Receive = Callable[[], Any]
Send = Callable[[dict[str, Any]], Any]
ASGIApp = Callable[..., Any]
OnRefusal = Callable[[ClientAddress, Scope], None]


def scope_client(scope: Scope, trusted_proxies: list[Network]) -> ClientAddress:
    peer = scope.get("client")
    headers = {k.decode("latin-1").lower(): v.decode("latin-1")
               for k, v in scope.get("headers", [])}
    return client_address(peer[0] if peer else None, headers, trusted_proxies)


class LanOnly:
    """Refuse (403, or close a WebSocket with 1008) every client outside `networks`.

    `on_refusal` runs on the event loop for each refused request, so it must not wait on
    a disk or a database: `kuzet.web.refusal_log` only counts there and writes elsewhere.
    """

    def __init__(self, app: ASGIApp, networks: list[Network], trusted_proxies: list[Network],
                 on_refusal: OnRefusal) -> None:
        self.app = app
        self.networks = networks
        self.trusted_proxies = trusted_proxies
        self.on_refusal = on_refusal

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        client = scope_client(scope, self.trusted_proxies)
        scope.setdefault("state", {})["client_address"] = client.text
        if allowed(client, self.networks):
            await self.app(scope, receive, send)
            return
        try:
            self.on_refusal(client, scope)
        except Exception:  # the refusal stands even if it could not be written down
            log.exception("could not record a refused non-LAN request")
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        body = json.dumps({"detail": "clause 3.5.3: Kuzet is reached only from the local "
                                     "network"}).encode()
        await send({"type": "http.response.start", "status": 403,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


class BodyLimit:
    """Refuse request bodies over `max_bytes` (413), by header and by counting; paths
    matching `uploads` (scans of documents) may send up to `upload_bytes`.

    A body without Content-Length (chunked) is only known to be too large while the app
    reads it, and the app turns a failing read into an answer of its own (FastAPI: 400,
    Starlette: 500). So the 413 is sent from here the moment the count passes the limit,
    and whatever the app answers or raises after that is dropped. The 413 closes the
    connection: the rest of the body is never read.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, uploads: re.Pattern[str] | None = None,
                 upload_bytes: int = 0) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.uploads = uploads
        self.upload_bytes = upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_bytes
        if self.uploads is not None and self.uploads.fullmatch(str(scope.get("path", ""))):
            limit = max(limit, self.upload_bytes)
        for k, v in scope.get("headers", []):
            if k.lower() == b"content-length" and (not v.isdigit() or int(v) > limit):
                await _too_large(send, limit)
                return
        seen = 0
        started = refused = False

        async def counted() -> Any:
            nonlocal seen, refused
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    if not started and not refused:
                        refused = True
                        await _too_large(send, limit)
                    raise _TooLarge
            return message

        async def unless_refused(message: dict[str, Any]) -> None:
            nonlocal started
            if not refused:
                started = True
                await send(message)

        try:
            await self.app(scope, counted, unless_refused)
        except Exception:
            if not refused:  # after the 413, what the app raises is that failed read
                raise


class _TooLarge(Exception):
    pass


async def _too_large(send: Send, max_bytes: int) -> None:
    body = json.dumps({"detail": f"request body over {max_bytes} bytes"}).encode()
    await send({"type": "http.response.start", "status": 413,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})
