"""What each camera is doing, for people and for the status file; plus the reconnection policy."""

from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class State(StrEnum):
    STARTING = "starting"
    RECORDING = "recording"
    RECONNECTING = "reconnecting"
    FAILED = "failed"  # a cause that retrying alone will not fix: credentials, URL, codec
    STORAGE_FULL = "storage_full"
    STOPPED = "stopped"


def backoff_delay_s(attempt: int, max_s: float) -> float:
    """0.5 s, 1 s, 2 s, ... capped at `max_s` (10 s by default)."""
    return float(min(max_s, 0.5 * 2 ** min(attempt, 16)))


@dataclass
class RateWindow:
    """Frames and bytes over the last few seconds, for fps and bitrate."""

    span_ns: int = 5_000_000_000
    samples: deque[tuple[int, int]] = field(default_factory=deque)

    def add(self, at_ns: int, size: int) -> None:
        self.samples.append((at_ns, size))
        while self.samples and self.samples[0][0] < at_ns - self.span_ns:
            self.samples.popleft()

    def rates(self) -> tuple[float, float]:
        if len(self.samples) < 2:
            return 0.0, 0.0
        span_s = (self.samples[-1][0] - self.samples[0][0]) / 1e9
        if span_s <= 0:
            return 0.0, 0.0
        frames = len(self.samples) - 1
        size = sum(s for _, s in list(self.samples)[1:])
        return frames / span_s, size * 8 / span_s


@dataclass
class CameraStatus:
    camera: str
    state: State = State.STARTING
    since_ns: int = 0
    last_error: str | None = None
    last_cause: str | None = None
    fps: float = 0.0
    bitrate_bps: float = 0.0
    frames_recorded: int = 0
    segments_closed: int = 0

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["state"] = self.state.value
        return out
