"""`kuzet export verify PACKAGE`: check a transfer package as its recipient would, and,
when this installation made it, against the package hash in its register.

The checks are those of the verifier inside every package (kuzet.export.verify_package);
here the register adds the whole-file hash, so a changed byte anywhere in the .zip,
even outside the files the manifest lists, is found.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Annotated

import typer

from kuzet.cli.main import _catalog, _settings
from kuzet.export.verify_package import verify
from kuzet.governance.transfers import Transfers

export_app = typer.Typer(help="Export packages of transfers (clause 3.5.6).",
                         no_args_is_help=True)


def _registered_hash(package: Path) -> tuple[str, str] | None:
    """(number, package SHA-256) from this installation's register, if it made `package`."""
    if not package.is_file():
        return None
    try:
        with zipfile.ZipFile(package) as zf:
            name = next((n for n in zf.namelist() if n.endswith("/manifest.json")
                         and n.count("/") == 1), None)
            if name is None:
                return None
            folder = json.loads(zf.read(name))["package"]["folder"]
    except (zipfile.BadZipFile, OSError, ValueError, KeyError, TypeError):
        return None
    settings = _settings()
    if settings.database_url is None and not (settings.home / "catalog.db").exists():
        return None  # not run on a Kuzet server: no register to consult
    t = Transfers(_catalog(settings).session, settings.display_timezone).by_package(folder)
    if t is None or t.package_sha256 is None:
        return None
    return t.number, t.package_sha256


@export_app.command("verify")
def export_verify(
    package: Path,
    fingerprint: Annotated[str | None, typer.Option(
        help="Key fingerprint from the hand-over act.")] = None,
    sha256: Annotated[str | None, typer.Option(
        help="Package hash from the hand-over act.")] = None,
) -> None:
    """Exit 0 when the package is intact; 1, naming each problem, when it is not."""
    if not package.exists():
        typer.echo(f"error: {package} does not exist", err=True)
        raise typer.Exit(2)
    known = None if sha256 is not None else _registered_hash(package)
    if known is not None:
        typer.echo(f"registered as transfer {known[0]}")
        sha256 = known[1]
    problems, facts = verify(package, fingerprint, sha256)
    typer.echo(f"key fingerprint: {facts.get('fingerprint', '?')}")
    for p in problems:
        typer.echo(f"FAILED: {p}")
    if problems:
        raise typer.Exit(1)
    typer.echo(f"intact: {facts['files']} files match the signed manifest"
               + (", and the package hash matches" if sha256 else ""))


def register(app: typer.Typer) -> None:
    app.add_typer(export_app, name="export")
