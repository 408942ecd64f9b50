"""Live video to police duty units and Operational Control Centres (issue 24; UE-10-22
3.2.11): only the cameras the rector approved, only to the centres registered, from their
own addresses, live only, every session and refusal audited.

The centres' side is played by real clients: FFmpeg (TCP, UDP, RTSPS) and GStreamer's
`rtspsrc` (TCP, UDP), each decoding what it received; a bare client for what they never
send (a past instant, a socket that stops reading); a client in a network namespace
whose address is no centre's. Most tests run the restream server in-process over a real
fan-out hub fed at 25 fps; one runs `kuzet serve` recording the simulator."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import ssl
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from api_world import CAM, World
from conftest import NS_ADDR, SQLITE_ONLY, Kuzet, wait_for
from kuzet.access.secretbox import SecretBox, key_path
from kuzet.access.tls import make_self_signed
from kuzet.audit.log import Actor
from kuzet.catalog.streams import Stream
from kuzet.recorder.fanout import LiveHub
from kuzet.restream.centres import CentreFields, Centres
from kuzet.restream.service import Restream, RestreamSettings
from kuzet.timefmt import campus_day
from restream_peer import Feeder, Rtsp

HEAD = Actor("head", ("head_of_security",), "127.0.0.1")
RECTOR = Actor("rector", ("rector",), "127.0.0.1")
FLOOD_LIMIT = 6


def _today(zone: str, days: int = 0) -> str:
    """A campus day from today's (centres are made valid from yesterday: a test that runs
    across the campus's midnight, 19:00 UTC, finds them valid on either side)."""
    return (campus_day(time.time_ns(), zone) + dt.timedelta(days=days)).isoformat()


def _fields(zone: str, name: str = "Алматы ҚПД кезекші бөлімі", **extra: Any) -> CentreFields:
    values: dict[str, Any] = {
        "name": name, "kind": "police", "contact": "+7 727 000 00 00", "basis_no": "77-Ө",
        "basis_date": _today(zone), "addresses": ["127.0.0.1"], "max_streams": 4,
        "max_kbps": 16_000, "valid_from": _today(zone, -1),
        "valid_until": _today(zone, 365),
        **extra}
    return CentreFields(**values)


@dataclass
class Relay:
    world: World
    restream: Restream
    centres: Centres
    feeder: Feeder
    zone: str

    @property
    def port(self) -> int:
        return int(self.restream.urls["rtsp"].rsplit(":", 1)[1])

    @property
    def tls_port(self) -> int:
        return int(self.restream.urls["rtsps"].rsplit(":", 1)[1])

    def centre(self, cameras: dict[str, str] | None = None, **fields: Any
               ) -> tuple[str, str, int]:
        """A centre registered by the head of security and approved by the rector: its
        user name, password and id."""
        made = self.centres.prepare(HEAD, _fields(self.zone, **fields),
                                    cameras or {CAM: "main"}, "agreement", time.time_ns())
        self.centres.approve(RECTOR, made.centre.requests[0].id, time.time_ns())
        return made.centre.username, made.password, made.centre.id

    def url(self, user: str, password: str, path: str = f"{CAM}/main",
            scheme: str = "rtsp") -> str:
        port = self.tls_port if scheme == "rtsps" else self.port
        return f"{scheme}://{user}:{password}@127.0.0.1:{port}/{path}"

    def rows(self) -> list[Any]:
        self.world.svc.restream_journal.flush()
        return self.world.svc.restream_journal.listing()

    def audit(self, action: str) -> list[dict[str, Any]]:
        self.world.svc.restream_journal.flush()
        return [{"actor": e.actor, "subject": e.subject, **json.loads(e.detail)}
                for e in self.world.storage.audit.entries(action=action)]


@pytest.fixture
def relay(storage: Any, clip_cache: Path, request: pytest.FixtureRequest) -> Iterator[Relay]:
    """The restream server in-process over a hub fed at 25 fps (H.264; H.265 for a test
    marked `hevc`), with the register and API of a World."""
    world = World(storage, time.time_ns(), https_port=0, http_redirect_port=None)
    home = storage.settings.home
    cert, key = home / "tls" / "cert.pem", home / "tls" / "key.pem"
    make_self_signed(cert, key)
    hub = LiveHub()
    hevc = storage.settings.home / "x265.hevc" if request.node.get_closest_marker(
        "hevc") else None
    feeder = Feeder(hub, clip_cache, hevc)
    svc = world.svc
    restream = Restream(RestreamSettings("127.0.0.1", 0, 0, FLOOD_LIMIT, cert, key,
                                         home / "run", "127.0.0.1"),
                        svc.centres, lambda camera, stream: hub if (
                            camera, stream) == (CAM, Stream.MAIN) else None,
                        svc.restream_journal)
    svc.restream = restream
    feeder.start()
    restream.start()
    try:
        yield Relay(world, restream, svc.centres, feeder, world.settings.display_timezone)
    finally:
        restream.stop()
        feeder.stop.set()
        feeder.join(5)


def _connections(port: int) -> int:
    """Established TCP connections to `port` on this host (`ss`)."""
    out = subprocess.run(["ss", "-Htn", "state", "established", f"( dport = :{port} )"],
                         capture_output=True, text=True, timeout=10).stdout
    return len(out.splitlines())


def _no_frame_missing(path: Path) -> int:
    """The frames of a received file, each decoded without an error, and none missing
    between the first and the last: their times, the camera's RTP timestamps, step by one
    frame (40 ms, give or take the millisecond Matroska rounds to; a frame lost would make
    a step of 80) throughout, after the first (FFmpeg's RTSP client leaves a stream's
    first frame untimed, from Kuzet's simulator as from this server, and its muxer then
    gives it the second's)."""
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0",
                          "-show_entries", "frame=pts_time", "-of", "csv=p=0", str(path)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert not out.stderr.strip(), out.stderr
    # a line per frame, its time first (H.265 frames add an empty field after it)
    times = sorted(float(line.split(",")[0]) for line in out.stdout.split())
    assert len(times) >= 25, times
    steps = {round((b - a) * 1000) for a, b in itertools.pairwise(times[1:])}
    assert steps <= {39, 40, 41}, steps
    return len(times)


def _ffmpeg(url: str, transport: str | None, out: Path) -> list[str]:
    """FFmpeg reading 30 frames as they come (rtsps:// goes over TCP by itself)."""
    how = ["-rtsp_transport", transport] if transport else []
    return ["ffmpeg", "-v", "error", *how, "-i", url, "-frames:v", "30", "-c", "copy", "-y",
            str(out)]


def _gst(url: str, user: str, password: str, protocol: str, out: Path) -> list[str]:
    return ["gst-launch-1.0", "-q", "-e", "rtspsrc", f"location={url}", f"user-id={user}",
            f"user-pw={password}", f"protocols={protocol}",
            # the frames timed by their RTP timestamps alone, not smoothed by arrival
            "buffer-mode=none", "!", "rtph264depay", "!",
            "h264parse", "!", "identity", "eos-after=30", "!", "matroskamux", "!",
            "filesink", f"location={out}"]


@SQLITE_ONLY
def test_centres_receive_every_frame_live_over_tcp_udp_and_tls(relay: Relay,
                                                               tmp_path: Path) -> None:
    """3.2.11: an approved centre's FFmpeg (TCP, UDP, RTSPS) and GStreamer (TCP, UDP)
    receive the camera's H.264 as coded, every frame of the interval in order and
    decodable; each session is in the register and the audit log with its bytes."""
    user, password, _ = relay.centre()
    runs = {f"ffmpeg-{name}": _ffmpeg(relay.url(user, password, scheme=scheme), transport,
                                      tmp_path / f"ffmpeg-{name}.mkv")
            for name, scheme, transport in (("tcp", "rtsp", "tcp"), ("udp", "rtsp", "udp"),
                                            ("rtsps", "rtsps", None))}
    plain = f"rtsp://127.0.0.1:{relay.port}/{CAM}/main"
    for protocol in ("tcp", "udp"):
        runs[f"gst-{protocol}"] = _gst(plain, user, password, protocol,
                                       tmp_path / f"gst-{protocol}.mkv")
    for name, command in runs.items():
        done = subprocess.run(command, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, (name, done.stderr)
        assert _no_frame_missing(tmp_path / f"{name}.mkv") >= 28, name
    rows = wait_for(lambda: [r for r in relay.rows() if r.end_ns] if len(
        [r for r in relay.rows() if r.end_ns]) == len(runs) else None, 20, what="5 sessions")
    assert sorted(r.transport for r in rows) == ["tcp", "tcp", "tls", "udp", "udp"]
    for r in rows:
        assert (r.centre, r.camera, r.stream, r.source) == (
            "Алматы ҚПД кезекші бөлімі", CAM, "main", "127.0.0.1")
        assert r.frames >= 28, r
        assert r.bytes > 0, r
        assert r.dropped == 0, r
    starts = relay.audit("restream.start")
    ends = relay.audit("restream.end")
    assert len(starts) == len(ends) == len(runs)
    assert {e["actor"] for e in starts} == {"centre:Алматы ҚПД кезекші бөлімі"}
    assert all(e["subject"] == f"camera/{CAM}" and e["bytes"] > 0 for e in ends)


@SQLITE_ONLY
@pytest.mark.hevc
def test_h265_goes_out_as_the_camera_coded_it(relay: Relay, tmp_path: Path) -> None:
    """3.2.11, no transcoding: an H.265 camera's frames reach the centre as H.265 (RFC
    7798 fragmentation units), every frame decodable and none missing."""
    user, password, _ = relay.centre()
    out = tmp_path / "hevc.mkv"
    done = subprocess.run(_ffmpeg(relay.url(user, password), "tcp", out), capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    codec = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_name",
                            "-of", "csv=p=0", str(out)], capture_output=True, text=True)
    assert codec.stdout.strip() == "hevc"
    assert _no_frame_missing(out) >= 28


@SQLITE_ONLY
def test_every_bad_request_is_refused_with_its_status_and_audited(relay: Relay) -> None:
    """Wrong credentials (401), a camera not in the set (404), a past instant or a
    playback URL (457: live only, 3.5.3), more streams than agreed (453), a disabled or
    expired centre (403), a flood of connections (503): each refused, audited, and the
    attacks raise the restream_refused alarm."""
    user, password, centre_id = relay.centre(max_streams=1)
    url = f"rtsp://127.0.0.1:{relay.port}/{CAM}/main"
    wrong = Rtsp(relay.port, user, "not the password")
    assert wrong.request("OPTIONS", url)[0] == 401
    wrong.close()
    c = Rtsp(relay.port, user, password)
    assert c.request("OPTIONS", url)[0] == 200
    assert c.request("DESCRIBE", f"rtsp://127.0.0.1:{relay.port}/cam2/main")[0] == 404
    assert c.request("DESCRIBE", f"rtsp://127.0.0.1:{relay.port}/{CAM}/sub")[0] == 404
    for headers, path in (({"Range": "npt=30-"}, url),
                          ({"Range": "clock=20260101T000000Z-"}, url),
                          ({}, f"{url}?starttime=20260101T000000Z")):
        assert c.request("DESCRIBE", path, headers)[0] == 457, (headers, path)
    c.play(url)
    status, _, _ = c.request("SETUP", f"{url}/trackID=0", {
        "Transport": "RTP/AVP/TCP;unicast;interleaved=2-3"})
    assert status == 453  # one stream agreed
    refused = {e["refusal"] for e in relay.audit("restream.refused")}
    assert refused >= {"credentials", "camera", "past", "streams"}, refused
    assert all("3.2.11" in e["reason"] for e in relay.audit("restream.refused"))

    relay.centres.disable(HEAD, centre_id, time.time_ns())
    with pytest.raises(ConnectionError):  # the running session ends at once
        c.media(10)
    c.close()
    again = Rtsp(relay.port, user, password)
    assert again.request("OPTIONS", url)[0] == 403
    again.close()
    expired_user, expired_pw, _ = relay.centre(name="Expired OCC", valid_from=_today(
        relay.zone, -30), valid_until=_today(relay.zone, -1))
    old = Rtsp(relay.port, expired_user, expired_pw)
    assert old.request("OPTIONS", url)[0] == 403
    old.close()

    answers = []
    for _ in range(FLOOD_LIMIT + 16):  # a flood from one address (of centres of 5 streams)
        r = Rtsp(relay.port, user, password)
        r.sock.sendall(b"OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n")
        answers.append(r.response()[0])
        r.close()
    assert 503 in answers
    flood = [e for e in relay.audit("restream.refused") if e["refusal"] == "flood"]
    assert sum(e["count"] for e in flood) >= 2  # the first at once, the rest counted
    assert any(a.kind == "restream_refused" and a.subject == "127.0.0.1"
               for a in relay.world.svc.alarms.list())


@SQLITE_ONLY
def test_a_centre_that_stops_reading_loses_frames_not_memory(relay: Relay) -> None:
    """3.2.11, bad input: a slow reader: what waits for it stays under the limit, it loses
    whole GOPs
    (counted), and when it reads again it is sent live from a keyframe."""
    relay.restream.server.slow_reader_bytes = 16 * 1024
    relay.restream.server.socket_buffer_bytes = 16 * 1024
    user, password, _ = relay.centre()
    c = Rtsp(relay.port, user, password, rcvbuf=4096)
    c.play(f"rtsp://127.0.0.1:{relay.port}/{CAM}/main")
    session = wait_for(lambda: next(iter(relay.restream.server.sessions.values()), None), 10,
                       what="session")
    wait_for(lambda: session.dropped > 25, 30, what="frames dropped for a reader that stopped")
    biggest = max(len(d) for _, d in relay.feeder.units)
    assert session.writer.transport.get_write_buffer_size() <= 16 * 1024 + 2 * biggest
    dropped = session.dropped
    packets = c.first_media(15)  # reading again
    assert packets
    assert session.frames > 0
    assert session.dropped >= dropped
    sent_before = session.frames

    def live_again() -> bool:
        c.media(0.2)
        return bool(session.frames > sent_before)

    wait_for(live_again, 15, what="frames sent live again")
    c.close()


@SQLITE_ONLY
def test_a_camera_taken_out_of_the_set_ends_the_session(relay: Relay, tmp_path: Path
                                                         ) -> None:
    """3.2.11: the rector approves a set without the camera: the centre's running session
    ends at once (the register says why), and the camera is refused to it from then on."""
    user, password, centre_id = relay.centre()
    proc = subprocess.Popen(["ffmpeg", "-v", "error", "-rtsp_transport", "tcp", "-i",
                             relay.url(user, password), "-f", "null", "-"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: relay.restream.live(), 20, what="a running session")
        view = relay.centres.request_cameras(HEAD, centre_id, {"cam2": "main"}, "rota",
                                             time.time_ns())
        assert relay.restream.live()  # a request changes nothing until the rector decides
        relay.centres.approve(RECTOR, view.requests[0].id, time.time_ns())
        wait_for(lambda: not relay.restream.live(), 10, what="the session ended")
        proc.wait(20)
    finally:
        proc.kill()
    row = wait_for(lambda: next((r for r in relay.rows() if r.end_ns), None), 10, what="row")
    assert row.ended == "refused: camera"
    c = Rtsp(relay.port, user, password)
    assert c.request("DESCRIBE", f"rtsp://127.0.0.1:{relay.port}/{CAM}/main")[0] == 404
    c.close()


def _new_centre(world: World, **extra: Any) -> dict[str, Any]:
    zone = world.settings.display_timezone
    return {"name": "Жедел басқару орталығы", "kind": "occ", "contact": "102",
            "basis_no": "15/2", "basis_date": _today(zone), "addresses": ["10.20.0.0/28"],
            "cameras": [{"camera": CAM, "stream": "main"}], "max_streams": 2,
            "max_kbps": 8000, "valid_from": _today(zone, -1), "valid_until": _today(zone, 90),
            "reason": "agreement with the police department", **extra}


def test_a_centre_and_its_cameras_wait_for_the_rector(storage: Any) -> None:
    """3.2.11: the head of security enters a centre (its password shown once) and asks
    for its cameras; nothing is served until the rector approves, with the rector's own
    account: not the head, the administrator, an API token nor the command line, each
    refusal naming the clause. A change of cameras is another request; "any" address,
    an unknown camera or days the wrong way round are refused and change nothing."""
    world = World(storage, time.time_ns())
    head = world.login(world.user("head", "head_of_security"))
    admin = world.login(world.user("admin", "administrator"))
    rector = world.login(world.user("rector", "rector"))
    guard = world.login(world.user("guard", "guard"))
    assert guard.get("/api/centres").status_code == 403
    assert guard.post("/api/centres", json=_new_centre(world)).status_code == 403
    for bad, words in (({"addresses": ["0.0.0.0/0"]}, "3.2.11"),
                       ({"addresses": ["10.0.0.0/16"]}, "65536"),
                       ({"addresses": ["police.example"]}, "not an address"),
                       ({"cameras": [{"camera": "nowhere", "stream": "main"}]}, "nowhere"),
                       ({"cameras": [{"camera": CAM, "stream": "sub"}]}, "sub stream"),
                       ({"valid_until": _today(world.settings.display_timezone, -2)},
                        "comes before")):
        r = head.post("/api/centres", json=_new_centre(world, **bad))
        assert r.status_code in (400, 404, 422), (bad, r.text)
        assert words in r.text, (bad, r.text)
    assert head.get("/api/centres").json()["centres"] == []
    made = head.post("/api/centres", json=_new_centre(world))
    assert made.status_code == 201, made.text
    password, centre = made.json()["password"], made.json()["centre"]
    assert len(password) >= 20
    assert password not in head.get("/api/centres").text
    assert (centre["state"], centre["cameras"]) == ("pending", {})
    r = head.post(f"/api/centres/{centre['id']}/cameras", json={"cameras": []})
    assert r.status_code == 409, r.text  # nothing to change before the registration
    request = centre["requests"][0]["id"]
    token = admin.post("/api/tokens", json={"name": "occ", "perms": ["centre.prepare"]})
    assert token.status_code == 201, token.text
    bearer = world.client()
    bearer.headers["Authorization"] = f"Bearer {token.json()['token']}"
    for who in (head, admin, bearer):
        r = who.post(f"/api/centres/requests/{request}/approve")
        assert r.status_code == 403, r.text
        assert "centre.approve" in r.text or "3.2.11" in r.text, r.text
    cli = Kuzet(storage.settings.home, storage.settings.home)
    cli.env["KUZET_DATABASE_URL"] = storage.settings.database_url
    refused = cli.run("centre", "approve", str(request), check=False)
    assert refused.returncode == 2, refused.stderr
    assert "3.2.11" in refused.stderr, refused.stderr
    assert head.get(f"/api/centres/{centre['id']}").json()["state"] == "pending"
    r = rector.post(f"/api/centres/requests/{request}/approve")
    assert r.status_code == 200, r.text
    assert (r.json()["state"], r.json()["cameras"]) == ("active", {CAM: "main"})
    # a change is asked, not made: the set in force stays until the rector decides
    r = head.post(f"/api/centres/{centre['id']}/cameras",
                  json={"cameras": [{"camera": "cam2", "stream": "main"}], "reason": "rota"})
    assert r.status_code == 201, r.text
    assert r.json()["cameras"] == {CAM: "main"}
    change = r.json()["requests"][0]["id"]
    assert head.post(f"/api/centres/{centre['id']}/cameras", json={
        "cameras": []}).status_code == 409  # one request at a time
    r = rector.post(f"/api/centres/requests/{change}/reject", json={"note": "not that one"})
    assert r.status_code == 200, r.text
    assert r.json()["cameras"] == {CAM: "main"}, r.text
    entries = [(e.action, json.loads(e.detail)["outcome"]) for e in storage.audit.entries()
               if e.action.startswith("centre.")]
    assert [o for a, o in entries if a == "centre.approve"] == ["refused", "allowed"]
    assert ("centre.reject", "allowed") in entries
    assert [a for a, _ in entries].count("centre.request") == 2
    assert head.post(f"/api/centres/{centre['id']}/disable").json()["state"] == "disabled"
    listed = cli.json("centre", "list")
    assert [(c["name"], c["state"]) for c in listed] == [("Жедел басқару орталығы",
                                                         "disabled")]


def test_kuzet_serve_restreams_the_recorders_frames_to_a_centre_and_no_one_else(
        fresh: Kuzet, public_netns: str, tmp_path: Path) -> None:
    """3.2.11 end to end: `kuzet serve` records the simulator and serves an approved
    centre the camera's frames from the recorder's own session (no second connection to
    the camera: the simulator sees one), every frame of the interval, while recording
    goes on; a client from an address that is no centre's is refused (403), audited, and
    raises an alarm."""
    kuzet = fresh
    kuzet.env.update({"KUZET_RESTREAM_PORT": "0", "KUZET_RESTREAM_TLS_PORT": "0"})
    kuzet.run("init")
    sim, port = kuzet.sim()
    kuzet.run("camera", "add", "cam01", f"rtsp://127.0.0.1:{port}/cam01/main",
              "--zone", "corridor")
    kuzet.serve()
    run = kuzet.home / "run" / "restream.json"
    urls = wait_for(lambda: json.loads(run.read_text()) if run.exists() else None, 60,
                    what="restream.json")
    assert len(urls["fingerprint"].split(":")) == 32  # SHA-256, for pinning
    wait_for(lambda: kuzet.status().get("cam01", {}).get("state") == "recording", 60,
             what="recording")
    catalog = kuzet.catalog()
    settings_zone = "Asia/Almaty"
    centres = Centres(catalog.session, SecretBox(key_path(kuzet.home)), settings_zone,
                      time.time_ns)
    made = centres.prepare(HEAD, _fields(settings_zone), {"cam01": "main"}, "agreement",
                           time.time_ns())
    centres.approve(RECTOR, made.centre.requests[0].id, time.time_ns())
    rtsp = urls["ports"]["rtsp"]

    def served() -> bool:  # the server reads the register at most twice a second
        probe = Rtsp(rtsp, made.centre.username, made.password)
        try:
            return probe.request("OPTIONS", f"rtsp://127.0.0.1:{rtsp}/cam01/main")[0] == 200
        finally:
            probe.close()

    wait_for(served, 10, what="the approval read by the server")
    frames_before = kuzet.status()["cam01"]["frames_recorded"]
    out = tmp_path / "centre.mkv"
    with (tmp_path / "ffmpeg.log").open("w") as log:
        client = subprocess.Popen(["ffmpeg", "-v", "error", "-rtsp_transport", "tcp", "-i",
                                   f"rtsp://{made.centre.username}:{made.password}@127.0.0.1:"
                                   f"{rtsp}/cam01/main", "-frames:v", "75", "-c", "copy", "-y",
                                   str(out)], stderr=log)
    try:
        wait_for(lambda: _connections(rtsp), 30, what="the centre connected")
        assert _connections(port) == 1  # the recorder's own: none more for the centre
        assert client.wait(60) == 0, (tmp_path / "ffmpeg.log").read_text()
    finally:
        client.kill()
    assert _no_frame_missing(out) >= 70
    wait_for(lambda: kuzet.status()["cam01"]["frames_recorded"] > frames_before + 75, 30,
             what="recording going on")
    refused = subprocess.run(
        ["ip", "netns", "exec", public_netns, "ffprobe", "-v", "error", "-rw_timeout",
         "10000000", f"rtsp://{made.centre.username}:{made.password}@198.51.100.1:{rtsp}"
         "/cam01/main"], capture_output=True, text=True, timeout=60)
    assert refused.returncode != 0, refused.stderr
    assert "403" in refused.stderr, refused.stderr
    entries = wait_for(lambda: [e for e in kuzet.json("audit", "list", "--action",
                                                      "restream.refused")
                                if e["detail"]["source"] == NS_ADDR], 20,
                       what="the refusal audited")
    assert entries[0]["detail"]["refusal"] == "address"
    wait_for(lambda: any(a["kind"] == "restream_refused" and a["subject"] == NS_ADDR
                         for a in kuzet.json("alarms")), 20, what="restream_refused alarm")
    ended = wait_for(lambda: kuzet.json("audit", "list", "--action", "restream.end"), 20,
                     what="the session's end audited")
    assert ended[0]["detail"]["frames"] >= 75
    assert ended[0]["detail"]["dropped"] == 0
    assert sim.poll() is None


def _client_tls(cert: Path | None = None, key: Path | None = None) -> ssl.SSLContext:
    """A centre's TLS: the server's certificate not checked here (the register shows its
    fingerprint), with a client certificate where given."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    if cert is not None and key is not None:
        context.load_cert_chain(cert, key)
    return context


@SQLITE_ONLY
def test_a_centre_with_a_client_certificate_must_present_it(relay: Relay, tmp_path: Path
                                                            ) -> None:
    """3.2.11, item 1: a centre may be held to a client certificate besides its password:
    once registered (a PEM, its SHA-256 the pin), only RTSPS with that certificate is
    served, and a session begun without it ends; without it, or over plain RTSP, the
    request is refused and audited; another certificate fails the handshake."""
    world = relay.world
    head = world.login(world.user("head", "head_of_security"))
    user, password, centre_id = relay.centre()
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    for d in (ours, theirs):
        d.mkdir()
        make_self_signed(d / "cert.pem", d / "key.pem")
    r = head.put(f"/api/centres/{centre_id}/certificate", content=b"no certificate")
    assert r.status_code == 400, r.text
    plain = Rtsp(relay.port, user, password)  # playing before the certificate is asked
    plain.play(f"rtsp://127.0.0.1:{relay.port}/{CAM}/main")
    r = head.put(f"/api/centres/{centre_id}/certificate",
                 content=(ours / "cert.pem").read_bytes())
    assert r.status_code == 200, r.text
    with pytest.raises(ConnectionError):  # ended once the register asks for it
        plain.media(10)

    plain.close()
    der = ssl.PEM_cert_to_DER_cert((ours / "cert.pem").read_text())
    assert r.json()["client_sha256"] == hashlib.sha256(der).hexdigest()
    url = f"rtsps://127.0.0.1:{relay.tls_port}/{CAM}/main"

    def options(tls: ssl.SSLContext | None, port: int) -> int:
        c = Rtsp(port, user, password, tls=tls)
        try:
            return c.request("OPTIONS", url)[0]
        finally:
            c.close()

    with_cert = _client_tls(ours / "cert.pem", ours / "key.pem")

    def trusted() -> bool:  # the server reads the register at most twice a second
        try:
            return options(with_cert, relay.tls_port) == 200
        except (ConnectionError, ssl.SSLError):
            return False

    wait_for(trusted, 10, what="the certificate trusted by the server")
    c = Rtsp(relay.tls_port, user, password, tls=with_cert)
    c.play(url)
    assert c.first_media(15)
    c.close()
    assert options(_client_tls(), relay.tls_port) == 401  # the password alone
    assert options(None, relay.port) == 401  # plain RTSP: no certificate at all
    # TLS 1.3: the client learns that its certificate failed at its first read
    with pytest.raises((ssl.SSLError, ConnectionError)):
        options(_client_tls(theirs / "cert.pem", theirs / "key.pem"), relay.tls_port)
    # the first of the minute in full (the session ended), the rest counted
    refused = [e for e in relay.audit("restream.refused") if e["refusal"] == "credentials"]
    assert "session ended" in refused[0]["request"]
    assert sum(e["count"] for e in refused) >= 3


def _links(relay: Relay, camera: str) -> Any:
    """What a detection event about `camera` says of its restream, as the notifiers send it."""
    from kuzet.hooks import DetectionEvent

    sent = relay.restream.linked(DetectionEvent({"camera": camera}, None))
    assert isinstance(sent, DetectionEvent)
    return sent.said.get("restream")


@SQLITE_ONLY
def test_an_incident_pushes_a_camera_to_a_centre_for_a_while(relay: Relay) -> None:
    """3.2.11, item 3: from an alarm about the camera, the head of internal security adds
    it to a centre's live set at once, for a bounded time, with the reason, once per
    incident until the rector has reviewed it; a guard only where the centre's agreement
    allows; the rector reviews it afterwards. Events about the camera
    carry its restream URL while the centre receives it; ending the push ends the
    session."""
    from kuzet.catalog.alarms import Severity

    world = relay.world
    head = world.login(world.user("head", "head_of_security"))
    guard = world.login(world.user("guard", "guard"))
    rector = world.login(world.user("rector", "rector"))
    user, password, centre_id = relay.centre(cameras={"cam2": "main"})
    assert _links(relay, CAM) is None
    world.svc.alarms.raise_("camera_tamper", CAM, Severity.WARNING, "covered")
    world.svc.alarms.raise_("camera_offline", "cam2", Severity.WARNING, "offline")
    alarm, other = (next(a.id for a in world.svc.alarms.list() if a.subject == cam)
                    for cam in (CAM, "cam2"))
    push = {"camera": CAM, "minutes": 30, "reason": "a fight at the entrance",
            "incident": f"alarm:{alarm}"}
    r = guard.post(f"/api/centres/{centre_id}/push", json=push)
    assert r.status_code == 403, r.text  # not in this agreement
    assert "3.2.11" in r.text, r.text
    for bad, code in (({"minutes": 600}, 422), ({"incident": "alarm:999999"}, 404),
                      ({"incident": f"alarm:{other}"}, 404),  # another camera's alarm
                      ({"incident": "a fight"}, 404), ({"camera": "nowhere"}, 404)):
        assert head.post(f"/api/centres/{centre_id}/push", json={**push, **bad}
                         ).status_code == code, bad
    r = head.post(f"/api/centres/{centre_id}/push", json=push)
    assert r.status_code == 201, r.text
    pushed = r.json()["requests"][0]
    assert (pushed["kind"], pushed["incident"], pushed["reviewed"]) == (
        "push", f"alarm:{alarm}", None)
    assert _links(relay, CAM) == [{"centre": "Алматы ҚПД кезекші бөлімі",
                      "url": f"{relay.restream.urls['rtsp']}/{CAM}/main"}]
    c = Rtsp(relay.port, user, password)
    c.play(f"rtsp://127.0.0.1:{relay.port}/{CAM}/main")
    assert c.first_media(15)
    inbox = rector.get("/api/centres/pushes", params={"unreviewed": True}).json()
    assert [p["id"] for p in inbox] == [pushed["id"]]
    assert guard.post(f"/api/centres/requests/{pushed['id']}/review").status_code == 403
    assert head.post(f"/api/centres/requests/{pushed['id']}/end").status_code == 200
    assert head.post(f"/api/centres/{centre_id}/push", json=push).status_code == 409  # once
    with pytest.raises(ConnectionError):  # the push ended: so did the session
        c.media(10)
    c.close()
    r = rector.post(f"/api/centres/requests/{pushed['id']}/review")
    assert r.status_code == 200, r.text
    assert rector.get("/api/centres/pushes", params={"unreviewed": True}).json() == []
    assert _links(relay, CAM) is None
    actions = [(a, json.loads(d)["outcome"]) for a, d in (
        (e.action, e.detail) for e in world.storage.audit.entries())
        if a.startswith("centre.push") or a == "centre.review"]
    assert actions == [("centre.push", "refused"), ("centre.push", "allowed"),
                       ("centre.push_end", "allowed"), ("centre.review", "allowed")]


@SQLITE_ONLY
def test_the_rector_approves_and_the_head_cuts_by_clicks(relay: Relay) -> None:
    """3.2.11 in the console, in Kazakh: the rector approves a centre's new camera set in the
    approvals inbox; the head of internal security sees the centre's running session on
    the Centres page, cuts it (the centre's connection ends), and finds it in the
    register of sessions, which downloads as CSV, and pushes an incident's camera; a
    guard pushes one to a centre whose agreement allows it; both pages pass axe-core's
    scan."""
    from playwright.sync_api import sync_playwright

    from api_world import CHROMIUM_ARGS
    from kuzet.catalog.alarms import Severity
    from test_accessibility import _violations

    world = relay.world
    world.user("head", "head_of_security")
    world.user("rector", "rector")
    user, password, centre_id = relay.centre(cameras={"cam2": "main"})
    asked = relay.centres.request_cameras(HEAD, centre_id, {CAM: "main"}, "incident rota",
                                          time.time_ns())
    with world.served() as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        rector = world.browser_login(browser, base, "rector", bypass_csp=True)
        rector.goto(f"{base}/approvals?lang=kk")
        asking = rector.locator("#centres li").filter(has_text="incident rota")
        asking.get_by_role("button", name="Бекіту").click()
        asking.wait_for(state="detached")
        assert relay.centres.get(centre_id).cameras == {CAM: "main"}, (
            rector.locator("#message").inner_text(), rector.locator("main").inner_text())
        assert asked.requests[0].state == "pending"  # what the rector decided on
        c = Rtsp(relay.port, user, password)
        wait_for(lambda: c.request("OPTIONS", f"rtsp://127.0.0.1:{relay.port}/{CAM}/main"
                                   )[0] == 200, 5, what="the approval served")
        c.play(f"rtsp://127.0.0.1:{relay.port}/{CAM}/main")
        head = world.browser_login(browser, base, "head", bypass_csp=True)
        head.goto(f"{base}/centres?lang=kk")
        head.locator("main[data-loaded]").wait_for()
        live = head.locator("#live tr")
        assert "127.0.0.1" in live.first.inner_text()
        live.first.get_by_role("button", name="Үзу").click()
        with pytest.raises(ConnectionError):
            c.media(10)
        c.close()
        head.locator("#live tr").first.wait_for(state="detached")
        wait_for(lambda: relay.rows() and relay.rows()[0].end_ns, 10, what="the row's end")
        head.locator("#filter button[type=submit]").click()
        ended = head.locator("#sessions tr").first
        ended.wait_for()
        assert "cut by head" in ended.inner_text()
        with head.expect_download() as got:
            head.locator("#csv").click()
        csv_text = Path(got.value.path()).read_text()
        assert "cut by head" in csv_text
        assert CAM in csv_text
        # an incident's camera pushed from the same page, from an alarm about it
        world.svc.alarms.raise_("camera_tamper", CAM, Severity.WARNING, "covered")
        alarm = next(a.id for a in world.svc.alarms.list() if a.subject == CAM)
        head.fill("#push input[name=incident]", f"alarm:{alarm}")
        head.fill("#push input[name=camera]", CAM)
        head.fill("#push input[name=reason]", "a fight at the entrance")
        head.locator("#push").get_by_role("button", name="Жіберу").click()
        wait_for(lambda: relay.centres.pushes(), 10, what="the push")
        # a guard pushes from the same page where the centre's agreement allows it, and
        # sees nothing of the register
        relay.centre(name="Occ with guards", guard_push=True)
        world.user("guard", "guard")
        guard = world.browser_login(browser, base, "guard", bypass_csp=True)
        guard.goto(f"{base}/centres?lang=kk")
        guard.locator("main[data-loaded]").wait_for()
        assert guard.locator("#keeper").is_hidden()
        assert guard.locator("#push select option").all_inner_texts() == ["Occ with guards"]
        guard.fill("#push input[name=incident]", f"alarm:{alarm}")
        guard.fill("#push input[name=camera]", CAM)
        guard.fill("#push input[name=reason]", "the fight goes on")
        guard.locator("#push").get_by_role("button", name="Жіберу").click()
        wait_for(lambda: len(relay.centres.pushes()) == 2, 10, what="the guard's push")
        found = _violations(head, base, ("/centres",)) + _violations(rector, base,
                                                                    ("/approvals",))
        assert not found, found
        browser.close()
    assert [e["outcome"] for e in relay.audit("restream.cut")] == ["allowed"]
