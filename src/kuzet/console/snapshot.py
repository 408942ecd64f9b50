"""A still image from stored footage: decode the frame at an instant and stamp it.

Only the GOP holding the instant is decoded (seek to the keyframe before it). The stamp
names who took the picture, when the frame was recorded (display time zone) and the camera,
so a printed or forwarded picture carries its own provenance; it is said in the taker's
language and kept to a corner of the picture.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import av
import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from kuzet.errors import Phrase


def frame_at(path: Path | bytes, offset_ns: int) -> Any:
    """The frame shown at `offset_ns` from the file's start (BGR array), or None; the file
    by its path, or its bytes (from another recording node, `storage.footage`)."""
    source: str | io.BytesIO = str(path) if isinstance(path, Path) else io.BytesIO(path)
    with av.open(source, "r") as container:
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


# The stamp's share of the picture (issue 21): small enough to leave the picture to be
# seen (at most 3 % of it at 1080p and at 640x360), large enough to read when printed.
STAMP_LINE = 40  # a line of the stamp is 1/40 of the picture's height ...
STAMP_SMALLEST_PX = 9  # ... and never under 9 pixels


def stamp(image: Any, lines: list[str], font: Path | None) -> bytes:
    """The image with `lines` written in its bottom-left corner on a dark box just as large
    as the text, as PNG bytes. The font is the documents' own (DejaVu Sans), so that the
    stamp is said in Kazakh or Russian as well as English (OpenCV's has no Cyrillic); None
    (no such font installed): Pillow's own, Latin letters only."""
    height, width = image.shape[:2]
    size = max(STAMP_SMALLEST_PX, height // STAMP_LINE)
    face = (ImageFont.truetype(str(font), size) if font is not None
            else ImageFont.load_default(size))
    pad = max(2, size // 4)
    boxes = [face.getbbox(text) for text in lines]
    line_h = size + pad
    box_w = min(width, max(b[2] for b in boxes) + 2 * pad)
    box_h = min(height, line_h * len(lines) + pad)
    picture = Image.fromarray(cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_BGR2RGB))
    draw = ImageDraw.Draw(picture)
    draw.rectangle((0, height - box_h, box_w - 1, height - 1), fill=(0, 0, 0))
    for i, text in enumerate(lines):
        draw.text((pad, height - box_h + pad + i * line_h), text, font=face,
                  fill=(255, 255, 255))
    ok, png = cv2.imencode(".png", cv2.cvtColor(np.asarray(picture), cv2.COLOR_RGB2BGR))
    if not ok:
        raise ValueError("PNG encoding failed")
    return bytes(png.tobytes())


def stamp_lines(user: str, camera: str, at_ns: int, taken_ns: int,
                zone: str = "Asia/Almaty",
                translate: Callable[[str], str] = lambda text: text) -> list[str]:
    """Which camera recorded the frame and when, and who took the picture and when: in the
    display time zone with its offset, day.month.year and the 24-hour clock, as the
    console says instants, and in the taker's language (`translate`)."""
    tz = ZoneInfo(zone)

    def local(ns: int) -> str:
        t = datetime.fromtimestamp(ns / 1e9, UTC).astimezone(tz)
        offset = t.strftime("%z")
        return f"{t:%d.%m.%Y %H:%M:%S} {offset[:3]}:{offset[3:]}"
    return [Phrase("{camera}, recorded {at}", camera=camera, at=local(at_ns)).said(translate),
            Phrase("Kuzet snapshot: {user}, {at}", user=user,
                   at=local(taken_ns)).said(translate)]
