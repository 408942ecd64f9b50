"""chrony from Debian as a campus time server for the tests: `chronyd` serving NTP on a
loopback port from its own (undisciplined) clock, run under `faketime` to present a clock
that is off by a chosen amount. It never touches this machine's clock (`-x`), and runs as
the current user (`-u` only where it starts as root, which it then leaves)."""

from __future__ import annotations

import contextlib
import getpass
import os
import signal
import socket
import subprocess
import time
from pathlib import Path


class TimeServer:
    def __init__(self, home: Path, offset: str | None = None) -> None:
        """`offset`: faketime's, such as "+3s" or "-2s"; None: the true time."""
        self.home = home
        home.mkdir(parents=True, exist_ok=True)
        self.offset = offset
        # what its answers must say, so that another test's chronyd that took the same
        # port first (ports are picked, then bound by chronyd) is never taken for this one
        self.offset_s = float(offset.rstrip("s")) if offset else 0.0
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        for _ in range(5):
            self.port = _free_udp_port()
            conf = self.home / "chrony.conf"
            conf.write_text(f"port {self.port}\ncmdport 0\nbindaddress 127.0.0.1\n"
                            f"allow 127.0.0.1\nlocal stratum 8\n"
                            f"driftfile {self.home}/drift\npidfile {self.home}/chronyd.pid\n")
            cmd = ["/usr/sbin/chronyd", "-x", "-d", "-f", str(conf)]
            if os.geteuid() == 0:
                cmd += ["-u", getpass.getuser()]
            if self.offset is not None:
                cmd = ["faketime", "-f", self.offset, *cmd]
            # a group of its own: faketime runs chronyd as its child, and both must go
            self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                                         stderr=subprocess.DEVNULL, start_new_session=True)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and self.proc.poll() is None:
                if _answers(self.port, self.offset_s):
                    return
                time.sleep(0.1)
            self.close()  # the port taken by another, or slow: another port
        raise TimeoutError("chronyd did not answer on any of five ports")

    def close(self) -> None:
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _answers(port: int, offset_s: float) -> bool:
    """Whether a time server answers on `port` with the offset this one was started with."""
    from kuzet.equipment.timesync import TimeError, query

    try:
        return abs(query(f"127.0.0.1:{port}", timeout_s=0.5).offset_ns / 1e9 - offset_s) < 0.5
    except TimeError:
        return False
