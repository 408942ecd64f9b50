"""SHA-256 on another core while the main thread copies.

An export hashes every byte three times (the source file against the catalog, the file
in the package, the package itself) and writes it once. hashlib lets go of the GIL on
large buffers, so each digest runs in a thread of its own and keeps its order by being
a single-thread executor; the copier waits for all of them between source files, so at
most one source file is held in memory.
"""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import Future, ThreadPoolExecutor


class BackgroundHash:
    def __init__(self) -> None:
        self._sha = hashlib.sha256()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sha256")
        self._last: Future[None] | None = None
        self.size = 0

    def update(self, data: bytes | memoryview) -> None:
        self.size += memoryview(data).nbytes
        self._last = self._pool.submit(self._sha.update, data)

    def wait(self) -> None:
        if self._last is not None:
            self._last.result()

    def hexdigest(self) -> str:
        self.wait()
        self._pool.shutdown()
        return self._sha.hexdigest()


class HashingFile:
    """A write-only file that hashes what passes through it. It offers no `tell`, so
    `zipfile` streams into it (data descriptors, no seeking back) and the hash is that of
    the package exactly as it lies on disk."""

    def __init__(self, path: str) -> None:
        self._f = open(path, "wb")  # noqa: SIM115 - closed by close()
        self.hash = BackgroundHash()

    def write(self, data: bytes | memoryview) -> int:
        n = self._f.write(data)
        self.hash.update(data)  # immutable bytes or a view of them: safe to hash later
        return n

    def flush(self) -> None:
        self._f.flush()

    def close(self) -> None:
        if self._f.closed:
            return
        self.hash.wait()
        self._f.flush()
        os.fsync(self._f.fileno())
        self._f.close()
