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
from typing import Any

import anyio
import uvicorn
import uvloop

from kuzet.access.lan import parse_networks
from kuzet.config import Settings
from kuzet.web.app import create_app
from kuzet.web.lan import LanOnly, Receive, Scope, Send
from kuzet.web.services import Services

log = logging.getLogger(__name__)
API_THREADS = 4


class Redirect:
    """Every plain-HTTP request is sent to the same path over HTTPS."""

    def __init__(self, https_port: int) -> None:
        self.https_port = https_port

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        host = "localhost"
        for k, v in scope.get("headers", []):
            if k == b"host":
                host = v.decode("latin-1").rsplit(":", 1)[0] or host
        qs = scope.get("query_string", b"").decode("latin-1")
        target = f"https://{host}:{self.https_port}{scope.get('path', '/')}"
        if qs:
            target += "?" + qs
        await send({"type": "http.response.start", "status": 308,
                    "headers": [(b"location", target.encode("latin-1")),
                                (b"content-length", b"0")]})
        await send({"type": "http.response.body", "body": b""})


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return socket.create_server((host, port), family=family, reuse_port=False)


class ApiServer:
    def __init__(self, settings: Settings, services: Services) -> None:
        self.settings = settings
        self.services = services
        self._servers: list[uvicorn.Server] = []
        self._thread: threading.Thread | None = None
        self.urls: dict[str, str] = {}

    def start(self) -> dict[str, str]:
        s = self.settings
        app = create_app(self.services)
        https_sock = _bind(s.api_host, s.https_port)
        https_port = https_sock.getsockname()[1]
        shown = "127.0.0.1" if s.api_host in ("0.0.0.0", "::") else s.api_host
        self.urls["https"] = f"https://{shown}:{https_port}"
        plan: list[tuple[Any, socket.socket, dict[str, Any]]] = [
            (app, https_sock, {"ssl_certfile": str(s.cert_path),
                               "ssl_keyfile": str(s.key_path)})]
        if s.http_redirect_port is not None:
            http_sock = _bind(s.api_host, s.http_redirect_port)
            self.urls["http"] = f"http://{shown}:{http_sock.getsockname()[1]}"
            redirect = LanOnly(Redirect(https_port), parse_networks(s.allowed_networks),
                               parse_networks(s.trusted_proxies), lambda c, sc: None)
            plan.append((redirect, http_sock, {}))
        socks = []
        for asgi, sock, extra in plan:
            config = uvicorn.Config(asgi, log_level="warning", access_log=False,
                                    lifespan="off", proxy_headers=False, **extra)
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
        path = s.home / "run" / "api.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.urls))
        tmp.replace(path)
        return self.urls

    def stop(self) -> None:
        for srv in self._servers:
            srv.should_exit = True
        if self._thread is not None:
            self._thread.join(10)

