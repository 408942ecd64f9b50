"""What an object detector is to the rest of Kuzet, and which one a setting names.

A detector takes a picture (BGR, as OpenCV and PyAV's `to_ndarray(format="bgr24")` give
it) and returns labelled boxes in that picture's pixels. Two implementations: OpenVINO
with the bundled person model (the default) and ONNX Runtime for a model the
installation supplies (`openvino_person`, `onnx_detector`), each offering a factory that
the assembly (`kuzet.builtins`) registers by name in `kuzet.hooks` (the `detector`
setting picks one); this module imports neither. A detector that cannot be made says why
at configuration time (`DetectorError`); recording never depends on it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from kuzet.analytics.geometry import Box, iou
from kuzet.hooks import DetectorFactory


class DetectorError(RuntimeError):
    """The configured detector cannot run: missing or unreadable model, unknown output."""


@dataclass(frozen=True)
class Detection:
    label: str
    score: float
    box: Box


class Detector(Protocol):
    name: str

    def detect(self, image: np.ndarray, threshold: float) -> list[Detection]: ...


def suppress(found: list[Detection], overlap: float = 0.5) -> list[Detection]:
    """Non-maximum suppression per label: of boxes overlapping more than `overlap`, the
    best scored stays."""
    kept: list[Detection] = []
    for d in sorted(found, key=lambda d: -d.score):
        if all(k.label != d.label or iou(k.box, d.box) <= overlap for k in kept):
            kept.append(d)
    return kept


def detect_in(detector: Detector, image: np.ndarray, crops: list[Box], threshold: float
              ) -> list[Detection]:
    """Run the detector on each crop of `image` and give the boxes in the picture's pixels;
    an object seen in two overlapping crops is kept once."""
    found: list[Detection] = []
    for c in crops:
        x0, y0 = int(c.x0), int(c.y0)
        part = image[y0:int(c.y1), x0:int(c.x1)]
        if part.size == 0:
            continue
        for d in detector.detect(part, threshold):
            found.append(Detection(d.label, d.score, Box(d.box.x0 + x0, d.box.y0 + y0,
                                                         d.box.x1 + x0, d.box.y1 + y0)))
    return suppress(found) if len(crops) > 1 else found


def open_detector(detectors: Mapping[str, DetectorFactory[Detector]], kind: str, cache: Path,
                  model: Path | None = None, labels: Path | None = None) -> Detector:
    """The detector registered as `kind` among `detectors` (`kuzet.hooks`), opened on the
    given model."""
    if kind not in detectors:
        raise DetectorError(f"unknown detector {kind!r} ({' or '.join(detectors)})")
    return detectors[kind](cache, model, labels)

