"""The package file: written once, hashed on the way, on disk before it is recorded.

Every digest is taken in the thread that copies, on the buffer it is writing, while that
buffer is still in the core's cache: a second core is not there to take it on a busy
server (issue 19 measured three hashing threads at 1.96× ffmpeg under load), and a
separate pass over the bytes would fetch them from memory again.
"""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor

SYNC_EVERY = 64 * 1024**2


class HashingFile:
    """A write-only file that hashes what passes through it. It offers no `tell`, so
    `zipfile` streams into it (data descriptors, no seeking back) and the hash is that of
    the package exactly as it lies on disk.

    The package must be on disk before its execution is recorded, so it is fsynced at the
    end; to keep that last wait short, every 64 MiB written is handed to the disk from a
    thread of its own while copying goes on (one fsync at the end of an hour's package
    was measured at 2.6 s here). That thread waits on the disk, not on a core."""

    def __init__(self, path: str) -> None:
        self._f = open(path, "wb", buffering=0)  # noqa: SIM115 - closed by close()
        self.sha = hashlib.sha256()
        self.size = 0
        self._syncer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fdatasync")
        self._unsynced = 0

    def write(self, data: bytes | memoryview) -> int:
        n = self._f.write(data)
        while n < len(data):  # a raw file may take part of a large write
            n += self._f.write(memoryview(data)[n:])
        self.sha.update(data)
        self.size += n
        self._unsynced += n
        if self._unsynced >= SYNC_EVERY:
            self._unsynced = 0
            self._syncer.submit(os.fdatasync, self._f.fileno())
        return n

    def flush(self) -> None:
        self._f.flush()

    def close(self) -> None:
        if self._f.closed:
            return
        self._syncer.shutdown()
        os.fsync(self._f.fileno())
        self._f.close()
