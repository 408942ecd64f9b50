"""`kuzet export verify PACKAGE`: check a transfer package as its recipient would, and, on
the server, whether this installation made it.

The checks a package can make of itself are those of the verifier inside every package
(kuzet.export.verify_package); they show only that it agrees with itself, since anyone
can re-sign a changed package with a key of their own. On a Kuzet server (a catalog in
reach) the installation's own keys and its transfer register decide where the package
comes from (kuzet.export.origin): whatever the file or folder is called, a package is
intact only when this installation signed it and recorded exactly this file. Elsewhere,
only the hand-over act's fingerprint or package hash proves origin, as with verify.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kuzet.cli.common import open_catalog, read_settings
from kuzet.config import Settings

export_app = typer.Typer(help="Export packages of transfers (clause 3.5.6).",
                         no_args_is_help=True)

INTACT, NOT_INTACT, UNPROVEN = 0, 1, 3


def _server() -> Settings | None:
    """This installation's settings when run on a Kuzet server, None elsewhere (where
    checking a package must not create a data home)."""
    settings = read_settings()
    if settings.database_url is None and not (settings.home / "catalog.db").exists():
        return None
    return settings


def _against_register(settings: Settings, package: Path, facts: dict[str, object]
                      ) -> tuple[str | None, list[str]]:
    """(the transfer the package is registered as, if any; why it is not ours)."""
    from kuzet.export.origin import Claim, origin_problems
    from kuzet.export.verify_package import read_entry
    from kuzet.governance.holds import Holds
    from kuzet.governance.transfers import Transfers
    from kuzet.signing import known_keys

    described = facts["package"] if isinstance(facts["package"], dict) else {}
    claim = Claim(number=str(described.get("number")),
                  transfer_id=described.get("transfer_id"),
                  fingerprint=str(facts["fingerprint"]),
                  manifest=read_entry(package, "manifest.json") or b"",
                  signature=read_entry(package, "manifest.sig") or b"",
                  package_sha256=(str(facts["package_sha256"]) if "package_sha256" in facts
                                  else None))
    try:
        keys = known_keys(settings.home.resolve())
    except (OSError, ValueError) as exc:
        typer.echo(f"error: cannot read this installation's keys: {exc}", err=True)
        raise typer.Exit(2) from exc
    catalog = open_catalog(settings)
    transfers = Transfers(catalog.session, settings.display_timezone,
                          Holds(catalog, settings.hold_decision_window_days))
    by_number = transfers.by_number(claim.number)
    by_hash = transfers.by_package_hash(claim.digest[1])
    problems = origin_problems(claim, keys, by_number, by_hash)
    return (by_number.number if by_number is not None and not problems else None), problems


@export_app.command("verify")
def export_verify(
    package: Path,
    fingerprint: Annotated[str | None, typer.Option(
        help="Key fingerprint from the hand-over act.")] = None,
    sha256: Annotated[str | None, typer.Option(
        help="Package hash from the hand-over act.")] = None,
) -> None:
    """Exit 0 when the package is intact and its origin proven; 1, naming each problem,
    when it is not; 3 when it agrees with itself but nothing here proves its origin."""
    from kuzet.export.verify_package import verify
    from kuzet.signing import grouped

    if not package.exists():
        typer.echo(f"error: {package} does not exist", err=True)
        raise typer.Exit(2)
    settings = _server()
    problems, facts = verify(package, fingerprint, sha256, hash_package=settings is not None)
    typer.echo(f"key fingerprint: {grouped(str(facts.get('fingerprint', '?')))}")
    registered = None
    if settings is not None and "package" in facts:
        registered, origin = _against_register(settings, package, facts)
        problems += origin
    for p in problems:
        typer.echo(f"FAILED: {p}")
    if problems:
        raise typer.Exit(NOT_INTACT)
    files = f"{facts['files']} files match the signed manifest"
    if registered is not None:
        what = "package" if package.is_file() else "manifest"
        typer.echo(f"intact: {files}, signed by this installation's key, and registered as "
                   f"transfer {registered} with this {what}'s SHA-256")
    elif "origin" in facts:
        typer.echo(f"intact: {files}, and {facts['origin']}")
    else:
        typer.echo(f"consistent, origin unproven: {files}, but no register is in reach here "
                   "to tell this installation's packages from a re-signed forgery; only the "
                   "hand-over act proves origin: pass its key fingerprint (--fingerprint) or "
                   "package hash (--sha256)")
        raise typer.Exit(UNPROVEN)


def register(app: typer.Typer) -> None:
    app.add_typer(export_app, name="export")
