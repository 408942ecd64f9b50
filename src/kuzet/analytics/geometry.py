"""Boxes, overlap and polygons in a picture. Pure.

Boxes are in pixels of the picture they were found in; zones and lines are stored in
fractions of the frame (0..1), so a zone drawn on the main stream holds on the sub stream
and survives a resolution change.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Box:
    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def area(self) -> float:
        return max(0.0, self.x1 - self.x0) * max(0.0, self.y1 - self.y0)

    @property
    def foot(self) -> tuple[float, float]:
        """Where the object stands: the middle of the box's bottom edge."""
        return ((self.x0 + self.x1) / 2, self.y1)

    def scaled(self, sx: float, sy: float) -> Box:
        return Box(self.x0 * sx, self.y0 * sy, self.x1 * sx, self.y1 * sy)


def iou(a: Box, b: Box) -> float:
    inter = Box(max(a.x0, b.x0), max(a.y0, b.y0), min(a.x1, b.x1), min(a.y1, b.y1)).area
    union = a.area + b.area - inter
    return inter / union if union > 0 else 0.0


Point = tuple[float, float]


class GeometryError(ValueError):
    pass


def _cross(o: Point, a: Point, b: Point) -> float:
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def segments_cross(p: Point, q: Point, r: Point, s: Point) -> bool:
    """Do segments pq and rs properly cross (touching at an end does not count)?"""
    d1, d2 = _cross(r, s, p), _cross(r, s, q)
    d3, d4 = _cross(p, q, r), _cross(p, q, s)
    return d1 * d2 < 0 and d3 * d4 < 0


def check_polygon(points: list[Point]) -> list[Point]:
    """A zone: at least three corners, all inside the frame (0..1), edges not crossing."""
    if len(points) < 3:
        raise GeometryError("a zone needs at least three corners")
    if len(points) > 64:
        raise GeometryError("a zone has at most 64 corners")
    for x, y in points:
        if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
            raise GeometryError(f"corner ({x}, {y}) lies outside the frame (0..1)")
    n = len(points)
    edges = [(points[i], points[(i + 1) % n]) for i in range(n)]
    for i in range(n):
        for j in range(i + 2, n):
            if i == 0 and j == n - 1:
                continue  # neighbours through the closing edge
            if segments_cross(*edges[i], *edges[j]):
                raise GeometryError("the zone's edges cross each other")
    if abs(sum(_cross((0, 0), a, b) for a, b in edges)) < 1e-9:
        raise GeometryError("the zone has no area")
    return points


def inside(point: Point, polygon: list[Point]) -> bool:
    """Is `point` inside `polygon` (even-odd rule)?"""
    x, y = point
    result = False
    n = len(polygon)
    for i in range(n):
        (x0, y0), (x1, y1) = polygon[i], polygon[(i + 1) % n]
        if (y0 > y) != (y1 > y) and x < x0 + (y - y0) * (x1 - x0) / (y1 - y0):
            result = not result
    return result


def side(point: Point, a: Point, b: Point) -> int:
    """Which side of the line a→b the point is on: 1 left, -1 right, 0 on it."""
    c = _cross(a, b, point)
    return (c > 0) - (c < 0)


def squares_around(regions: list[Box], width: int, height: int, margin: float = 0.25,
                   most: int = 3) -> list[Box]:
    """Square crops of the picture that cover where something moved.

    Detectors take a square input (300×300 for the person model): a whole 16:9 picture
    squeezed into it distorts people and shrinks them; a square around the motion keeps
    their shape and gives them more pixels. Motion wider than the picture is high is
    covered by side-by-side squares (at most `most`, then the whole picture)."""
    if not regions:
        return []
    x0, y0 = min(r.x0 for r in regions), min(r.y0 for r in regions)
    x1, y1 = max(r.x1 for r in regions), max(r.y1 for r in regions)
    limit = min(width, height)
    side = min(limit, max(x1 - x0, y1 - y0) * (1 + margin), limit)
    side = max(side, limit / 2)
    cy = (y0 + y1) / 2
    top = min(max(0.0, cy - side / 2), height - side)
    n = max(1, int(-(-(x1 - x0) // side)))
    if n > most:
        return [Box(0, 0, width, height)]
    span = min(float(width), max(side * n, x1 - x0))
    left = min(max(0.0, (x0 + x1) / 2 - span / 2), width - span)
    step = (span - side) / (n - 1) if n > 1 else 0.0
    return [Box(left + k * step, top, left + k * step + side, top + side) for k in range(n)]
