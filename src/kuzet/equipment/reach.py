"""Whether each item of the register with an IP address answers on the network (UE-10-22
3.3.6: the cable network; issue 22).

A TCP connection to the item's address (port `network_probe_port`, 80 by default): one
accepted or refused both prove the host is up (a refusal is its own TCP stack answering);
a timeout or "no route" mean it is not. ICMP would say the same, but an unprivileged
service cannot send it (no raw socket; `ping_group_range` is closed on Debian), and a TCP
handshake needs nothing. The items are probed on 64 threads at once, each within
`TIMEOUT_S`: 500 items all down cost 8 timeouts' wait (12 s), not 500. An item not
answering `MISSES` polls in a row is an `item_unreachable` warning, subject its name (a
fault in its log), cleared when it answers; decommissioned items are not probed.

`Misses.down` is pure; `probe` is the I/O.
"""

from __future__ import annotations

import errno
import socket
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from kuzet.access.lan import Network, outside, parse_address
from kuzet.catalog.alarms import Alarms, Severity
from kuzet.equipment.fields import State
from kuzet.equipment.register import ItemView, Register

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
class Misses:
    """Polls in a row each item did not answer."""

    count: dict[str, int] = field(default_factory=dict)

    def down(self, answers: Mapping[str, str | None]) -> dict[str, str]:
        """The items not answering `MISSES` polls in a row, with why, as of `answers`."""
        self.count = {name: self.count.get(name, 0) + 1
                      for name, why in answers.items() if why is not None}
        return {name: str(answers[name]) for name, n in self.count.items() if n >= MISSES}


def probed(items: Iterable[ItemView], lan: list[Network]) -> dict[str, str]:
    """The items to probe: in the register with an address on the LAN (UE-10-22 3.5.3: an
    address typed outside it is never connected to), not decommissioned."""
    out = {}
    for v in items:
        address = parse_address(str(v.values.get("ip") or ""))
        if address is not None and v.state != State.DECOMMISSIONED \
                and not outside([address], lan):
            out[v.name] = str(address)
    return out


class NetworkWatch:
    """`poll` is the check `kuzet serve` runs every `network_poll_s`."""

    def __init__(self, register: Register, alarms: Alarms, port: int, lan: list[Network],
                 ask: Callable[[str, int], str | None] = probe) -> None:
        self.register = register
        self.lan = lan
        self.alarms = alarms
        self.port = port
        self.ask = ask
        self.misses = Misses()
        self.kept = alarms.kept({UNREACHABLE: Severity.WARNING})

    def poll(self) -> None:
        targets = probed(self.register.items(), self.lan)
        with ThreadPoolExecutor(THREADS, thread_name_prefix="reach") as pool:
            answers = dict(zip(targets, pool.map(lambda a: self.ask(a, self.port),
                                                 targets.values()), strict=True))
        down = self.misses.down(answers)
        # an item no longer probed (decommissioned, its address removed) is cleared too
        for name in sorted(set(targets) | self.kept.subjects((UNREACHABLE,))):
            why = down.get(name)
            self.kept.settle(name, {} if why is None else {
                UNREACHABLE: f"{name} ({targets[name]}) does not answer on the network: {why}"})
