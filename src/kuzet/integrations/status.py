"""Which camera statuses go out, and when: at once when a camera's state (or the cause
of its trouble) changes, otherwise every 30 s so a subscriber can tell a quiet camera
from a silent server. The recorder offers every status once a second; this keeps the
broker from hearing about fps every second."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kuzet.timefmt import format_instant

HEARTBEAT_NS = 30 * 1_000_000_000
Publish = Callable[[str, dict[str, Any], bool], None]


def due(last: tuple[tuple[str, str | None], int] | None, key: tuple[str, str | None],
        now_ns: int) -> bool:
    return last is None or last[0] != key or now_ns - last[1] >= HEARTBEAT_NS


class StatusFeed:
    def __init__(self, publish: Publish) -> None:
        self.publish = publish
        self._last: dict[str, tuple[tuple[str, str | None], int]] = {}

    def offer(self, statuses: list[dict[str, Any]], now_ns: int) -> None:
        for st in statuses:
            camera = st["camera"]
            key = (st["state"], st.get("last_cause"))
            if due(self._last.get(camera), key, now_ns):
                self._last[camera] = (key, now_ns)
                self.publish(f"cameras/{camera}/status",
                             {**st, "at": format_instant(now_ns)}, True)
