"""A segment's bytes, wherever they lie: on this server's disks, or on the disks of the
recording node that wrote them (issue 25), fetched over the internal endpoint. The one
way the console's readers (playback, exports, stills, the timeline's bar) reach a file.
Playback reads it box by box (`parts`), the others whole.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from pathlib import Path

from kuzet.catalog.models import Segment
from kuzet.catalog.segments import Placed
from kuzet.catalog.store import Catalog
from kuzet.cluster.remote import NodeDown, Remote
from kuzet.mp4.playback import segment_parts


class Footage:
    def __init__(self, catalog: Catalog, remote: Remote | None = None) -> None:
        self.catalog = catalog
        self.remote = remote

    def read(self, seg: Placed) -> bytes:
        """The whole file; FileNotFoundError when it is gone, `NodeDown` (one) when its
        node is down."""
        node = self.catalog.elsewhere(seg.volume_id)
        if node is None:
            return self.catalog.path_of(seg).read_bytes()
        if self.remote is None:
            raise NodeDown(node, "is another server's, and this one is no node")
        return self.remote.read(node, seg)

    def parts(self, seg: Segment, from_index: int) -> tuple[bytes, Iterator[bytes]]:
        """The file's init segment and its fragments from the `from_index`th on, each read
        as it is asked for (`mp4.playback.segment_parts`). FileNotFoundError when it is
        gone, `NodeDown` when its node is down, FragmentError when its boxes are not the
        recorder's; a read that breaks off later raises OSError from the fragments (a file
        shorter than catalogued, a disk error; `NodeDown` through another node)."""
        node = self.catalog.elsewhere(seg.volume_id)
        if node is None:
            read = _local(self.catalog.path_of(seg), from_index, seg.size_bytes)
        elif self.remote is None:
            raise NodeDown(node, "is another server's, and this one is no node")
        else:
            read = self.remote.parts(node, seg, from_index)
        init = next(read)  # started: its file or connection closes once it is dropped
        return init, read

    def file(self, seg: Placed) -> Path | bytes | None:
        """What a reader that seeks takes: the path of a file here, the bytes of one on
        another node; None when it is gone or its node is down."""
        if self.catalog.elsewhere(seg.volume_id) is None:
            path = self.catalog.path_of(seg)
            return path if path.exists() else None
        try:
            return self.read(seg)
        except FileNotFoundError:
            return None

    def there(self, seg: Placed) -> bool:
        """Whether its file can be read now: on disk here, or its node up."""
        node = self.catalog.elsewhere(seg.volume_id)
        if node is None:
            return self.catalog.path_of(seg).exists()
        return self.remote is not None and self.remote.up(node)

    def elsewhere_up(self, volume_ids: set[int]) -> dict[int, bool]:
        """For each of these volumes on another node: whether that node is up."""
        out = {}
        for v in volume_ids:
            node = self.catalog.elsewhere(v)
            if node is not None:
                out[v] = self.remote is not None and self.remote.up(node)
        return out


def _local(path: Path, from_index: int, size: int) -> Iterator[bytes]:
    """The init segment, then the fragments from the `from_index`th on, of a file here;
    OSError after its last whole fragment when it is shorter than the catalog's `size`."""
    with path.open("rb") as f:
        init, fragments = segment_parts(f, from_index, lambda n: f.seek(n, 1))
        yield init
        yield from fragments
        if (have := os.fstat(f.fileno()).st_size) < size:  # cut short on disk since
            raise OSError(errno.EIO, f"{size - have} bytes of the file are gone from the disk")
