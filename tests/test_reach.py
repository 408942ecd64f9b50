"""The cable network (UE-10-22 3.3.6; issue 22): each register item with an address is
probed with a TCP connection; one that does not answer twice in a row is an
`item_unreachable` warning (a fault in its log), cleared when it answers again."""

from __future__ import annotations

import socket
from typing import Any

from kuzet.access.lan import parse_networks
from kuzet.catalog.alarms import Alarms
from kuzet.equipment.fields import Kind, Passport, State
from kuzet.equipment.reach import NetworkWatch, probe
from kuzet.equipment.register import Register

# RFC 6666's discard-only prefix: never routed, so nothing answers (no route, or a timeout,
# or no IPv6 at all: each a reason)
NOWHERE = "100::1"


def test_a_host_answers_by_accepting_or_refusing(closed_port: int) -> None:
    """3.3.6: a refused connection is the host's own answer; no route is none."""
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        assert probe("127.0.0.1", listening.getsockname()[1]) is None
    assert probe("127.0.0.1", closed_port) is None
    why = probe(NOWHERE, 80, timeout_s=0.5)
    assert why is not None
    assert why


def test_an_item_not_answering_is_alarmed_and_cleared(storage: Any, closed_port: int) -> None:
    """3.3.6: a switch that stops answering raises item_unreachable after two polls, a
    fault in its log; answering again clears both; a decommissioned item is not probed."""
    alarms = Alarms(storage.catalog.session)
    register = Register(storage.catalog.session)
    alarms.listen(register.on_alarm)
    register.add(Kind.SWITCH, "sw-up", Passport({"ip": "127.0.0.1"}), by="it")
    register.add(Kind.SWITCH, "sw-down", Passport({"ip": NOWHERE}), by="it")
    register.add(Kind.SWITCH, "sw-old", Passport({"ip": NOWHERE}), by="it",
                 state=State.DECOMMISSIONED)
    # this test's LAN holds the discard prefix; an item outside the LAN is never probed
    register.add(Kind.SWITCH, "sw-far", Passport({"ip": "8.8.8.8"}), by="it")
    asked: list[str] = []

    def ask(address: str, port: int) -> str | None:
        asked.append(address)
        return probe(address, port, timeout_s=0.5)

    watch = NetworkWatch(register, alarms, closed_port,
                         parse_networks(["127.0.0.0/8", "100::/64"]), ask=ask)

    def unreachable() -> dict[str, str]:
        watch.poll()
        return {a.subject: a.message for a in alarms.list() if a.kind == "item_unreachable"}

    assert unreachable() == {}  # one miss: not yet
    assert sorted(asked) == [NOWHERE, "127.0.0.1"]  # not sw-old (decommissioned), not sw-far
    said = unreachable()
    assert list(said) == ["sw-down"]
    assert said["sw-down"].startswith(f"sw-down ({NOWHERE}) does not answer on the network: ")
    assert register.item("sw-down").state == "faulty"
    register.update("sw-down", Passport({"ip": "127.0.0.1"}), by="it")
    assert unreachable() == {}
    assert register.item("sw-down").state == "in_service"  # the alarm's fault closed
