"""A PostgreSQL primary and its streaming replica, made by the test with Debian's own
`initdb`, `pg_basebackup` and `pg_ctl` (issue 25): the catalog's failover as an operator or
Patroni does it, on real servers. Replication is synchronous, as docs/guide/cluster.md
asks, so a commit the primary answered is on the replica too. Each server listens on a
Unix socket in a folder of its own and on no TCP port: no port to pick, so none another
test can take between picking and binding it."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

BIN = next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin"))), Path("/nonexistent"))


class PgPair:
    def __init__(self) -> None:
        # PostgreSQL will not run as root, and pytest's folders are root's alone: the
        # clusters live in a folder of the postgres user's
        self.dir = Path(tempfile.mkdtemp(prefix="kuzet-pg-"))
        shutil.chown(self.dir, "postgres")
        self.primary, self.replica = self.dir / "primary", self.dir / "replica"
        self.sockets = (self.dir / "primary.sock", self.dir / "replica.sock")
        for folder in self.sockets:
            folder.mkdir()
            shutil.chown(folder, "postgres")

    @property
    def url(self) -> str:
        """The nodes' catalog URL: both servers, the one accepting writes is used."""
        hosts = "&".join(f"host={d}" for d in self.sockets)
        return f"postgresql+psycopg://postgres@/postgres?{hosts}&target_session_attrs=read-write"

    @property
    def libpq_url(self) -> str:
        """The same for libpq itself (psql, psycopg)."""
        hosts = ",".join(str(d) for d in self.sockets)
        return f"postgresql://postgres@/postgres?host={hosts}&target_session_attrs=read-write"

    def _pg(self, tool: str, *args: str) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", str(BIN / tool), *args],
                       check=True, capture_output=True, cwd=self.dir, timeout=60)

    def _start(self, data: Path, socket: Path, extra: str = "") -> None:
        self._pg("pg_ctl", "-D", str(data), "-l", str(data) + ".log", "-w", "-o",
                 f"-k {socket} -c listen_addresses='' {extra}", "start")

    def start(self) -> None:
        self._pg("initdb", "-D", str(self.primary), "--auth=trust", "-U", "postgres", "-N")
        # the replica once promoted has no standby of its own to wait for: only the
        # primary commits synchronously
        self._start(self.primary, self.sockets[0], "-c synchronous_standby_names='*'")
        self._pg("pg_basebackup", "-h", str(self.sockets[0]), "-U", "postgres", "-D",
                 str(self.replica), "-R", "-X", "stream")
        self._start(self.replica, self.sockets[1])

    def kill_primary(self) -> None:
        """kill -9 of the primary's postmaster, as a crash of its machine would end it."""
        pid = int((self.primary / "postmaster.pid").read_text().split()[0])
        os.kill(pid, signal.SIGKILL)

    def promote(self) -> None:
        self._pg("pg_ctl", "-D", str(self.replica), "-w", "promote")

    def close(self) -> None:
        for data in (self.primary, self.replica):
            if (data / "postmaster.pid").exists():
                subprocess.run(["runuser", "-u", "postgres", "--", str(BIN / "pg_ctl"), "-D",
                                str(data), "-m", "immediate", "stop"], capture_output=True,
                               timeout=60, check=False)
        shutil.rmtree(self.dir, ignore_errors=True)
