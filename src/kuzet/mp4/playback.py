"""Reading a segment file back for playback: its init segment and its fragments from a
keyframe on, up to an instant, without decoding or re-encoding anything.

A file is read box by box (`segment_parts`), from a file here or from the answer of the
node that recorded it, so the first fragment goes out once its own bytes are in, not the
whole file's (bench/cluster.py). Fragment k of a file starts keyframe k (the writer cuts
a fragment per GOP), and the catalog row lists keyframe times from the segment's start,
so starting playback at an instant is a lookup and a seek. Whoever reads may see only a
window of footage (a grant's, clause 3.5.5): playback never starts at a keyframe before
the window, and the fragment across the window's end is cut short there
(kuzet.mp4.cut). The first fragment goes without the leading pictures its keyframe
cannot show (kuzet.mp4.leading).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from kuzet.mp4.boxes import FragmentError, Header, Source, next_box
from kuzet.mp4.cut import cut
from kuzet.mp4.leading import without_leading
from kuzet.mp4.reader import SegmentReader


@dataclass(frozen=True)
class PlaybackFragment:
    """A fragment read for playback, placed by the catalog's keyframe times."""

    start_ns: int  # from the segment's start
    end_ns: int  # from the segment's start: the next keyframe, the cut, or the file's end
    data: bytes  # moof + mdat


def first_fragment(keyframes_ns: list[int], offset_ns: int, floor_ns: int) -> int | None:
    """Index of the fragment playback of `offset_ns` starts with: the last keyframe at or
    before it (0 when before the first), so the player can show that very instant; but
    never one before `floor_ns`, where the footage the reader may see begins: then the
    first keyframe at or after it (None: the file has none there). All times from the
    segment's start."""
    if not keyframes_ns:
        return 0 if floor_ns <= 0 else None
    k = max(0, bisect.bisect_right(keyframes_ns, offset_ns) - 1)
    if keyframes_ns[k] >= floor_ns:
        return k
    k = bisect.bisect_left(keyframes_ns, floor_ns)
    return k if k < len(keyframes_ns) else None


def segment_parts(source: Source, from_index: int, skip: Callable[[int], object]
                  ) -> tuple[bytes, Iterator[bytes]]:
    """A segment file's init segment (its ftyp and moov, read at once) and its fragments
    (moof + mdat) from the `from_index`th on, each read when asked for; `skip(n)` passes
    n bytes (a seek in a file). The fragments end where the stream does, or is cut short;
    FragmentError when no moov comes before the first fragment."""

    def body(box: Header, keep: bool) -> bytes | None:
        """A box's body, read (None: the stream ends inside it) or passed (b"")."""
        if not keep:
            skip(box.body)
            return b""
        data = source.read(box.body)
        return data if len(data) == box.body else None

    init = bytearray()
    has_moov = False
    box = next_box(source)
    while box is not None and box.type != "moof":
        wanted = box.type in ("ftyp", "moov")
        if (kept := body(box, wanted)) is None:
            raise FragmentError(f"the file ends inside its {box.type}")
        if wanted:
            init += box.head + kept
            has_moov = has_moov or box.type == "moov"
        box = next_box(source)
    if not has_moov:
        raise FragmentError("the init segment has no moov")

    def fragments(box: Header | None) -> Iterator[bytes]:
        k = 0
        while box is not None:
            if box.type != "moof":  # none the recorder writes between fragments
                body(box, False)
                box = next_box(source)
                continue
            wanted = k >= from_index
            if (moof := body(box, wanted)) is None:
                return
            mdat = next_box(source)
            if mdat is None or mdat.type != "mdat":
                box = mdat
                continue
            if (data := body(mdat, wanted)) is None:
                return
            if wanted:
                yield box.head + moof + mdat.head + data
            k += 1
            box = next_box(source)

    return bytes(init), fragments(box)


def read_segment(init: bytes, fragments: Iterator[bytes], keyframes_ns: list[int],
                 duration_ns: int, from_index: int, until_ns: int
                 ) -> tuple[bytes, Iterator[PlaybackFragment]]:
    """A file's init segment and its fragments from `from_index` on, as `segment_parts`
    reads them, placed by the catalog's keyframe times and holding no frame shown at or
    after `until_ns` (from the segment's start): the fragment across it is cut short there
    and is the last. One that cannot be cut (a layout the recorder does not write) is left
    out, so playback then stops at the last whole fragment; an init segment the reader
    cannot follow is FragmentError."""
    reader = SegmentReader(init)

    def placed() -> Iterator[PlaybackFragment]:
        for k, data in enumerate(fragments, start=from_index):
            start = keyframes_ns[min(k, len(keyframes_ns) - 1)] if keyframes_ns else 0
            following = keyframes_ns[k + 1] if k + 1 < len(keyframes_ns) else None
            if start >= until_ns:
                return
            if k == from_index:
                data = _decodable_start(reader, data)
            if following is not None and following <= until_ns:
                yield PlaybackFragment(start, following, data)
                continue
            # It may reach past `until_ns` (the last one's end is not indexed): look.
            try:
                short = cut(data, {t.track_id: t for t in reader.tracks}, until_ns)
            except FragmentError:
                return
            if short is data:
                yield PlaybackFragment(start, following or duration_ns, data)
                continue
            if short is not None:
                yield PlaybackFragment(start, until_ns, short)
            return

    return init, placed()


def _decodable_start(reader: SegmentReader, data: bytes) -> bytes:
    """The fragment playback starts at, without the leading pictures of its keyframe; as
    it is where the file's init segment does not say enough to tell."""
    try:
        tracks = {t.track_id: t for t in reader.tracks}
        return without_leading(data, tracks, reader.video, reader.sample_entry(reader.video))[0]
    except FragmentError:
        return data
