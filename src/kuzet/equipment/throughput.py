"""Whether each media volume still writes as fast as the cameras need (UE-10-22 3.3.7;
issue 22): a disk wearing out, a RAID rebuilding or a NAS on a congested link slows
down long before it fails, and a recorder that cannot write loses footage.

Every `disk_poll_s` each enabled, mounted volume is written a probe file of
`volume_write_probe_mb` (fsync'd, then removed: 32 MiB every 5 minutes is 0.1 MB/s on
average), and the rate it took is set against what the cameras recording now send (the
sum of their bitrates: new segments go to one volume at a time, so each must take them
all). Below `volume_write_margin` times that need is a `volume_slow` warning, subject the
volume's name, cleared when it writes fast enough again. `slow` is pure; `measure` is the
I/O.
"""

from __future__ import annotations

import errno
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kuzet.catalog.alarms import Alarms, Severity
from kuzet.storage.volumes import Volumes, VolumeState

SLOW = "volume_slow"
PROBE = ".kuzet-write-probe"
CHUNK = 1 << 20
StatusSource = Callable[[], dict[str, dict[str, Any]]]  # camera -> status JSON


def measure(folder: Path, size: int) -> float:
    """Bytes a second writing `size` bytes to a new file in `folder`, fsync included."""
    path = folder / PROBE
    block = os.urandom(min(size, CHUNK))  # not zeros: some file systems compress them
    started = time.monotonic()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        written = 0
        while written < size:
            written += os.write(fd, block[:size - written])
        os.fsync(fd)
    finally:
        os.close(fd)
        path.unlink(missing_ok=True)
    return size / max(time.monotonic() - started, 1e-9)


def need_bytes_per_s(statuses: dict[str, dict[str, Any]]) -> float:
    """What the cameras recording now send, in bytes a second."""
    return sum(float(s.get("bitrate_bps") or 0) for s in statuses.values()
               if s.get("state") == "recording") / 8


def slow(volume: str, measured: float, need: float, margin: float) -> str | None:
    """The warning's words when `measured` is under `margin` times `need`, else None."""
    if measured >= need * margin:
        return None
    return (f"volume {volume}: writes {measured / 1e6:.1f} MB/s, the cameras send "
            f"{need / 1e6:.1f} MB/s (wanted {margin:g} times that)")


class WriteWatch:
    """`poll` is the check `kuzet serve` runs every `disk_poll_s`."""

    def __init__(self, volumes: Volumes, status: StatusSource, alarms: Alarms,
                 probe_bytes: int, margin: float) -> None:
        self.volumes = volumes
        self.status = status
        self.probe_bytes = probe_bytes
        self.margin = margin
        self.kept = alarms.kept({SLOW: Severity.WARNING})
        self.last: dict[str, float] = {}  # volume -> bytes a second, the last probe

    def poll(self) -> None:
        need = need_bytes_per_s(self.status())
        seen = set()
        for vol in self.volumes.catalog.volumes():
            if vol.state != VolumeState.ENABLED.value or not self.volumes.present(vol):
                continue
            seen.add(vol.name)
            try:
                rate = measure(Path(vol.path), self.probe_bytes)
            except OSError as exc:
                if exc.errno == errno.ENOSPC:
                    continue  # a full disk is storage_full's to say
                self.kept.settle(vol.name, {SLOW: f"volume {vol.name}: the write probe "
                                                  f"failed: {exc.strerror or exc}"})
                continue
            self.last = {**self.last, vol.name: rate}
            why = slow(vol.name, rate, need, self.margin)
            self.kept.settle(vol.name, {} if why is None else {SLOW: why})
        for name in self.kept.subjects((SLOW,)) - seen:  # drained, removed, unmounted
            self.kept.settle(name, {})

    def status_part(self) -> dict[str, Any]:
        """The last probes, for `run/status.json` ("writes")."""
        return {name: {"bytes_per_s": round(rate)} for name, rate in self.last.items()}
