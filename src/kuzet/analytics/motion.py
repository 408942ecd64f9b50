"""Motion on a camera's sub stream: what moved, where, and how much of the picture.

A background model per camera, on a grey picture scaled to `width` (320 px by default)
and blurred. Three things that are not motion are kept out:
- sensor noise: the threshold follows the picture's own noise (the median difference,
  scaled to a standard deviation), never below a floor;
- lighting that changes slowly (the sun, dusk): the background keeps adapting;
- a whole picture getting brighter or darker at once (auto-exposure, lights switched
  on): each frame is first scaled to the background's median brightness.
Masks (polygons in fractions of the frame) are never looked at. A region smaller than
`min_area` of the picture is noise, not an object.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from kuzet.analytics.geometry import Box, Point

NOISE_FLOOR = 10.0  # grey levels: below this nothing counts as moving
SCENE_CHANGE = 0.6  # this much of the picture "moving" is a new scene: learn it quickly


@dataclass(frozen=True)
class MotionSettings:
    """How a camera's motion is looked at; the defaults hold for a camera never set."""

    activity: bool = False
    sensitivity: float = 0.5
    masks: tuple[tuple[Point, ...], ...] = ()

    def json(self) -> dict[str, Any]:
        return {"activity": self.activity, "sensitivity": self.sensitivity,
                "masks": [[list(p) for p in m] for m in self.masks]}


@dataclass(frozen=True)
class MotionResult:
    level: float  # share of the watched picture that moved, 0..1
    regions: list[Box]  # in the pixels of the picture given to `update`


class Motion:
    def __init__(self, width: int = 320, sensitivity: float = 0.5,
                 masks: list[list[Point]] | None = None, min_area: float = 0.002) -> None:
        if not 0.0 <= sensitivity <= 1.0:
            raise ValueError("sensitivity is between 0 and 1")
        self.width = width
        self.k = 2.5 + 6.0 * (1.0 - sensitivity)  # noise deviations a change must exceed
        self.masks = masks or []
        self.min_area = min_area
        self._bg: np.ndarray | None = None
        self._watch: np.ndarray | None = None

    def _prepare(self, frame: np.ndarray) -> np.ndarray:
        grey = frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        h, w = grey.shape
        small = cv2.resize(grey, (self.width, max(1, round(h * self.width / w))),
                           interpolation=cv2.INTER_AREA)
        return cv2.GaussianBlur(small, (5, 5), 0).astype(np.float32)

    def _watched(self, shape: tuple[int, ...]) -> np.ndarray:
        if self._watch is None or self._watch.shape != shape:
            watch = np.full(shape, 255, np.uint8)
            h, w = shape
            for polygon in self.masks:
                pts = np.array([[x * w, y * h] for x, y in polygon], np.int32)
                cv2.fillPoly(watch, [pts], 0)
            self._watch = watch > 0
        return self._watch

    def update(self, frame: np.ndarray) -> MotionResult:
        grey = self._prepare(frame)
        watch = self._watched(grey.shape)
        if self._bg is None or self._bg.shape != grey.shape:
            self._bg = grey
            return MotionResult(0.0, [])
        seen = grey[watch]
        if seen.size == 0:
            return MotionResult(0.0, [])
        # Medians of every 7th watched pixel: as good an estimate, a seventh of the sort.
        gain = float(np.median(self._bg[watch][::7])) / max(1.0, float(np.median(seen[::7])))
        grey = grey * gain
        diff = np.abs(grey - self._bg)
        noise = 1.4826 * float(np.median(diff[watch][::7]))
        moving = (diff > max(NOISE_FLOOR, self.k * noise)) & watch
        mask = cv2.morphologyEx(moving.astype(np.uint8), cv2.MORPH_OPEN,
                                np.ones((3, 3), np.uint8))
        mask = cv2.dilate(mask, np.ones((5, 5), np.uint8))
        level = float(mask[watch].mean())
        alpha = np.where(mask > 0, 0.005, 0.05).astype(np.float32)
        if level > SCENE_CHANGE:
            alpha[:] = 0.5
        self._bg = self._bg * (1 - alpha) + grey * alpha
        scale = frame.shape[1] / grey.shape[1]
        total = grey.shape[0] * grey.shape[1]
        regions = []
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        for c in contours:
            x, y, w, h = cv2.boundingRect(c)
            if w * h >= self.min_area * total:
                regions.append(Box(x * scale, y * scale, (x + w) * scale, (y + h) * scale))
        return MotionResult(level, regions)
