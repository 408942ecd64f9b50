"""The pure parts of exports and transfers: which GOPs a range keeps, what it leaves out
and why, refusing deleted footage, moving a fragment on the timeline, sniffing scans,
and what lies inside an approval."""

from __future__ import annotations

import struct

import pytest

from kuzet.console.playback_plan import Row, plan
from kuzet.errors import Invalid, TooLarge, Unsupported
from kuzet.export.plan import (
    ExportError,
    Span,
    keep_fragments,
    refuse_deleted,
    sources,
    uncovered,
)
from kuzet.governance.transfers import Scope
from kuzet.governance.uploads import check_upload
from kuzet.mp4.boxes import FragmentError
from kuzet.mp4.reader import moved, read_moof
from kuzet.timefmt import format_instant


def box(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(body), kind) + body


def moof(seq: int, track: int, tfdt: int, samples: int, wide: bool = True) -> bytes:
    tfdt_box = box(b"tfdt", (b"\x01\0\0\0" + struct.pack(">Q", tfdt)) if wide
                   else (b"\0\0\0\0" + struct.pack(">I", tfdt)))
    traf = box(b"traf", box(b"tfhd", b"\0\x02\0\0" + struct.pack(">I", track)) + tfdt_box
               + box(b"trun", b"\0\0\0\0" + struct.pack(">I", samples)))
    return box(b"moof", box(b"mfhd", b"\0\0\0\0" + struct.pack(">I", seq)) + traf)


def test_a_range_keeps_only_whole_gops_inside_it() -> None:
    starts = [0, 10, 20]
    assert keep_fragments(starts, 30, 0, 30) == [0, 1, 2]
    assert keep_fragments(starts, 30, 5, 30) == [1, 2]  # the first GOP began before
    assert keep_fragments(starts, 30, 0, 25) == [0, 1]  # the last one ends after
    assert keep_fragments(starts, 30, 11, 19) == []


def test_what_a_package_leaves_out_carries_the_recorded_causes() -> None:
    holes = uncovered(0, 100, [Span(5, 40), Span(60, 100)], [Span(38, 62)], ["stalled"])
    assert [(h.start_ns, h.end_ns, h.causes) for h in holes] == [
        (0, 5, ()), (40, 60, ("stalled",))]
    assert uncovered(0, 10, [Span(0, 10)], [], []) == []


def test_deleted_footage_inside_the_range_is_refused_by_its_span() -> None:
    refuse_deleted("cam1", 100, 200, [Span(0, 100), Span(200, 300)])  # touching: fine
    with pytest.raises(ExportError) as err:
        refuse_deleted("cam1", 10**18, 10**18 + 10**10, [Span(10**18 - 5, 10**18 + 10**9)])
    assert format_instant(10**18) in str(err.value)
    assert format_instant(10**18 + 10**9) in str(err.value)


def test_an_export_reads_the_files_its_range_plays_and_refuses_a_lost_one() -> None:
    base = 10**18
    rows = [Row(base, base + 10, True, "a"), Row(base + 20, base + 30, True, "b"),
            Row(base + 30, base + 40, False, "c")]
    assert sources("cam1", plan(rows, base + 5, base + 30, [(base + 5, base + 30)])) == [
        "a", "b"]
    with pytest.raises(ExportError, match="missing on disk") as err:
        sources("cam1", plan(rows, base, base + 40, [(base, base + 40)]))
    assert format_instant(base + 30) in str(err.value)


def test_a_moved_fragment_keeps_its_size_and_sample_counts() -> None:
    raw = moof(7, 1, 90_000, 25)
    out = moved(raw, 1, {1: 180_000})
    assert len(out) == len(raw)
    frag = read_moof(out, 0, len(out), len(out))
    assert (frag.decode_times, frag.samples) == ({1: 270_000}, {1: 25})
    assert struct.unpack_from(">I", out, 20)[0] == 1  # mfhd sequence
    with pytest.raises(FragmentError):
        moved(moof(1, 1, 2**32 - 10, 25, wide=False), 1, {1: 100})  # past a 32-bit tfdt
    with pytest.raises(FragmentError):
        read_moof(raw[:-4], 0, len(raw) - 4, len(raw))  # a box runs past its parent


def test_scans_are_told_by_their_bytes() -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(10)
    assert check_upload(png, "application/octet-stream", 100) == "image/png"
    assert check_upload(b"\xff\xd8\xff\xe0" + bytes(10), "image/jpg", 100) == "image/jpeg"
    assert check_upload(b"%PDF-1.7", "application/pdf; charset=binary", 100) == "application/pdf"
    with pytest.raises(Unsupported, match="says it is image/jpeg"):
        check_upload(png, "image/jpeg", 100)
    with pytest.raises(Unsupported):
        check_upload(b"<html>", "", 100)
    with pytest.raises(TooLarge):
        check_upload(png + bytes(100), "image/png", 100)
    with pytest.raises(Invalid):
        check_upload(b"", "", 100)


def test_an_approval_bounds_cameras_and_range() -> None:
    approved = Scope(("cam1", "cam2"), 100, 200)
    assert Scope(("cam1",), 120, 180).within(approved) is None
    assert "cam3" in (Scope(("cam3",), 120, 180).within(approved) or "")
    assert "goes beyond" in (Scope(("cam1",), 90, 180).within(approved) or "")
