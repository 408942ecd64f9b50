"""The archive socket keeps to the caller's footage window and to the caller's rights for
as long as it is open, through the real app over real recorded footage (issue 16, items
6 and 7): a grant for 2 s of footage yields frames of those 2 s only, and logging out,
a revoked role or an ended grant closes a socket that is streaming, with the reason."""

from __future__ import annotations

import io
import json
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import av
import pytest

from api_world import CAM, World
from footage import record
from kuzet.console.archive_sent import Pace
from kuzet.mp4.reader import SegmentReader
from kuzet.rtsp.clip import FPS, GOP_FRAMES, ClipSpec
from kuzet.timefmt import NS, format_instant
from kuzet.web.routes import archive_ws
from kuzet.web.routes.archive_ws import RECHECK_S

SPEC = ClipSpec(320, 180, 500_000)
SEG_S = 4  # segments of several seconds, each a few one-second GOPs
FRAME_NS = NS // FPS
HOUR_NS = 3600 * NS


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """SQLite only: the socket's window and re-checks are above the catalog, whose segment
    queries the archive tests run on both; the catalog's PostgreSQL path is tested where it
    matters."""
    return f"sqlite:///{tmp_path / 'catalog.db'}"


class FootageWorld(World):
    """The API's world with footage recorded from `t0` on, from the clips in `clip_dir`."""

    t0: int
    clip_dir: Path


@pytest.fixture
def world(storage: Any, clip_cache: Path) -> FootageWorld:
    """A world whose clock is now, with footage recorded an hour ago (from T0 on)."""
    w = FootageWorld(storage, time.time_ns() // NS * NS)
    for name, role in (("head", "head_of_security"), ("rector", "rector"),
                       ("admin", "administrator"), ("vice", "vice_rector"),
                       ("viewer", "viewer"), ("viewer2", "viewer")):
        w.user(name, role)
    for name in ("viewer", "viewer2"):
        w.enrol(name)  # archive view by grant asks for a second factor too
    w.t0 = w.clock() - HOUR_NS
    w.clip_dir = clip_cache / "sim"
    return w


def _record(world: FootageWorld, count: int) -> int:
    t0 = world.t0
    record(world.storage.catalog, world.clip_dir, SPEC, CAM, t0, count, seg_s=SEG_S)
    return t0


def _grant(world: World, head: Any, user: str, footage: tuple[int, int], valid_s: float
           ) -> int:
    """Archive view of CAM's `footage` for `user`, requested by the head of security (the
    client `head`) and approved by the rector through the API, valid from an hour ago for
    `valid_s` more."""
    r = head.post("/api/grants", json={
        "user": user, "perms": ["archive.view"], "cameras": [CAM],
        "footage_from": format_instant(footage[0]), "footage_to": format_instant(footage[1]),
        "valid_from": format_instant(world.clock() - HOUR_NS),
        "valid_until": format_instant(world.clock() + int(valid_s * NS)),
        "instruction": "Rector's instruction on the corridor incident"})
    assert r.status_code == 201, r.text
    rector = world.login("rector")
    assert rector.post(f"/api/grants/{r.json()['id']}/approve").status_code == 200
    return int(r.json()["id"])


def _open(world: World, who: str | Any, start_ns: int, **query: str) -> Any:
    """The archive socket of CAM from `start_ns`, for a new session of `who` (a name) or in
    the session of `who` (a logged-in client)."""
    client = world.login(who) if isinstance(who, str) else who
    sid = client.cookies.get("kuzet_session")
    args = "".join(f"&{k}={v}" for k, v in query.items())
    return world.client().websocket_connect(
        f"/api/ws/archive/{CAM}?start={format_instant(start_ns)}&purpose=Incident+review{args}",
        headers={"cookie": f"kuzet_session={sid}"})


def _frames(ws: Any) -> tuple[int, list[int]]:
    """Read up to `end`; the origin and the instant of every frame the bytes decode to
    (each file's init segment and fragments decoded together by FFmpeg)."""
    origin = 0
    files: list[tuple[int, bytearray]] = []
    while True:
        message = ws.receive()
        assert message["type"] == "websocket.send", message
        if message.get("bytes") is not None:
            files[-1][1].extend(message["bytes"])
            continue
        body = json.loads(message["text"])
        if body["type"] == "end":
            break
        if body["type"] == "start":
            origin = body["origin_ns"]
        elif body["type"] == "init":
            files.append((body["start_ns"], bytearray()))
    instants = []
    for start_ns, data in files:
        with av.open(io.BytesIO(bytes(data)), "r") as container:
            stream = container.streams.video[0]
            tb = stream.time_base
            assert tb is not None
            for f in container.decode(stream):
                assert f.pts is not None
                instants.append(start_ns + int(f.pts * tb * NS))
    return origin, instants


def test_a_grant_for_two_seconds_yields_those_two_seconds_only(world: FootageWorld) -> None:
    """The window starts mid-GOP and ends inside the next segment's first GOP: playback
    starts at the first keyframe inside it (not the one before) and the last fragment is
    cut at its end, so every frame lies inside and every frame of the window from that
    keyframe on is there (UE-10-22 3.5.5: only the window the rector's instruction opens)."""
    t0 = _record(world, 3)
    lo, hi = t0 + 2 * NS + NS // 2, t0 + SEG_S * NS + NS // 2  # crosses a segment boundary
    _grant(world, world.login("head"), "viewer", (lo, hi), valid_s=3600)
    with _open(world, "viewer", lo) as ws:
        origin, instants = _frames(ws)
    gop_ns = GOP_FRAMES * FRAME_NS
    first_key = t0 + -(-(lo - t0) // gop_ns) * gop_ns
    expected = list(range(first_key, hi, FRAME_NS))
    assert origin == first_key
    assert all(lo <= t < hi for t in instants)
    assert instants == expected, (len(instants), len(expected))


def test_a_role_holder_gets_the_range_asked_for(world: FootageWorld) -> None:
    """A role may see everything, but not more than it asked for: from the keyframe at or
    before `start` (the player seeks forward to it) to `end`, cut inside the GOP."""
    t0 = _record(world, 3)
    start, end = t0 + 2 * NS + NS // 2, t0 + SEG_S * NS + NS // 2
    with _open(world, "head", start, end=format_instant(end)) as ws:
        origin, instants = _frames(ws)
    assert origin == t0 + 2 * NS
    assert instants == list(range(t0 + 2 * NS, end, FRAME_NS))


def test_a_gap_longer_than_a_page_is_noted_and_not_waited_out(
        world: FootageWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    """The socket reads the catalog a page at a time; past a gap longer than a page it
    notes the gap like any other and does not wait it out in real time (the player jumps
    over it at once): 8 s of footage around a 12-s gap, paced 6 s ahead, took 1.2 s here
    (13.1 s when such a gap was jumped without a note, and waited out)."""
    monkeypatch.setattr(archive_ws, "BATCH_NS", 2 * NS)
    t0 = world.t0
    catalog, clips = world.storage.catalog, world.clip_dir
    before = record(catalog, clips, SPEC, CAM, t0, 1, seg_s=SEG_S)[0]
    after = record(catalog, clips, SPEC, CAM, before.end_ns + 12 * NS, 1, seg_s=SEG_S)[0]
    began = time.monotonic()
    notes: list[dict[str, Any]] = []
    files = 0
    with _open(world, "head", t0) as ws:
        while True:
            message = ws.receive()
            if message.get("text") is None:  # the files' bytes
                continue
            body = json.loads(message["text"])
            if body["type"] == "end":
                break
            files += body["type"] == "init"
            if body["type"] in ("gap", "missing"):
                notes.append(body)
    took = time.monotonic() - began
    assert files == 2
    assert notes == [{"type": "gap", "from_ns": before.end_ns, "to_ns": after.start_ns}]
    assert took < 6, took


def _closed(ws: Any) -> tuple[int, str]:
    """Read until the server closes the socket; one that reaches the end of the footage
    instead was never stopped."""
    while True:
        message = ws.receive()
        if message["type"] == "websocket.close":
            return int(message.get("code", 1000)), str(message.get("reason", ""))
        if message.get("text") is not None:
            assert json.loads(message["text"])["type"] != "end", "streamed to the end"


def test_a_streaming_socket_closes_when_its_session_role_or_grant_ends(
        world: FootageWorld) -> None:
    """Four sockets stream 20 s of footage, paced to real time; each then loses its footing
    in another way, and each is closed with the reason naming it within one re-check, long
    before its footage would have run out."""
    t0 = _record(world, 5)
    everything = (t0, t0 + 5 * SEG_S * NS)
    admin, head = world.login("admin"), world.login("head")
    revoked = _grant(world, head, "viewer", everything, valid_s=3600)
    _grant(world, head, "viewer2", everything, valid_s=60)
    vice_role = next(a["id"] for a in admin.get("/api/role-assignments").json()
                     if a["user"] == "vice")
    expected = {"head": "logged out", "vice": "role revoked", "viewer": "grant ended",
                "viewer2": "grant ended"}
    with ExitStack() as stack:
        sockets = {name: stack.enter_context(_open(world, head if name == "head" else name, t0))
                   for name in expected}
        for ws in sockets.values():
            assert ws.receive_json()["type"] == "start"  # streaming
        assert head.post(f"/api/grants/{revoked}/revoke").status_code == 200
        world.clock.advance(30)  # a fresh TOTP step for the rector's next login
        rector = world.login("rector")  # a role reaching stored video: the rector's to end
        assert rector.post(f"/api/role-assignments/{vice_role}/revoke").status_code == 200
        assert head.post("/api/auth/logout").status_code == 200
        world.clock.advance(61)  # viewer2's grant ends by itself
        ended_at = time.monotonic()
        closes = {name: _closed(ws) for name, ws in sockets.items()}
        waited = time.monotonic() - ended_at
    assert {name: (code, reason.split(":")[0]) for name, (code, reason) in closes.items()} \
        == {name: (1008, why) for name, why in expected.items()}
    assert waited <= 2 * RECHECK_S + 2, waited  # one re-check, with room for a busy machine
    closed = [json.loads(e.detail) for e in world.audit("archive.close")]
    assert sorted(d["ended"].split(":")[0] for d in closed) == sorted(expected.values())
    # each refused socket's entry still says what it had sent (clause 4.2)
    assert all(d["footage"][0] == t0 < d["footage"][1] for d in closed), closed


def test_a_streaming_socket_closes_when_its_session_expires(world: FootageWorld) -> None:
    """Streaming keeps a session in use, but not past its limits: 16 idle minutes on the
    server's clock end it at the next re-check, and the reason says so."""
    t0 = _record(world, 5)
    with _open(world, "head", t0) as ws:
        assert ws.receive_json()["type"] == "start"
        world.clock.advance(16 * 60)
        code, reason = _closed(ws)
    assert (code, reason) == (1008, "session ended: the session was idle for 15 minutes")


def _read_to_end(ws: Any) -> None:
    while True:
        message = ws.receive()
        if message.get("text") is not None and json.loads(message["text"])["type"] == "end":
            return


def test_the_closing_entry_records_the_span_sent_and_every_speed(world: FootageWorld) -> None:
    """Clause 4.2 (issue 18, item 10): `archive.close` records the footage that really went
    out — from the keyframe playback began at (2 s, before the 2.5 s asked), to the end of
    the last fragment — its seconds, and each speed the player asked for with the instant
    it asked; the socket closed by the player says so. It used to record the instant asked
    as the start and no speed at all."""
    t0 = _record(world, 2)
    opened = world.clock()
    with _open(world, "head", t0 + 2 * NS + NS // 2) as ws:
        assert ws.receive_json()["type"] == "start"
        world.clock.advance(7)
        asked_at = world.clock()
        ws.send_text(json.dumps({"speed": 4}))
        ws.send_text(json.dumps({"speed": 4}))  # a repeat is no change
        _read_to_end(ws)
    [closed] = [json.loads(e.detail) for e in world.audit("archive.close")]
    assert closed["footage"] == [t0 + 2 * NS, t0 + 2 * SEG_S * NS]
    assert closed["footage_s"] == 2 * SEG_S - 2
    assert closed["speeds"] == [[opened, 1.0], [asked_at, 4.0]]
    assert closed["ended"] == "closed by the player"


def test_a_socket_that_sent_nothing_records_no_span(world: FootageWorld) -> None:
    """An instant after all footage: nothing went out, and the entry says so (null), not a
    span of no length at the instant asked."""
    t0 = _record(world, 1)
    with _open(world, "head", t0 + 10 * SEG_S * NS) as ws:
        _read_to_end(ws)
    [closed] = [json.loads(e.detail) for e in world.audit("archive.close")]
    assert closed["footage"] is None
    assert closed["footage_s"] == 0


def test_a_socket_opened_at_a_speed_paces_and_records_it(world: FootageWorld) -> None:
    """A player at 4x that jumps opens its new socket at 4x (`speed`): the entry's first
    speed is 4, not the 1 the socket used to assume; a speed out of range is refused."""
    t0 = _record(world, 1)
    with _open(world, "head", t0, speed="4") as ws:
        _read_to_end(ws)
    [closed] = [json.loads(e.detail) for e in world.audit("archive.close")]
    assert closed["speeds"] == [[world.clock(), 4.0]]
    with _open(world, "head", t0, speed="32") as ws:
        code, reason = _closed(ws)
    assert (code, reason) == (1008, "speed: a number from 0.25 to 16.0")
    assert len(world.audit("archive.open")) == 1  # refused before anything was opened


def test_the_pace_counts_each_stretch_at_its_own_speed() -> None:
    """10 s at 1x then 5 s at 2x is 20 s of media: multiplying all 15 s by the speed now
    (30 s) let the sender run 10 s further ahead than the player at a change of speed."""
    pace = Pace()
    pace.start(100.0)
    assert pace.played_s(110.0) == 10.0
    pace.set_speed(2.0, 110.0)
    assert pace.played_s(115.0) == 20.0


def test_end_closes_an_api_viewing_once_and_never_a_sockets(world: FootageWorld) -> None:
    """`POST /api/viewing/{n}/end` of a viewing opened through the API records the window
    opened with it, once; of a socket's viewing it is refused and writes nothing (the
    socket closes it with what it sent): no second, spanless `archive.close`."""
    t0 = _record(world, 2)
    head = world.login("head")
    a, b = t0, t0 + SEG_S * NS
    r = head.post("/api/viewing/archive", json={
        "camera": CAM, "start": format_instant(a), "end": format_instant(b),
        "purpose": "Incident review"})
    assert r.status_code == 200, r.text
    api_viewing = r.json()["viewing"]
    assert head.post(f"/api/viewing/{api_viewing}/end").status_code == 200
    again = head.post(f"/api/viewing/{api_viewing}/end")
    assert again.status_code == 409
    assert again.json()["detail"] == (
        f"refused: viewing {api_viewing} has ended already (UE-10-22 4.2)")
    [closed] = [json.loads(e.detail) for e in world.audit("archive.close")]
    assert (closed["viewing"], closed["footage_ns"]) == (api_viewing, [a, b])
    with _open(world, head, t0) as ws:
        assert ws.receive_json()["type"] == "start"
        socket_viewing = world.audit("archive.open")[-1].seq
        r = head.post(f"/api/viewing/{socket_viewing}/end")
        assert r.status_code == 409
        assert "(UE-10-22 4.2)" in r.json()["detail"]
        assert len(world.audit("archive.close")) == 1  # nothing written
        _read_to_end(ws)
    closes = [json.loads(e.detail) for e in world.audit("archive.close")]
    assert [c["viewing"] for c in closes] == [api_viewing, socket_viewing]
    assert closes[1]["footage"] == [t0, t0 + 2 * SEG_S * NS]


def test_a_file_that_breaks_off_is_played_to_where_it_does_and_the_rest_noted(
        world: FootageWorld) -> None:
    """A file whose read breaks off after its first bytes (cut short on disk since it was
    catalogued; on another node, its node gone midway) plays its whole fragments, the rest
    of it is noted missing, and playback goes on with the next file (the player says so,
    it does not stall)."""
    t0 = _record(world, 3)
    catalog = world.storage.catalog
    rows = catalog.segments(catalog.camera(CAM).id)
    path = catalog.path_of(rows[1])
    data = path.read_bytes()
    path.chmod(0o644)
    path.write_bytes(data[:SegmentReader(data).pairs[1][1].end])  # two GOPs of four
    notes, starts = [], []
    with _open(world, "head", t0) as ws:
        while True:
            message = ws.receive()
            if message.get("text") is None:
                continue
            body = json.loads(message["text"])
            if body["type"] == "end":
                break
            if body["type"] == "missing":
                notes.append((body["from_ns"], body["to_ns"]))
            if body["type"] == "init":
                starts.append(body["start_ns"])
    gop_ns = GOP_FRAMES * FRAME_NS
    assert notes == [(rows[1].start_ns + 2 * gop_ns, rows[1].end_ns)]
    assert starts == [r.start_ns for r in rows]
