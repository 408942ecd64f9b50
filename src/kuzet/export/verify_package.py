"""Verify a Kuzet export package: python verify.py [PACKAGE] [--fingerprint HEX] [--sha256 HEX]

This file is copied, as it is, into every package (as verify.py). It needs only Python 3
and the `cryptography` package. PACKAGE is the .zip as handed over, or the folder it was
unpacked into; without PACKAGE, the folder this file lies in.

It checks that
  1. manifest.sig is an Ed25519 signature of manifest.json by the key in public_key.pem,
     and that key is the one the manifest names;
  2. every file the manifest lists is present with the SHA-256 it gives, and no other
     file is there;
  3. with --fingerprint (the key fingerprint from the hand-over act), the package was
     signed by that key;
  4. with --sha256 (the package hash from the hand-over act), the .zip itself hashes to it.

Checks 1 and 2 only show that the package agrees with itself: whoever changes a video
can re-hash it and re-sign the manifest with a key of their own, and put that key in
public_key.pem. Only what the paper hand-over act prints proves who made the package: its
key fingerprint (check 3), or its package hash (check 4). So without either this says
CONSISTENT, ORIGIN UNPROVEN, never INTACT.

Exit status
  0  INTACT: checks 1 and 2 pass, and 3 or 4 ties the package to the hand-over act;
  1  NOT INTACT: each failed check is named;
  2  the command line was wrong;
  3  CONSISTENT, ORIGIN UNPROVEN: checks 1 and 2 pass, but neither --fingerprint nor
     --sha256 was given.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import zipfile
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

SIGNED = ("manifest.json", "manifest.sig", "public_key.pem")
CHUNK = 1 << 20


def _files(package: Path) -> dict[str, tuple[str, int] | str]:
    """Each file under the package's folder: (SHA-256, size), or why it cannot be read."""
    out: dict[str, tuple[str, int] | str] = {}
    if package.is_dir():
        for path in sorted(p for p in package.rglob("*") if p.is_file()):
            sha = hashlib.sha256()
            with path.open("rb") as f:
                while chunk := f.read(CHUNK):
                    sha.update(chunk)
            out[path.relative_to(package).as_posix()] = (sha.hexdigest(), path.stat().st_size)
        return out
    with zipfile.ZipFile(package) as zf:
        names = [i.filename for i in zf.infolist() if not i.is_dir()]
        tops = {n.split("/", 1)[0] for n in names}
        strip = len(tops.pop()) + 1 if len(tops) == 1 and all("/" in n for n in names) else 0
        for name in names:
            sha = hashlib.sha256()
            size = 0
            try:
                with zf.open(name) as f:
                    while chunk := f.read(CHUNK):
                        sha.update(chunk)
                        size += len(chunk)
            except (zipfile.BadZipFile, OSError, EOFError) as exc:
                out[name[strip:]] = f"unreadable: {exc}"
                continue
            out[name[strip:]] = (sha.hexdigest(), size)
    return out


def read_entry(package: Path, name: str) -> bytes | None:
    """The bytes of one top-level entry of the package (.zip or folder), or None."""
    if package.is_dir():
        path = package / name
        return path.read_bytes() if path.is_file() else None
    with zipfile.ZipFile(package) as zf:
        for info in zf.infolist():
            top = info.filename.count("/") <= 1
            if top and (info.filename == name or info.filename.endswith("/" + name)):
                try:
                    return zf.read(info)
                except (zipfile.BadZipFile, OSError, EOFError):
                    return None
    return None


def _sha256_of(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            sha.update(chunk)
    return sha.hexdigest()


def _hex(text: str) -> str:
    """A fingerprint or hash as typed from paper: groups, spaces, either case."""
    return "".join(text.split()).lower()


def grouped(fp: str) -> str:
    """'3f2a91c0…' as '3F2A 91C0 …', as the hand-over act prints it (kept apart from
    kuzet.signing.grouped: this file runs without Kuzet)."""
    return " ".join(fp[i:i + 4].upper() for i in range(0, len(fp), 4))


def verify(package: Path, fingerprint: str | None = None, sha256: str | None = None,
           hash_package: bool = False) -> tuple[list[str], dict[str, object]]:
    """(problems, facts): no problems means the package agrees with itself; it is tied to
    the hand-over act only where facts has "origin" (a matching --fingerprint or --sha256).
    With `hash_package`, facts has the .zip's SHA-256 as "package_sha256"."""
    problems: list[str] = []
    facts: dict[str, object] = {}
    try:
        manifest_bytes, sig, pem = (read_entry(package, n) for n in SIGNED)
    except zipfile.BadZipFile as exc:
        return [f"not a readable package: {exc}"], facts
    if manifest_bytes is None or sig is None or pem is None:
        return [f"missing one of {', '.join(SIGNED)}"], facts
    try:
        key = serialization.load_pem_public_key(pem)
    except ValueError:
        return ["public_key.pem is not a readable public key"], facts
    if not isinstance(key, Ed25519PublicKey):
        return ["public_key.pem is not an Ed25519 key"], facts
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    fp = hashlib.sha256(raw).hexdigest()
    facts["fingerprint"] = fp
    try:
        key.verify(sig, manifest_bytes)
    except InvalidSignature:
        problems.append("the signature does not match manifest.json (the manifest or the "
                        "signature was changed)")
    try:
        manifest = json.loads(manifest_bytes)
        listed: dict[str, dict[str, object]] = manifest["files"]
        facts["package"] = manifest.get("package", {})
        if manifest["signature"]["fingerprint"] != fp:
            problems.append("public_key.pem is not the key the manifest names")
    except (ValueError, KeyError, TypeError):
        return [*problems, "manifest.json is not a Kuzet manifest"], facts
    if fingerprint is not None:
        if _hex(fingerprint) == fp:
            facts["origin"] = "the key fingerprint is the hand-over act's"
        else:
            problems.append(f"signed by key {grouped(fp)}, not by the key the hand-over act "
                            f"names ({grouped(_hex(fingerprint))}): the package was re-signed "
                            "or does not come from the installation that signed the act")
    present = _files(package)
    for name, entry in listed.items():
        got = present.get(name)
        if got is None:
            problems.append(f"{name}: missing")
        elif isinstance(got, str):
            problems.append(f"{name}: {got}")
        elif got[0] != entry.get("sha256") or got[1] != entry.get("bytes"):
            problems.append(f"{name}: SHA-256 differs from the manifest (the file was changed)")
    for name in sorted(set(present) - set(listed) - set(SIGNED)):
        problems.append(f"{name}: not listed in the manifest")
    if sha256 is not None and package.is_dir():
        problems.append("--sha256 checks the .zip as handed over, not an unpacked folder")
    elif (sha256 is not None or hash_package) and not package.is_dir():
        whole = _sha256_of(package)
        facts["package_sha256"] = whole
        if sha256 is not None and whole != _hex(sha256):
            problems.append("the package file's SHA-256 differs from the hand-over act's")
        elif sha256 is not None:
            facts.setdefault("origin", "the package hash is the hand-over act's")
    facts["files"] = len(listed)
    return problems, facts


UNPROVEN = """\
Файлдар қолтаңбаланған манифестке сәйкес, бірақ өзгертілген буманы кез келген адам өз
кілтімен қайта қолтаңбалай алады. Буманы кім жасағанын тек қағаз қабылдау-тапсыру
актісінде басылған кілт саусақ ізі дәлелдейді: жоғарыдағы саусақ ізін актідегімен
салыстырып, оны --fingerprint арқылы беріңіз.
Файлы соответствуют подписанному манифесту, но изменённый пакет любой может
переподписать своим ключом. Кто создал пакет, доказывает только отпечаток ключа,
напечатанный в бумажном акте приёма-передачи: сравните отпечаток выше с актом и
передайте его через --fingerprint.
The files match the signed manifest, but anyone who changes a package can re-sign it
with a key of their own. Only the key fingerprint printed on the paper hand-over act
proves who made it: compare the fingerprint above with the act's and pass it as
--fingerprint (or pass the act's package hash as --sha256)."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0] if __doc__ else "",
        epilog="exit status: 0 INTACT, 1 NOT INTACT, 2 usage, 3 CONSISTENT, ORIGIN UNPROVEN")
    parser.add_argument("package", nargs="?", default=str(Path(__file__).resolve().parent))
    parser.add_argument("--fingerprint", help="the key fingerprint from the hand-over act")
    parser.add_argument("--sha256", help="the package hash from the hand-over act")
    args = parser.parse_args(argv)
    problems, facts = verify(Path(args.package), args.fingerprint, args.sha256)
    print(f"key fingerprint: {grouped(str(facts.get('fingerprint', '?')))}")
    if problems:
        for p in problems:
            print(f"FAILED: {p}")
        print("БҰЗЫЛҒАН / НАРУШЕН / NOT INTACT")
        return 1
    print(f"{facts['files']} files match the signed manifest")
    if "origin" not in facts:
        print(UNPROVEN)
        print("СӘЙКЕС, ШЫҒУ ТЕГІ ДӘЛЕЛДЕНБЕГЕН / СОГЛАСОВАН, ПРОИСХОЖДЕНИЕ НЕ ДОКАЗАНО / "
              "CONSISTENT, ORIGIN UNPROVEN")
        return 3
    print(f"origin: {facts['origin']}")
    print("БҮТІН / ЦЕЛОСТЕН / INTACT")
    return 0


if __name__ == "__main__":
    sys.exit(main())
