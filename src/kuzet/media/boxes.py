"""Top-level ISO BMFF box boundaries, found as bytes stream past.

The segment writer sees the muxer's output in arbitrary chunks; this scanner tells it
where each top-level box (ftyp, moov, moof, mdat, mfra) starts, so the keyframe table
(time → byte offset of the fragment) costs no second read of the file. The same scanner
finds the last complete fragment when salvaging a file cut short by a crash.
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


class BoxScanner:
    """Feed bytes in order; collect every top-level box whose header has been seen."""

    def __init__(self) -> None:
        self.boxes: list[Box] = []
        self._pos = 0  # bytes fed so far
        self._next = 0  # offset of the next box header
        self._pending = b""  # header bytes of the next box not yet complete

    def feed(self, data: bytes | memoryview) -> None:
        end = self._pos + len(data)
        while self._next < end:
            start_in_chunk = self._next - self._pos
            if start_in_chunk < 0:  # header began in an earlier chunk
                need = 16 - len(self._pending)
                self._pending += bytes(data[:need])
                header = self._pending
            else:
                header = bytes(data[start_in_chunk : start_in_chunk + 16])
                self._pending = header
            if len(header) < 8:
                break
            size, kind = struct.unpack_from(">I4s", header)
            if size == 1:
                if len(header) < 16:
                    break
                size = struct.unpack_from(">Q", header, 8)[0]
            if size < 8:
                raise ValueError(f"invalid box size {size} at offset {self._next}")
            self.boxes.append(Box(kind.decode("latin-1"), self._next, size))
            self._next += size
            self._pending = b""
        self._pos = end
        if self._next >= end:
            self._pending = b""


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
