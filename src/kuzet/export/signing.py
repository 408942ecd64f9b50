"""The installation's Ed25519 key that signs export manifests.

Made once, on first use, under `<home>/keys/` readable by the owner only. Its public
half travels in every package; its fingerprint (SHA-256 of the raw public key) is
printed in the hand-over act, so a recipient can tell this installation's packages from
a re-signed forgery by comparing the two.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

KEY_FILE = "export-ed25519.pem"


def load_or_create(home: Path) -> Ed25519PrivateKey:
    path = home / "keys" / KEY_FILE
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{path} does not hold an Ed25519 key")
        return key
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    return key


def public_pem(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)


def fingerprint(key: Ed25519PrivateKey) -> str:
    raw = key.public_key().public_bytes(serialization.Encoding.Raw,
                                        serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def grouped(fp: str) -> str:
    """'3f2a91c0…' as '3F2A 91C0 …': what people read aloud and compare on paper."""
    return " ".join(fp[i:i + 4].upper() for i in range(0, len(fp), 4))
