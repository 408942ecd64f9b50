"""TOTP secrets sealed at rest, with a key that lives outside the database.

A copy of the catalog (a backup, a dump, a PostgreSQL replica, a stolen `catalog.db`)
without the data home no longer hands over every second factor. The key is 32 random
bytes in `<home>/keys/totp-aes256.key` (mode 0600, made on first need); secrets are
sealed with AES-256-GCM and the account name as associated data, so a sealed secret
copied into another account's row does not open there.

Stored form: `v1:` + Base85(nonce ‖ ciphertext ‖ tag). The secret is sealed as its raw
bytes rather than its Base32 text, so a 160-bit secret takes 63 characters and fits the
column's original 64 characters. A value without the prefix is a secret stored in clear
before this existed: it is still read, and `Accounts.seal_clear_totp_secrets` (run by
`kuzet init` and `kuzet serve`) seals it.
"""

from __future__ import annotations

import base64
import contextlib
import os
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_FILE = "totp-aes256.key"
KEY_BYTES = 32
NONCE_BYTES = 12
PREFIX = "v1:"


class SecretBoxError(Exception):
    """The key file is unusable, or a sealed secret does not open with it."""


def key_path(home: Path) -> Path:
    return home / "keys" / KEY_FILE


def is_sealed(stored: str) -> bool:
    return stored.startswith(PREFIX)


def _b32_raw(secret: str) -> bytes:
    """The bytes behind a Base32 secret; refused unless they give the same text back, so
    opening returns exactly what was sealed."""
    raw = base64.b32decode(secret + "=" * (-len(secret) % 8))
    if _raw_b32(raw) != secret:
        raise ValueError("a TOTP secret is unpadded upper-case Base32 of whole bytes")
    return raw


def _raw_b32(raw: bytes) -> str:
    return base64.b32encode(raw).decode().rstrip("=")


def load_or_create_key(path: Path) -> bytes:
    """The key in `path`, written first (0600, never over an existing one) if there is
    none."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # Another process that made it first wins: theirs is the key.
        with contextlib.suppress(FileExistsError):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(os.urandom(KEY_BYTES))
                f.flush()
                os.fsync(f.fileno())
    key = path.read_bytes()
    if len(key) != KEY_BYTES:
        raise SecretBoxError(f"{path} does not hold a {KEY_BYTES}-byte key")
    return key


class SecretBox:
    """Seals and opens TOTP secrets with the installation's key, read on first need."""

    def __init__(self, key_file: Path) -> None:
        self.key_file = key_file
        self._aead: AESGCM | None = None

    def _cipher(self) -> AESGCM:
        if self._aead is None:
            self._aead = AESGCM(load_or_create_key(self.key_file))
        return self._aead

    def seal(self, secret: str, account: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._cipher().encrypt(nonce, _b32_raw(secret), account.encode())
        return PREFIX + base64.b85encode(nonce + sealed).decode()

    def open(self, stored: str, account: str) -> str:
        """The Base32 secret behind a stored value (one stored in clear as it is)."""
        if not is_sealed(stored):
            return stored
        blob = base64.b85decode(stored.removeprefix(PREFIX))
        try:
            raw = self._cipher().decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:],
                                         account.encode())
        except InvalidTag as exc:
            raise SecretBoxError(f"the TOTP secret of {account!r} does not open with the key "
                                 f"in {self.key_file} (another installation's key, or a "
                                 "secret moved between accounts)") from exc
        return _raw_b32(raw)
