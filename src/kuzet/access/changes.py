"""A counter of changes to anyone's rights, so cached principals notice at once.

Sessions cache who a caller is for a second (kuzet.access.sessions); every change of
roles, grants or accounts in this process bumps the counter and so empties that cache.
Other nodes on a shared PostgreSQL catalog see a change when their cached entry ages out,
within `CACHE_NS`.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable
from typing import Any, TypeVar, cast

F = TypeVar("F", bound=Callable[..., Any])

_counter = itertools.count(1)
_current = 0


def bump() -> None:
    global _current
    _current = next(_counter)


def current() -> int:
    return _current


def bumps(method: F) -> F:
    """Bump the counter after `method` returns or raises (its transaction is over then)."""

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        finally:
            bump()

    return cast(F, wrapper)
