"""Serving the API inside `kuzet serve`: HTTPS, plus a plain-HTTP port that only redirects.

uvicorn runs in its own thread with its own event loop, beside the recorder's threads;
sockets are bound here so that port 0 works and the real ports can be written to
`<home>/run/api.json` for the CLI, the demo and tests.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import threading
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import uvicorn
import uvloop

from kuzet.access.lan import Network, parse_networks
from kuzet.config import Settings
from kuzet.web.app import create_app
from kuzet.web.lan import LanOnly, Receive, Scope, Send
from kuzet.web.services import Services

log = logging.getLogger(__name__)
API_THREADS = 4
SHUTDOWN_S = 3  # open sockets get this long to close before their handlers are cancelled


class Redirect:
    """Every plain-HTTP request is sent to the same path over HTTPS, at the configured name.

    The `Host` header is the client's to write: copied into `Location` it would let a link
    or a meddler on the LAN send a browser from Kuzet's own port to any host at all.
    """

    def __init__(self, name: str, https_port: int) -> None:
        self.name = name
        self.https_port = https_port

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        path = scope.get("raw_path") or urllib.parse.quote(scope.get("path", "/")).encode()
        target = https_location(self.name, self.https_port, path.decode("latin-1"),
                                scope.get("query_string", b"").decode("latin-1"))
        await send({"type": "http.response.start", "status": 308,
                    "headers": [(b"location", target.encode("latin-1")),
                                (b"content-length", b"0")]})
        await send({"type": "http.response.body", "body": b""})


def https_location(name: str, port: int, path: str, query: str) -> str:
    """`https://name:port/path?query`, an IPv6 address in brackets, no port when 443.
    `path` is the request's as sent (still percent-encoded), so nothing it holds can end
    the header line or become part of the host."""
    host = f"[{name}]" if ":" in name else name
    authority = host if port == 443 else f"{host}:{port}"
    if not path.startswith("/"):
        path = "/" + path
    return f"https://{authority}{path}" + (f"?{query}" if query else "")


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return socket.create_server((host, port), family=family, reuse_port=False)


@dataclass(frozen=True)
class Listen:
    """Where and how the API listens, of all the settings."""

    host: str
    https_port: int
    redirect_port: int | None
    public_name: str | None  # the redirect's target; None: this machine's host name
    cert: Path
    key: Path
    allowed: list[Network]
    trusted_proxies: list[Network]
    run_dir: Path  # where api.json tells the CLI the ports

    @classmethod
    def of(cls, s: Settings) -> Listen:
        return cls(s.api_host, s.https_port, s.http_redirect_port, s.public_name,
                   s.cert_path, s.key_path, parse_networks(s.allowed_networks),
                   parse_networks(s.trusted_proxies), s.home / "run")


class ApiServer:
    def __init__(self, listen: Listen, services: Services) -> None:
        self.listen = listen
        self.services = services
        self._servers: list[uvicorn.Server] = []
        self._thread: threading.Thread | None = None
        self.urls: dict[str, str] = {}

    def start(self) -> dict[str, str]:
        s = self.listen
        app = create_app(self.services)
        https_sock = _bind(s.host, s.https_port)
        https_port = https_sock.getsockname()[1]
        # The URL shown for a wildcard address (compared here, not bound) is the loopback one.
        shown = "127.0.0.1" if s.host in ("0.0.0.0", "::") else s.host  # noqa: S104
        self.urls["https"] = f"https://{shown}:{https_port}"
        plan: list[tuple[Any, socket.socket, dict[str, Any]]] = [
            (app, https_sock, {"ssl_certfile": str(s.cert), "ssl_keyfile": str(s.key)})]
        if s.redirect_port is not None:
            http_sock = _bind(s.host, s.redirect_port)
            self.urls["http"] = f"http://{shown}:{http_sock.getsockname()[1]}"
            redirect = LanOnly(Redirect(s.public_name or socket.gethostname(), https_port),
                               s.allowed, s.trusted_proxies, self.services.refusals.note)
            plan.append((redirect, http_sock, {}))
        socks = []
        for asgi, sock, extra in plan:
            # A bounded shutdown: uvicorn otherwise waits for every open socket's
            # handler to end, and a stop that outwaits `stop`'s join left handlers
            # reading the catalog after it was closed (a connection found by the garbage
            # collector in a later test).
            # No permessage-deflate on the sockets: what they carry is video, which zlib
            # cannot shrink; compressing every live fragment for every viewer was most of
            # a viewer's cost (14.6 % of the server's samples with 64 viewers, issue 19).
            config = uvicorn.Config(asgi, log_level="warning", access_log=False,
                                    lifespan="off", proxy_headers=False,
                                    ws_per_message_deflate=False,
                                    timeout_graceful_shutdown=SHUTDOWN_S, **extra)
            self._servers.append(uvicorn.Server(config))
            socks.append(sock)

        async def run_all() -> None:
            # Route functions run in AnyIO's worker threads. Forty of them (the default)
            # on a two-core machine mostly queue for the GIL and stretch every request;
            # measured, a few workers give the same throughput with a shorter tail.
            anyio.to_thread.current_default_thread_limiter().total_tokens = API_THREADS
            await asyncio.gather(*(srv.serve(sockets=[sock])
                                   for srv, sock in zip(self._servers, socks, strict=True)))

        def run() -> None:
            # uvloop: libuv's event loop, measured faster than asyncio's own under load.
            with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
                runner.run(run_all())

        self._thread = threading.Thread(target=run, name="api", daemon=True)
        self._thread.start()
        path = s.run_dir / "api.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.urls))
        tmp.replace(path)
        return self.urls

    def stop(self) -> None:
        """Stop serving, then write the refusals still only counted."""
        for srv in self._servers:
            srv.should_exit = True
        if self._thread is not None:
            # The loop's own shutdown waits for the threads its handlers started
            # (asyncio.Runner joins the default executor), so once this returns nothing
            # of the API holds a catalog connection.
            self._thread.join(SHUTDOWN_S + 30)
            if self._thread.is_alive():
                log.error("the API did not stop within %s s", SHUTDOWN_S + 30)
        self.services.refusals.flush()

