"""A real MQTT subscriber on the Mosquitto broker the machine runs (127.0.0.1:1883), and
a topic prefix of its own for each test (`site` fixture, in conftest), cleaned after."""

from __future__ import annotations

import json
import threading
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

BROKER = ("127.0.0.1", 1883)


class Subscriber:
    """A real MQTT client collecting every message under a topic filter."""

    def __init__(self, topic: str) -> None:
        self.messages: list[tuple[str, Any, bool]] = []
        self.lock = threading.Lock()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2)
        self.client.on_message = self._on_message
        self.client.on_connect = lambda c, *_: c.subscribe(topic, qos=1)
        self.client.connect(*BROKER)
        self.client.loop_start()

    def _on_message(self, client: Any, userdata: Any, msg: Any) -> None:
        payload = msg.payload.decode()
        try:
            value = json.loads(payload)
        except ValueError:
            value = payload
        with self.lock:
            self.messages.append((msg.topic, value, bool(msg.retain)))

    def states(self, topic: str) -> list[Any]:
        with self.lock:
            return [v["state"] if isinstance(v, dict) else v for t, v, _ in self.messages
                    if t == topic]

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def clear_retained(site: str) -> None:
    """Leave no retained messages of a test's site behind on the shared broker."""
    c = mqtt.Client(CallbackAPIVersion.VERSION2)
    c.connect(*BROKER)
    c.loop_start()
    for topic in (f"kuzet/{site}/server/status", f"kuzet/{site}/cameras/cam01/status"):
        c.publish(topic, b"", qos=1, retain=True).wait_for_publish(5)
    c.loop_stop()
    c.disconnect()
