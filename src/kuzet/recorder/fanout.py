"""One camera session, many viewers: the recorder thread muxes each frame once into a
per-frame fMP4 fragment (only while someone watches) and offers the same bytes to every
viewer (`kuzet.viewers`: their bounded queues); detection's taps and the restream's relays
get the frames themselves.
"""

from __future__ import annotations

from typing import Any, Protocol

from kuzet.mp4.livemux import LiveMuxer
from kuzet.mp4.writer import VideoParams
from kuzet.viewers import Audience, Item


class Tap(Protocol):
    """A consumer of a stream's frames as they arrive (detection), not of fMP4: it gets
    each frame's bytes and must return at once (queue, never block the recorder)."""

    def offer(self, params: VideoParams, data: bytes, keyframe: bool,
              arrival_ns: int) -> None: ...


class Relay(Protocol):
    """A consumer of a stream's frames as the camera sent them, with their RTP time (90
    kHz): the restream to external centres (kuzet.restream). Like a tap, it must return
    at once."""

    def offer(self, params: VideoParams, data: bytes, keyframe: bool, rtp_ts: int,
              arrival_ns: int) -> None: ...


class LiveHub(Audience):
    """A camera's viewers and, while there are any, its live muxer; its taps and relays."""

    def __init__(self) -> None:
        super().__init__()
        self._muxer: LiveMuxer | None = None
        self.taps: list[Tap] = []
        self.relays: list[Relay] = []

    @property
    def active(self) -> bool:
        return bool(self._viewers) or bool(self.taps) or bool(self.relays)

    def reset(self) -> None:
        """The stream broke or jumped: the next keyframe starts a new init segment."""
        with self._lock:
            muxer, self._muxer, self._init = self._muxer, None, None
        if muxer is not None:
            muxer.close()

    def frame(self, params: VideoParams, template: Any, data: bytes, dts: int,
              pts: int | None, duration: int, keyframe: bool, arrival_ns: int) -> None:
        """Called by the recorder thread for every video frame while `active`."""
        for tap in tuple(self.taps):  # detection may add or remove one meanwhile
            tap.offer(params, data, keyframe, arrival_ns)
        if self.relays:
            base = template.time_base  # the camera's RTP clock is 90 kHz for video
            ticks = (pts if pts is not None else dts) * base.numerator * 90_000 // base.denominator
            for relay in tuple(self.relays):
                relay.offer(params, data, keyframe, ticks & 0xFFFFFFFF, arrival_ns)
        if not self._viewers:
            if self._muxer is not None:
                self.reset()
            return
        if self._muxer is not None and self._muxer.params != params:
            self.reset()
        if self._muxer is None:
            if not keyframe:
                return
            self._muxer = LiveMuxer(params, template)
        muxer = self._muxer
        fragments = muxer.add(data, dts, pts, duration, keyframe)
        if self._init is None and muxer.init is not None:
            self._init = Item("init", muxer.init, mime=muxer.mime)
            self._broadcast(self._init)
        for f in fragments:
            self._broadcast(Item("frag", f.data, f.keyframe, arrival_ns=arrival_ns))
        if not self._viewers:
            self.reset()
