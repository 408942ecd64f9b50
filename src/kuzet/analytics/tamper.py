"""Camera tampering, seen in the picture: the lens covered or blacked out, focus lost, the
camera turned to another scene, the picture frozen. Pure: the caller passes each
analysed picture (grey, small) and its instant; the watch says which conditions hold.

Each condition must hold for `HOLD_S` before it is raised (a passing bus is not a covered
lens) and be gone as long before it clears, so an alarm comes within seconds of the
start and does not flicker. Sharpness and the reference scene are learnt from the
camera's own pictures while nothing is wrong, so no threshold has to be set per camera.
A camera re-aimed on purpose stops being "moved" after `RELEARN_S`: its new scene is
learnt. Signal loss is the recorder's to report (its status, published on MQTT).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import cv2
import numpy as np

NS = 1_000_000_000
HOLD_S = 3.0
DARK = 18.0  # mean grey level of a covered or blacked-out lens
FLAT = 6.0  # and its spread: nothing in the picture
BLUR = 0.25  # sharpness below this share of the learnt sharpness: out of focus
MOVED = 0.35  # correlation with the learnt scene below this: another scene
FROZEN_S = 6.0  # this long without any pixel changing: a frozen picture (+ HOLD_S < 10 s)
LEARN = 0.02  # how fast the learnt sharpness and scene follow the camera
RELEARN_S = 600.0  # a new scene kept this long was re-aimed on purpose: it is learnt


class Tamper(StrEnum):
    COVERED = "covered"
    BLURRED = "blurred"
    MOVED = "moved"
    FROZEN = "frozen"


def sharpness(grey: np.ndarray) -> float:
    return float(cv2.Laplacian(grey, cv2.CV_32F).var())


def likeness(a: np.ndarray, b: np.ndarray) -> float:
    """Correlation of two pictures' structure (brightness and contrast taken out)."""
    x, y = a - a.mean(), b - b.mean()
    den = float(np.sqrt((x * x).sum() * (y * y).sum()))
    return float((x * y).sum()) / den if den > 0 else 0.0


@dataclass
class TamperWatch:
    active: set[Tamper] = field(default_factory=set)
    _since: dict[Tamper, int] = field(default_factory=dict)  # seen (or not) since
    _sharp: float | None = None
    _scene: np.ndarray | None = None
    _last: np.ndarray | None = None
    _still_since: int | None = None
    _moved_at: int | None = None

    def update(self, grey: np.ndarray, t_ns: int) -> tuple[set[Tamper], set[Tamper]]:
        """(raised, cleared) by this picture."""
        g = grey.astype(np.float32)
        seen: set[Tamper] = set()
        if g.mean() < DARK and g.std() < FLAT:
            seen.add(Tamper.COVERED)
        sharp = sharpness(g)
        if self._sharp is not None and Tamper.COVERED not in seen and sharp < BLUR * self._sharp:
            seen.add(Tamper.BLURRED)
        small = cv2.resize(g, (32, 18), interpolation=cv2.INTER_AREA)
        if self._scene is not None and not seen and likeness(small, self._scene) < MOVED:
            seen.add(Tamper.MOVED)
        if self._last is not None and self._last.shape == g.shape and np.array_equal(
                self._last, g):
            self._still_since = self._still_since or t_ns
            if t_ns - self._still_since >= FROZEN_S * NS:
                seen.add(Tamper.FROZEN)
        else:
            self._still_since = None
        self._last = g
        if Tamper.MOVED in self.active and self._moved_at is not None and (
                t_ns - self._moved_at >= RELEARN_S * NS):
            self._scene, self._moved_at = small, None  # cleared after HOLD_S
        if not seen and not self.active:  # learn only from a picture with nothing wrong
            self._sharp = sharp if self._sharp is None else (
                (1 - LEARN) * self._sharp + LEARN * sharp)
            self._scene = small if self._scene is None else (
                (1 - LEARN) * self._scene + LEARN * small)
        return self._settle(seen, t_ns)

    def _settle(self, seen: set[Tamper], t_ns: int) -> tuple[set[Tamper], set[Tamper]]:
        raised, cleared = set(), set()
        for kind in Tamper:
            changing = (kind in seen) != (kind in self.active)
            if not changing:
                self._since.pop(kind, None)
                continue
            since = self._since.setdefault(kind, t_ns)
            if t_ns - since >= HOLD_S * NS:
                self._since.pop(kind)
                if kind in seen:
                    self.active.add(kind)
                    raised.add(kind)
                    if kind is Tamper.MOVED:
                        self._moved_at = t_ns
                else:
                    self.active.discard(kind)
                    cleared.add(kind)
        return raised, cleared
