"""Giving timestamps to the video packets that arrive without one.

FFmpeg's RTSP client hands over the first access unit of a session before it can place
it in time (its dts and pts are unset). That packet is the keyframe the whole first GOP
depends on, so dropping it would lose a GOP on every connect. It is held until the next
timed packet arrives and then placed one frame interval before it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any


def fill_missing_timestamps(packets: Iterable[Any], video_index: int,
                            step_ticks: int) -> Iterator[Any]:
    held: list[Any] = []
    last_dts: int | None = None
    for packet in packets:
        if not packet.size:
            continue  # the demuxer's empty end-of-stream packet
        if packet.stream_index != video_index:
            yield packet
            continue
        if packet.dts is None:
            if last_dts is None:
                held.append(packet)
                continue
            packet.dts = last_dts + step_ticks
            if packet.pts is None:
                packet.pts = packet.dts
        for back, early in enumerate(reversed(held), start=1):
            early.dts = packet.dts - back * step_ticks
            early.pts = early.dts
        yield from held
        held.clear()
        last_dts = packet.dts
        yield packet
