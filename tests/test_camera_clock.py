"""A camera's clock against this server's (UE-10-22 3.4.1; issue 22): GStreamer's RTSP
server run under faketime 3 s ahead, as a camera whose clock is off, its RTCP sender
reports read by Kuzet's own client: the offset measured within 50 ms of the one applied,
and the `camera_clock` warning raised."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from conftest import PEERS, Kuzet, stop, wait_for


@pytest.fixture
def camera_ahead() -> Iterator[int]:
    """GStreamer's server with its clock 3 s ahead (faketime; its monotonic clock left
    alone, which GLib's timers need): its port."""
    python = shutil.which("python3", path="/usr/bin") or "/usr/bin/python3"
    proc = subprocess.Popen(["faketime", "-f", "+3s", python, str(PEERS / "gst_rtsp_server.py")],
                            env={**os.environ, "FAKETIME_DONT_FAKE_MONOTONIC": "1"},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)  # faketime's child goes with it
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().decode()
        assert line.startswith("ready "), f"gst-rtsp-server did not start: {line}"
        yield int(line.split()[1])
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()


def test_a_camera_3_s_ahead_is_measured_within_50_ms(kuzet: Kuzet, camera_ahead: int) -> None:
    """3.4.1: the camera's clock read from its sender reports, each dated by the media
    time sent after it in its batch, the best of the last few: 3000 ms within 50."""
    kuzet.run("camera", "add", "gate", f"rtsp://127.0.0.1:{camera_ahead}/h264", "--zone",
              "entrance")
    serve = kuzet.serve()

    def offset() -> int | None:
        said = kuzet.status().get("gate", {}).get("clock_offset_ms")
        return None if said is None else int(said)

    measured = wait_for(lambda: (o := offset()) is not None and abs(o - 3000) < 50 and o, 60,
                        0.5, what="the camera's clock within 50 ms of +3000 ms")
    assert 2950 < measured < 3050

    def warned() -> list[dict[str, Any]]:
        return [a for a in kuzet.json("alarms") if a["kind"] == "camera_clock"]

    (alarm,) = wait_for(warned, 20, 0.5, what="the camera_clock warning")
    assert alarm["subject"] == "gate"
    assert "ms ahead of this server's" in alarm["message"]
    stop(serve, timeout=10)
