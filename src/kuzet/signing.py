"""The installation's Ed25519 key that signs export manifests and audit checkpoints, and
the record of every public key it has signed with. At the bottom of the layers: the
export packages and the audit log both sign with it.

The key is made once, on first use, under `<home>/keys/` readable by the owner only. Its
public half travels in every package; its fingerprint (SHA-256 of the raw public key) is
printed in the hand-over act, so a recipient can tell this installation's packages from
a re-signed forgery by comparing the two.

A key carried inside a package proves nothing about who made it: anyone can re-sign a
changed package with a key of their own. So the server keeps its own list of the public
keys it has signed with (`export-ed25519.known.pem`, beside the key) and `kuzet export
verify` trusts only those. A key is added to the list the first time it signs, so when
the key is replaced (the file moved aside; the next export makes a new one) the packages
signed before still verify here. Removing a key from the list disowns its packages, which
is what to do with a key that has leaked.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

KEY_FILE = "export-ed25519.pem"
KNOWN_FILE = "export-ed25519.known.pem"
_PEM = re.compile(rb"-----BEGIN PUBLIC KEY-----.+?-----END PUBLIC KEY-----\s*", re.S)


def load_or_create(home: Path) -> Ed25519PrivateKey:
    """The key to sign with, made on first use, and entered in the known keys' record."""
    path = home / "keys" / KEY_FILE
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{path} does not hold an Ed25519 key")
    else:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(serialization.Encoding.PEM,
                                serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(pem)
    _remember(home, key.public_key())
    return key


def _remember(home: Path, key: Ed25519PublicKey) -> None:
    """Append `key` to the record unless it is there: before it signs anything, so that no
    package of this installation is ever signed by a key the record lacks."""
    fp = public_fingerprint(key)
    if fp in _recorded(home):
        return
    pem = key.public_bytes(serialization.Encoding.PEM,
                           serialization.PublicFormat.SubjectPublicKeyInfo)
    entry = f"fingerprint {grouped(fp)}\n".encode() + pem
    fd = os.open(home / "keys" / KNOWN_FILE, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "ab") as f:
        f.write(entry)
        f.flush()
        os.fsync(f.fileno())


def _recorded(home: Path) -> dict[str, Ed25519PublicKey]:
    path = home / "keys" / KNOWN_FILE
    if not path.is_file():
        return {}
    out: dict[str, Ed25519PublicKey] = {}
    for block in _PEM.findall(path.read_bytes()):
        key = serialization.load_pem_public_key(block)
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError(f"{path} holds a key that is not Ed25519")
        out[public_fingerprint(key)] = key
    return out


def known_keys(home: Path) -> dict[str, Ed25519PublicKey]:
    """Every public key this installation has signed packages with, by fingerprint: the
    record, and the current key (made before the record existed, it may not be in it yet).
    Reading never makes a key."""
    keys = _recorded(home)
    path = home / "keys" / KEY_FILE
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if isinstance(key, Ed25519PrivateKey):
            keys[fingerprint(key)] = key.public_key()
    return keys


def public_pem(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)


def public_fingerprint(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def fingerprint(key: Ed25519PrivateKey) -> str:
    return public_fingerprint(key.public_key())


def grouped(fp: str) -> str:
    """'3f2a91c0…' as '3F2A 91C0 …': what people read aloud and compare on paper."""
    return " ".join(fp[i:i + 4].upper() for i in range(0, len(fp), 4))
