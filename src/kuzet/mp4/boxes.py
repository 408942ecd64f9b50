"""ISO BMFF boxes laid one after another in a buffer: the one walker over MP4 bytes.

Every reader of MP4 in Kuzet walks boxes here, top level or nested: salvage finding the end
of a cut file's last whole fragment, the segment reader finding init segment, tracks and
fragments (kuzet.mp4.reader), and the live muxer handing on each box it finished
(kuzet.mp4.livemux). A file is read whole and walked (`file_boxes`), or read box by box
from a stream (`next_box`: playback of a file here or on another node). Each box is read
from its header alone (ISO/IEC 14496-12, 4.2): a 32-bit size, 1 for a 64-bit size after
the type, 0 for "to the end".
"""

from __future__ import annotations

import mmap
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple, Protocol

Buf = bytes | bytearray | memoryview | mmap.mmap


class Source(Protocol):
    """Bytes read in order: a file, an HTTP answer's body. A short read is the end."""

    def read(self, n: int, /) -> bytes: ...


class FragmentError(ValueError):
    """A segment file's boxes are not what the recorder writes."""


class Box(NamedTuple):
    type: str
    offset: int
    size: int

    @property
    def end(self) -> int:
        return self.offset + self.size


def walk(data: Buf, start: int = 0, end: int | None = None) -> Iterator[Box]:
    """The boxes laid one after another in data[start:end]. The last may run past `end`
    (a file cut short, a buffer still filling: its `end` tells); the walk stops at a
    header that cannot start a box."""
    stop = len(data) if end is None else end
    off = start
    while off + 8 <= stop:
        size, kind = struct.unpack_from(">I4s", data, off)
        header = 8
        if size == 1:
            if off + 16 > stop:
                return
            size = struct.unpack_from(">Q", data, off + 8)[0]
            header = 16
        elif size == 0:
            size = stop - off
        if size < header:
            return
        yield Box(kind.decode("latin-1"), off, size)
        off += size


# The largest box a stream read takes: a fragment is one GOP, and a GOP of the dearest
# stream a camera sends (4K at 32 Mbit/s, 10-s GOPs: 40 MB) is far under it. A size over
# it is a damaged file, not a box to allocate for.
MAX_BOX = 256 << 20


class Header(NamedTuple):
    type: str
    head: bytes  # the header's own bytes
    body: int  # the size of what follows it


def next_box(source: Source) -> Header | None:
    """The header of the box that starts where `source` stands, read; None at the end, or
    where what is there cannot start a box (a stream cut short, a size past `MAX_BOX`). A
    box "to the end" (size 0) is none the recorder writes at the top level: taken as the
    end."""
    head = source.read(8)
    if len(head) < 8:
        return None
    size, kind = struct.unpack(">I4s", head)
    if size == 1:
        large = source.read(8)
        if len(large) < 8:
            return None
        head += large
        size = struct.unpack(">Q", large)[0]
    if size < len(head) or size > MAX_BOX:
        return None
    return Header(kind.decode("latin-1"), head, size - len(head))


def children(data: Buf, start: int, end: int) -> Iterator[Box]:
    """The boxes inside a parent's data[start:end], each whole: FragmentError when one runs
    past its parent or a header cannot start a box."""
    at = start
    for box in walk(data, start, end):
        if box.end > end:
            break
        at = box.end
        yield box
    if at + 8 <= end:
        kind = bytes(data[at + 4:at + 8])
        raise FragmentError(f"box {kind!r} at {at} runs past its parent")


def find(data: Buf, start: int, end: int, kind: str) -> Box:
    """The first `kind` box inside data[start:end]."""
    for box in children(data, start, end):
        if box.type == kind:
            return box
    raise FragmentError(f"no {kind} box")


def file_boxes(path: Path) -> list[Box]:
    """The top-level boxes of a file; the last may run past the end of a file cut short.

    The file is read, not memory-mapped: a read error on a failing disk must be an
    OSError for the one caller, where a mapped page would be SIGBUS for the whole server
    (recorder included). A segment is a few MB; reading it is what the page cache serves."""
    return list(walk(path.read_bytes()))


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
