"""The digest that chains a camera's segment rows, so that an edited row is detectable.

Each row's `prev_link` is the (truncated) digest of the row before it, and the digest covers
everything that says what and when the footage is: the file's SHA-256, its times, its
counts, its codec parameters and keyframe times, and the link itself. Editing any of
those in the database breaks the link of the next row; editing the file breaks its
SHA-256. The volume is left out on purpose: it says where the bytes lie, not what they
are, so moving footage between disks would not be an edit.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from kuzet.catalog.streams import Stream

VERSION = b"kuzet-segment-row-v1\n"
LINK_BYTES = 16  # 128 bits: finding a second row with the same link is out of reach


@dataclass(frozen=True)
class RowFacts:
    camera_id: int
    stream: Stream
    start_ns: int
    end_ns: int
    frames: int
    size_bytes: int
    params_json: str
    keyframes: bytes
    sha256: bytes
    prev_link: bytes | None
    salvaged: bool


def row_link(f: RowFacts) -> bytes:
    """The link the next row stores: SHA-256 of the row, truncated to 128 bits.

    A full 32 bytes would add 16 bytes to each of millions of rows for no practical gain
    in what an attacker must do (a second preimage of 128 bits).
    """
    doc = [f.camera_id, f.stream.label, f.start_ns, f.end_ns, f.frames, f.size_bytes,
           f.params_json, f.keyframes.hex(), f.sha256.hex(),
           f.prev_link.hex() if f.prev_link is not None else None, f.salvaged]
    digest = hashlib.sha256(VERSION + json.dumps(doc, separators=(",", ":")).encode()).digest()
    return digest[:LINK_BYTES]
