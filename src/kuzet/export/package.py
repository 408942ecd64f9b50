"""An export package: one ZIP (stored, nothing compressed) holding per camera the MP4
files, manifest.json, its Ed25519 signature, the public key, a README in three
languages and the standalone verifier.

The ZIP is streamed to disk once: the file hashes and the package's own hash are taken
on the way, by the thread that writes (kuzet.export.hashing), under a `.part` name
renamed only when complete, so a failure (a deleted range, a file changed on disk)
leaves no package behind.
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kuzet.catalog.store import Catalog
from kuzet.export.hashing import HashingFile
from kuzet.export.readme import readme
from kuzet.export.writer import CameraExport, export_camera
from kuzet.signing import fingerprint, public_pem
from kuzet.storage.footage import Footage
from kuzet.timefmt import NS, format_instant

FORMAT = "kuzet-export/1"


@dataclass(frozen=True)
class Built:
    path: Path
    sha256: str  # of the .zip as handed over
    manifest_sha256: str
    size: int
    fingerprint: str
    cameras: list[CameraExport]


def _camera_json(c: CameraExport) -> dict[str, Any]:
    return {
        "camera": c.camera, "from": format_instant(c.start_ns), "to": format_instant(c.end_ns),
        "files": [{
            "file": p.file.split("/", 1)[1], "media_origin": format_instant(p.media_origin_ns),
            "from": format_instant(p.start_ns), "to": format_instant(p.end_ns),
            "frames": p.frames, **p.params,
            "segments": [{
                "start": format_instant(s.start_ns), "end": format_instant(s.end_ns),
                "frames": s.frames, "frames_exported": s.frames_exported, "sha256": s.sha256,
                "chain": {"prev_link": s.prev_link, "link": s.link}} for s in p.sources]}
            for p in c.parts],
        "not_in_package": [{"from": format_instant(u.start_ns), "to": format_instant(u.end_ns),
                            "recorded_causes": list(u.causes)} for u in c.uncovered]}


def build(dest: Path, folder: str, ranges: list[tuple[str, int, int]], facts: dict[str, Any],
          key: Ed25519PrivateKey, catalog: Catalog, created_ns: int, org: str,
          footage: Footage | None = None) -> Built:
    """Write the package for `ranges` [(camera, from, to)] to `dest` (a .zip)."""
    part = dest.with_name(dest.name + ".part")
    dest.parent.mkdir(parents=True, exist_ok=True)
    fp = fingerprint(key)
    stamp = datetime.fromtimestamp(created_ns / NS, UTC).timetuple()[:6]
    sink = HashingFile(str(part))
    files: dict[str, dict[str, Any]] = {}
    try:
        with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED,
                             allowZip64=True) as zf:

            def put(name: str, data: bytes) -> None:
                zf.writestr(zipfile.ZipInfo(f"{folder}/{name}", date_time=stamp), data)

            exports = [export_camera(catalog, zf, folder, cam, a, b, created_ns, footage)
                       for cam, a, b in ranges]
            for c in exports:
                for p in c.parts:
                    files[p.file.split("/", 1)[1]] = {"sha256": p.sha256, "bytes": p.size}
            extras = {
                "README.txt": readme(facts["number"], org, f"{folder}.zip").encode(),
                "verify.py": resources.files("kuzet.export").joinpath(
                    "verify_package.py").read_bytes()}
            for name, data in extras.items():
                files[name] = {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
                put(name, data)
            manifest = {"format": FORMAT, "package": {
                "folder": folder, "created": format_instant(created_ns), **facts},
                "cameras": [_camera_json(c) for c in exports], "files": files,
                "signature": {"algorithm": "Ed25519", "fingerprint": fp,
                              "signed": "manifest.json", "file": "manifest.sig",
                              "public_key": "public_key.pem"}}
            body = json.dumps(manifest, ensure_ascii=False, indent=2).encode()
            put("manifest.json", body)
            put("manifest.sig", key.sign(body))
            put("public_key.pem", public_pem(key))
        sink.close()
    except BaseException:
        sink.close()
        part.unlink(missing_ok=True)
        raise
    os.replace(part, dest)
    return Built(dest, sink.sha.hexdigest(), hashlib.sha256(body).hexdigest(), sink.size, fp,
                 exports)
