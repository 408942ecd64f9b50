"""Detections over frames joined into tracks: the same box moving, frame after frame.

Greedy matching by overlap with where each track is expected to be (its last box moved
by its last velocity), same label only. A track not seen for `max_age_s` ends. A track
is an object in one camera's picture and nothing more (clause 3.1.4): it is not carried
to other cameras or matched to anyone seen before.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kuzet.analytics.detector import Detection
from kuzet.analytics.geometry import Box, iou

NS = 1_000_000_000
MAX_PATH = 600  # points a track keeps: two minutes at 5 fps, and its first


@dataclass
class Track:
    id: int
    label: str
    path: list[tuple[int, Box]] = field(default_factory=list)  # (t_ns, box)
    best_score: float = 0.0
    best_t_ns: int = 0

    @property
    def start_ns(self) -> int:
        return self.path[0][0]

    @property
    def last_ns(self) -> int:
        return self.path[-1][0]

    @property
    def box(self) -> Box:
        return self.path[-1][1]

    def expected(self, t_ns: int) -> Box:
        if len(self.path) < 2:
            return self.box
        (t0, a), (t1, b) = self.path[-2], self.path[-1]
        if t1 <= t0:
            return b
        f = (t_ns - t1) / (t1 - t0)
        return Box(b.x0 + (b.x0 - a.x0) * f, b.y0 + (b.y0 - a.y0) * f,
                   b.x1 + (b.x1 - a.x1) * f, b.y1 + (b.y1 - a.y1) * f)


class Tracker:
    def __init__(self, min_overlap: float = 0.2, max_age_s: float = 2.0) -> None:
        self.min_overlap = min_overlap
        self.max_age_ns = int(max_age_s * NS)
        self.active: list[Track] = []
        self.ended: list[Track] = []
        self._next = 1

    def take_ended(self) -> list[Track]:
        """The tracks ended since the last call, handed over once (a camera runs for
        months: ended tracks are not kept here)."""
        ended, self.ended = self.ended, []
        return ended

    def update(self, t_ns: int, found: list[Detection]) -> list[Track]:
        pairs = sorted(((iou(tr.expected(t_ns), d.box), i, j)
                        for i, tr in enumerate(self.active) for j, d in enumerate(found)
                        if tr.label == d.label), reverse=True)
        used_t: set[int] = set()
        used_d: set[int] = set()
        for overlap, i, j in pairs:
            if overlap < self.min_overlap or i in used_t or j in used_d:
                continue
            used_t.add(i)
            used_d.add(j)
            self._extend(self.active[i], t_ns, found[j])
        for j, d in enumerate(found):
            if j not in used_d:
                track = Track(self._next, d.label)
                self._next += 1
                self._extend(track, t_ns, d)
                self.active.append(track)
        still: list[Track] = []
        for tr in self.active:
            (still if t_ns - tr.last_ns <= self.max_age_ns else self.ended).append(tr)
        self.active = still
        return self.active

    @staticmethod
    def _extend(track: Track, t_ns: int, d: Detection) -> None:
        track.path.append((t_ns, d.box))
        if len(track.path) > MAX_PATH:  # someone standing for hours: keep where it began
            del track.path[1:len(track.path) - MAX_PATH + 1]
        if d.score > track.best_score:
            track.best_score, track.best_t_ns = d.score, t_ns
