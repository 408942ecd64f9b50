"""When the segment writer starts a new file. Plain decisions over plain facts."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Cut(Enum):
    NONE = "none"
    LENGTH = "length"  # target length reached at a keyframe
    PARAMETERS = "parameters"  # resolution or codec parameters changed
    DISCONTINUITY = "discontinuity"  # timestamps went backwards or jumped


@dataclass(frozen=True)
class PacketFacts:
    is_keyframe: bool
    media_ns: int
    params_changed: bool
    discontinuity: bool


def decide_cut(facts: PacketFacts, segment_start_media_ns: int, target_ns: int) -> Cut:
    """A cut happens only at a keyframe; parameter changes and jumps take precedence."""
    if not facts.is_keyframe:
        return Cut.NONE
    if facts.discontinuity:
        return Cut.DISCONTINUITY
    if facts.params_changed:
        return Cut.PARAMETERS
    if facts.media_ns - segment_start_media_ns >= target_ns:
        return Cut.LENGTH
    return Cut.NONE
