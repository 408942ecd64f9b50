"""Several recording servers on one PostgreSQL catalog (issue 25): three `kuzet serve
--node` processes with homes and ports of their own, the simulator as cameras; a drained
node hands its cameras over, a paused node's late segment is refused by the catalog, a
killed node's cameras are recorded elsewhere within 30 s with a `node_failover` gap."""

from __future__ import annotations

import asyncio
import functools
import http.client
import io
import itertools
import json
import os
import shutil
import signal
import socket
import ssl
import time
import zipfile
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from hypothesis import given
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from api_world import World
from conftest import Kuzet, stop, wait_for
from kuzet.access.accounts import Accounts
from kuzet.access.roles import Roles
from kuzet.access.secretbox import SecretBox, key_path
from kuzet.audit.log import Actor, AuditLog
from kuzet.catalog import keyindex
from kuzet.catalog.db import make_engine
from kuzet.catalog.models import CameraLease, Gap, Segment
from kuzet.catalog.store import Catalog, Fence, Fenced, NewSegment
from kuzet.catalog.streams import Stream
from kuzet.cluster import internal
from kuzet.cluster.ca import NodeTls, node_tls
from kuzet.cluster.ca import init as ca_init
from kuzet.cluster.internal import InternalServer
from kuzet.cluster.leases import Leases, Me, NameTaken
from kuzet.cluster.live_relay import MAX_RECORD, RECORD, LiveRelays, decode, encode
from kuzet.cluster.member import Member
from kuzet.cluster.nodes import move
from kuzet.cluster.placement import CameraView, LeaseView, NodeView, place, plan_for
from kuzet.cluster.remote import NodeDown, Remote
from kuzet.console.snapshot import frame_at
from kuzet.console.timeline_read import Drawn, Timelines
from kuzet.export.writer import export_camera
from kuzet.mp4.playback import read_segment, segment_parts
from kuzet.mp4.reader import SegmentReader
from kuzet.storage.footage import Footage
from kuzet.viewers import Audience, Item, Viewer
from pg_pair import PgPair

PASSWORD = "night shift at the gate"
TTL_S = 6  # the leases' life here: a failover in about 7 s, not the default's 12
NS = 1_000_000_000
GOP_NS = NS  # the simulator's: a keyframe a second


def _node(tmp_path: Path, clip_cache: Path, url: str, name: str) -> Kuzet:
    k = Kuzet(tmp_path / name, clip_cache, database_url=url, node=name,
              lease_ttl_s=str(TTL_S), lease_renew_s="1", camera_alarm_s="600")
    k.home.mkdir()
    return k


def _holders(k: Kuzet) -> dict[int, tuple[str, int]]:
    with k.catalog().session() as s:
        return {r.camera_id: (r.node, r.epoch) for r in s.query(CameraLease)}


def _rows(k: Kuzet, cam: int) -> list[Segment]:
    with k.catalog().session() as s:
        return list(s.query(Segment).filter(Segment.camera_id == cam,
                                             Segment.stream == Stream.MAIN)
                    .order_by(Segment.start_ns))


def _gaps(k: Kuzet, cam: int) -> list[Gap]:
    with k.catalog().session() as s:
        return list(s.query(Gap).filter(Gap.camera_id == cam).order_by(Gap.start_ns))


def _closed(k: Kuzet, cam: int, cause: str) -> bool:
    return any(g.end_ns is not None for g in _gaps(k, cam) if g.cause == cause)


def _no_overlap(k: Kuzet, cam: int) -> None:
    """The camera's timeline: segments one after another, none inside a closed gap."""
    rows = _rows(k, cam)
    for a, b in itertools.pairwise(rows):
        assert a.end_ns <= b.start_ns, (cam, a.start_ns, a.end_ns, b.start_ns)
    for g in _gaps(k, cam):
        for r in rows:
            end = g.end_ns if g.end_ns is not None else 2**63
            assert r.end_ns <= g.start_ns or r.start_ns >= end, (cam, g.cause, r.start_ns)


def test_three_nodes_drain_pause_and_kill(tmp_path: Path, clip_cache: Path,
                                          pg_url: str) -> None:
    """UE-10-22 3.3.5, 3.3.7: cameras placed on three nodes, one node each; drained, a
    node's cameras move with a `node_handover` gap of less than a GOP (the new node
    records each beside the old one before the hand-over);
    paused past its lease (SIGSTOP), its cameras are taken under a new epoch and its late
    segment, on SIGCONT, refused and kept aside; killed, its cameras recorded elsewhere
    within 30 s, the `node_failover` gap from its last segment to the new node's first."""
    a, b, c = (_node(tmp_path, clip_cache, pg_url, n) for n in ("a", "b", "c"))
    a.run("init")
    _, port = a.sim(cameras=6)
    for i in range(1, 7):
        a.run("camera", "add", f"cam{i}", f"rtsp://127.0.0.1:{port}/cam0{i}/main",
              "--zone", "corridor")
    nodes = {k.env["KUZET_NODE"]: k for k in (a, b, c)}
    procs = {n: k.spawn("serve", log_name="serve") for n, k in nodes.items()}
    try:
        def placed() -> dict[str, set[int]]:
            by: dict[str, set[int]] = {}
            for cam, (node, _) in _holders(a).items():
                by.setdefault(node, set()).add(cam)
            return by

        def settled() -> bool:
            """Two cameras on each node, each recorded under its lease's epoch."""
            holders = _holders(a)
            if sorted(len(v) for v in placed().values()) != [2, 2, 2]:
                return False
            return all((rows := _rows(a, cam)) and rows[-1].epoch == holders[cam][1]
                       for cam in range(1, 7))

        # automatic placement fills the nodes evenly, whichever started first
        wait_for(settled, 60, what="two cameras on each node, recording")

        # -- drain: c's cameras handed over, no gap beyond a GOP and a reconnection
        on_c = placed()["c"]
        c.run("node", "drain", "c")
        wait_for(lambda: "c" not in placed(), 30, what="node c drained")
        for cam in on_c:
            wait_for(functools.partial(_closed, a, cam, "node_handover"), 30,
                     what="the hand-over gap closed by the new node's first segment")
            gap = next(g for g in _gaps(a, cam) if g.cause == "node_handover")
            assert gap.end_ns is not None
            # made before broken: the new node's first file starts at its first keyframe
            # after c's last frame, less than one GOP (the simulator's: 1 s) later, give
            # or take the two nodes' estimates of the camera's clock (milliseconds)
            assert gap.end_ns - gap.start_ns < GOP_NS + 100_000_000, \
                (gap.end_ns - gap.start_ns) / NS
            _no_overlap(a, cam)
        listed = {n["name"]: n for n in a.json("node", "list")}
        assert listed["c"]["state"] == "draining"
        assert listed["c"]["cameras"] == 0
        assert listed["a"]["state"] == "active"
        c.run("node", "undrain", "c")
        wait_for(settled, 60, what="c given its share again")

        # -- pause b past its lease: its cameras taken, its late segment refused
        on_b = placed()["b"]
        epochs = _holders(a)
        os.kill(procs["b"].pid, signal.SIGSTOP)
        try:
            wait_for(lambda: not on_b & placed().get("b", set()), 30,
                     what="b's cameras taken while it is paused")
            for cam in on_b:
                assert _holders(a)[cam][1] == epochs[cam][1] + 1
                # recorded by its new node before b wakes up
                wait_for(functools.partial(_closed, a, cam, "node_failover"), 30,
                         what="the failover gap closed by the new node's first segment")
        finally:
            os.kill(procs["b"].pid, signal.SIGCONT)
        quarantine = tmp_path / "b" / "media" / ".quarantine"
        wait_for(lambda: any(quarantine.rglob("*.part")), 30,
                 what="b's late segment refused and kept aside")
        assert "is refused" in b.log("serve")
        wait_for(settled, 60, what="b given its share again")
        for cam in on_b:
            _no_overlap(a, cam)
            assert {r.epoch for r in _rows(a, cam)} >= {epochs[cam][1], epochs[cam][1] + 1}

        # -- kill -9 a node: its cameras recorded elsewhere within 30 s
        victim = next(n for n, cams in placed().items() if cams and n != "a")
        on_victim = placed()[victim]
        last = {cam: _rows(a, cam)[-1].end_ns for cam in on_victim}
        killed = time.monotonic()
        os.killpg(procs[victim].pid, signal.SIGKILL)
        procs[victim].wait(10)
        wait_for(lambda: all(_rows(a, cam)[-1].end_ns > last[cam] + NS
                             and _holders(a)[cam][0] != victim for cam in on_victim), 60,
                 what="the killed node's cameras recorded elsewhere")
        assert time.monotonic() - killed < 30
        for cam in on_victim:
            gap = next(g for g in _gaps(a, cam) if g.cause == "node_failover"
                       and g.start_ns >= last[cam] - NS)
            # from the killed node's last committed segment to the new node's first
            assert gap.start_ns <= last[cam]
            assert gap.end_ns is not None
            first_after = next(r for r in _rows(a, cam) if r.start_ns >= gap.start_ns)
            assert gap.end_ns == first_after.start_ns
            assert victim in (gap.detail or "")
            _no_overlap(a, cam)
        # the kill is seen in the node list
        wait_for(lambda: not {n["name"]: n for n in a.json("node", "list")}[victim]["up"], 30,
                 what="the killed node listed down")
    finally:
        for p in procs.values():
            if p.poll() is None:
                stop(p)
        for k in (a, b, c):
            k.close()


def test_node_refused_on_sqlite_and_on_a_newer_schema(fresh: Kuzet, pg_url: str) -> None:
    """A node needs the shared PostgreSQL catalog; a node older than the catalog's schema
    (a rolling upgrade's, not upgraded yet) is refused naming both revisions."""
    refused = fresh.run("serve", "--node", "a", check=False)
    assert refused.returncode == 2
    assert "PostgreSQL" in refused.stderr
    assert "SQLite" in refused.stderr
    fresh.env["KUZET_DATABASE_URL"] = pg_url
    fresh.run("init")
    with psycopg.connect(pg_url.replace("+psycopg", "")) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
    refused = fresh.run("serve", "--node", "a", check=False)
    assert refused.returncode == 2
    assert "revision 9999" in refused.stderr
    assert "Upgrade this server" in refused.stderr


def test_catalog_primary_killed_and_replica_promoted(tmp_path: Path, clip_cache: Path) -> None:
    """UE-10-22 3.3.5: the catalog's primary killed (-9) while a node records; the node
    records on into its files, and once the streaming replica is promoted it finds it
    through the multi-host URL and catalogues every segment: each camera's timeline runs
    on without a hole or a gap, every file on disk has its row."""
    pair = PgPair()
    k = _node(tmp_path, clip_cache, pair.url, "a")
    k.env["KUZET_CATALOG_WAITING_ROWS"] = "1"  # the second on waits in a journal file
    try:
        pair.start()
        k.run("init")
        _, port = k.sim(cameras=2)
        for i in (1, 2):
            k.run("camera", "add", f"cam{i}", f"rtsp://127.0.0.1:{port}/cam0{i}/main",
                  "--zone", "corridor")
        serve = k.spawn("serve", log_name="serve")
        wait_for(lambda: all(len(_rows(k, cam)) >= 2 for cam in (1, 2)), 60,
                 what="both cameras catalogued")
        k.catalog().engine.dispose()  # the test's own connections went with the primary
        pair.kill_primary()

        def waiting(n: int) -> bool:
            said = [c.get("last_error") or "" for c in k.status().values()]
            return len(said) == 2 and all(f"unreachable: {n}" in s or
                                          f"unreachable: {n + 1}" in s for s in said)

        wait_for(lambda: waiting(2), 60, what="two segments each recorded with no catalog")
        journals = list((k.home / "run" / "waiting").glob("*.jsonl"))
        assert len(journals) == 2  # one a camera
        pair.promote()
        wait_for(lambda: all(not (c.get("last_error") or "") for c in k.status().values()),
                 60, what="every segment catalogued on the promoted replica")
        k.catalog().engine.dispose()
        for cam in (1, 2):
            rows = _rows(k, cam)
            assert len(rows) >= 5
            for before, after in itertools.pairwise(rows):
                assert before.end_ns == after.start_ns  # one session, no hole
            assert _gaps(k, cam) == []
        files = {p.name for p in (tmp_path / "a" / "media").rglob("*.mp4")}
        assert len(files) == sum(len(_rows(k, cam)) for cam in (1, 2))
        assert "the catalog is back" in k.log("serve")
        assert not any(j.exists() for j in journals)
        stop(serve)
    finally:
        k.close()
        pair.close()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_it_support_sees_the_recording_nodes_on_health(storage: Any) -> None:
    """UE-10-22 3.4.3: the health page's answer lists each recording node, running or
    not, with its state, its cameras of its capacity, its free space and version; on a
    single server there is none."""
    world = World(storage, time.time_ns())
    it = world.login(world.user("it", "it_support"))
    assert it.get("/api/health").json()["nodes"] == []
    catalog = storage.catalog
    processes = {}
    for name, building in (("north", "Main building"), ("south", None)):
        processes[name] = Leases(catalog, Me(name, ("10.0.0.5",), "0.1.0", "0023", 40, 800,
                                             building), 10)
        member = Member(processes[name], lambda _: None, lambda: None,
                        lambda: {"volumes": [{"name": "v", "free": 5 << 30}]})
        member.turn()
    processes["south"].let_go()
    # a second process under a live node's name is refused it
    with pytest.raises(NameTaken, match="north"):
        Leases(catalog, Me("north", (), "0.1.0", "0023", 40, 800, None), 10).beat({})
    nodes = {n["name"]: n for n in it.get("/api/health").json()["nodes"]}
    assert nodes["north"]["up"] is True
    assert nodes["south"]["up"] is False  # stopped: its heartbeat said so
    assert nodes["north"]["cameras"] == 2  # both cameras, the only live node's
    assert nodes["north"]["max_cameras"] == 40
    assert nodes["north"]["free_bytes"] == 5 << 30
    assert nodes["north"]["state"] == "active"
    assert world.login(world.user("guard", "guard")).get("/api/health").status_code == 403


def test_footage_of_one_node_is_served_through_another(tmp_path: Path, clip_cache: Path,
                                                       pg_url: str) -> None:
    """UE-10-22 3.3.5, 3.5.3: a camera recorded on node b is played, exported and drawn
    on the timeline by node a, its bytes fetched from b's internal endpoint with mutual
    TLS (a client with no certificate of the cluster's authority refused at the
    handshake); a guard on node a watches it live, relayed from b's fan-out and audited
    on a; the camera moved to a, the relayed view closes (1011) and opens again on a's own
    recording; b paused past its lease: its footage is "unavailable: node b down" on the
    timeline and in `kuzet verify`, not missing; b back: playable again."""
    a, b = (_node(tmp_path, clip_cache, pg_url, n) for n in ("a", "b"))
    for k in (a, b):
        k.env["KUZET_NODE_PORT"] = "0"
        k.env["KUZET_API_HOST"] = "127.0.0.1"
    a.run("init")
    assert "sha256" in a.run("cluster", "init").stdout
    key = key_path(b.home)  # every node's home holds the installation's key
    key.parent.mkdir(parents=True)
    shutil.copy(key_path(a.home), key)
    _, port = a.sim(cameras=1)
    a.run("camera", "add", "cam1", f"rtsp://127.0.0.1:{port}/cam01/main", "--zone", "corridor")
    procs = [k.spawn("serve", log_name="serve") for k in (a, b)]
    catalog = Catalog(make_engine(pg_url), "a")
    remote: Remote | None = None
    try:
        wait_for(lambda: "b" in {n["name"] for n in a.json("node", "list")}, 60,
                 what="node b registered")
        a.run("camera", "move", "cam1", "b")
        wait_for(lambda: _holders(a).get(1, ("", 0))[0] == "b", 30, what="cam1 on node b")
        wait_for(lambda: len([r for r in _rows(a, 1)
                              if catalog.volume_node(r.volume_id) == "b"]) >= 2, 60,
                 what="cam1 recorded on node b")
        seg = next(r for r in _rows(a, 1) if catalog.volume_node(r.volume_id) == "b")
        assert catalog.volume_node(seg.volume_id) == "b"
        on_b = tmp_path / "b" / "media" / catalog.relpath(seg)
        wait_for(lambda: (tmp_path / "a" / "cluster" / "node.pem").exists(), 30,
                 what="node a's certificate")
        tls = NodeTls(*(tmp_path / "a" / "cluster" / f for f in ("ca.pem", "node.pem",
                                                                 "node.key")))
        remote = Remote(catalog, tls, TTL_S)
        footage = Footage(catalog, remote)
        assert footage.read(seg) == on_b.read_bytes()
        kfs = keyindex.decode(seg.keyframes)
        for i in range(len(kfs)):  # playback from each keyframe, as the archive reads it
            init, fragments = read_segment(*footage.parts(seg, i), kfs,
                                           seg.end_ns - seg.start_ns, i,
                                           seg.end_ns - seg.start_ns)
            with on_b.open("rb") as f:
                mine = read_segment(*segment_parts(f, i, lambda n: f.seek(n, 1)), kfs,
                                    seg.end_ns - seg.start_ns, i, seg.end_ns - seg.start_ns)
                assert init == mine[0]
                assert [x.data for x in fragments] == [x.data for x in mine[1]]
        assert init.startswith(b"\0\0")
        with zipfile.ZipFile(tmp_path / "export.zip", "w") as zf:
            part = export_camera(catalog, zf, "p", "cam1", seg.start_ns, seg.end_ns,
                                 time.time_ns(), footage)
        assert part.parts
        assert frame_at(footage.read(seg), 0) is not None
        drawn = _drawn(catalog, footage, seg)
        assert drawn.missing == []
        assert drawn.unavailable == []
        assert drawn.spans
        # a file cut short on b's disk since: its whole fragments, then the read breaks off
        other = [r for r in _rows(a, 1) if catalog.volume_node(r.volume_id) == "b"][1]
        cut = tmp_path / "b" / "media" / catalog.relpath(other)
        whole = SegmentReader(cut.read_bytes())
        cut.write_bytes(cut.read_bytes()[:whole.pairs[0][1].end])
        _, fragments_of = footage.parts(other, 0)
        assert next(fragments_of) == whole.fragment(0)
        with pytest.raises(OSError, match="gone from node b's disk"):
            next(fragments_of)
        # nothing but a node of this cluster gets a byte from the endpoint
        host, port_b = json.loads(_status(pg_url, "b"))["internal"]
        stranger = ssl.create_default_context(cafile=str(tls.ca))
        stranger.check_hostname = False
        assert _refused(host, port_b, stranger)
        # live: a guard on node a watches cam1, which node b records, through b's fan-out
        base = wait_for(lambda: _api_of(a), 30, what="node a's console")["https"]
        cookie = _guard_session(a, base)
        frames, code = _live(base, cookie, "cam1", 10)
        assert frames[0]["init"].startswith(b"\0\0")
        assert frames[1]["keyframe"]  # a viewer starts where a decoder can
        assert all(f["moof"] for f in frames[1:])
        assert code is None  # still going when the test hung up
        entries = AuditLog(catalog.session).entries(action="live.start")
        assert [(e.actor, e.subject) for e in entries] == [("guard1", "cam1")]
        # the camera moves to a: the relayed stream ends (1011), the player opens it
        # again and gets a's own fan-out
        with _live_socket(base, cookie, "cam1") as ws:
            _first_frames(ws, 2)
            a.run("camera", "move", "cam1", "a")
            code = _closed_code(ws, 60)
        assert code == 1011
        # as the player does, a second later and again until a records it
        frames = wait_for(lambda: _live(base, cookie, "cam1", 3)[0], 30, 1.0,
                          what="cam1 live from node a's own recording")
        assert frames[1]["keyframe"]
        assert _holders(a)[1][0] == "a"
        # b down: unavailable, not gone
        os.kill(procs[1].pid, signal.SIGSTOP)
        try:
            wait_for(lambda: not footage.remote.up("b"), 30,  # type: ignore[union-attr]
                     what="node b seen down")
            with pytest.raises(NodeDown, match="unavailable: node b down"):
                footage.read(seg)
            drawn = _drawn(catalog, footage, seg)
            assert drawn.unavailable == ["b"]
            assert drawn.missing
            said = a.run("verify", "cam1", check=False)
            assert said.returncode == 1
            assert "unavailable: node b down" in said.stdout
        finally:
            os.kill(procs[1].pid, signal.SIGCONT)
        wait_for(lambda: footage.remote.up("b"), 30,  # type: ignore[union-attr]
                 what="node b up again")
        assert footage.read(seg) == on_b.read_bytes()
    finally:
        if remote is not None:
            remote.close()
        catalog.engine.dispose()
        for p in procs:
            if p.poll() is None:
                stop(p)
        a.close()
        b.close()


def _api_of(k: Kuzet) -> dict[str, str] | None:
    path = k.home / "run" / "api.json"
    return json.loads(path.read_text()) if path.exists() else None


def _guard_session(k: Kuzet, base: str) -> str:
    """A guard's session on the console at `base`: its cookie header."""
    setup, now = Actor("setup", (), "local"), time.time_ns()
    catalog = k.catalog()
    Accounts(catalog.session).create(setup, "guard1", "Guard", now, password=PASSWORD)
    view = Roles(catalog.session).request(setup, "guard1", "guard", now_ns=now)
    Roles(catalog.session).decide(Actor("rector", ("rector",), "127.0.0.1"), view.id, True,
                                  now)
    with httpx.Client(base_url=base, verify=_self_signed()) as client:
        r = client.post("/api/auth/login", json={"username": "guard1", "password": PASSWORD})
        assert r.status_code == 200, r.text
        return "; ".join(f"{n}={v}" for n, v in client.cookies.items())


def _self_signed() -> ssl.SSLContext:
    """For the console's own self-signed certificate on loopback."""
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    return context


def _live_socket(base: str, cookie: str, camera: str) -> ClientConnection:
    return connect(f"{base.replace('https', 'wss')}/api/ws/live/{camera}?stream=main",
                   ssl=_self_signed(), additional_headers={"Cookie": cookie},
                   open_timeout=30)


def _first_frames(ws: ClientConnection, n: int) -> list[dict[str, Any]]:
    """The init segment, then `n` frames: their flags, whether each is a fragment."""
    got: list[dict[str, Any]] = []
    while len(got) < n + 1:
        message = ws.recv(timeout=30)
        if isinstance(message, str):
            continue  # the stream served, the init's type
        if not got:
            got.append({"init": message})
        else:
            got.append({"keyframe": bool(message[8] & 1), "moof": message[13:17] == b"moof"})
    return got


def _closed_code(ws: ClientConnection, timeout: float) -> int | None:
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ws.recv(timeout=deadline - time.monotonic())
    except ConnectionClosed as exc:
        return exc.rcvd.code if exc.rcvd is not None else None
    return None


def _live(base: str, cookie: str, camera: str, n: int) -> tuple[list[dict[str, Any]],
                                                                  int | None]:
    """The first `n` frames of a live view; the close code if it closed meanwhile."""
    with _live_socket(base, cookie, camera) as ws:
        try:
            return _first_frames(ws, n), None
        except ConnectionClosed as exc:
            return [], exc.rcvd.code if exc.rcvd is not None else None


def _status(url: str, node: str) -> str:
    with psycopg.connect(url.replace("+psycopg", "")) as conn:
        row = conn.execute("SELECT status FROM nodes WHERE name = %s", (node,)).fetchone()
    assert row is not None
    return str(row[0])


def _refused(host: str, port: int, context: ssl.SSLContext) -> bool:
    """Whether the endpoint refuses a client with no certificate of the cluster's: at the
    handshake, or (TLS 1.3 checks the client's certificate after it) at the first read."""
    try:
        with socket.create_connection((host, port), timeout=10) as raw, \
                context.wrap_socket(raw) as s:
            s.sendall(b"GET /internal/v1/segments/1/0/1 HTTP/1.1\r\n\r\n")
            return s.recv(64) == b""
    except (ssl.SSLError, ConnectionResetError, BrokenPipeError):
        return True


def _drawn(catalog: Catalog, footage: Footage, seg: Segment) -> Drawn:
    got: list[Drawn] = []

    def build(d: Drawn) -> bytes:
        got.append(d)
        return b""

    Timelines(catalog, 0, footage=footage).answer(
        seg.camera_id, "cam1", seg.start_ns, seg.end_ns, [(seg.start_ns, seg.end_ns)],
        time.time_ns(), build)
    return got[0]


@given(st.lists(st.tuples(st.booleans(), st.booleans(), st.integers(1, 8)), min_size=0,
                max_size=4),
       st.lists(st.tuples(st.integers(-1, 3), st.integers(-1, 3)), min_size=0, max_size=12))
def test_placement_is_one_node_a_camera_shared_by_capacity(
        nodes: list[tuple[bool, bool, int]], cameras: list[tuple[int, int]]) -> None:
    """UE-10-22 3.3.5: the pure placement every node works out the same: each camera on
    one usable node (live and active) or on none when there is none, a pinned camera on
    its node while that node is usable, a held one kept while its holder has room, no
    usable node given more than its share plus the pinned; and each node's own plan takes
    only what is placed on it and hands over only what it holds."""
    views = [NodeView(f"n{i}", live, active, cap) for i, (live, active, cap) in
             enumerate(nodes)]
    usable = {v.name for v in views if v.usable}
    cams = [CameraView(i, f"n{pin}" if pin >= 0 else None) for i, (pin, _) in
            enumerate(cameras)]
    leases = {i: LeaseView(f"n{held}", 1, True) for i, (_, held) in enumerate(cameras)
              if held >= 0}
    placed = place(views, cams, leases)
    assert set(placed) == {c.id for c in cams}
    for cam in cams:
        node = placed[cam.id]
        assert (node in usable) if usable else node is None
        if cam.pinned in usable:
            assert node == cam.pinned
    room = sum(v.max_cameras for v in views if v.usable)
    for v in views:
        if v.usable:
            pinned = sum(1 for c in cams if c.pinned == v.name)
            share = -(-len(cams) * v.max_cameras // room)
            assert sum(1 for n in placed.values() if n == v.name) <= max(share, pinned) + 1
    for v in views:
        plan = plan_for(v.name, placed, leases)
        assert all(placed[c] == v.name for c in plan.take)
        assert all(leases[c].node == v.name for c in plan.hand)
        assert all(placed[c] != v.name for c in plan.hand)


@given(st.lists(st.tuples(st.booleans(), st.booleans(), st.binary(max_size=64),
                          st.integers(0, 2**63 - 1)), max_size=8))
def test_live_records_read_back_as_written(items: list[tuple[bool, bool, bytes, int]]) -> None:
    """What a recording node writes of its fan-out for another node reads back item for
    item, keep-alives skipped; a record too large to be a frame is refused, not read."""
    sent = [Item("init", data, mime="video/mp4; codecs=\"avc1.42E01E\"") if init
            else Item("frag", data, key, arrival_ns=at) for init, key, data, at in items]
    wire = io.BytesIO(b"".join(encode(None) + encode(i) for i in sent) + encode(None))
    got = list(iter(lambda: decode(wire), None))
    assert got == [i if i.kind == "frag" else Item("init", i.data, mime=i.mime) for i in sent]
    with pytest.raises(ValueError, match="live record"):
        decode(io.BytesIO(RECORD.pack(0, 0, 0, MAX_RECORD + 1)))


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_planned_move_waits_for_the_new_node_or_for_its_time(
        storage: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A camera moved between two live nodes is offered first: its holder keeps it until
    the new node records it too, then hands it over (epoch + 1); an offer the plan no
    longer makes is withdrawn; one the new node does not take up is handed over after
    `OFFER_WAIT_S` as it stands."""
    catalog = storage.catalog
    for cam in ("cam1", "cam2"):
        catalog.add_camera(cam, f"rtsp://10.0.0.2/{cam}", zone="corridor")
    standing: set[int] = set()  # what the new node's recorder has open
    released: list[int] = []
    members = {}
    for name in ("north", "south"):
        members[name] = Member(
            Leases(catalog, Me(name, (), "0.1.0", "0025", 40, 800, None), 10),
            released.extend, lambda: None, dict, standing=standing.__contains__)
    north, south = members["north"], members["south"]
    north.turn()
    assert sorted(north.held) == [1, 2]
    south.turn()  # a second node: one camera is to move to it, offered first
    north.turn()
    (moving,) = [c for c, (n, _) in _leases(catalog).items() if n == "north"
                 and _offered(catalog, c) == "south"]
    staying = 3 - moving
    epoch = north.held[moving]
    south.turn()
    assert south.standby == {moving: epoch + 1}  # south records it beside north...
    north.turn()
    assert moving in north.held  # ...and north keeps it until south has it
    assert released == []
    standing.add(moving)
    south.turn()  # south has it: says so
    north.turn()  # north hands it over
    assert released == [moving]
    assert _leases(catalog)[moving] == ("south", epoch + 1)
    south.turn()
    assert south.held == {moving: epoch + 1}
    assert south.standby == {}
    # pinned to south, then left to placement again before south takes it up: withdrawn
    audit = lambda s, row: None  # noqa: E731
    move(catalog, f"cam{staying}", "south", audit)
    north.turn()
    assert _offered(catalog, staying) == "south"
    move(catalog, f"cam{staying}", "auto", audit)
    north.turn()
    assert _offered(catalog, staying) is None
    south.turn()
    assert south.standby == {}
    # pinned again; south never takes it up: handed over once the offer's time is out
    monkeypatch.setattr("kuzet.cluster.member.OFFER_WAIT_S", 0.0)
    move(catalog, f"cam{staying}", "south", audit)
    north.turn()
    assert staying in north.held
    north.turn()
    assert staying not in north.held
    assert _leases(catalog)[staying][0] == "south"


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_node_commits_only_under_the_lease_it_holds(storage: Any) -> None:
    """UE-10-22 3.3.5, several recording servers as one: fencing in the catalog. A node's
    segment is committed under its lease's epoch and linked to the camera's row before
    it, as a single server's is; one written under another node's lease or an epoch the
    lease has passed is refused as lost, and one that would land inside the timeline is
    refused, the lease still the node's."""
    catalog = storage.catalog
    cam = catalog.add_camera("cam1", "rtsp://10.0.0.2/cam1", zone="corridor")
    north = Member(Leases(catalog, Me("north", (), "0.1.0", "0025", 40, 800, None), 10),
                   lambda cams: None, lambda: None, dict)
    north.turn()
    epoch = north.held[cam.id]
    t0 = time.time_ns() // 10**9 * 10**9

    def seg(start_s: int, fence: Fence) -> NewSegment:
        return NewSegment(
            camera_id=cam.id, stream=Stream.MAIN, volume_id=storage.default_volume_id,
            start_ns=t0 + start_s * 10**9, end_ns=t0 + (start_s + 4) * 10**9, frames=100,
            size_bytes=1000, codec="h264", width=640, height=360, audio_codec=None,
            params_json='{"codec": "h264"}', keyframes_ns=[0, 10**9],
            sha256=bytes(32), fence=fence)

    first = catalog.add_segment(seg(0, Fence("north", epoch)))
    second = catalog.add_segment(seg(4, Fence("north", epoch)))
    assert (first.epoch, second.epoch) == (epoch, epoch)
    assert second.prev_link == catalog.link(first)
    for fence in (Fence("north", epoch - 1), Fence("south", epoch), Fence("south", None)):
        with pytest.raises(Fenced, match="is refused") as lost:
            catalog.add_segment(seg(8, fence))
        assert lost.value.lost
    with pytest.raises(Fenced, match="inside the timeline") as inside:
        catalog.add_segment(seg(2, Fence("north", epoch)))
    assert not inside.value.lost
    salvaged = catalog.add_segment(seg(8, Fence("north", None)))  # any epoch of north's
    assert salvaged.epoch == epoch
    assert salvaged.prev_link == catalog.link(second)
    assert [r.start_ns for r in catalog.segments(cam.id)] == [t0, t0 + 4 * 10**9,
                                                             t0 + 8 * 10**9]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_recording_node_serves_a_bounded_number_of_live_relays(
        storage: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """UE-10-22 3.3.5, several recording servers as one: a recording node relays at most
    `LIVE_STREAMS` live streams to the other nodes at once (one here); beyond, 503, while
    a segment reader is still answered (its connections apart). A relay whose last viewer
    left hangs up, freeing its place; a stream that ended here closes its relay and is
    not found again."""
    catalog = storage.catalog
    cam = catalog.add_camera("cam1", "rtsp://10.0.0.2/cam1", zone="corridor")
    box = SecretBox(key_path(tmp_path))
    ca_init(catalog, box, "test")
    south, north = (node_tls(catalog, box, tmp_path / n, n) for n in ("south", "north"))
    assert south is not None
    assert north is not None
    hub = Audience()
    monkeypatch.setattr(internal, "LIVE_STREAMS", 1)
    server = InternalServer("127.0.0.1", 0, south, catalog, lambda ip: True,
                            lambda name, stream: hub if name == "cam1" else None)
    port = server.start()
    south_node = Member(Leases(catalog, Me("south", (), "0.1.0", "0025", 40, 800, None), 10),
                        lambda cams: None, lambda: None,
                        lambda: {"internal": ["127.0.0.1", port]})
    south_node.turn()  # south records cam1, and says where its endpoint is
    assert south_node.held
    Leases(catalog, Me("north", (), "0.1.0", "0025", 40, 800, None), 10).beat({})
    context = north.client()
    context.check_hostname = False
    opened: list[http.client.HTTPSConnection] = []
    remote = Remote(catalog, north, 10)
    loop = asyncio.new_event_loop()

    def get(path: str) -> http.client.HTTPResponse:
        conn = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=10)
        opened.append(conn)
        conn.request("GET", path)
        return conn.getresponse()

    try:
        viewer = Viewer(loop)
        relay = LiveRelays(remote, "north").open(cam.id, Stream.MAIN, viewer)  # the one place
        assert relay is not None
        assert get(f"/internal/v1/live/{cam.id}/0").status == 503
        relay.leave(viewer)  # its last viewer gone: hung up, its place free again
        relayed = wait_for(lambda: (r := get(f"/internal/v1/live/{cam.id}/0")).status == 200
                           and r, 30, what="the relay's place given back")
        assert get(f"/internal/v1/live/{cam.id}/0").status == 503
        assert get(f"/internal/v1/segments/{cam.id}/0/1?from=0").status == 404
        hub.end()
        relayed.read()  # to its end: the relay closed
        assert get(f"/internal/v1/live/{cam.id}/0").status == 404
    finally:
        for conn in opened:
            conn.close()
        remote.close()
        server.stop()
        loop.close()


def _leases(catalog: Catalog) -> dict[int, tuple[str, int]]:
    with catalog.session() as s:
        return {r.camera_id: (r.node, r.epoch) for r in s.query(CameraLease)}


def _offered(catalog: Catalog, camera_id: int) -> str | None:
    with catalog.session() as s:
        return s.get(CameraLease, camera_id).offered_to  # type: ignore[union-attr]
