"""The restream to external centres as a part of `kuzet serve`: its own thread and event
loop (video to centres never waits on the console's requests, nor they on it), started
after the recorder whose fan-out it reads, stopped before it."""

from __future__ import annotations

import asyncio
import hashlib
import json
import socket
import ssl
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

from kuzet.config import Settings
from kuzet.hooks import DetectionEvent, Message
from kuzet.restream.access import Table
from kuzet.restream.centres import Centres
from kuzet.restream.journal import Journal
from kuzet.restream.server import Hubs, RestreamServer

START_S = 10.0


@dataclass(frozen=True)
class RestreamSettings:
    host: str
    port: int | None
    tls_port: int | None
    flood_limit: int
    cert: Path
    key: Path
    run_dir: Path
    public_name: str

    @classmethod
    def of(cls, s: Settings) -> RestreamSettings:
        return cls(s.restream_host, s.restream_port, s.restream_tls_port,
                   s.restream_flood_limit, s.cert_path, s.key_path, s.home / "run",
                   s.public_name or socket.gethostname())


@dataclass(frozen=True)
class LiveRow:
    """A running session, as the register's live list shows it."""

    id: str
    centre: str
    camera: str
    stream: str
    source: str
    transport: str
    start_ns: int
    bytes: int
    frames: int
    dropped: int
    kbps: float


def fingerprint(cert: Path) -> str:
    """The SHA-256 of the certificate's DER form, as centres pin it (AB:CD:...)."""
    der = ssl.PEM_cert_to_DER_cert(cert.read_text())
    return ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())


class Restream:
    def __init__(self, settings: RestreamSettings, centres: Centres, hubs: Hubs,
                 journal: Journal, clock: Callable[[], int] = time.time_ns) -> None:
        self.settings = settings
        self.journal = journal
        tls = None
        if settings.tls_port is not None:
            tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            tls.load_cert_chain(settings.cert, settings.key)
        self.centres, self.clock = centres, clock
        self.server = RestreamServer(self.table, hubs, journal,
                                     host=settings.host, port=settings.port or 0,
                                     tls_port=settings.tls_port, tls=tls,
                                     flood_limit=settings.flood_limit)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stopped: asyncio.Event | None = None
        self.urls: dict[str, str] = {}

    @property
    def enabled(self) -> bool:
        return self.settings.port is not None

    def start(self) -> dict[str, str]:
        """Listen (on its thread); the URLs centres are given, also in run/restream.json."""
        if not self.enabled:
            return {}
        ready: Future[dict[str, int]] = Future()

        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stopped = asyncio.Event()
            try:
                ready.set_result(await self.server.start())
            except BaseException as exc:
                ready.set_exception(exc)
                return
            await self._stopped.wait()
            await self.server.stop()

        self._thread = threading.Thread(target=lambda: asyncio.run(main()), name="restream",
                                        daemon=True)
        self._thread.start()
        ports = ready.result(START_S)
        name = self.settings.public_name
        self.urls = {kind: f"{kind}://{name}:{port}" for kind, port in ports.items()}
        if "rtsps" in self.urls:
            self.urls["fingerprint"] = fingerprint(self.settings.cert)
        path = self.settings.run_dir / "restream.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({**self.urls, "ports": ports}))
        tmp.replace(path)
        return self.urls

    def stop(self) -> None:
        loop, stopped = self._loop, self._stopped
        if loop is not None and stopped is not None:
            loop.call_soon_threadsafe(stopped.set)
        if self._thread is not None:
            self._thread.join(START_S)
        self.journal.close()

    def live(self) -> list[LiveRow]:
        """The sessions running now (a copy: the server's loop changes them)."""
        return [LiveRow(s.id, s.centre.name, s.camera, s.stream, s.address, s.transport,
                        s.start_ns, s.octets, s.frames, s.dropped + s.overflowed,
                        round(s.rate_kbps, 1))
                for s in list(self.server.sessions.values()) if s.start_ns]

    def cut(self, session_id: str, by: str) -> bool:
        """End a running session at once; False when there is none of that id."""
        loop = self._loop
        if loop is None:
            return False
        done = asyncio.run_coroutine_threadsafe(self._cut(session_id, by), loop)
        return done.result(START_S)

    async def _cut(self, session_id: str, by: str) -> bool:
        return self.server.cut(session_id, by) is not None

    def table(self) -> Table:
        """The register as it stands now (read at most twice a second)."""
        return self.centres.table(self.clock())

    def links(self, camera: str) -> list[dict[str, str]]:
        """The restream URL of `camera` for each centre that may receive it now."""
        base = self.urls.get("rtsp")
        if base is None:
            return []
        return [{"centre": c.name, "url": f"{base}/{camera}/{c.cameras[camera]}"}
                for c in self.table().centres if c.active and camera in c.cameras]

    def linked(self, message: Message) -> Message:
        """A detection event as the notifiers send it, with the camera's restream URL for
        each centre that receives the camera (a centre's software opens the live picture
        of the event from its message)."""
        if isinstance(message, DetectionEvent):
            links = self.links(str(message.said.get("camera", "")))
            if links:
                return DetectionEvent({**message.said, "restream": links}, message.picture)
        return message

    def url_of(self, camera: str, stream: str) -> str | None:
        base = self.urls.get("rtsp")
        return f"{base}/{camera}/{stream}" if base else None
