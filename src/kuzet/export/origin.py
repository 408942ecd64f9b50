"""Is a package this installation's? What `kuzet export verify` adds on the server to the
checks the package can make of itself.

A package's signature, checked under the key it carries, only shows that the package
agrees with itself: whoever changes a video can re-hash it, re-sign the manifest with a
fresh key and ship that key. So the server trusts only the keys it has signed with
(`signing.known_keys`), checks the signature again under its own copy of the key, and
requires the package to be one its register recorded: the transfer the manifest names
must have been executed as exactly this file (or, for an unpacked folder, this manifest),
signed by the key the package carries. The transfer is found both by the number in the
manifest and by the package's hash, and the two must agree; never by the file or folder
name, which anyone can change. Pure: the caller reads the keys, the register and the
package.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from kuzet.governance.models import Transfer
from kuzet.signing import grouped


@dataclass(frozen=True)
class Claim:
    """What a package says about itself, as read from it."""

    number: str  # the transfer number in the manifest
    transfer_id: object  # the transfer id in the manifest, as written there
    fingerprint: str  # of the key in public_key.pem
    manifest: bytes
    signature: bytes
    package_sha256: str | None  # of the .zip; None for an unpacked folder

    @property
    def manifest_sha256(self) -> str:
        return hashlib.sha256(self.manifest).hexdigest()

    @property
    def digest(self) -> tuple[str, str]:
        """(what, SHA-256) the register is searched by: the .zip's hash, or for an
        unpacked folder (no .zip to hash) the manifest's, which lists every file's."""
        if self.package_sha256 is not None:
            return "package", self.package_sha256
        return "manifest", self.manifest_sha256


def not_ours(fingerprint: str) -> str:
    return (f"not ours: signed by key {grouped(fingerprint)}, which this installation has "
            "never signed with. Footage leaves it only as the package of a transfer in its "
            "register (UE-10-22 clause 3.5.6) and is copied out no other way (clause "
            "3.5.1): this is a re-signed forgery, or another installation's package")


def origin_problems(claim: Claim, keys: Mapping[str, Ed25519PublicKey],
                    by_number: Transfer | None, by_hash: Transfer | None) -> list[str]:
    """What keeps `claim` from being a package this installation made and recorded:
    `keys` are the installation's own public keys by fingerprint, `by_number` the
    transfer the manifest's number names, `by_hash` the one whose recorded package (or
    manifest) hash is the claim's. No problems means it is ours, unchanged."""
    problems: list[str] = []
    key = keys.get(claim.fingerprint)
    if key is None:
        problems.append(not_ours(claim.fingerprint))
    else:
        try:
            key.verify(claim.signature, claim.manifest)
        except InvalidSignature:
            problems.append("the signature does not verify under this installation's key "
                            f"{grouped(claim.fingerprint)}")
    what, digest = claim.digest
    if by_number is None:
        problems.append(f"the manifest names transfer {claim.number}, which is not in this "
                        "installation's register"
                        + (f"; this {what}'s SHA-256 is recorded for {by_hash.number}"
                           if by_hash is not None else ""))
        if by_hash is None:
            problems.append(f"this {what}'s SHA-256 {digest} is not in the register either")
        return problems
    if by_hash is not None and by_hash.id != by_number.id:
        problems.append(f"the manifest names transfer {by_number.number}, but the register "
                        f"recorded this {what}'s SHA-256 for {by_hash.number}")
        return problems
    recorded = by_number.package_sha256 if what == "package" else by_number.manifest_sha256
    if recorded is None:
        problems.append(f"transfer {by_number.number} has no package in the register "
                        f"(it is {by_number.state})")
        return problems
    if by_hash is None:
        problems.append(f"the {what}'s SHA-256 differs from the one the register recorded "
                        f"for {by_number.number} ({recorded}; this {what}: {digest}): it is "
                        "not the package that was handed over")
    if by_number.key_fingerprint != claim.fingerprint:
        problems.append(f"the register records {by_number.number} as signed by key "
                        f"{grouped(by_number.key_fingerprint or '')}, not by this package's "
                        f"{grouped(claim.fingerprint)}")
    if claim.transfer_id != by_number.id:
        problems.append(f"the manifest gives transfer id {claim.transfer_id}; the register "
                        f"has {by_number.number} as {by_number.id}")
    return problems
