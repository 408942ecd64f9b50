"""Bad cameras and bad commands: each gets a clear error or status and a gap row, and a good
camera recording beside them loses nothing."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path

import pytest

from conftest import FRAME_NS, Kuzet, ffprobe, stop, wait_for

pytestmark = pytest.mark.slow


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A TCP port that accepts connections and never says a word (a hung camera)."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    held: list[socket.socket] = []
    done = threading.Event()

    def accept() -> None:
        srv.settimeout(0.2)
        while not done.is_set():
            try:
                held.append(srv.accept()[0])
            except OSError:
                continue

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    yield int(srv.getsockname()[1])
    done.set()
    t.join()
    for c in held:
        c.close()
    srv.close()


def test_bad_cameras_beside_a_good_one(kuzet: Kuzet, gst_server: int, silent_port: int,
                                       closed_port: int) -> None:
    """UE-10-22 3.3.2: each failing camera is reported with its cause; a good one records."""
    _, good = kuzet.sim()
    _, auth = kuzet.sim("--auth", "digest", "--user", "admin", "--password", "s3cret")
    _, jump = kuzet.sim("--ts-jump-every", "4")
    _, resize = kuzet.sim("--resize-every", "3")
    cameras = {
        "good": f"rtsp://127.0.0.1:{good}/cam01/main",
        "refused": f"rtsp://127.0.0.1:{closed_port}/stream",
        "hung": f"rtsp://127.0.0.1:{silent_port}/stream",
        "wrongpw": f"rtsp://admin:nope@127.0.0.1:{auth}/cam01/main",
        "digest": f"rtsp://admin:s3cret@127.0.0.1:{auth}/cam01/main",
        "nopath": f"rtsp://127.0.0.1:{good}/no/such/path",
        "novideo": f"rtsp://127.0.0.1:{gst_server}/audio",
        "jumpy": f"rtsp://127.0.0.1:{jump}/cam01/main",
        "resized": f"rtsp://127.0.0.1:{resize}/cam01/main",
    }
    for name, url in cameras.items():
        kuzet.run("camera", "add", name, url, "--zone", "corridor")
    serve = kuzet.serve()

    def settled() -> bool:
        st = kuzet.status()
        return (all(st.get(n, {}).get("last_cause") for n in
                    ("refused", "hung", "wrongpw", "nopath", "novideo"))
                and len(kuzet.catalog().segments(kuzet.catalog().camera("good").id)) >= 4)

    wait_for(settled, 60, what="every bad camera reported and the good one recording")
    status = kuzet.status()
    stop(serve, timeout=5)
    assert serve.returncode == 0

    expect = {"refused": ("connect_failed", "refused"),
              "hung": ("connect_failed", "did not answer"),
              "wrongpw": ("auth_failed", "401"),
              "nopath": ("connect_failed", "404"),
              "novideo": ("no_video", "no video")}
    for name, (cause, words) in expect.items():
        assert status[name]["last_cause"] == cause, (name, status[name])
        assert words in status[name]["last_error"], (name, status[name])
        gaps = kuzet.json("recordings", "gaps", name)
        assert [g["cause"] for g in gaps] == [cause], (name, gaps)
        assert gaps[0]["end_ns"] is None  # still open: nothing was ever recorded
    assert status["wrongpw"]["state"] == "failed"
    assert "next try in" in status["wrongpw"]["last_error"]  # backing off, and saying so
    listed = kuzet.run("camera", "list").stdout
    # the server stopped: no camera is shown with its last frame rate as if recording
    rows = kuzet.json("camera", "list")
    assert {(r["state"], r["fps"]) for r in rows} == {("not recording", None)}
    assert "nope" not in listed  # passwords never shown
    assert "s3cret" not in listed
    assert "admin:***@" in listed
    assert "nope" not in kuzet.log("serve")
    assert "s3cret" not in kuzet.log("serve")
    assert "admin:***@" in kuzet.log("serve")  # the wrong one's failure, logged masked
    assert "nope" not in str(status)  # status.json
    assert "s3cret" not in str(status)

    # The good camera lost nothing: segments abut, frames fill the time exactly.
    good_rows = kuzet.json("recordings", "list", "good")
    assert kuzet.json("recordings", "gaps", "good") == []
    for prev, row in pairwise(good_rows):
        assert row["start_ns"] == prev["end_ns"]
    span = good_rows[-1]["end_ns"] - good_rows[0]["start_ns"]
    assert abs(sum(r["frames"] for r in good_rows) - span / FRAME_NS) <= 1
    assert kuzet.json("recordings", "list", "digest")  # digest auth with the right password

    # Timestamps jumping backwards: new segments, a gap row per jump, every file valid.
    jumpy = kuzet.json("recordings", "list", "jumpy")
    jumps = kuzet.json("recordings", "gaps", "jumpy")
    assert jumps
    assert {g["cause"] for g in jumps} == {"timestamp_jump"}
    for row in jumpy:
        info = ffprobe(kuzet.volume / row["path"])
        assert int(info["streams"][0]["nb_read_frames"]) == row["frames"]
    starts = [r["start_ns"] for r in jumpy]
    assert starts == sorted(starts), "catalog time keeps moving forward"

    # A resolution change mid-stream starts a new segment; no file mixes two sizes.
    resized = kuzet.json("recordings", "list", "resized")
    assert {(r["width"], r["height"]) for r in resized} == {(640, 360), (320, 180)}
    for row in resized:
        info = ffprobe(kuzet.volume / row["path"])
        assert (info["streams"][0]["width"], info["streams"][0]["height"]) == \
            (row["width"], row["height"])
        assert int(info["streams"][0]["nb_read_frames"]) == row["frames"]


@pytest.mark.parametrize(("args", "message"), [
    (["camera", "add", "x", "http://127.0.0.1/video", "--zone", "corridor"],
     "unsupported scheme 'http'"),
    (["camera", "add", "x", "127.0.0.1:554/stream", "--zone", "corridor"], "unsupported scheme"),
    (["camera", "add", "a/b", "rtsp://127.0.0.1/s", "--zone", "corridor"], "may not contain"),
    (["camera", "add", "..", "rtsp://127.0.0.1/s", "--zone", "corridor"], "may not contain"),
    (["camera", "add", "x", "rtsp://127.0.0.1/s", "--zone", "moon"],
     "refused: installation zone 'moon' (UE-10-22 3.3.9-3.3.17)"),
    (["camera", "add", "x", "rtsp://127.0.0.1/s", "--zone", "other"], "(UE-10-22 3.3.9-3.3.17)"),
    (["camera", "add", "x", "rtsp://127.0.0.1/s"], "refused: no installation zone"),
    (["camera", "add", "x", "rtsp://127.0.0.1/s", "--zone", "corridor", "--retention-days",
      "45"], "clause 3.3"),
    (["camera", "add", "x", "rtsp://127.0.0.1/s", "--zone", "corridor", "--sub-url",
      "http://127.0.0.1/s"], "unsupported scheme 'http'"),
    (["camera", "retention", "nosuch", "31"], "no more than 30 days"),
    (["recordings", "list", "nosuch"], "no camera named 'nosuch'"),
    (["recordings", "gaps", "nosuch"], "no camera named 'nosuch'"),
    (["camera", "remove", "nosuch"], "no camera named 'nosuch'"),
    (["verify", "nosuch"], "no camera named 'nosuch'"),
])
def test_cli_refuses_bad_input(kuzet: Kuzet, args: list[str], message: str) -> None:
    out = kuzet.run(*args, check=False)
    assert out.returncode == 2
    assert message in out.stderr
    assert kuzet.json("camera", "list") == []


def test_cli_names_and_times(kuzet: Kuzet) -> None:
    kuzet.run("camera", "add", "gate", "rtsp://u:pw@127.0.0.1/s", "--zone", "corridor")
    dup = kuzet.run("camera", "add", "gate", "rtsp://127.0.0.1/other", "--zone", "corridor",
                    check=False)
    assert dup.returncode == 2
    assert "already exists" in dup.stderr
    naive = kuzet.run("recordings", "list", "gate", "--from", "2026-11-27T10:00:00", check=False)
    assert naive.returncode == 2
    assert "no UTC offset" in naive.stderr
    junk = kuzet.run("recordings", "gaps", "gate", "--to", "yesterday", check=False)
    assert junk.returncode == 2
    assert "ISO 8601" in junk.stderr
    assert kuzet.json("camera", "list")[0]["url"] == "rtsp://u:***@127.0.0.1/s"
    kuzet.run("camera", "remove", "gate")
    assert kuzet.json("camera", "list") == []
    again = kuzet.run("camera", "add", "gate", "rtsp://127.0.0.1/s", "--zone", "corridor",
                      check=False)
    assert again.returncode == 2
    assert "removed camera" in again.stderr


@pytest.fixture
def small_volume(tmp_path: Path) -> Iterator[Path]:
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs volume needs root (CI runs as root)")
    mnt = tmp_path / "small"
    mnt.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mnt)], check=True)
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_full_disk_is_reported_and_recording_resumes(kuzet: Kuzet, small_volume: Path) -> None:
    # A volume with no free-space floor: the recorder writes until the disk is truly full.
    kuzet.run("volume", "add", "small", str(small_volume), "--floor", "0")
    kuzet.run("volume", "drain", "default")
    filler = small_volume / "filler.bin"
    filler.write_bytes(b"\0" * (3_400_000))
    _, port = kuzet.sim()
    kuzet.run("camera", "add", "store", f"rtsp://127.0.0.1:{port}/cam01/main", "--zone", "corridor")
    serve = kuzet.serve()
    wait_for(lambda: kuzet.status().get("store", {}).get("last_cause") == "storage_full", 40,
             what="storage_full status")
    assert serve.poll() is None, "a full disk does not stop the recorder"
    gaps = kuzet.json("recordings", "gaps", "store")
    assert gaps[-1]["cause"] == "storage_full"
    filler.unlink()
    freed_ns = __import__("time").time_ns()
    wait_for(lambda: any(s.start_ns > freed_ns for s in
                         kuzet.catalog().segments(kuzet.catalog().camera("store").id)), 40,
             what="recording after space returned")
    stop(serve, timeout=5)
    rows = kuzet.json("recordings", "list", "store")
    for row in rows:  # what was written before the disk filled is kept and valid
        info = ffprobe(small_volume / row["path"])
        assert int(info["streams"][0]["nb_read_frames"]) == row["frames"]
    gaps = kuzet.json("recordings", "gaps", "store")
    assert gaps[0]["cause"] == "storage_full"
    assert gaps[0]["end_ns"] is not None
    shutil.rmtree(small_volume / ".quarantine", ignore_errors=True)
