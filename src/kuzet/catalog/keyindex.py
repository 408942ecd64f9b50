"""The keyframe table as the catalog stores it: keyframe times, run-length coded.

A segment holds one fragment per GOP, so "keyframe k" and "fragment k" are the same
thing and the file's own `moof` chain gives each fragment's byte offset. The catalog
keeps only the times: cameras send GOPs of a fixed length, so the time deltas repeat
and a minute of 1-s GOPs codes into a few bytes. Storing the byte offsets as well was
measured at ~190 bytes per segment, which alone would have put a campus catalog (200
cameras × 30 days) over its 2 GB budget (docs/design/storage.md).
"""

from __future__ import annotations

from itertools import pairwise


class KeyIndexError(ValueError):
    pass


def _varint(n: int, out: bytearray) -> None:
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return


def _read_varints(data: bytes) -> list[int]:
    values: list[int] = []
    n = shift = 0
    for b in data:
        n |= (b & 0x7F) << shift
        if b & 0x80:
            shift += 7
            if shift > 70:
                raise KeyIndexError("varint too long")
        else:
            values.append(n)
            n = shift = 0
    if shift:
        raise KeyIndexError("truncated varint")
    return values


def encode(times_ns: list[int]) -> bytes:
    """Code increasing keyframe times (ns from the segment start) as (first, (delta, run)…)."""
    out = bytearray()
    if not times_ns:
        return bytes(out)
    _varint(times_ns[0], out)
    runs: list[list[int]] = []
    for prev, cur in pairwise(times_ns):
        delta = cur - prev
        if delta <= 0:
            raise KeyIndexError("keyframe times must increase")
        if runs and runs[-1][0] == delta:
            runs[-1][1] += 1
        else:
            runs.append([delta, 1])
    for delta, run in runs:
        _varint(delta, out)
        _varint(run, out)
    return bytes(out)


def decode(data: bytes) -> list[int]:
    values = _read_varints(data)
    if not values:
        return []
    if len(values) % 2 != 1:
        raise KeyIndexError("odd number of run values")
    times = [values[0]]
    for i in range(1, len(values), 2):
        delta, run = values[i], values[i + 1]
        if delta <= 0 or run <= 0:
            raise KeyIndexError("empty run")
        for _ in range(run):
            times.append(times[-1] + delta)
    return times
