"""Signed checkpoints of the audit chain: which entry was the head, with which hash, when.

The chain alone shows only that entries follow one another: whoever can write the
database can delete entries and recompute every hash after them. A checkpoint is signed
with the installation's Ed25519 key, which is not in the database, so a rewrite that
reaches back past it changes the hash of the entry it names, and no one without the key
can sign the new one.

The signed message is the text `kuzet-audit-checkpoint/1`, a newline, then the JSON
array `[seq, head, at_ns]` without spaces, so a checkpoint checks outside Kuzet too. The
prefix keeps these signatures apart from the export manifests the same key signs.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from kuzet.signing import fingerprint, grouped

DOMAIN = b"kuzet-audit-checkpoint/1\n"


@dataclass(frozen=True)
class Checkpoint:
    seq: int  # the head entry's sequence number (0: the log was empty)
    head: str  # its hash
    at_ns: int


@dataclass(frozen=True)
class Signed:
    checkpoint: Checkpoint
    key: str  # fingerprint of the public key that signed it
    sig: str  # base64

    def doc(self) -> dict[str, object]:
        """One line of the checkpoint file, the detail of its audit entry, the MQTT payload."""
        c = self.checkpoint
        return {"seq": c.seq, "head": c.head, "at_ns": c.at_ns, "key": self.key, "sig": self.sig}


@dataclass(frozen=True)
class Anchors:
    """The checkpoints read from the file: those whose signature verifies, the keys that
    signed them, and one problem for each line that is not a valid checkpoint."""

    where: str
    valid: tuple[Checkpoint, ...] = ()
    keys: frozenset[str] = field(default_factory=frozenset)
    problems: tuple[str, ...] = ()


class BadCheckpoint(ValueError):
    """A document that is not a checkpoint, or whose signature does not verify."""


def message(c: Checkpoint) -> bytes:
    return DOMAIN + json.dumps([c.seq, c.head, c.at_ns], separators=(",", ":")).encode()


def sign(c: Checkpoint, key: Ed25519PrivateKey) -> Signed:
    return Signed(c, fingerprint(key), base64.b64encode(key.sign(message(c))).decode())


def unverified(doc: object) -> Signed:
    """The checkpoint a document states, before its signature is checked."""
    if not isinstance(doc, dict):
        raise BadCheckpoint("not a checkpoint")
    seq, head, at_ns = doc.get("seq"), doc.get("head"), doc.get("at_ns")
    key, sig = doc.get("key"), doc.get("sig")
    # Only the types: the signature covers the values.
    if (not isinstance(seq, int) or not isinstance(at_ns, int) or not isinstance(head, str)
            or not isinstance(key, str) or not isinstance(sig, str)):
        raise BadCheckpoint("not a checkpoint")
    return Signed(Checkpoint(seq, head, at_ns), key, sig)


def verified(doc: object, keys: Mapping[str, Ed25519PublicKey]) -> Signed:
    """The checkpoint a document states, once its signature verifies with one of `keys`
    (the installation's own, by fingerprint)."""
    signed = unverified(doc)
    public = keys.get(signed.key)
    if public is None:
        raise BadCheckpoint(f"signed by key {grouped(signed.key)[:19]} …, which this "
                            "installation does not know")
    try:
        public.verify(base64.b64decode(signed.sig, validate=True), message(signed.checkpoint))
    except (InvalidSignature, binascii.Error) as exc:
        raise BadCheckpoint("its signature does not verify: the line was altered or "
                            "forged") from exc
    return signed

