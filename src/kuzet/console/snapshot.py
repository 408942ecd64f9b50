"""A still image from stored footage: decode the frame at an instant and stamp it.

Only the GOP holding the instant is decoded (seek to the keyframe before it). The stamp
names who took the picture, when the frame was recorded (display time zone) and the camera,
so a printed or forwarded picture carries its own provenance.
"""

from __future__ import annotations

from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import av
import cv2
import numpy as np


def frame_at(path: Path, offset_ns: int) -> Any:
    """The frame shown at `offset_ns` from the file's start (BGR array), or None."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        tb = Fraction(stream.time_base or Fraction(1, 90_000))
        target = int(offset_ns * tb.denominator / (tb.numerator * 1_000_000_000))
        container.seek(target, stream=stream, backward=True, any_frame=False)
        chosen = None
        for frame in container.decode(stream):
            if frame.pts is not None and frame.pts > target and chosen is not None:
                break
            chosen = frame
        return None if chosen is None else chosen.to_ndarray(format="bgr24")


def stamp(image: Any, lines: list[str]) -> bytes:
    """The image with `lines` written on a dark band at its bottom, as PNG bytes."""
    height, width = image.shape[:2]
    scale = max(0.4, width / 1600)
    thickness = max(1, round(scale * 2))
    line_h = int(32 * scale)
    band = line_h * len(lines) + int(10 * scale)
    out = np.ascontiguousarray(image)
    cv2.rectangle(out, (0, height - band), (width, height), (0, 0, 0), thickness=-1)
    for i, text in enumerate(lines):
        y = height - band + line_h * (i + 1)
        cv2.putText(out, text, (int(10 * scale), y), cv2.FONT_HERSHEY_SIMPLEX, scale,
                    (255, 255, 255), thickness, cv2.LINE_AA)
    ok, png = cv2.imencode(".png", out)
    if not ok:
        raise ValueError("PNG encoding failed")
    return bytes(png.tobytes())


def stamp_lines(user: str, camera: str, at_ns: int, taken_ns: int,
                zone: str = "Asia/Almaty") -> list[str]:
    """Latin letters only: OpenCV's built-in font has no Cyrillic."""
    tz = ZoneInfo(zone)

    def local(ns: int) -> str:
        return datetime.fromtimestamp(ns / 1e9, UTC).astimezone(tz).strftime(
            "%Y-%m-%d %H:%M:%S")
    return [f"Kuzet | camera {camera} | recorded {local(at_ns)} {zone}",
            f"snapshot by {user.encode('ascii', 'replace').decode()} at {local(taken_ns)}"]
