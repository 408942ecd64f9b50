"""Time rules of authentication: session timeouts, account lockout, address throttling.

Pure functions over times in nanoseconds; the callers own the clock.
"""

from __future__ import annotations

import ipaddress
from collections import deque
from dataclasses import dataclass

from kuzet.errors import Phrase

NS = 1_000_000_000
SESSION_IDLE_NS = 15 * 60 * NS
SESSION_ABSOLUTE_NS = 12 * 3600 * NS
LOCKOUT_AFTER = 5  # failed logins in a row lock the account
LOCKOUT_NS = 15 * 60 * NS
THROTTLE_WINDOW_NS = 60 * NS
THROTTLE_MAX = 10  # failed logins from one address per window
MAX_ADDRESSES = 10_000  # addresses remembered before the stale ones are forgotten


def session_expired(created_ns: int, last_seen_ns: int, now_ns: int) -> Phrase | None:
    """Why a session has ended, or None while it is live (a Phrase: the refusal that
    follows is said in the caller's language)."""
    if now_ns - created_ns >= SESSION_ABSOLUTE_NS:
        return Phrase("the session reached its 12-hour limit")
    if now_ns - last_seen_ns >= SESSION_IDLE_NS:
        return Phrase("the session was idle for 15 minutes")
    return None


def address_key(address: str) -> str:
    """Where failed logins are counted: the address, or for IPv6 its /64 (one host picks
    any address of its network's /64, so counting per address would not bound it)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


@dataclass(frozen=True)
class LockState:
    failed: int
    locked_until_ns: int


def after_failure(state: LockState, now_ns: int) -> LockState:
    failed = state.failed + 1
    if failed >= LOCKOUT_AFTER:
        return LockState(0, now_ns + LOCKOUT_NS)
    return LockState(failed, state.locked_until_ns)


def locked(state: LockState, now_ns: int) -> bool:
    return now_ns < state.locked_until_ns


class AddressThrottle:
    """Failed logins per client address in a sliding window.

    Kept in the server's memory: it guards one server against a guessing client, and a
    restart forgetting it is harmless because account lockout lives in the database.
    """

    def __init__(self, window_ns: int = THROTTLE_WINDOW_NS, limit: int = THROTTLE_MAX) -> None:
        self.window_ns = window_ns
        self.limit = limit
        self._failures: dict[str, deque[int]] = {}

    def _recent(self, address: str, now_ns: int) -> deque[int]:
        q = self._failures.setdefault(address, deque())
        while q and q[0] <= now_ns - self.window_ns:
            q.popleft()
        return q

    def blocked(self, address: str, now_ns: int) -> bool:
        return len(self._recent(address, now_ns)) >= self.limit

    def fail(self, address: str, now_ns: int) -> None:
        self._recent(address, now_ns).append(now_ns)
        if len(self._failures) > MAX_ADDRESSES:  # forget addresses whose window has passed
            stale = now_ns - self.window_ns
            for key in [k for k, v in self._failures.items() if not v or v[-1] <= stale]:
                del self._failures[key]
