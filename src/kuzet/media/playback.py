"""Reading a segment file back for playback: its init segment and its fragments from a
keyframe on, without decoding or re-encoding anything.

Fragment k of a file starts keyframe k (the writer cuts a fragment per GOP), and the
catalog row lists keyframe times from the segment's start, so starting playback at an
instant is a lookup and a seek.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from kuzet.media.boxes import scan_file


@dataclass(frozen=True)
class Fragment:
    start_ns: int  # from the segment's start
    data: bytes  # moof + mdat


def first_fragment(keyframes_ns: list[int], offset_ns: int) -> int:
    """Index of the last keyframe at or before `offset_ns` (0 when before the first)."""
    return max(0, bisect.bisect_right(keyframes_ns, offset_ns) - 1)


def read_segment(path: Path, keyframes_ns: list[int], from_index: int = 0
                 ) -> tuple[bytes, Iterator[Fragment]]:
    """The file's init segment (ftyp+moov) and its fragments from `from_index` on."""
    boxes = list(scan_file(path))
    with path.open("rb") as f:
        init = b""
        for b in boxes:
            if b.type in ("ftyp", "moov"):
                f.seek(b.offset)
                init += f.read(b.size)
    pairs = [(a, b) for a, b in zip(boxes, boxes[1:], strict=False)
             if a.type == "moof" and b.type == "mdat"]

    def fragments() -> Iterator[Fragment]:
        with path.open("rb") as f:
            for k in range(from_index, len(pairs)):
                moof, mdat = pairs[k]
                f.seek(moof.offset)
                data = f.read(mdat.end - moof.offset)
                start = keyframes_ns[k] if k < len(keyframes_ns) else keyframes_ns[-1]
                yield Fragment(start, data)

    return init, fragments()
