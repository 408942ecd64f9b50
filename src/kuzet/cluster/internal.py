"""The internal endpoint of a recording node (issue 25): the bytes of a segment on its own
disks, and the live stream of a camera it records, for another node of the cluster, and
for nothing else.

`GET /internal/v1/segments/{camera id}/{stream number}/{start ns}` (the file; with
`?from=k`, its init segment and its fragments from the kth on, as playback reads them) and
`GET /internal/v1/live/{camera id}/{stream number}` (records of `kuzet.cluster.live_relay`
until the stream ends here or the other node hangs up) over TLS 1.3, the
client's certificate required and issued by the cluster's authority (`cluster.ca`), naming
a node in the catalog's register, from an address on the LAN (3.5.3). A browser holds no
such certificate: the handshake fails before any request is read. The file is streamed in
64-KiB chunks, never held whole. Every opening of footage is audited where a person asks
for it (the console's node: `archive.open`, `live.start`, exports, stills); this
endpoint is that node's reading arm, so it logs, it does not audit again.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import re
import shutil
import socket
import ssl
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, BinaryIO

from sqlalchemy import select

from kuzet.catalog.models import Camera, Node, Segment, Volume
from kuzet.catalog.store import Catalog
from kuzet.catalog.streams import Stream
from kuzet.cluster.ca import NodeTls, peer_node
from kuzet.cluster.live_relay import KEEPALIVE_S, encode
from kuzet.mp4.boxes import FragmentError
from kuzet.mp4.playback import segment_parts
from kuzet.viewers import Audience, Viewer, watched

log = logging.getLogger(__name__)
PATH = re.compile(r"^/internal/v1/segments/(\d{1,9})/([01])/(\d{1,19})(?:\?from=(\d{1,6}))?$")
LIVE = re.compile(r"^/internal/v1/live/(\d{1,9})/([01])$")
# a connection that has not proved who it is by then is dropped; later, a write blocked
# this long (the other node stopped reading) ends it
HANDSHAKE_S = 5.0
# at once: the other nodes' live relays (one a camera and stream watched there: a video
# wall of 64 tiles on a console's node) apart, so that they never leave segment readers
# (a few a node) without a connection
LIVE_STREAMS = 128
CONNECTIONS = LIVE_STREAMS + 32
CHUNK = 1 << 16


class _Server(ThreadingHTTPServer):
    """One thread a connection, but only for an address of the LAN (asked before the
    thread starts) and at most `CONNECTIONS` at once: a stranger cannot hold the
    recorder's process's threads."""

    daemon_threads = True
    catalog: Catalog
    on_lan: Callable[[str], bool]
    live: Callable[[str, Stream], Audience | None]
    slots: threading.BoundedSemaphore
    live_slots: threading.BoundedSemaphore

    def verify_request(self, request: Any, client_address: Any) -> bool:
        if not self.on_lan(str(client_address[0])):
            log.warning("internal endpoint: refused %s, not on the LAN", client_address[0])
            return False
        return self.slots.acquire(blocking=False)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        self.request.settimeout(HANDSHAKE_S)
        # an answer's head and body in separate writes on a kept connection otherwise
        # wait for the other side's delayed ACK: 40 ms a segment (bench/cluster.py)
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.request.do_handshake()  # here, on the request's thread, not the acceptor's
        super().setup()

    def do_GET(self) -> None:
        node = peer_node(self.request)
        match = PATH.match(self.path)
        catalog = self.server.catalog
        with catalog.session() as s:  # one transaction a request: a segment's first
            # fragment through another node is mostly this (bench/cluster.py)
            known = node is not None and s.scalar(
                select(Node.name).where(Node.name == node)) is not None
            row = None if not known or match is None else s.scalar(
                select(Segment).join(Volume, Volume.id == Segment.volume_id).where(
                    Segment.camera_id == int(match[1]), Segment.stream == Stream(int(match[2])),
                    Segment.start_ns == int(match[3]), Segment.deleting.is_(False),
                    Volume.node == catalog.node, Volume.state != "removed"))
        if not known:
            log.warning("internal endpoint: refused %s (%s)", self.client_address[0], node)
            self.send_error(403)
            return
        assert node is not None
        if (live := LIVE.match(self.path)) is not None:
            self._live(node, int(live[1]), Stream(int(live[2])))
            return
        if match is None or row is None:
            self.send_error(404)
            return
        camera, stream, start = (int(g) for g in match.groups()[:3])
        try:
            f = catalog.path_of(row).open("rb")
        except OSError:
            self.send_error(404)
            return
        with f:
            if match[4] is not None:
                self._parts(f, int(match[4]), row.size_bytes)
                return
            self.send_response(200)
            self.send_header("Content-Type", "video/mp4")
            self.send_header("Content-Length", str(os.fstat(f.fileno()).st_size))
            self.end_headers()
            shutil.copyfileobj(f, self.wfile, CHUNK)
        log.debug("internal endpoint: segment %d/%d/%d to node %s", camera, stream, start,
                  node)

    def _parts(self, f: BinaryIO, from_index: int, size: int) -> None:
        """The init segment, then each fragment from the `from_index`th on, as a chunk of
        its own: the other node plays the first while the next is read here. A file
        shorter on disk than catalogued says by how much (`X-Kuzet-Gone`), so that the
        other node tells its player the end is missing."""
        try:
            init, fragments = segment_parts(f, from_index, lambda n: f.seek(n, 1))
        except FragmentError:
            self.send_error(422, "not a segment the recorder writes")
            return
        self.send_response(200)
        self.send_header("Content-Type", "video/mp4")
        self.send_header("Transfer-Encoding", "chunked")
        if (have := os.fstat(f.fileno()).st_size) < size:
            self.send_header("X-Kuzet-Gone", str(size - have))
        self.end_headers()
        try:
            for data in itertools.chain((init,), fragments):
                self.wfile.write(b"%x\r\n%b\r\n" % (len(data), data))
            self.wfile.write(b"0\r\n\r\n")
        except OSError as exc:  # the other node hung up: its player stopped, say
            self.close_connection = True
            log.debug("internal endpoint: a segment's answer cut short (%s)", exc)

    def _live(self, node: str, camera_id: int, asked: Stream) -> None:
        with self.server.catalog.session() as s:
            name = s.scalar(select(Camera.name).where(Camera.id == camera_id))
        if name is None:
            self.send_error(404)
            return
        served, hub = watched(self.server.live, name, asked)  # as the console serves it
        if hub is None or hub.ended:
            self.send_error(404)
            return
        if not self.server.live_slots.acquire(blocking=False):
            self.send_error(503, "too many live streams to other nodes")
            return
        try:
            self._stream(node, name, hub, served)
        finally:
            self.server.live_slots.release()

    def _stream(self, node: str, name: str, hub: Audience, served: Stream) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("X-Kuzet-Stream", served.label)
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        log.info("internal endpoint: live %s (%s) to node %s", name, served.label, node)
        asyncio.run(self._relay(hub))
        log.info("internal endpoint: live %s (%s) to node %s ended", name, served.label,
                 node)

    async def _relay(self, hub: Audience) -> None:
        """The hub's items to the other node until the stream ends here or the other node
        hangs up; a keep-alive after `KEEPALIVE_S` without one. Each write is off the
        loop, which goes on taking the recorder's items meanwhile: a slow reader loses
        frames to its bounded queue (`viewers.Viewer`), never memory."""
        viewer = Viewer(asyncio.get_running_loop())
        hub.join(viewer)
        try:
            while True:
                try:
                    item = await asyncio.wait_for(viewer.get(), KEEPALIVE_S)
                except TimeoutError:
                    item = None
                if (item is not None and item.kind == "end") or hub.ended:
                    return
                await asyncio.to_thread(self.wfile.write, encode(item))
        except OSError:
            return  # the other node went
        finally:
            hub.leave(viewer)

    def log_message(self, format: str, *args: object) -> None:
        log.debug("internal endpoint: " + format, *args)


class InternalServer:
    def __init__(self, host: str, port: int, tls: NodeTls, catalog: Catalog,
                 on_lan: Callable[[str], bool],
                 live: Callable[[str, Stream], Audience | None]) -> None:
        self.host, self.port = host, port
        self.tls = tls
        self.catalog = catalog
        self.on_lan = on_lan
        self.live = live
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> int:
        """Listen; the port bound (any free one for 0)."""
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        _Server.address_family = family
        server = _Server((self.host, self.port), _Handler)
        server.catalog, server.on_lan, server.live = self.catalog, self.on_lan, self.live
        server.slots = threading.BoundedSemaphore(CONNECTIONS)
        server.live_slots = threading.BoundedSemaphore(LIVE_STREAMS)
        context: ssl.SSLContext = self.tls.server()
        server.socket = context.wrap_socket(server.socket, server_side=True,
                                            do_handshake_on_connect=False)
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name="internal",
                                        daemon=True)
        self._thread.start()
        return int(server.server_address[1])

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
