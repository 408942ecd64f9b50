"""A camera stream's thread: started, asked to stop, joined with a deadline.

The recorder's supervisor and the sub-stream relay each own one RTSP session on a daemon
thread of their own, so a camera that blocks in a read never holds up another; stopping
is a flag the loop checks between packets and while it waits to reconnect.
"""

from __future__ import annotations

import threading


class Worker:
    def __init__(self, thread_name: str) -> None:
        self._thread_name = thread_name
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run(self) -> None:
        raise NotImplementedError

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name=self._thread_name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def join(self, timeout: float | None = None) -> bool:
        """True when the thread has ended (or never started) within `timeout`."""
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()
