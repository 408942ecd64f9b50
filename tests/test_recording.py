"""End to end: `kuzet serve` records real RTSP servers; files checked by ffprobe."""

from __future__ import annotations

import os
import signal
import time
from itertools import pairwise
from typing import Any

import pytest

from conftest import FRAME_NS, Kuzet, ffprobe, stop, wait_for
from kuzet.mp4.boxes import file_boxes

pytestmark = pytest.mark.slow


def segment_count(k: Kuzet, camera: str) -> int:
    cat = k.catalog()
    return len(cat.segments(cat.camera(camera).id))


def check_segments_against_files(k: Kuzet, camera: str, codec: str = "h264"
                                 ) -> list[dict[str, Any]]:
    rows = k.json("recordings", "list", camera)
    assert rows, f"no segments for {camera}"
    for row in rows:
        info = ffprobe(k.volume / row["path"])
        video = next(s for s in info["streams"] if s["codec_type"] == "video")
        assert video["codec_name"] == codec
        assert (video["width"], video["height"]) == (row["width"], row["height"])
        assert abs(int(video["nb_read_frames"]) - row["frames"]) <= 1, row["path"]
        catalog_s = (row["end_ns"] - row["start_ns"]) / 1e9
        assert abs(float(video["duration"]) - catalog_s) <= FRAME_NS / 1e9 + 1e-6, row["path"]
        # One fragment per GOP: the catalog's keyframe times and the file's moofs agree.
        moofs = [b for b in file_boxes(k.volume / row["path"]) if b.type == "moof"]
        assert row["keyframes_ns"][0] == 0
        assert len(row["keyframes_ns"]) == len(moofs)
    return list(rows)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_records_simulator_over_tcp_and_udp(kuzet: Kuzet, backend: str,
                                            request: pytest.FixtureRequest) -> None:
    if backend == "postgresql":
        kuzet.env["KUZET_DATABASE_URL"] = request.getfixturevalue("pg_url")
        kuzet.run("init")
    _, port = kuzet.sim(cameras=2)
    kuzet.run("camera", "add", "gate", f"rtsp://127.0.0.1:{port}/cam01/main", "--zone",
              "entrance", "--location", "Main building, ground floor")
    kuzet.run("camera", "add", "lobby", f"rtsp://127.0.0.1:{port}/cam02/main",
              "--transport", "udp")
    serve = kuzet.serve()
    wait_for(lambda: min(segment_count(kuzet, "gate"), segment_count(kuzet, "lobby")) >= 3, 40,
             what="three segments per camera")
    listed = {c["name"]: c for c in kuzet.json("camera", "list")}
    assert listed["gate"]["state"] == "recording"
    assert listed["lobby"]["state"] == "recording"
    assert listed["gate"]["fps"] == pytest.approx(25, abs=3)
    stop(serve, signal.SIGTERM, timeout=5)  # every open segment closed within 5 s
    assert serve.returncode == 0, kuzet.log("serve")
    assert not list(kuzet.volume.rglob("*.part"))
    for camera in ("gate", "lobby"):
        rows = check_segments_against_files(kuzet, camera)
        assert len(rows) >= 4  # three full ones and the one closed at SIGTERM
        for prev, row in pairwise(rows):
            assert row["start_ns"] == prev["end_ns"], "an unbroken stream has no holes"
            assert row["prev_link"] is not None  # chained; `kuzet verify` checks it
        for row in rows:
            # The simulator's keyframes fall on whole wall-clock seconds.
            assert (row["start_ns"] % 1_000_000_000) < 250_000_000, row["start"]
            assert row["path"].startswith(f"{camera}/")
            assert row["path"].endswith(".mp4")
            assert not os.access(kuzet.volume / row["path"], os.W_OK) or os.geteuid() == 0
            assert (os.stat(kuzet.volume / row["path"]).st_mode & 0o222) == 0
        assert kuzet.json("recordings", "gaps", camera) == []
    rows = kuzet.json("recordings", "list", "gate")
    middle = rows[1]
    # --from/--to take ISO 8601 with an offset, here Almaty's +05:00.
    from datetime import UTC, datetime, timedelta, timezone
    almaty = timezone(timedelta(hours=5))
    t = datetime.fromtimestamp(middle["start_ns"] / 1e9 + 0.5, UTC).astimezone(almaty)
    hit = kuzet.json("recordings", "list", "gate", "--from", t.isoformat(), "--to",
                     t.isoformat())
    assert [r["start_ns"] for r in hit] == [middle["start_ns"]]
    assert kuzet.run("verify").returncode == 0

    # Tampering: a changed byte and a missing file are found, first bad segment named.
    victim = kuzet.volume / rows[1]["path"]
    os.chmod(victim, 0o644)
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0xFF
    victim.write_bytes(bytes(data))
    out = kuzet.run("verify", "gate", check=False)
    assert out.returncode == 1
    assert rows[1]["path"] in out.stdout
    assert "SHA-256" in out.stdout
    (kuzet.volume / rows[0]["path"]).unlink()
    out = kuzet.run("verify", "gate", check=False)
    assert out.returncode == 1
    assert rows[0]["path"] in out.stdout
    assert "missing" in out.stdout
    assert kuzet.run("verify", "lobby").returncode == 0


def test_gstreamer_h265_with_aac_and_h264(kuzet: Kuzet, gst_server: int) -> None:
    """Kuzet's own RTSP client records H.265 with AAC and H.264; a camera sending B-frames
    is handed to FFmpeg's client before anything is recorded, so it has no gap either."""
    kuzet.run("camera", "add", "hall", f"rtsp://127.0.0.1:{gst_server}/h265aac")
    kuzet.run("camera", "add", "yard", f"rtsp://127.0.0.1:{gst_server}/h264")
    kuzet.run("camera", "add", "porch", f"rtsp://127.0.0.1:{gst_server}/h264b")
    serve = kuzet.serve()
    wait_for(lambda: min(segment_count(kuzet, c) for c in ("hall", "yard", "porch")) >= 2, 40,
             what="two segments per camera")
    stop(serve, timeout=5)
    rows = check_segments_against_files(kuzet, "hall", codec="hevc")
    for row in rows:
        info = ffprobe(kuzet.volume / row["path"])
        assert [s["codec_name"] for s in info["streams"] if s["codec_type"] == "audio"] == ["aac"]
        assert row["audio"] == "aac"
    check_segments_against_files(kuzet, "yard", codec="h264")
    check_segments_against_files(kuzet, "porch", codec="h264")
    assert "reordered frames (B-frames); FFmpeg's RTSP client" in kuzet.log("serve")
    for camera in ("hall", "yard", "porch"):
        assert kuzet.json("recordings", "gaps", camera) == []


def test_camera_outage_is_a_gap_with_exact_bounds(kuzet: Kuzet) -> None:
    sim, port = kuzet.sim()
    kuzet.run("camera", "add", "door", f"rtsp://127.0.0.1:{port}/cam01/main")
    serve = kuzet.serve()
    wait_for(lambda: segment_count(kuzet, "door") >= 1, 30, what="first segment")
    t_gone = time.time_ns()
    stop(sim, signal.SIGKILL)
    wait_for(lambda: kuzet.status().get("door", {}).get("state") == "reconnecting", 15,
             what="reconnecting status")
    time.sleep(3)
    t_back = time.time_ns()
    kuzet.sim(port=port)
    wait_for(lambda: any(s.start_ns > t_back for s in
                         kuzet.catalog().segments(kuzet.catalog().camera("door").id)), 40,
             what="a segment after the camera returned")
    stop(serve, timeout=5)
    gaps = kuzet.json("recordings", "gaps", "door")
    assert len(gaps) == 1, gaps
    gap = gaps[0]
    assert gap["cause"] in ("stream_ended", "stalled", "connect_failed")
    assert abs(gap["start_ns"] - t_gone) < 1_000_000_000
    assert gap["end_ns"] is not None
    assert t_back - 200_000_000 <= gap["end_ns"]
    assert gap["end_ns"] - t_back < 4_000_000_000  # backoff is at most 2 s in tests
    rows = check_segments_against_files(kuzet, "door")
    before = [r for r in rows if r["end_ns"] <= gap["start_ns"]]
    after = [r for r in rows if r["start_ns"] >= gap["end_ns"]]
    assert before
    assert after
    assert len(before) + len(after) == len(rows)
    assert before[-1]["end_ns"] == gap["start_ns"]
    assert after[0]["start_ns"] == gap["end_ns"]


def test_stalled_stream_is_detected_and_recovers(kuzet: Kuzet) -> None:
    sim, port = kuzet.sim()
    kuzet.run("camera", "add", "stairs", f"rtsp://127.0.0.1:{port}/cam01/main")
    serve = kuzet.serve()
    wait_for(lambda: kuzet.status().get("stairs", {}).get("state") == "recording", 30,
             what="recording")
    os.kill(sim.pid, signal.SIGSTOP)  # the TCP session stays up, packets stop
    t_stop = time.monotonic()
    wait_for(lambda: kuzet.status().get("stairs", {}).get("last_cause") == "stalled", 15,
             what="stalled status")
    assert time.monotonic() - t_stop >= 4.5  # the default 5 s stall threshold
    os.kill(sim.pid, signal.SIGCONT)
    t_cont = time.time_ns()
    wait_for(lambda: kuzet.status().get("stairs", {}).get("state") == "recording", 30,
             what="recording again")
    wait_for(lambda: any(s.start_ns > t_cont for s in
                         kuzet.catalog().segments(kuzet.catalog().camera("stairs").id)), 30,
             what="a segment after the stall")
    stop(serve, timeout=5)
    gaps = kuzet.json("recordings", "gaps", "stairs")
    assert [g["cause"] for g in gaps] == ["stalled"]
    check_segments_against_files(kuzet, "stairs")


def test_kill_9_loses_at_most_the_fragment_in_flight(kuzet: Kuzet) -> None:
    kuzet.env["KUZET_SEGMENT_S"] = "60"
    _, port = kuzet.sim()
    kuzet.run("camera", "add", "vault", f"rtsp://127.0.0.1:{port}/cam01/main")
    serve = kuzet.serve()
    wait_for(lambda: kuzet.status().get("vault", {}).get("frames_recorded", 0) >= 150, 60,
             what="six seconds recorded")
    frames_before_kill = kuzet.status()["vault"]["frames_recorded"]
    os.kill(serve.pid, signal.SIGKILL)
    serve.wait(10)
    t_kill = time.time_ns()
    parts = list(kuzet.volume.rglob("*.part"))
    assert len(parts) == 1
    # A file nobody cataloged, and an empty part file, lie on the volume too.
    stray = kuzet.volume / "vault" / "2026" / "01" / "01" / "stray.mp4"
    stray.parent.mkdir(parents=True)
    stray.write_bytes(b"\x00\x00\x00\x08free")
    empty = parts[0].with_name("20260101T000000.000000000Z.mp4.part")
    empty.write_bytes(parts[0].read_bytes()[:1000])

    serve = kuzet.serve()
    quarantined = kuzet.volume / ".quarantine" / "vault" / "2026" / "01" / "01" / "stray.mp4"
    wait_for(lambda: kuzet.status().get("vault", {}).get("frames_recorded", 0) >= 50, 60,
             what="recording after restart")
    wait_for(quarantined.exists, 30, what="the stray file quarantined")
    stop(serve, timeout=5)
    rows = check_segments_against_files(kuzet, "vault")
    salvaged = [r for r in rows if r["salvaged"]]
    assert len(salvaged) == 1
    # At most the fragment in flight (one GOP, 25 frames) and the frames PyAV was holding.
    assert salvaged[0]["frames"] >= frames_before_kill - 30
    gaps = kuzet.json("recordings", "gaps", "vault")
    assert [g["cause"] for g in gaps] == ["process_stopped"]
    assert "unclean" in gaps[0]["detail"]
    assert gaps[0]["start_ns"] == salvaged[0]["end_ns"]
    assert gaps[0]["end_ns"] > t_kill
    assert not stray.exists()
    assert not list(kuzet.volume.rglob("*.part"))
    assert kuzet.run("verify").returncode == 0


def test_clean_restart_records_a_process_stopped_gap(kuzet: Kuzet) -> None:
    _, port = kuzet.sim()
    kuzet.run("camera", "add", "hall", f"rtsp://127.0.0.1:{port}/cam01/main")
    serve = kuzet.serve()
    wait_for(lambda: segment_count(kuzet, "hall") >= 1, 30, what="a segment")
    stop(serve, timeout=5)
    first_end = kuzet.json("recordings", "list", "hall")[-1]["end_ns"]
    time.sleep(1.5)
    serve = kuzet.serve()
    wait_for(lambda: segment_count(kuzet, "hall") >= 3, 30, what="segments after restart")
    second = kuzet.run("serve", check=False)  # one recorder per data home
    assert second.returncode == 2
    assert "another kuzet serve" in second.stderr
    stop(serve, timeout=5)
    gaps = kuzet.json("recordings", "gaps", "hall")
    assert len(gaps) == 1
    assert gaps[0]["cause"] == "process_stopped"
    assert gaps[0]["start_ns"] == first_end
    assert "stopped" in gaps[0]["detail"]
    assert gaps[0]["end_ns"] - gaps[0]["start_ns"] >= 1_400_000_000


