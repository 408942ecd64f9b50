"""Network UPS Tools from Debian as a UPS for the tests: the `dummy-ups` driver reading a
file the test rewrites (online, on battery, low battery), behind a real `upsd` on a
loopback port. Both run as the current user from a private configuration folder; upsd is
started directly (/lib/nut/upsd), not through Debian's wrapper, which reads
/etc/nut/nut.conf.

dummy-ups in `dummy-once` mode reads the file again when it changes (measured: upsd
answers the new status within its 2-s poll interval).
"""

from __future__ import annotations

import getpass
import itertools
import os
import socket
import subprocess
import time
from pathlib import Path

DRIVER = Path("/lib/nut/dummy-ups")
_MADE = itertools.count()
UPSD = Path("/lib/nut/upsd")


class DummyUps:
    def __init__(self, home: Path, name: str | None = None) -> None:
        self.home = home
        # a name of its own: another test's upsd on a port this one picked too knows no UPS
        # by it, so it is never taken for this one
        self.name = name or f"ups{os.getpid()}x{next(_MADE)}"
        self.state = home / "state"
        self.state.mkdir(parents=True, exist_ok=True)
        os.chmod(self.state, 0o700)
        self.dev = home / "ups.dev"
        self.port = 0
        self.driver: subprocess.Popen[bytes] | None = None
        self.upsd: subprocess.Popen[bytes] | None = None
        self.user = getpass.getuser()
        self.stamp = 0.0
        self.set("OL", charge=100, runtime=1800)
        (home / "ups.conf").write_text(f"[{self.name}]\n  driver = dummy-ups\n  port = {self.dev}\n"
                                       "  mode = dummy-once\n  pollinterval = 1\n"
                                       "  desc = \"Kuzet tests\"\n")
        (home / "nut.conf").write_text("MODE=standalone\n")
        users = home / "upsd.users"
        users.write_text("")
        users.chmod(0o600)
        self.env = {**os.environ, "NUT_CONFPATH": str(home), "NUT_STATEPATH": str(self.state),
                    "NUT_ALTPIDPATH": str(self.state)}

    @property
    def address(self) -> str:
        return f"{self.name}@127.0.0.1:{self.port}"

    def set(self, status: str, *, charge: float, runtime: float) -> None:
        """What the UPS says from now on (written whole, then renamed into place), its
        modification time a second past the last one's: the driver reads the file again
        when that time changes, which a change within the same second might not."""
        tmp = self.dev.with_suffix(".tmp")
        tmp.write_text(f"ups.status: {status}\nbattery.charge: {charge}\n"
                       f"battery.runtime: {runtime}\ndevice.model: Smart-UPS 1500\n"
                       "device.serial: AS1234567890\n")
        self.stamp = max(time.time(), self.stamp + 1)
        os.utime(tmp, (self.stamp, self.stamp))
        tmp.replace(self.dev)

    def start(self) -> None:
        """The driver, then upsd; on a failure both stopped before it is raised."""
        try:
            self._start()
        except BaseException:
            self.close()
            raise

    def _start(self) -> None:
        self.driver = subprocess.Popen([str(DRIVER), "-a", self.name, "-u", self.user, "-F"],
                                       env=self.env, stdout=subprocess.DEVNULL,
                                       stderr=subprocess.DEVNULL)
        self._wait(lambda: any(self.state.glob(f"dummy-ups-{self.name}*")), "the driver")
        self.start_upsd()

    def start_upsd(self) -> None:
        """upsd on a free loopback port (the same port again after `stop_upsd`)."""
        for _ in range(5):
            port = self.port or _free_port()
            (self.home / "upsd.conf").write_text(f"LISTEN 127.0.0.1 {port}\nMAXAGE 15\n")
            self.upsd = subprocess.Popen([str(UPSD), "-u", self.user, "-F"], env=self.env,
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                self._wait(lambda p=port: _answers(p, self.name), "upsd", 10)
            except TimeoutError:
                self._kill(self.upsd)
                if self.port:
                    raise
                continue  # another process took the port first: another one
            self.port = port
            return
        raise TimeoutError("upsd did not start on any of five ports")

    def stop_upsd(self) -> None:
        self._kill(self.upsd)
        self.upsd = None

    def close(self) -> None:
        self._kill(self.upsd)
        self._kill(self.driver)

    @staticmethod
    def _kill(proc: subprocess.Popen[bytes] | None) -> None:
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)

    @staticmethod
    def _wait(ready: object, what: str, timeout: float = 15) -> None:
        deadline = time.monotonic() + timeout
        while not ready():  # type: ignore[operator]
            if time.monotonic() > deadline:
                raise TimeoutError(f"{what} did not start")
            time.sleep(0.1)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _answers(port: int, ups: str) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(f"GET VAR {ups} ups.status\n".encode())
            said = s.recv(256)
            return said.startswith(b"VAR ") and b'"WAIT"' not in said  # the driver's data in
    except OSError:
        return False
