"""The archive timeline's view of files on disk (issue 19): a day's folder listed once while
it is unchanged, every change seen at the next request, and file names read back into the
instants they were written from."""

from __future__ import annotations

import errno
import os
import time
from pathlib import Path

import pytest
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


def test_a_settled_folder_is_listed_once_and_a_fresh_one_each_time(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    now = [0]
    listings = Listings(lambda: now[0])
    listed: list[str] = []
    real_listdir = os.listdir

    def listdir(path: Path) -> list[str]:
        listed.append(str(path))
        return real_listdir(path)

    monkeypatch.setattr("kuzet.console.folders.os.listdir", listdir)
    day = tmp_path / "day"
    day.mkdir()
    (day / (file_stamp(MIDNIGHT + 60) + ".mp4")).touch()
    # changed a moment ago: listed at every request, and nothing built from it is kept
    now[0] = time.time_ns()
    assert listings.starts(day, MIDNIGHT) == frozenset({MIDNIGHT + 60})
    assert listings.starts(day, MIDNIGHT) == frozenset({MIDNIGHT + 60})
    assert listings.settled([day]) is None
    assert len(listed) == 2
    # settled: listed once, then answered from that listing
    now[0] = time.time_ns() + 2 * SETTLE_NS
    assert listings.starts(day, MIDNIGHT) == frozenset({MIDNIGHT + 60})
    assert listings.starts(day, MIDNIGHT) == frozenset({MIDNIGHT + 60})
    assert len(listed) == 3
    stamp = listings.settled([day])
    assert stamp is not None
    # A file that appears is seen even when the folder's modification time is put back
    # as it was (a restore with `cp -a`): its change time moved on.
    before = os.stat(day)
    (day / (file_stamp(MIDNIGHT + 120) + ".mp4")).touch()
    os.utime(day, ns=(before.st_atime_ns, before.st_mtime_ns))
    now[0] = time.time_ns() + 2 * SETTLE_NS
    assert listings.starts(day, MIDNIGHT) == frozenset({MIDNIGHT + 60, MIDNIGHT + 120})
    assert listings.settled([day]) not in (None, stamp)
    # A file deleted: seen at the next request.
    (day / (file_stamp(MIDNIGHT + 60) + ".mp4")).unlink()
    now[0] = time.time_ns() + 2 * SETTLE_NS
    assert listings.starts(day, MIDNIGHT) == frozenset({MIDNIGHT + 120})
    # A folder gone (its volume unmounted) holds nothing.
    assert listings.starts(tmp_path / "gone", MIDNIGHT) == frozenset()
    assert listings.settled([tmp_path / "gone"]) == (None,)


def test_a_folder_that_cannot_be_listed_is_not_taken_for_empty(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No descriptor left, an I/O error: the folder is there but unread. Its files are
    drawn missing for this request only; the timeline keeps no answer built from it."""
    day = tmp_path / "day"
    day.mkdir()
    (day / (file_stamp(MIDNIGHT + 60) + ".mp4")).touch()
    listings = Listings(lambda: time.time_ns() + 2 * SETTLE_NS)

    def no_descriptors(path: Path) -> list[str]:
        raise OSError(errno.EMFILE, "Too many open files")

    monkeypatch.setattr("kuzet.console.folders.os.listdir", no_descriptors)
    assert listings.starts(day, MIDNIGHT) is None
    monkeypatch.undo()
    assert listings.starts(day, MIDNIGHT) == frozenset({MIDNIGHT + 60})
