"""A camera that does not record, or whose clock is off, is an equipment alarm (UE-10-22
3.3.2, 3.4.1, 3.4.3; issue 22).

- `camera_offline` (critical): not recording for `camera_alarm_s`, always, not only for a
  camera with a tamper rule (whose signal loss is tampering, raised by detection at once);
  it names the recorder's cause, and recording again clears it, so the alarm's history
  holds the outage. Not for a camera whose disk is full (the volume's own `storage_full`
  alarm says it) nor while the server stops.
- `camera_clock` (warning): the camera's clock more than `camera_clock_alarm_ms` off this
  server's, as its last RTCP sender report says (3.4.1: one real-time system; a camera's
  own overlay and its events would otherwise disagree with the catalog's times); cleared
  when back within it.

A camera removed from the register has its alarms cleared. The decisions are pure
(`Watch.decide`); `CameraHealth` is the recorder's status listener that carries them out
on the catalog's alarms.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from kuzet.catalog.alarms import Alarms, Severity

log = logging.getLogger(__name__)

OFFLINE, CLOCK = "camera_offline", "camera_clock"
SEVERITY = {OFFLINE: Severity.CRITICAL, CLOCK: Severity.WARNING}
# states that are not the camera's fault or are said elsewhere
NOT_AN_OUTAGE = ("recording", "storage_full", "stopped")


@dataclass(frozen=True)
class Decision:
    kind: str  # OFFLINE or CLOCK
    camera: str
    raise_: bool  # False: clear
    message: str = ""


@dataclass
class Watch:
    """Since when each camera has not been recording, and which are alarmed of what."""

    after_ns: int
    clock_limit_ms: int
    down_since: dict[str, int] = field(default_factory=dict)
    alarmed: set[tuple[str, str]] = field(default_factory=set)  # (kind, camera)

    def decide(self, statuses: Iterable[dict[str, Any]], now_ns: int,
               registered: set[str]) -> list[Decision]:
        """`statuses`: the cameras the recorder runs now (one restarting for a new setting
        is missing for a moment: its timer goes on); `registered`: the register's."""
        out: list[Decision] = []
        for st in statuses:
            out += self._offline(st, now_ns) + self._clock(st)
        for kind, name in sorted(a for a in self.alarmed if a[1] not in registered):
            self.alarmed.discard((kind, name))
            self.down_since.pop(name, None)
            out.append(Decision(kind, name, False))
        return out

    def _offline(self, st: dict[str, Any], now_ns: int) -> list[Decision]:
        name, state = st["camera"], st["state"]
        key = (OFFLINE, name)
        if state in NOT_AN_OUTAGE:
            self.down_since.pop(name, None)
            if key in self.alarmed and state == "recording":
                self.alarmed.discard(key)
                return [Decision(OFFLINE, name, False)]
            return []
        since = self.down_since.setdefault(name, now_ns)
        if key in self.alarmed or now_ns - since < self.after_ns:
            return []
        self.alarmed.add(key)
        cause = st.get("last_error") or state
        return [Decision(OFFLINE, name, True, f"camera {name}: not recording for "
                                             f"{(now_ns - since) / 1e9:.0f} s ({cause})")]

    def _clock(self, st: dict[str, Any]) -> list[Decision]:
        name, offset = st["camera"], st.get("clock_offset_ms")
        key = (CLOCK, name)
        if st["state"] != "recording":
            return []  # the last report of a camera not recording says nothing new
        if offset is None:  # recording, but nothing tells its clock (FFmpeg's client)
            if key in self.alarmed:
                self.alarmed.discard(key)
                return [Decision(CLOCK, name, False)]
            return []
        off = abs(offset) > self.clock_limit_ms
        if off and key not in self.alarmed:
            self.alarmed.add(key)
            side = "ahead of" if offset > 0 else "behind"
            return [Decision(CLOCK, name, True,
                             f"camera {name}: its clock is {abs(offset)} ms {side} this "
                             f"server's (more than {self.clock_limit_ms} ms)")]
        if not off and key in self.alarmed:
            self.alarmed.discard(key)
            return [Decision(CLOCK, name, False)]
        return []


class CameraHealth:
    """The recorder's status listener: raises and clears the cameras' alarms."""

    def __init__(self, alarms: Alarms, after_s: float, clock_limit_ms: int,
                 clock_ns: Callable[[], int], registered: Callable[[], set[str]]) -> None:
        self.alarms = alarms
        self.watch = Watch(int(after_s * 1e9), clock_limit_ms)
        self.clock_ns = clock_ns
        self.registered = registered
        # alarms left open by a previous run are the watch's to clear
        self.watch.alarmed = {(a.kind, a.subject) for a in alarms.list()
                              if a.kind in SEVERITY}

    def tick(self, statuses: list[dict[str, Any]]) -> None:
        now = self.clock_ns()
        for d in self.watch.decide(statuses, now, self.registered()):
            try:
                if d.raise_:
                    self.alarms.raise_(d.kind, d.camera, SEVERITY[d.kind], d.message,
                                       now_ns=now)
                else:
                    self.alarms.clear(d.kind, d.camera, now_ns=now)
            except Exception:  # the catalog busy: decided again at the next tick
                log.exception("camera %s: %s alarm not written", d.camera, d.kind)
                (self.watch.alarmed.discard if d.raise_ else self.watch.alarmed.add)(
                    (d.kind, d.camera))
