"""A live stream's viewers: the bounded bridge from the thread that has the frames (a
camera's recorder, a relay from another node) to each viewer's asyncio queue (DESIGN
principle 1, STYLE 12).

Each item is offered to every viewer's queue on that viewer's event loop. A viewer that
falls behind loses fragments, never memory, and never lags far: when what waits in its
queue spans more than `LAG_NS` of the camera's time (its socket is slow, its browser
busy), the waiting fragments are dropped and it skips ahead to the next keyframe, so it
shows the camera at most that late, then live again (issue 19: a 2-s queue left 64
viewers 1.05-1.26 s behind at p95).
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from kuzet.catalog.streams import Stream

QUEUE_FRAGMENTS = 50  # two seconds at 25 fps: the bound on memory, whatever the stamps
LAG_NS = 500_000_000  # the most of the camera's time a viewer's queue may hold


@dataclass(frozen=True)
class Item:
    # "init" (data is an init segment, mime its type), "frag", or "end" (the stream is
    # over here: the camera is recorded elsewhere now, its viewers open it again)
    kind: str
    data: bytes
    keyframe: bool = False
    mime: str = ""
    arrival_ns: int = 0  # when the frame reached the recorder (for latency figures)


class Viewer:
    """One watcher's queue; `offer` runs on the watcher's event loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop, max_items: int = QUEUE_FRAGMENTS
                 ) -> None:
        self.loop = loop
        self.queue: asyncio.Queue[Item] = asyncio.Queue(max_items)
        self.skipping = True  # until a keyframe: a decoder cannot start anywhere else
        self.dropped = 0
        self._stamps: deque[int] = deque()  # arrival of each fragment waiting, oldest first

    async def get(self) -> Item:
        """The next item to send (the queue's, with its stamp let go)."""
        item = await self.queue.get()
        if item.kind == "frag":
            self._stamps.popleft()
        return item

    def offer(self, item: Item) -> None:
        if item.kind != "frag":  # a new stream, or none: nothing of the old one is any use
            self._drop_waiting(keep_init=False)
            self.skipping = True
            self.queue.put_nowait(item)
            return
        # Two waiting at least: below 2 fps one fragment alone spans more than LAG_NS, and
        # dropping it would freeze the picture until the next keyframe for a frame's delay.
        if len(self._stamps) > 1 and item.arrival_ns - self._stamps[0] > LAG_NS:
            self.dropped += self._drop_waiting(keep_init=True)  # too late to be worth showing
            self.skipping = True
        if self.skipping and not item.keyframe:
            self.dropped += 1
            return
        if self.queue.full():
            self.dropped += 1
            self.skipping = True
            return
        self.skipping = False
        self.queue.put_nowait(item)
        self._stamps.append(item.arrival_ns)

    def _drop_waiting(self, *, keep_init: bool) -> int:
        """Empty the queue, but for an init segment waiting in it where `keep_init` (the
        player needs it before any fragment); returns how many fragments went."""
        kept = [i for i in (self.queue.get_nowait() for _ in range(self.queue.qsize()))
                if keep_init and i.kind == "init"]
        for i in kept:
            self.queue.put_nowait(i)
        gone = len(self._stamps)
        self._stamps.clear()
        return gone


END = Item("end", b"")


class Audience:
    """A stream's viewers: each item is offered to every one on its own event loop, and a
    newcomer gets the init segment first. `end` tells them the stream is over here."""

    def __init__(self) -> None:
        self._viewers: set[Viewer] = set()
        self._lock = threading.Lock()
        self._init: Item | None = None
        self.ended = False

    def try_join(self, viewer: Viewer) -> bool:
        """Join unless the stream has ended here; the init segment first, where one is."""
        with self._lock:
            if self.ended:
                return False
            self._viewers.add(viewer)
            if self._init is not None:
                viewer.loop.call_soon_threadsafe(viewer.offer, self._init)
            return True

    def join(self, viewer: Viewer) -> None:
        """Join; told `end` at once where the stream has ended here."""
        if not self.try_join(viewer):
            viewer.loop.call_soon_threadsafe(viewer.offer, END)

    def leave(self, viewer: Viewer) -> None:
        with self._lock:
            self._viewers.discard(viewer)

    def end(self) -> None:
        with self._lock:
            self.ended = True
        self._broadcast(END)

    def _broadcast(self, item: Item) -> None:
        with self._lock:
            viewers = list(self._viewers)
        for v in viewers:
            try:
                v.loop.call_soon_threadsafe(v.offer, item)
            except RuntimeError:  # that viewer's loop has closed
                self.leave(v)


A = TypeVar("A", bound=Audience)


def watched(live: Callable[[str, Stream], A | None], camera: str, asked: Stream
            ) -> tuple[Stream, A | None]:
    """The stream a viewer asking for `asked` is served, and its audience from `live`: a
    camera without a sub stream serves its main one (the wall's grid tiles ask for the
    sub)."""
    hub = live(camera, asked)
    if hub is None and asked is Stream.SUB:
        return Stream.MAIN, live(camera, Stream.MAIN)
    return asked, hub
