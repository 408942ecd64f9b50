"""The one playback plan the archive socket, the timeline and exports share: pure, over
drawn rows and windows. Times are small integers, so every instant can be checked one
by one against what the rows and windows say."""

from __future__ import annotations

from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from kuzet.console.playback_plan import Gap, Item, Missing, Play, Row, plan, windows
from kuzet.console.timeline import drawn
from kuzet.timefmt import NS

HORIZON = 60
instants = st.integers(0, HORIZON)
spans = st.tuples(instants, instants).map(sorted).map(tuple)


@st.composite
def row_lists(draw: st.DrawFn) -> list[Row[int]]:
    """Rows that may overlap, nest, repeat or be empty; the key is the row's index."""
    drawn_spans = draw(st.lists(spans, max_size=8))
    present = draw(st.lists(st.booleans(), min_size=len(drawn_spans),
                            max_size=len(drawn_spans)))
    return [Row(a, b, p, i) for i, ((a, b), p) in enumerate(zip(drawn_spans, present,
                                                                  strict=True))]


def _at(items: list[Item[int]], x: int) -> Item[int] | None:
    found = [i for i in items if i.start_ns <= x < i.end_ns]
    assert len(found) <= 1
    return found[0] if found else None


@given(row_lists(), spans, st.lists(spans, max_size=4))
def test_items_cover_the_asked_window_inside_the_allowed_ones_and_nothing_else(
        rows: list[Row[int]], asked: tuple[int, int], allowed: list[tuple[int, int]]) -> None:
    items = plan(rows, asked[0], asked[1], allowed)
    for each in items:
        assert each.start_ns < each.end_ns
    for before, after in pairwise(items):
        assert before.end_ns <= after.start_ns  # ordered, not overlapping
    ordered = sorted(rows, key=lambda r: (r.start_ns, r.end_ns))
    for x in range(-1, HORIZON + 1):
        item = _at(items, x)
        visible = asked[0] <= x < asked[1] and any(lo <= x < hi for lo, hi in allowed)
        assert (item is not None) == visible, (x, items)
        if item is None:
            continue
        covering = [r for r in ordered if r.start_ns <= x < r.end_ns]
        if not covering:
            assert isinstance(item, Gap)
            continue
        # The row starting first keeps an overlap; a present file plays, a lost one is missing.
        assert not isinstance(item, Gap)
        assert item.segment is covering[0]
        assert isinstance(item, Play) == item.segment.present
        assert item.segment.start_ns <= item.start_ns
        assert item.end_ns <= item.segment.end_ns


@given(row_lists(), spans, st.lists(spans, max_size=4))
def test_touching_items_differ(rows: list[Row[int]], asked: tuple[int, int],
                               allowed: list[tuple[int, int]]) -> None:
    """Within a window a row is one item and a hole one gap: never two in a row."""
    items = plan(rows, asked[0], asked[1], allowed)
    for before, after in pairwise(items):
        if before.end_ns != after.start_ns:
            continue
        assert not (isinstance(before, Gap) and isinstance(after, Gap))
        if not isinstance(before, Gap) and not isinstance(after, Gap):
            assert before.segment is not after.segment


def test_a_window_of_footage_with_a_hole_a_lost_file_and_a_grant() -> None:
    rows = [Row(0, 10, True, "a"), Row(10, 20, False, "b"), Row(25, 40, True, "c")]
    assert plan(rows, 5, 35, [(0, 100)]) == [
        Play(5, 10, rows[0]), Missing(10, 20, rows[1]), Gap(20, 25), Play(25, 35, rows[2])]
    # A grant of [8, 12) and [30, 50): nothing between them, not even the gap's shape.
    assert plan(rows, 0, 100, [(30, 50), (8, 12)]) == [
        Play(8, 10, rows[0]), Missing(10, 12, rows[1]), Play(30, 40, rows[2]), Gap(40, 50)]
    assert plan(rows, 0, 100, []) == []
    assert plan([], 0, 10, [(0, 100)]) == [Gap(0, 10)]
    # Overlapping or touching grants are one window: a file is one item across them.
    assert plan(rows, 0, 10, [(0, 6), (4, 8), (8, 10)]) == [Play(0, 10, rows[0])]
    assert windows([(5, 9), (0, 3), (3, 4), (7, 7)]) == [(0, 4), (5, 9)]


def test_overlapping_rows_follow_on_where_the_earlier_ends() -> None:
    """The recorder's cut may leave a few ms of overlap; a nested row adds nothing."""
    first, second, inside = Row(0, 100, True, 1), Row(97, 200, True, 2), Row(120, 130, False, 3)
    assert plan([second, inside, first], 0, 200, [(0, 200)]) == [
        Play(0, 100, first), Play(100, 200, second)]


def test_the_bar_joins_what_it_draws_but_never_across_a_window() -> None:
    """A frame's hole between files is one span (console.timeline.JOIN_NS); a sliver
    between two grants is not drawn, and two grants over the same footage draw it once."""
    rows = [Row(0, 60 * NS, True, 0), Row(60 * NS, 120 * NS, False, 1),
            Row(120 * NS + NS // 25, 180 * NS, True, 2), Row(300 * NS, 360 * NS, True, 3)]
    allowed = [(0, 150 * NS), (150 * NS + 3 * NS // 10, 400 * NS)]
    assert drawn(plan(rows, 0, 400 * NS, allowed), allowed) == (
        [(0, 150 * NS), (150 * NS + 3 * NS // 10, 180 * NS), (300 * NS, 360 * NS)],
        [(60 * NS, 120 * NS)])
    twice = [(0, 400 * NS), (0, 400 * NS)]
    assert drawn(plan(rows, 0, 400 * NS, twice), twice) == (
        [(0, 180 * NS), (300 * NS, 360 * NS)], [(60 * NS, 120 * NS)])
