"""A camera's sub stream, relayed to live viewers while anyone watches it.

Grid tiles of the video wall show the sub stream (640×360 instead of 1920×1080: a 4×4
wall of main streams would ask a browser to decode sixteen full-HD pictures), and a
browser that cannot decode the camera's H.265 main stream falls back to it. The sub
stream is not recorded (the archive is the main stream, clause 3.3), so its session is
opened when the first viewer joins and closed `LINGER_S` after the last one leaves: a
camera nobody watches in a grid costs one RTSP session, the recorder's, and nothing
else. One session per stream still serves every viewer through the fan-out.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any

import av

from kuzet.config import Settings
from kuzet.credentials import SecretUrl
from kuzet.ingest.errors import GapCause, SourceError
from kuzet.ingest.ffmpeg_source import open_source
from kuzet.ingest.timestamps import fill_missing_timestamps, join_access_units
from kuzet.mp4.writer import VideoParams, probe_dimensions
from kuzet.nal import Codec, parameter_sets, to_annexb
from kuzet.recorder.fanout import LiveHub
from kuzet.recorder.status import backoff_delay_s
from kuzet.recorder.worker import Worker

log = logging.getLogger(__name__)
LINGER_S = 10.0  # a tile switched off and on again finds the session still open
IDLE_POLL_S = 0.2


class SubStream(Worker):
    def __init__(self, camera: str, url: SecretUrl, transport: str, settings: Settings, *,
                 opener: Callable[..., Any] = open_source) -> None:
        super().__init__(f"sub-{camera}")
        self.camera = camera
        self.url = url
        self.transport = transport
        self.settings = settings
        self.opener = opener
        self.live = LiveHub()
        self.connected = False
        self.last_error: str | None = None

    def run(self) -> None:
        attempt = 0
        while not self._stop.is_set():
            if not self.live.active:
                self._stop.wait(IDLE_POLL_S)
                attempt = 0
                continue
            try:
                container = self.opener(self.url, transport=self.transport,
                                        stall_s=self.settings.stall_s)
            except SourceError as exc:
                self._failed(exc)
            else:
                self.connected = True
                try:
                    self._relay(container)
                    attempt = 0
                except (SourceError, av.FFmpegError, OSError) as exc:
                    self._failed(exc)
                except Exception as exc:  # a bug here must not take the recorder down
                    log.exception("camera %s: sub stream relay failed", self.camera)
                    self._failed(exc)
                finally:
                    self.connected = False
                    self.live.reset()
                    with contextlib.suppress(av.FFmpegError, OSError):
                        container.close()
            if self.live.active and not self._stop.is_set():
                self._stop.wait(backoff_delay_s(attempt, self.settings.backoff_max_s))
                attempt += 1
        self.live.end()

    def _relay(self, container: Any) -> None:
        """Frames to the hub until stopped, the stream fails, or nobody has watched for
        `LINGER_S`."""
        video = container.streams.video[0]
        codec = video.codec_context.name
        tb = video.time_base
        rate = video.average_rate or video.guessed_rate or 25
        step = max(1, int(tb.denominator / (rate * tb.numerator)))
        params: VideoParams | None = None
        units: tuple[bytes, ...] = ()
        prev_dts: int | None = None
        idle_since: float | None = None
        kind: Codec = "h264" if codec == "h264" else "hevc"
        # as the recorder reads FFmpeg's client (ingest.ffmpeg_source): a picture in
        # slices, each with its parameter sets, is joined back into one frame
        timed = fill_missing_timestamps(container.demux(video), video.index, step, kind)
        for packet in join_access_units(timed, video.index, kind):
            if self._stop.is_set():
                return
            if not self.live.active:
                idle_since = idle_since or time.monotonic()
                if time.monotonic() - idle_since > LINGER_S:
                    return
                continue
            idle_since = None
            if packet.dts is None:
                continue
            data = bytes(packet)
            key = packet.is_keyframe
            if key:
                found = parameter_sets(codec, data)
                if found and found != units:
                    units = found
                    extradata = to_annexb(units)
                    width, height = probe_dimensions(codec, extradata, data)
                    params = VideoParams(codec, extradata, width, height)
                elif params is None and video.codec_context.extradata:
                    params = VideoParams(codec, bytes(video.codec_context.extradata),
                                         video.codec_context.width, video.codec_context.height)
            if params is None:
                continue
            duration = packet.dts - prev_dts if prev_dts is not None else step
            if duration <= 0:
                duration = step
            prev_dts = packet.dts
            self.live.frame(params, video, data, packet.dts, packet.pts, duration, key,
                            time.time_ns())
        raise SourceError(GapCause.STREAM_ENDED, "the camera ended the sub stream")

    def _failed(self, exc: Exception) -> None:
        self.last_error = str(exc)
        log.warning("camera %s sub stream (%s): %s", self.camera, self.url, exc)

