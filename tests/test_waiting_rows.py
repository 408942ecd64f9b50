"""Segments waiting for an unreachable catalog (kuzet.recorder.waiting): the first few
in memory, the rest in a journal file, and always handed back in the order recorded."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kuzet.catalog.store import CutGap
from kuzet.mp4.writer import ClosedSegment, VideoParams
from kuzet.recorder.waiting import JOURNALS, Waiting, WaitingRows, clear_journals

PARAMS = VideoParams("h264", bytes.fromhex("0000000167640028"), 1920, 1080)


def waiting(n: int) -> Waiting:
    cut = CutGap(n * 10**9 - 5, "timestamp_jump", f"jump {n}") if n % 3 == 0 else None
    return Waiting(n % 2 + 1, Path(f"/media/cam1/{n:06d}.mp4.part"), ClosedSegment(
        1000 + n, n.to_bytes(32, "big"), 25 * n, 10**9 * n, [k * 10**9 for k in range(n % 4)],
        PARAMS, "aac" if n % 2 else None), n * 10**9, cut)


OPS = st.lists(st.one_of(st.just(("append", 0)), st.just(("pop", 0)),
                         st.tuples(st.just("drop"), st.integers(0, 4))), max_size=60)


@settings(max_examples=60, deadline=None)
@given(held=st.integers(1, 4), ops=OPS)
def test_waiting_segments_come_back_in_order(tmp_path_factory: pytest.TempPathFactory,
                                             held: int, ops: list[tuple[str, int]]) -> None:
    """However many wait, and whatever is taken meanwhile, they come back as recorded,
    each with every fact its row needs; no more than `held` are in memory, and the
    journal is gone once none waits in it."""
    home = tmp_path_factory.mktemp("home")
    rows, made = WaitingRows(home, "cam1", held), 0
    model: list[Waiting] = []
    for op, n in ops:
        if op == "append":
            made += 1
            rows.append(waiting(made))
            model.append(waiting(made))
        elif op == "pop" and model:
            assert rows.pop() == model.pop(0)
        elif op == "drop":
            assert rows.drop(n) == model[:n]
            del model[:n]
        assert len(rows) == len(model)
        assert list(rows) == model
        assert len(rows._memory) <= held
        journals = list((home / JOURNALS).glob("*.jsonl")) if (home / JOURNALS).exists() else []
        assert len(journals) == (1 if rows.spilled else 0)
        for j in journals:
            assert stat.S_IMODE(j.stat().st_mode) == 0o600
    rows.clear()
    assert not rows
    assert not list(home.rglob("*.jsonl"))


def test_a_journal_left_by_a_crash_is_cleared_at_start(tmp_path: Path) -> None:
    rows = WaitingRows(tmp_path, "cam1", 1)
    for n in (1, 2, 3):
        rows.append(waiting(n))
    assert rows.spilled == 2
    clear_journals(tmp_path)
    assert not list((tmp_path / JOURNALS).iterdir())


def test_a_journal_that_fails_is_left_to_the_salvage_at_start(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A journal the home's disk will not take refuses the segment (the recorder leaves
    its file to the salvage at the next start) and keeps the others; a write cut short
    leaves no torn line for the next to be glued to; a line that does not read back
    forgets the journal's rest, those files left to the same salvage, and what is in
    memory still goes, in order."""
    rows = WaitingRows(tmp_path, "cam1", 1)
    (tmp_path / "run").write_text("not a folder")
    rows.append(waiting(1))
    with pytest.raises(NotADirectoryError):
        rows.append(waiting(2))
    assert list(rows) == [waiting(1)]
    (tmp_path / "run").unlink()
    rows.append(waiting(3))
    real = os.write
    monkeypatch.setattr(os, "write", lambda fd, data: real(fd, data[:len(data) // 2]))
    with pytest.raises(OSError, match="part of a line"):
        rows.append(waiting(4))
    monkeypatch.setattr(os, "write", real)
    for n in (5, 6):
        rows.append(waiting(n))
    assert list(rows) == [waiting(n) for n in (1, 3, 5, 6)]
    (journal,) = (tmp_path / JOURNALS).glob("*.jsonl")
    lines = journal.read_bytes().splitlines(keepends=True)
    journal.write_bytes(lines[0] + lines[1][:40] + b"\n" + lines[2])
    assert rows.pop() == waiting(1)
    assert rows.pop() == waiting(3)
    assert rows.first() is None
    assert not rows
    assert list(rows) == []
    assert not journal.exists()
