"""A node asking the node that recorded a segment for its bytes (issue 25), over the
internal endpoint with mutual TLS (`kuzet.cluster.internal`). The owner streams the file
in chunks. Playback asks for the init segment and the fragments from the one it starts
at, and is handed the first as soon as its bytes are in; the rest of the answer is read
beside it at once, so that the owner's writes never wait on playback's pace and the
connection is free again for the next reader. The
others (an export's hash, a still) take a file whole.

Where the owner is: its heartbeat's status says its endpoint (`internal`), and whether it
is up is its heartbeat against the lease time, read at most once a second.

Connections are kept between reads (`KEPT` a node, for less than the endpoint's idle
limit): a new one is a TCP and TLS 1.3 handshake with both certificates checked, most of a
segment's time to its first fragment through another node (bench/cluster.py).
"""

from __future__ import annotations

import contextlib
import errno
import http.client
import io
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import select

from kuzet.catalog.models import Node
from kuzet.catalog.segments import Placed
from kuzet.catalog.store import Catalog
from kuzet.cluster.ca import NodeTls, peer_node
from kuzet.cluster.leases import NOW
from kuzet.mp4.boxes import FragmentError
from kuzet.mp4.playback import segment_parts

CHUNK = 1 << 16
TIMEOUT_S = 10.0  # a read stalled this long: the node is unreachable
CONNECT_S = 3.0  # on the LAN a connection takes milliseconds
SHUNNED_S = 10.0  # a node that did not answer is not asked again for this long
STATES_S = 1.0  # how long the nodes' states, once read, are taken as they are
KEPT = 4  # idle connections kept a node: the readers of a console's archive sockets
KEPT_S = 4.0  # under the endpoint's HANDSHAKE_S, after which it closes an idle one


class Connection(http.client.HTTPSConnection):
    """A connection that keeps its socket at hand once an answer without a length (a live
    stream's) has taken it over, so that a reader blocked on it in another thread can be
    woken (`hang_up`): `http.client` forgets it then, and a hang-up that asked it for the
    socket did nothing (a relay kept streaming to a node no one watched on)."""

    held: socket.socket | None = None

    def connect(self) -> None:
        super().connect()
        self.held = self.sock

    def hang_up(self) -> None:
        """Shut the socket down: a read blocked on it returns, or raises."""
        if self.held is not None:
            with contextlib.suppress(OSError):
                self.held.shutdown(socket.SHUT_RDWR)


class NodeDown(FileNotFoundError):
    """A segment on a node that is down, or unreachable: unavailable, not gone."""

    def __init__(self, node: str, why: str = "down") -> None:
        super().__init__(f"unavailable: node {node} {why}")
        self.node = node


@dataclass(frozen=True)
class NodeState:
    up: bool
    endpoint: tuple[str, int] | None


class Remote:
    def __init__(self, catalog: Catalog, tls: NodeTls | None, ttl_s: float) -> None:
        self.catalog = catalog
        self.context = tls.client() if tls is not None else None
        if self.context is not None:  # an address, not the name: the name is checked below
            self.context.check_hostname = False
        self.ttl_ns = int(ttl_s * 1e9)
        self._states: dict[str, NodeState] = {}
        self._failed: dict[str, float] = {}  # node -> when it last did not answer
        self._read_at = 0.0
        self._lock = threading.Lock()
        self._kept: dict[str, list[tuple[Connection, float]]] = {}
        self._closed = False

    def states(self) -> dict[str, NodeState]:
        with self._lock:
            if time.monotonic() - self._read_at < STATES_S:
                return self._states
        with self.catalog.session() as s:
            now = int(s.scalar(select(NOW)) or 0)
            rows = s.execute(select(Node.name, Node.heartbeat_ns, Node.status)).all()
        states = {}
        for name, beat, status in rows:
            said = json.loads(status).get("internal")
            endpoint = (str(said[0]), int(said[1])) if said else None
            states[name] = NodeState(beat > now - self.ttl_ns, endpoint)
        with self._lock:
            self._states, self._read_at = states, time.monotonic()
        return states

    def up(self, node: str) -> bool:
        state = self.states().get(node)
        return state is not None and state.up

    def open(self, node: str, path: str, *, keep: bool = False
             ) -> tuple[Connection, http.client.HTTPResponse]:
        """A GET of `path` on `node`'s internal endpoint, its answer's headers read;
        `NodeDown` when the node is down, does not answer, or is not who it says. With
        `keep`, on a kept connection where one is idle (`give_back` it once read)."""
        state = self.states().get(node)
        if state is None or not state.up:
            raise NodeDown(node)
        if state.endpoint is None or self.context is None:
            raise NodeDown(node, "has no internal endpoint (kuzet cluster init)")
        if time.monotonic() - self._failed.get(node, -1e9) < SHUNNED_S:
            raise NodeDown(node, "unreachable (it did not answer a moment ago)")
        kept = self._take_kept(node) if keep else None
        if kept is not None:
            try:
                kept.request("GET", path)
                return kept, kept.getresponse()
            except (OSError, http.client.HTTPException):
                kept.close()  # closed at the other end meanwhile: a new one
        host, port = state.endpoint
        conn = Connection(host, port, context=self.context, timeout=CONNECT_S)
        try:
            conn.connect()
            assert conn.sock is not None
            conn.sock.settimeout(TIMEOUT_S)
            conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as the endpoint
            conn.request("GET", path)
            if conn.sock is None or peer_node(conn.sock) != node:
                raise NodeDown(node, "answered with another node's certificate")
            return conn, conn.getresponse()
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            if isinstance(exc, NodeDown):
                raise
            raise self._unreachable(node, exc) from exc

    def _unreachable(self, node: str, exc: Exception) -> NodeDown:
        """The node did not answer: not asked again for `SHUNNED_S`."""
        self._failed[node] = time.monotonic()
        return NodeDown(node, f"unreachable ({exc.__class__.__name__})")

    def _take_kept(self, node: str) -> Connection | None:
        """The newest idle connection to `node`, the endpoint not having closed it yet."""
        with self._lock:
            self._drop_idle()
            kept = self._kept.get(node)
            return kept.pop()[0] if kept else None

    def _drop_idle(self) -> None:
        """Close every kept connection idle for `KEPT_S`, to any node (under the lock)."""
        now = time.monotonic()
        for node, kept in self._kept.items():
            for conn, since in kept:
                if now - since >= KEPT_S:
                    conn.close()
            self._kept[node] = [(c, t) for c, t in kept if now - t < KEPT_S]

    def give_back(self, node: str, conn: Connection,
                  resp: http.client.HTTPResponse) -> None:
        """A connection whose answer was read to its end, kept for the next read."""
        if resp.will_close or not resp.isclosed():
            conn.close()
            return
        with self._lock:
            self._drop_idle()
            kept = self._kept.setdefault(node, [])
            if not self._closed and len(kept) < KEPT:
                kept.append((conn, time.monotonic()))
                return
        conn.close()

    def close(self) -> None:
        """Close the kept connections, and keep none from now on."""
        with self._lock:
            self._closed = True
            kept, self._kept = self._kept, {}
        for conns in kept.values():
            for conn, _ in conns:
                conn.close()

    def read(self, node: str, seg: Placed) -> bytes:
        """The segment's bytes from `node`; `NodeDown` when it is down or does not answer,
        FileNotFoundError when it answers that the file is gone."""
        conn, resp = self._segment(node, seg, "")
        try:
            data = bytearray()
            while chunk := resp.read(CHUNK):
                data += chunk
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            raise self._unreachable(node, exc) from exc
        self.give_back(node, conn, resp)
        return bytes(data)

    def _segment(self, node: str, seg: Placed, query: str
                 ) -> tuple[Connection, http.client.HTTPResponse]:
        """`node`'s answer for a segment, when it is the file's (200): FileNotFoundError
        when the file is gone (404), FragmentError when its boxes are none the recorder
        writes (422), `NodeDown` for any other refusal or no answer."""
        conn, resp = self.open(node, f"/internal/v1/segments/{seg.camera_id}/"
                                     f"{int(seg.stream)}/{seg.start_ns}{query}", keep=True)
        if resp.status == 200:
            return conn, resp
        try:
            resp.read()
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            raise self._unreachable(node, exc) from exc
        if resp.status == 404:
            self.give_back(node, conn, resp)
            raise FileNotFoundError(f"node {node}: the segment's file is gone")
        if resp.status == 422:
            self.give_back(node, conn, resp)
            raise FragmentError(f"node {node}: not a segment the recorder writes")
        conn.close()
        raise NodeDown(node, f"refused ({resp.status})")

    def parts(self, node: str, seg: Placed, from_index: int) -> Iterator[bytes]:
        """The segment's init segment, then its fragments from the `from_index`th on, from
        `node` (`Footage.parts`); errors as `_segment`'s, and once the first fragment is
        out `NodeDown` when the answer breaks off, OSError when the owner says the file is
        shorter on its disk than catalogued."""
        conn, resp = self._segment(node, seg, f"?from={from_index}")
        gone = int(resp.getheader("X-Kuzet-Gone") or 0)
        source = _Ahead(resp)
        rest: _Rest | None = None
        try:
            try:
                init, fragments = segment_parts(source, 0, source.read)
                first = next(fragments, None)
            except (OSError, http.client.HTTPException) as exc:
                raise self._unreachable(node, exc) from exc
            yield init
            if first is None:
                if gone:
                    raise _gone(node, gone)
                return
            # the rest of the answer read now, beside playback: the owner writes on, and
            # a reader that paced itself first would leave its writes blocked past its
            # limit (`internal.HANDSHAKE_S`) on a long segment
            rest = _Rest(self, node, conn, source)
            yield first
            if (failed := rest.wait()) is not None:
                raise self._unreachable(node, failed) from failed
            yield from fragments
            if gone:
                raise _gone(node, gone)
        finally:
            if rest is None:
                conn.close()
            else:
                rest.abandon()


def _gone(node: str, size: int) -> OSError:
    """The owner's word that its file is shorter than catalogued (`X-Kuzet-Gone`)."""
    return OSError(errno.EIO, f"{size} bytes of the file are gone from node {node}'s disk")


class _Rest:
    """What is left of a playback answer, read by a thread of its own; the connection kept
    once it is. Abandoned (the player gone, a seek): its read cut, the connection closed."""

    def __init__(self, remote: Remote, node: str, conn: Connection,
                 source: _Ahead) -> None:
        self.remote, self.node, self.conn, self.source = remote, node, conn, source
        self.failed: Exception | None = None
        self._abandoned = threading.Event()
        self._thread = threading.Thread(target=self._read, name="segment-rest", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            self.source.rest()
        except Exception as exc:  # whatever it is, the reader is told
            self.conn.close()
            self.failed = exc
            return
        if self._abandoned.is_set():
            self.conn.close()
        else:
            self.remote.give_back(self.node, self.conn, self.source.resp)

    def wait(self) -> Exception | None:
        """Once the rest is in: None, or why it is not."""
        self._thread.join()
        return self.failed

    def abandon(self) -> None:
        if self._thread.is_alive():
            self._abandoned.set()
            self.conn.hang_up()


class _Ahead:
    """An answer read as asked, until `rest` reads what is left of it at once."""

    def __init__(self, resp: http.client.HTTPResponse) -> None:
        self.resp = resp
        self.left: io.BytesIO | None = None

    def read(self, n: int, /) -> bytes:
        return self.resp.read(n) if self.left is None else self.left.read(n)

    def rest(self) -> None:
        self.left = io.BytesIO(self.resp.read())
