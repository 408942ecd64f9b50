"""A check run every few seconds on a thread of its own, by `kuzet serve` (the UPS and
time watches): a peer that is slow to refuse (upsd or an NTP server on another host, up to
a few seconds) must never hold the recorder's status loop, and a check that fails is
logged and tried again at the next turn, never the end of the watch."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class Periodic:
    def __init__(self, name: str, every_s: float, check: Callable[[], None]) -> None:
        self.name = name
        self.every_s = every_s
        self.check = check
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(self.every_s + 10)

    def _run(self) -> None:
        while True:
            try:
                self.check()
            except Exception:  # the catalog busy, say: checked again at the next turn
                log.exception("%s failed", self.name)
            if self._stop.wait(self.every_s):
                return
