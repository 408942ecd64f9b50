"""The data home is the service user's alone: folders 0700, files 0600 (finished media
0400).

The catalog holds the audit log, basis scans and the (sealed) second-factor secrets; the
volumes and `exports/` hold footage; `keys/` and the TLS key hold what signs and proves
the installation. Another local account on the recorder has no business reading any of
it. The `kuzet` command runs under umask 077, so what it makes is private from the start;
this module narrows what an older installation left open (`kuzet init` walks everything,
`kuzet serve` only the places and their first level, which is cheap at every start) and
names what is still open (`kuzet verify`).
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from kuzet.config import Settings

UMASK = 0o077
OTHERS = 0o077  # group and other bits: anyone but the owner


@dataclass(frozen=True)
class Found:
    path: Path
    mode: int  # permission bits only
    is_dir: bool


def is_open(mode: int) -> bool:
    return bool(mode & OTHERS)


def catalog_files(url: str) -> list[Path]:
    """The SQLite catalog and the files SQLite keeps beside it; none for PostgreSQL."""
    if not url.startswith("sqlite:///"):
        return []
    db = Path(url.removeprefix("sqlite:///").split("?")[0])
    return [db, *(db.with_name(db.name + s) for s in ("-wal", "-shm", "-journal"))]


def private_places(settings: Settings, volumes: Iterable[Path]) -> list[Path]:
    """Where nobody but the service user may look: the home (with the catalog, settings,
    keys, run files and exports), a catalog or TLS key kept elsewhere, and every media
    volume. A place inside another is left to the outer one, so nothing is visited
    twice."""
    home = settings.home.resolve()
    places = [home, *catalog_files(settings.catalog_url), settings.key_path,
              *(v.resolve() for v in volumes)]
    return [p for i, p in enumerate(places) if p not in places[:i]
            and not any(p != q and p.is_relative_to(q) for q in places)]


def walk(places: Iterable[Path], depth: int | None = None) -> Iterator[Found]:
    """Each place that exists and, down to `depth` levels (None: all), what lies in it;
    links below a place are not followed."""
    for place in places:
        try:
            st = place.stat()
        except FileNotFoundError:
            continue
        yield from _below(place, st, depth)


def _below(path: Path, st: os.stat_result, depth: int | None) -> Iterator[Found]:
    is_dir = stat.S_ISDIR(st.st_mode)
    yield Found(path, stat.S_IMODE(st.st_mode), is_dir)
    if not is_dir or depth == 0:
        return
    with os.scandir(path) as entries:
        children = [(Path(e.path), e.stat(follow_symlinks=False)) for e in entries
                    if not e.is_symlink()]
    for child, child_st in children:
        yield from _below(child, child_st, None if depth is None else depth - 1)


def tighten(places: Iterable[Path], depth: int | None = None) -> None:
    """Take the group and other bits off every place and what lies in it, keeping the
    owner's (a read-only segment stays read-only). A path owned by someone else is left
    as it is; `kuzet verify` names it."""
    for found in walk(places, depth):
        if is_open(found.mode):
            with contextlib.suppress(PermissionError):
                os.chmod(found.path, found.mode & ~OTHERS)


def exposed(places: Iterable[Path]) -> Iterator[Found]:
    """Everything in the places that someone besides the owner may read or enter."""
    return (f for f in walk(places) if is_open(f.mode))
