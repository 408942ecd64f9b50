"""A segment's bytes, wherever they lie: on this server's disks, or on the disks of the
recording node that wrote them (issue 25), fetched over the internal endpoint. The one
way the console's readers (playback, exports, stills, the timeline's bar) reach a file.
"""

from __future__ import annotations

from pathlib import Path

from kuzet.catalog.segments import Placed
from kuzet.catalog.store import Catalog
from kuzet.cluster.remote import NodeDown, Remote


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
