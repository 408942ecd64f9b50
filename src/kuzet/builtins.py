"""Kuzet's own detectors and notifiers, registered in `kuzet.hooks` exactly as an
addition would be.

Its own module, above the detectors and notifiers it names and below everything that
uses the registry (the server, `kuzet detect`): `kuzet.hooks` and `analytics.detector`
import none of them, and `kuzet detect` gets the detectors without loading the web
server and the recorder.
"""

from __future__ import annotations

import functools

from kuzet.analytics import onnx_detector, openvino_person
from kuzet.analytics.detector import Detector
from kuzet.hooks import Hooks
from kuzet.integrations import mqtt, webhooks


@functools.cache
def builtin() -> Hooks[Detector]:
    """The process's registry with Kuzet's own detectors and notifiers in it."""
    hooks: Hooks[Detector] = Hooks()
    hooks.detector("openvino", openvino_person.from_files)
    hooks.detector("onnx", onnx_detector.from_files)
    hooks.notifier("mqtt", mqtt.from_settings)
    hooks.notifier("webhooks", webhooks.from_settings)
    return hooks
