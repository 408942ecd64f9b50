"""Whether each item of the register with an IP address answers on the network (UE-10-22
3.3.6: the cable network; issue 22).

A TCP connection to the item's address (port `network_probe_port`, 80 by default): one
accepted or refused both prove the host is up (a refusal is its own TCP stack answering);
a timeout or "no route" mean it is not. ICMP would say the same, but an unprivileged
service cannot send it (no raw socket; `ping_group_range` is closed on Debian), and a TCP
handshake needs nothing. The items are probed at once, each within `TIMEOUT_S`, so 500 of
them cost one timeout's wait, not 500. An item not answering `MISSES` polls in a row is
an `item_unreachable` warning, subject its name (a fault in its log), cleared when it
answers; decommissioned items are not probed.

`Reach.decide` is pure; `probe` is the I/O.
"""

from __future__ import annotations

import errno
import logging
import socket
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from kuzet.catalog.alarms import Alarms, Severity
from kuzet.equipment.fields import State
from kuzet.equipment.register import ItemView, Register

log = logging.getLogger(__name__)
UNREACHABLE = "item_unreachable"
TIMEOUT_S = 1.5
MISSES = 2  # polls in a row: one lost SYN is not an outage
THREADS = 64


def probe(address: str, port: int, timeout_s: float = TIMEOUT_S) -> str | None:
    """None when the host answers (accepts or refuses), else why not."""
    try:
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.settimeout(timeout_s)
            code = s.connect_ex((address, port))
    except OSError as exc:
        return exc.strerror or str(exc)
    if code in (0, errno.ECONNREFUSED):
        return None
    if code in (errno.EAGAIN, errno.EINPROGRESS, errno.ETIMEDOUT):
        return f"no answer within {timeout_s:g} s"
    return errno.errorcode.get(code, str(code)) + f" ({code})"


@dataclass
class Reach:
    """Misses in a row per item, and which are alarmed."""

    misses: dict[str, int] = field(default_factory=dict)
    alarmed: set[str] = field(default_factory=set)

    def decide(self, answers: Mapping[str, str | None]) -> list[tuple[str, str | None]]:
        """(item, why it is unreachable) to raise, (item, None) to clear."""
        out: list[tuple[str, str | None]] = []
        for name, why in answers.items():
            if why is None:
                self.misses.pop(name, None)
                if name in self.alarmed:
                    self.alarmed.discard(name)
                    out.append((name, None))
                continue
            self.misses[name] = self.misses.get(name, 0) + 1
            if self.misses[name] >= MISSES and name not in self.alarmed:
                self.alarmed.add(name)
                out.append((name, why))
        for name in sorted(self.alarmed - set(answers)):  # no longer probed
            self.alarmed.discard(name)
            self.misses.pop(name, None)
            out.append((name, None))
        return out


def probed(items: Iterable[ItemView]) -> dict[str, str]:
    """The items to probe: in the register with an address, not decommissioned."""
    return {v.name: str(v.values["ip"]) for v in items
            if v.values.get("ip") and v.state != State.DECOMMISSIONED}


class NetworkWatch:
    """`poll` is the check `kuzet serve` runs every `network_poll_s`."""

    def __init__(self, register: Register, alarms: Alarms, port: int,
                 ask: Callable[[str, int], str | None] = probe) -> None:
        self.register = register
        self.alarms = alarms
        self.port = port
        self.ask = ask
        self.reach = Reach(alarmed={a.subject for a in alarms.list() if a.kind == UNREACHABLE})
        self.pool = ThreadPoolExecutor(THREADS, thread_name_prefix="reach")

    def poll(self) -> None:
        targets = probed(self.register.items())
        answers = dict(zip(targets, self.pool.map(lambda a: self.ask(a, self.port),
                                                  targets.values()), strict=True))
        for name, why in self.reach.decide(answers):
            if why is None:
                self.alarms.clear(UNREACHABLE, name)
            else:
                message = (f"{name} ({targets[name]}) does not answer on the network: {why}")
                log.warning("%s", message)
                self.alarms.raise_(UNREACHABLE, name, Severity.WARNING, message)
