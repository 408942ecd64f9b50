"""A detector the installation supplies as an ONNX model, run by ONNX Runtime (CUDA when
the installed runtime has it, else the CPU).

Outputs understood, told apart by their shapes when the model is loaded:
- YOLO (v8, v11): one output [1, 4 + classes, N] (or transposed [1, N, 4 + classes]):
  centre x, centre y, width, height in input pixels, then one score per class;
- SSD, two outputs: boxes [1, N, 4] (x0, y0, x1, y1, fractions of the input) and scores
  [1, N, classes];
- SSD DetectionOutput: [1, 1, N, 7] rows of (image, class, score, x0, y0, x1, y1),
  fractions of the input.
Anything else is refused when the model is loaded, naming the shapes it found. Class
names come from a labels file (one per line, line k names class k); without one,
classes are called by number.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from kuzet.analytics.detector import Detection, DetectorError, suppress
from kuzet.analytics.geometry import Box


def _format(shapes: list[tuple[int, ...]]) -> str:
    if len(shapes) == 1:
        s = shapes[0]
        if len(s) == 4 and s[:2] == (1, 1) and s[3] == 7:
            return "detection_output"
        if len(s) == 3 and s[0] == 1 and s[1] > 4 and s[1] < s[2]:
            return "yolo"
        if len(s) == 3 and s[0] == 1 and s[2] > 4 and s[2] < s[1]:
            return "yolo_t"
    if len(shapes) == 2:
        a, b = shapes
        if len(a) == 3 and len(b) == 3 and a[2] == 4 and a[1] == b[1]:
            return "ssd"
    raise DetectorError(f"unknown output format {shapes}: expected YOLO [1, 4+classes, N], "
                        "SSD boxes [1, N, 4] with scores [1, N, classes], or DetectionOutput "
                        "[1, 1, N, 7]")


class OnnxDetector:
    def __init__(self, model: Path, labels: Path | None = None) -> None:
        import onnxruntime as ort

        if not model.is_file():
            raise DetectorError(f"the model file {model} does not exist")
        wanted = ["CUDAExecutionProvider", "CPUExecutionProvider"]
        providers = [p for p in wanted if p in ort.get_available_providers()]
        try:
            self._session: Any = ort.InferenceSession(str(model), providers=providers)
        except Exception as exc:  # onnxruntime raises its own untyped errors
            raise DetectorError(f"{model} is not a model ONNX Runtime can load: {exc}") from exc
        inp = self._session.get_inputs()[0]
        shape = inp.shape
        if len(shape) != 4 or not all(isinstance(d, int) for d in shape[2:]):
            raise DetectorError(f"input {inp.name} must be [1, 3, height, width] with a fixed "
                                f"size, not {shape}")
        self._input = inp.name
        self._float = "float" in inp.type
        self._h, self._w = int(shape[2]), int(shape[3])
        outs = self._session.get_outputs()
        shapes = [tuple(d if isinstance(d, int) else 0 for d in o.shape) for o in outs]
        self._format = _format(shapes)
        self._labels: list[str] = []
        if labels is not None:
            try:
                self._labels = [x.strip() for x in labels.read_text().splitlines()]
            except (OSError, UnicodeError) as exc:
                raise DetectorError(f"the labels file {labels} cannot be read: {exc}") from exc
        self.name = f"onnx:{model.name}"
        self._lock = threading.Lock()

    def _label(self, k: int) -> str:
        return self._labels[k] if 0 <= k < len(self._labels) and self._labels[k] else str(k)

    def detect(self, image: np.ndarray, threshold: float) -> list[Detection]:
        h, w = image.shape[:2]
        rgb = cv2.cvtColor(cv2.resize(image, (self._w, self._h)), cv2.COLOR_BGR2RGB)
        blob = rgb.transpose(2, 0, 1)[None]
        blob = (blob.astype(np.float32) / 255.0) if self._float else blob
        with self._lock:
            outputs = self._session.run(None, {self._input: blob})
        sx, sy = w / self._w, h / self._h
        found: list[Detection] = []
        if self._format in ("yolo", "yolo_t"):
            rows = outputs[0][0] if self._format == "yolo_t" else outputs[0][0].T
            scores = rows[:, 4:]
            best = scores.argmax(1)
            for r, k in zip(rows, best, strict=True):
                score = float(r[4 + k])
                if score >= threshold:
                    cx, cy, bw, bh = (float(v) for v in r[:4])
                    found.append(Detection(self._label(int(k)), score, Box(
                        (cx - bw / 2) * sx, (cy - bh / 2) * sy, (cx + bw / 2) * sx,
                        (cy + bh / 2) * sy)))
            return suppress(found)
        if self._format == "ssd":
            boxes, scores = outputs[0][0], outputs[1][0]
            for b, s in zip(boxes, scores, strict=True):
                k = int(s.argmax())
                if float(s[k]) >= threshold:
                    found.append(Detection(self._label(k), float(s[k]), Box(
                        float(b[0]) * w, float(b[1]) * h, float(b[2]) * w, float(b[3]) * h)))
            return suppress(found)
        for _, k, score, x0, y0, x1, y1 in outputs[0][0][0]:
            if float(score) >= threshold:
                found.append(Detection(self._label(int(k)), float(score), Box(
                    float(x0) * w, float(y0) * h, float(x1) * w, float(y1) * h)))
        return found


def from_files(cache: Path, model: Path | None, labels: Path | None) -> OnnxDetector:
    """The `onnx` detector factory (`kuzet.hooks`): the installation's model and labels."""
    if model is None:
        raise DetectorError("detector = onnx needs detector_model (an .onnx file)")
    return OnnxDetector(model, labels)
