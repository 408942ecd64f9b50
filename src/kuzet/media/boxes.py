"""Top-level ISO BMFF boxes (ftyp, moov, moof, mdat, mfra) of a segment file.

Reading only box headers gives the keyframe table (each `moof` starts a GOP) and, for a
file cut short by a crash, the end of its last complete fragment.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Box:
    type: str
    offset: int
    size: int

    @property
    def end(self) -> int:
        return self.offset + self.size


def scan_file(path: Path) -> Iterator[Box]:
    """Top-level boxes of a file; a box that runs past the end of the file is still yielded."""
    size = path.stat().st_size
    with path.open("rb") as f:
        offset = 0
        while offset + 8 <= size:
            f.seek(offset)
            header = f.read(16)
            box_size, kind = struct.unpack_from(">I4s", header)
            if box_size == 1 and len(header) >= 16:
                box_size = struct.unpack_from(">Q", header, 8)[0]
            elif box_size == 0:
                box_size = size - offset
            if box_size < 8:
                return
            yield Box(kind.decode("latin-1"), offset, box_size)
            offset += box_size


def complete_prefix(boxes: list[Box], file_size: int) -> int:
    """Length of the longest prefix made of ftyp, moov and whole moof+mdat pairs."""
    good = 0
    i = 0
    while i < len(boxes):
        box = boxes[i]
        if box.type in ("ftyp", "moov"):
            if box.end > file_size:
                return good if box.type == "moov" or good else 0
            good = box.end
            i += 1
            continue
        if box.type == "moof":
            if i + 1 < len(boxes) and boxes[i + 1].type == "mdat" and boxes[i + 1].end <= file_size:
                good = boxes[i + 1].end
                i += 2
                continue
            return good
        return good
    return good
