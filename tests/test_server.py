"""The hook registry (`kuzet.hooks`), Kuzet's own kinds registered in it by the assembly,
and how `kuzet serve` uses it (`kuzet.server`): the notifiers built are exactly those whose
settings are present, messages reach only the notifiers that hear them, the two stop
phases, and a detector kind nobody registered is refused by name. No sockets, no threads
started."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kuzet.analytics.detector import Detector, DetectorError, open_detector
from kuzet.builtins import builtin
from kuzet.config import Settings
from kuzet.hooks import (
    AuditCheckpoint,
    CameraStatuses,
    DetectionEvent,
    Hooks,
    Message,
    TamperChange,
)
from kuzet.integrations.mqtt import MqttNotifier
from kuzet.integrations.webhooks import Webhooks
from kuzet.server import Notifiers

SECRET = "s3cret-s3cret-s3cret"


class Unraised:
    """An egress alarm no notifier raises here: nothing is started."""

    def raise_(self, subject: str, message: str) -> None:
        raise AssertionError(message)

    def clear(self, subject: str) -> None:
        raise AssertionError(subject)


def _built(tmp_path: Path, **settings: Any) -> list[type]:
    built = builtin().build_notifiers(Settings(home=tmp_path, **settings), Unraised())
    return [type(n) for n in built]


def test_notifiers_are_built_exactly_where_their_settings_are_present(tmp_path: Path) -> None:
    assert list(builtin().notifiers) == ["mqtt", "webhooks"]
    assert _built(tmp_path) == []
    assert _built(tmp_path, mqtt_url="mqtt://127.0.0.1:1883") == [MqttNotifier]
    assert _built(tmp_path, webhook_url="http://127.0.0.1:9/", webhook_secret=SECRET) == [
        Webhooks]
    assert _built(tmp_path, mqtt_url="mqtt://127.0.0.1:1883", webhook_url="http://127.0.0.1:9/",
                  webhook_secret=SECRET) == [MqttNotifier, Webhooks]
    [hooks] = builtin().build_notifiers(Settings(
        home=tmp_path, webhook_url="http://127.0.0.1:9/", webhook_secret=SECRET,
        webhook_images=True), Unraised())
    assert isinstance(hooks, Webhooks)
    assert hooks.images
    assert hooks.dead_letters == tmp_path / "run" / "webhook-dead-letters.jsonl"


def test_an_unknown_detector_kind_is_refused_by_name(tmp_path: Path) -> None:
    assert list(builtin().detectors) == ["openvino", "onnx"]
    with pytest.raises(DetectorError, match=r"unknown detector 'yolo' \(openvino or onnx\)"):
        open_detector(builtin().detectors, "yolo", tmp_path)
    hooks: Hooks[Detector] = Hooks()
    hooks.notifier("mqtt", lambda settings, alarm: None)
    with pytest.raises(ValueError, match="'mqtt' is registered already"):
        hooks.notifier("mqtt", lambda settings, alarm: None)


class FakeNotifier:
    shown = None

    def __init__(self, hears: frozenset[type[Message]], stopped: list[str], name: str) -> None:
        self.hears = hears
        self.heard: list[Message] = []
        self.stopped = stopped
        self.name = name

    def start(self) -> None:
        pass

    def notify(self, message: Message) -> None:
        self.heard.append(message)

    def stop(self) -> None:
        self.stopped.append(self.name)


def test_each_message_goes_to_those_that_hear_it_and_recorder_hearers_stop_last() -> None:
    stopped: list[str] = []
    everything = FakeNotifier(frozenset({CameraStatuses, DetectionEvent, TamperChange,
                                         AuditCheckpoint}), stopped, "everything")
    events = FakeNotifier(frozenset({DetectionEvent}), stopped, "events")
    notifiers = Notifiers([everything, events])
    event = DetectionEvent({"id": 1}, b"jpeg")
    notifiers.tick([{"camera": "gate", "state": "recording"}])
    notifiers.notify(event)
    notifiers.notify(TamperChange("gate", ["covered"], 5))
    notifiers.checkpoint({"seq": 3})
    assert [type(m) for m in everything.heard] == [CameraStatuses, DetectionEvent,
                                                   TamperChange, AuditCheckpoint]
    assert events.heard == [event]
    notifiers.stop(hearing_recorder=False)
    assert stopped == ["events"]
    notifiers.stop(hearing_recorder=True)
    assert stopped == ["events", "everything"]
