"""What each camera is doing, for people and for the status file; plus the reconnection policy."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class State(StrEnum):
    STARTING = "starting"
    RECORDING = "recording"
    RECONNECTING = "reconnecting"
    FAILED = "failed"  # a cause that retrying alone will not fix: credentials, URL, codec
    STORAGE_FULL = "storage_full"
    STOPPED = "stopped"


def backoff_delay_s(attempt: int, max_s: float, *, refused: bool = False) -> float:
    """0.5 s, 1 s, 2 s, ... capped at `max_s` (10 s by default). After the camera refused
    the credentials (`refused`), from `max_s` doubling to `REFUSED_MAX_S`: a camera locks
    an account out after a few failed logins, and a wrong password tried every 10 s kept
    it locked for good (issue 20)."""
    if refused:
        return float(min(REFUSED_MAX_S, max(max_s, 0.5) * 2 ** min(attempt, 16)))
    return float(min(max_s, 0.5 * 2 ** min(attempt, 16)))


REFUSED_MAX_S = 600.0  # ten minutes between tries of credentials a camera refused


def rates(frames: int, size_bytes: int, elapsed_ns: int) -> tuple[float, float]:
    """Frames per second and bits per second over an interval."""
    if elapsed_ns <= 0:
        return 0.0, 0.0
    seconds = elapsed_ns / 1e9
    return frames / seconds, size_bytes * 8 / seconds


RATE_WINDOW_NS = 5_000_000_000


@dataclass
class RateWindow:
    """Rates over the last few seconds rather than since the last look.

    The recorder reads a camera in batches of up to a quarter second, so the frames
    counted in any one second vary by a batch; over five seconds the figure a guard reads
    holds still. Readers may look as often as they like without disturbing each other.
    """

    window_ns: int = RATE_WINDOW_NS
    _samples: deque[tuple[int, int, int]] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def observe(self, now_ns: int, frames: int, size_bytes: int) -> tuple[float, float]:
        with self._lock:
            samples = self._samples
            samples.append((now_ns, frames, size_bytes))
            while len(samples) > 2 and now_ns - samples[1][0] >= self.window_ns:
                samples.popleft()
            then, frames0, size0 = samples[0]
        return rates(frames - frames0, size_bytes - size0, now_ns - then)


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
    bytes_recorded: int = 0
    segments_closed: int = 0
    # RTP packets lost on the way (sequence numbers skipped), over every session; whole
    # frames lost also leave a `packet_loss` gap.
    packets_lost: int = 0
    # RTP packets the camera sent, lost or not, over every session (the own client's;
    # FFmpeg's does not say): what `packets_lost` is a share of
    packets_expected: int = 0
    # With the rector's order to keep the sound: whether it is recorded, and if not why.
    audio: str | None = None
    # rtsps://: the SHA-256 of the TLS certificate the camera presented in the current or
    # last session (lower-case hex), what `kuzet camera certificate --seen` pins.
    certificate_sha256: str | None = None
    # issue 22: the camera's clock against this server's, from its last RTCP sender report
    # (its NTP time less the report's arrival: the camera's offset less the network's
    # delay); None where the client reads no reports (FFmpeg's) or none came yet.
    clock_offset_ms: int | None = None
    # what said it: "rtcp" (its sender reports) or "onvif" (its device clock, read by
    # `kuzet.equipment.onvifwatch` where no report tells it); None with no offset
    clock_source: str | None = None
    # when the last frame reached the recorder (wall clock): how stale it is, the lag
    last_arrival_ns: int | None = None
    # how much later than its timestamp says the last frame was read, against the frames
    # of its segment read soonest (the recorder, or the network before it, falling
    # behind the camera); None between segments
    behind_ms: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {"camera": self.camera, "state": self.state.value, "since_ns": self.since_ns,
                "last_error": self.last_error, "last_cause": self.last_cause,
                "fps": round(self.fps, 2), "bitrate_bps": round(self.bitrate_bps),
                "frames_recorded": self.frames_recorded, "bytes_recorded": self.bytes_recorded,
                "segments_closed": self.segments_closed, "packets_lost": self.packets_lost,
                "packets_expected": self.packets_expected, "behind_ms": self.behind_ms,
                "audio": self.audio, "certificate_sha256": self.certificate_sha256,
                "clock_offset_ms": self.clock_offset_ms, "clock_source": self.clock_source,
                "last_arrival_ns": self.last_arrival_ns}
