"""Live video of a camera another node records (issue 25): the console's node opens the
recording node's fan-out over the internal endpoint (`kuzet.cluster.internal`, mutual
TLS) once per camera and stream, and offers what comes to its own viewers like a local
hub. A viewer's socket, its permission and its audit stay on the console's node; the
recording node opens no second connection to the camera.

On the wire, after the response's headers, one record per item: flags (1 keyframe,
2 init, 4 keep-alive), the frame's arrival at the recorder (ns), the lengths of the mime
and of the data, then the mime and the data. A keep-alive comes after `KEEPALIVE_S`
without a frame (a camera that is reconnecting), so that a silent stream is told from a
dead node. When the stream ends there (the camera moved, the node stopped) or here (the
connection broke), the viewers are told `end` and open the camera again, wherever it is
recorded then.
"""

from __future__ import annotations

import http.client
import logging
import struct
import threading
from collections.abc import Callable
from typing import BinaryIO

from sqlalchemy import select

from kuzet.catalog.models import CameraLease
from kuzet.catalog.streams import Stream
from kuzet.cluster.leases import NOW
from kuzet.cluster.remote import Connection, NodeDown, Remote
from kuzet.viewers import Audience, Item, Viewer

log = logging.getLogger(__name__)
RECORD = struct.Struct(">BQII")
KEYFRAME, INIT, KEEPALIVE = 1, 2, 4
KEEPALIVE_S = 2.0  # well inside the reader's TIMEOUT_S
MAX_RECORD = 32 << 20  # a 4K keyframe is a few MB; anything larger is not a frame


def encode(item: Item | None) -> bytes:
    """A record of `item`; a keep-alive for None."""
    if item is None:
        return RECORD.pack(KEEPALIVE, 0, 0, 0)
    mime = item.mime.encode()
    flags = (INIT if item.kind == "init" else 0) | (KEYFRAME if item.keyframe else 0)
    return RECORD.pack(flags, item.arrival_ns, len(mime), len(item.data)) + mime + item.data


def decode(stream: BinaryIO) -> Item | None:
    """The next item; None at the end of the stream. A keep-alive is skipped; a record
    that cannot be one raises ValueError."""
    while True:
        head = stream.read(RECORD.size)
        if len(head) < RECORD.size:
            return None
        flags, arrival_ns, mime_len, data_len = RECORD.unpack(head)
        if flags & KEEPALIVE:
            continue
        if mime_len > 255 or data_len > MAX_RECORD:
            raise ValueError(f"a live record of {data_len} bytes")
        body = stream.read(mime_len + data_len)
        if len(body) < mime_len + data_len:
            return None
        if flags & INIT:
            return Item("init", body[mime_len:], mime=body[:mime_len].decode())
        return Item("frag", body[mime_len:], bool(flags & KEYFRAME), arrival_ns=arrival_ns)


class RelayHub(Audience):
    """The viewers on this node of one camera's stream recorded on another, fed by one
    connection to that node; it ends with the connection, or when the last viewer left."""

    def __init__(self, conn: Connection,
                 resp: http.client.HTTPResponse, served: Stream, first: Viewer,
                 on_end: Callable[[RelayHub], None]) -> None:
        super().__init__()
        self.served = served
        self._conn = conn
        self._resp = resp
        self._on_end = on_end
        self._viewers.add(first)  # never a hub without a viewer: its first is in it
        self._thread = threading.Thread(target=self._run, name="live-relay", daemon=True)
        self._thread.start()

    def leave(self, viewer: Viewer) -> None:
        with self._lock:
            self._viewers.discard(viewer)
            last = not self._viewers and not self.ended
            if last:
                self.ended = True  # a newcomer opens a connection of its own
        if last:
            self._conn.hang_up()  # the reading thread wakes, and closes

    def _run(self) -> None:
        try:
            while (item := decode(self._resp)) is not None:
                if item.kind == "init":
                    with self._lock:
                        self._init = item
                self._broadcast(item)
        except (OSError, http.client.HTTPException, ValueError) as exc:
            log.debug("live relay ended: %s", exc)
        finally:
            self._resp.close()  # here only: the reading thread's own
            self._conn.close()
            self._on_end(self)
            self.end()


class LiveRelays:
    """This node's relayed streams, one per camera and stream asked for."""

    def __init__(self, remote: Remote, me: str) -> None:
        self.remote = remote
        self.me = me
        self._hubs: dict[tuple[int, Stream], RelayHub] = {}
        self._lock = threading.Lock()

    def holder(self, camera_id: int) -> str | None:
        """The node whose lease on the camera runs now."""
        with self.remote.catalog.session() as s:
            return s.scalar(select(CameraLease.node).where(
                CameraLease.camera_id == camera_id, CameraLease.expires_ns > NOW))

    def open(self, camera_id: int, stream: Stream, viewer: Viewer) -> RelayHub | None:
        """`viewer` joined to the camera's stream as another node records it; None when
        this node records it, or nobody does. `NodeDown` when its node does not answer.
        Blocking (a connection): called off the event loop."""
        node = self.holder(camera_id)
        if node is None or node == self.me:
            return None
        with self._lock:
            hub = self._hubs.get((camera_id, stream))
            if hub is not None and hub.try_join(viewer):
                return hub
        conn, resp = self.remote.open(node, f"/internal/v1/live/{camera_id}/{int(stream)}")
        if resp.status != 200:
            conn.close()
            if resp.status == 404:
                return None  # not recording it (a moment ago it moved, or it is offline)
            raise NodeDown(node, f"refused ({resp.status})")
        served = Stream.SUB if resp.getheader("X-Kuzet-Stream") == Stream.SUB.label \
            else Stream.MAIN
        key = (camera_id, stream)
        hub = RelayHub(conn, resp, served, viewer, lambda h: self._forget(key, h))
        with self._lock:
            self._hubs[key] = hub
        return hub

    def _forget(self, key: tuple[int, Stream], hub: RelayHub) -> None:
        with self._lock:
            if self._hubs.get(key) is hub:
                del self._hubs[key]
