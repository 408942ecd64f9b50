"""The archive timeline's view of files on disk (issue 19): a day's folder listed once while
it is unchanged, every change seen at the next request, and file names read back into the
instants they were written from."""

from __future__ import annotations

import os
import time
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from kuzet.console.folders import SETTLE_NS, Listings, start_of
from kuzet.storage.retention import DAY_NS
from kuzet.timefmt import file_stamp

MIDNIGHT = (time.time_ns() // DAY_NS - 3) * DAY_NS  # a UTC midnight some days ago


@given(st.integers(min_value=0, max_value=DAY_NS - 1))
def test_a_file_name_reads_back_as_its_start(offset: int) -> None:
    ns = MIDNIGHT + offset
    assert start_of(file_stamp(ns) + ".mp4", MIDNIGHT) == ns


def test_other_files_are_not_segments() -> None:
    stamp = file_stamp(MIDNIGHT + 5)
    for name in (stamp + ".mp4.part", stamp + ".mp4~", "notes.txt", ".quarantine",
                 stamp.replace("T", "X") + ".mp4", "2026092lT000000.000000005Z.mp4"):
        assert start_of(name, MIDNIGHT) is None, name


def test_a_settled_folder_is_listed_once_and_a_fresh_one_each_time(tmp_path: Path) -> None:
    now = [MIDNIGHT + DAY_NS]
    listings = Listings(lambda: now[0])
    old, fresh = tmp_path / "old", tmp_path / "fresh"
    for folder in (old, fresh):
        folder.mkdir()
        (folder / (file_stamp(MIDNIGHT + 60) + ".mp4")).touch()
    settled = MIDNIGHT + 3600 * 10**9
    os.utime(old, ns=(settled, settled))
    os.utime(fresh, ns=(now[0] - SETTLE_NS // 2,) * 2)
    assert listings.starts(old, MIDNIGHT) == {MIDNIGHT + 60}
    assert listings.starts(fresh, MIDNIGHT) == {MIDNIGHT + 60}
    # A file that appears with the folder's time left as it was is not seen: the settled
    # folder was answered from its listing (a real change moves the time on, below).
    for folder in (old, fresh):
        (folder / (file_stamp(MIDNIGHT + 120) + ".mp4")).touch()
    os.utime(old, ns=(settled, settled))
    os.utime(fresh, ns=(now[0] - SETTLE_NS // 2,) * 2)
    assert listings.starts(old, MIDNIGHT) == {MIDNIGHT + 60}
    assert listings.starts(fresh, MIDNIGHT) == {MIDNIGHT + 60, MIDNIGHT + 120}
    # A file deleted moves the folder's time on: seen at the next request.
    (old / (file_stamp(MIDNIGHT + 60) + ".mp4")).unlink()
    assert listings.starts(old, MIDNIGHT) == {MIDNIGHT + 120}
    # A folder gone (its volume unmounted) holds nothing.
    assert listings.starts(tmp_path / "gone", MIDNIGHT) == frozenset()
