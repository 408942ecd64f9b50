"""A camera that does not record is an equipment alarm (UE-10-22 3.3.2, 3.4.3; issue 22):
always, not only for a camera with a tamper rule (whose signal loss is tampering, raised
by detection at once). `camera_alarm_s` of not recording raise it, critical, naming the
recorder's cause; recording again clears it, so the alarm's history holds the outage.

Not for a camera whose disk is full (the volume's own `storage_full` alarm says it) nor
while the server stops; a camera removed from the register has its alarm cleared. The
decisions are pure (`Watch.decide`); `CameraHealth` is the recorder's status listener
that carries them out on the catalog's alarms.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from kuzet.catalog.alarms import Alarms, Severity

KIND = "camera_offline"
# states that are not the camera's fault or are said elsewhere
NOT_AN_OUTAGE = ("recording", "storage_full", "stopped")


@dataclass(frozen=True)
class Decision:
    camera: str
    raise_: bool  # False: clear
    message: str = ""


@dataclass
class Watch:
    """Since when each camera has not been recording, and which are alarmed."""

    after_ns: int
    down_since: dict[str, int] = field(default_factory=dict)
    alarmed: set[str] = field(default_factory=set)

    def decide(self, statuses: Iterable[dict[str, Any]], now_ns: int) -> list[Decision]:
        out: list[Decision] = []
        seen: set[str] = set()
        for st in statuses:
            name, state = st["camera"], st["state"]
            seen.add(name)
            if state in NOT_AN_OUTAGE:
                self.down_since.pop(name, None)
                if name in self.alarmed and state == "recording":
                    self.alarmed.discard(name)
                    out.append(Decision(name, False))
                continue
            since = self.down_since.setdefault(name, now_ns)
            if name not in self.alarmed and now_ns - since >= self.after_ns:
                self.alarmed.add(name)
                cause = st.get("last_error") or state
                out.append(Decision(name, True, f"camera {name}: not recording for "
                                                f"{(now_ns - since) / 1e9:.0f} s ({cause})"))
        for name in sorted(self.alarmed - seen):  # removed from the register
            self.alarmed.discard(name)
            self.down_since.pop(name, None)
            out.append(Decision(name, False))
        return out


class CameraHealth:
    """The recorder's status listener: raises and clears `camera_offline` alarms."""

    def __init__(self, alarms: Alarms, after_s: float, clock_ns: Callable[[], int]) -> None:
        self.alarms = alarms
        self.watch = Watch(int(after_s * 1e9))
        self.clock_ns = clock_ns
        # alarms left open by a previous run are the watch's to clear once recording
        self.watch.alarmed = {a.subject for a in alarms.list() if a.kind == KIND}

    def tick(self, statuses: list[dict[str, Any]]) -> None:
        now = self.clock_ns()
        for d in self.watch.decide(statuses, now):
            if d.raise_:
                self.alarms.raise_(KIND, d.camera, Severity.CRITICAL, d.message, now_ns=now)
            else:
                self.alarms.clear(KIND, d.camera, now_ns=now)
