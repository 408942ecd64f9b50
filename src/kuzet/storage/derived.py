"""What Kuzet keeps beside the footage and deletes with it (clause 3.3), as the sweeper
sees it: pictures cleared with the footage they show, export packages deleted when their
approval expires, the webhook's undelivered events after 30 days.

Detection's event pictures and the protocols' frames live in tables of packages above
storage, so those packages hand the sweeper a `Derived` each (a name for the audit entry
and the function that clears one camera's expired pictures in the sweeper's transaction),
and the assembly (`kuzet.server`) gives the sweeper them all as one `Beside`: storage
imports neither detection nor the documents. The filters here turn a camera's expired
spans (`storage.expiry`) into SQL.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, false, or_
from sqlalchemy.orm import Session

from kuzet.storage.expiry import EARLIEST, Expired, Span

# Clear what one camera (its id) keeps of its expired footage, inside the sweeper's
# transaction; the number of pictures (or rows) cleared.
Clear = Callable[[Session, int, Expired], int]


@dataclass(frozen=True)
class Derived:
    """Pictures of footage kept in rows of their own: `name` counts them in the sweeper's
    `pictures.delete` entry (`event_pictures`), `clear` clears a camera's expired ones."""

    name: str
    clear: Clear


# Delete what is due by the instant given; how many went.
Expire = Callable[[int], int]


@dataclass(frozen=True)
class Beside:
    """Everything the sweeper expires besides segments: the pictures (`derived`), the
    export packages (`packages`: those whose approval expired, each audited) and the
    webhook's dead letters (`dead_letters`: lines older than 30 days)."""

    derived: tuple[Derived, ...] = ()
    packages: Expire | None = None
    dead_letters: Expire | None = None


def instants_in(column: Any, spans: Sequence[Span]) -> ColumnElement[bool]:
    """`column` (an instant, ns) lies in one of the spans."""
    return or_(false(), *(column < b if a == EARLIEST else and_(column >= a, column < b)
                          for a, b in spans))


def lengths_in(column: Any, length_ns: int, spans: Sequence[Span]) -> ColumnElement[bool]:
    """[column, column + length_ns) lies wholly inside one of the spans (the bare column
    compared, so that its index serves)."""
    return or_(false(), *(column <= b - length_ns if a == EARLIEST
                          else and_(column >= a, column <= b - length_ns)
                          for a, b in spans))
