"""A camera that does not record, or whose clock is off, is an equipment alarm (UE-10-22
3.3.2, 3.4.1, 3.4.3; issue 22).

- `camera_offline` (critical): not recording for `camera_alarm_s`, always, not only for a
  camera with a tamper rule (whose signal loss is tampering, raised by detection at once);
  it names the recorder's cause, and recording again clears it, so the alarm's history
  holds the outage. Not for a camera whose disk is full (the volume's own `storage_full`
  alarm says it) nor while the server stops.
- `camera_rate_low` (warning): recording, but its frame rate or bitrate below
  `camera_rate_low_ratio` of its normal for `camera_alarm_s` (a camera switched to a lower
  profile, a lens covered in snow that compresses to nothing, a network losing frames);
  its normal is learnt while it records (an average over `camera_rate_window_s`, judged
  only once it has recorded that long), and learnt ten times slower while below it, so a
  lasting drop stays an alarm for a while rather than becoming the new normal at once;
  cleared when back above;
- `camera_clock` (warning): the camera's clock more than `camera_clock_alarm_ms` off this
  server's, as its RTCP sender reports say, or, for a camera that sends none (FFmpeg's
  client reads none), as its ONVIF device clock says (`equipment.onvifwatch`; 3.4.1: one
  real-time system; a camera's own overlay and its events would otherwise disagree with
  the catalog's times); cleared when back within it;
- `camera_packet_loss` (warning): more than `camera_loss_alarm_percent` of its RTP
  packets lost on the way over the last `camera_loss_window_s` (3.3.6: the cable network;
  a failing switch port or cable shows here before pictures break up), judged on at least
  `LOSS_MIN_PACKETS`; cleared when a window loses less than half that share;
- `camera_lag` (warning): the recorder reads its frames more than `camera_lag_alarm_ms`
  later than their timestamps say, against the soonest reads of its last minutes'
  segments (the status's `behind_ms`), for `camera_alarm_s` (3.3.5: the recorder's own
  lag: a server out of CPU or a disk that blocks its writes, or a network queueing);
  cleared when back within it.

A camera removed from the register has its alarms cleared. The decisions are pure
(`Watch.decide`); `CameraHealth` is the recorder's status listener that carries them out
on the catalog's alarms.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from kuzet.catalog.alarms import Alarms, Severity

log = logging.getLogger(__name__)

OFFLINE, CLOCK, RATE = "camera_offline", "camera_clock", "camera_rate_low"
LOSS, LAG = "camera_packet_loss", "camera_lag"
SEVERITY = {OFFLINE: Severity.CRITICAL, CLOCK: Severity.WARNING, RATE: Severity.WARNING,
            LOSS: Severity.WARNING, LAG: Severity.WARNING}
# Fewer packets than this in a window say too little: three lost of a hundred is chance.
LOSS_MIN_PACKETS = 200
SETTLE_NS = 10 * 10**9  # a session's first seconds ramp its rates up: not judged
# states that are not the camera's fault or are said elsewhere
NOT_AN_OUTAGE = ("recording", "storage_full", "stopped")


@dataclass(frozen=True)
class Decision:
    kind: str  # one of SEVERITY's
    camera: str
    raise_: bool  # False: clear
    message: str = ""


@dataclass
class Watch:
    """Since when each camera has not been recording, and which are alarmed of what."""

    after_ns: int
    clock_limit_ms: int
    rate_ratio: float = 0.5
    rate_window_ns: int = 600 * 10**9
    down_since: dict[str, int] = field(default_factory=dict)
    alarmed: set[tuple[str, str]] = field(default_factory=set)  # (kind, camera)
    # each camera's normal (fps, bitrate), since when it is learnt, when it was last fed
    normal: dict[str, tuple[float, float]] = field(default_factory=dict)
    learnt_since: dict[str, int] = field(default_factory=dict)
    fed_at: dict[str, int] = field(default_factory=dict)
    low_since: dict[str, int] = field(default_factory=dict)
    loss_percent: float = 2.0
    loss_window_ns: int = 60 * 10**9
    lag_limit_ms: int = 2000
    # each camera's (when, packets expected, lost) over the last loss window and more
    loss_seen: dict[str, deque[tuple[int, int, int]]] = field(default_factory=dict)
    lag_since: dict[str, int] = field(default_factory=dict)

    def decide(self, statuses: Iterable[dict[str, Any]], now_ns: int,
               registered: set[str]) -> list[Decision]:
        """`statuses`: the cameras the recorder runs now (one restarting for a new setting
        is missing for a moment: its timer goes on); `registered`: the register's."""
        out: list[Decision] = []
        for st in statuses:
            out += (self._offline(st, now_ns) + self._clock(st) + self._rate(st, now_ns)
                    + self._loss(st, now_ns) + self._lag(st, now_ns))
        for kind, name in sorted(a for a in self.alarmed if a[1] not in registered):
            self.alarmed.discard((kind, name))
            self.down_since.pop(name, None)
            out.append(Decision(kind, name, False))
        for table in (self.normal, self.learnt_since, self.fed_at, self.low_since,
                      self.loss_seen, self.lag_since):
            for name in [n for n in table if n not in registered]:
                del table[name]
        return out

    def _loss(self, st: dict[str, Any], now_ns: int) -> list[Decision]:
        name = st["camera"]
        key = (LOSS, name)
        sent, lost = int(st.get("packets_expected") or 0), int(st.get("packets_lost") or 0)
        if st["state"] != "recording" or not sent:
            return []  # nothing new is known: the alarm stays as it was
        seen = self.loss_seen.setdefault(name, deque())
        seen.append((now_ns, sent, lost))
        while len(seen) > 1 and now_ns - seen[1][0] >= self.loss_window_ns:
            seen.popleft()  # the first kept is the newest a whole window old
        then, sent0, lost0 = seen[0]
        sent, lost = sent - sent0, lost - lost0
        if now_ns - then < self.loss_window_ns or sent < LOSS_MIN_PACKETS:
            return []
        share = 100 * lost / sent
        if share > self.loss_percent and key not in self.alarmed:
            self.alarmed.add(key)
            return [Decision(LOSS, name, True,
                             f"camera {name}: {lost} of {sent} RTP packets lost in the last "
                             f"{self.loss_window_ns / 1e9:.0f} s ({share:.1f} %, more than "
                             f"{self.loss_percent:g} %)")]
        if share < self.loss_percent / 2 and key in self.alarmed:
            self.alarmed.discard(key)
            return [Decision(LOSS, name, False)]
        return []

    def _lag(self, st: dict[str, Any], now_ns: int) -> list[Decision]:
        name, behind = st["camera"], st.get("behind_ms")
        key = (LAG, name)
        if st["state"] != "recording" or behind is None:
            self.lag_since.pop(name, None)
            return []  # an outage is camera_offline's; the alarm stays as it was
        if behind <= self.lag_limit_ms:
            self.lag_since.pop(name, None)
            if key in self.alarmed:
                self.alarmed.discard(key)
                return [Decision(LAG, name, False)]
            return []
        since = self.lag_since.setdefault(name, now_ns)
        if key in self.alarmed or now_ns - since < self.after_ns:
            return []
        self.alarmed.add(key)
        return [Decision(LAG, name, True,
                         f"camera {name}: its frames are read {behind / 1e3:.1f} s later than "
                         f"their timestamps say (more than {self.lag_limit_ms} ms for "
                         f"{self.after_ns / 1e9:.0f} s): the recorder or the network falls "
                         "behind")]

    def _rate(self, st: dict[str, Any], now_ns: int) -> list[Decision]:
        name = st["camera"]
        key = (RATE, name)
        since = st.get("since_ns")
        if st["state"] != "recording" or since is None or now_ns - int(since) < SETTLE_NS:
            self.low_since.pop(name, None)
            self.fed_at.pop(name, None)  # the time away is not learnt from
            return []  # an outage is camera_offline's; the alarm stays as it was
        fps, bps = float(st.get("fps") or 0), float(st.get("bitrate_bps") or 0)
        normal = self.normal.get(name)
        low = normal is not None and (fps < self.rate_ratio * normal[0]
                                      or bps < self.rate_ratio * normal[1])
        self._learn(name, fps, bps, now_ns, slower=low)
        judged = now_ns - self.learnt_since.get(name, now_ns) >= self.rate_window_ns
        if not (low and judged):
            self.low_since.pop(name, None)
            if key in self.alarmed:
                self.alarmed.discard(key)
                return [Decision(RATE, name, False)]
            return []
        low_since = self.low_since.setdefault(name, now_ns)
        if key in self.alarmed or now_ns - low_since < self.after_ns:
            return []
        self.alarmed.add(key)
        assert normal is not None
        return [Decision(RATE, name, True,
                         f"camera {name}: {fps:.1f} fps and {bps / 1e3:.0f} kbit/s, normally "
                         f"{normal[0]:.1f} fps and {normal[1] / 1e3:.0f} kbit/s")]

    def _learn(self, name: str, fps: float, bps: float, now_ns: int, *, slower: bool) -> None:
        """An average over `rate_window_ns` of what the camera records (ten times slower
        while it is below its normal)."""
        last = self.fed_at.get(name)
        self.fed_at[name] = now_ns
        self.learnt_since.setdefault(name, now_ns)
        normal = self.normal.get(name)
        if normal is None:
            self.normal[name] = (fps, bps)
            return
        if last is None:
            return
        window = self.rate_window_ns * (10 if slower else 1)
        a = min(1.0, (now_ns - last) / window)
        self.normal[name] = (normal[0] + a * (fps - normal[0]), normal[1] + a * (bps - normal[1]))

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
                 clock_ns: Callable[[], int], registered: Callable[[], set[str]], *,
                 rate_ratio: float = 0.5, rate_window_s: float = 600,
                 loss_percent: float = 2.0, loss_window_s: float = 60,
                 lag_limit_ms: int = 2000) -> None:
        self.alarms = alarms
        self.watch = Watch(int(after_s * 1e9), clock_limit_ms, rate_ratio,
                           int(rate_window_s * 1e9), loss_percent=loss_percent,
                           loss_window_ns=int(loss_window_s * 1e9), lag_limit_ms=lag_limit_ms)
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
