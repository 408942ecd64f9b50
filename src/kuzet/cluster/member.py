"""A recording node's turn, every `lease_renew_s`: heartbeat, renew, place, hand over,
take (issue 25). The recorder reads `held` to know which cameras it records and under
which epoch; nothing else decides it.

A camera moves in one direction only: its holder first stops recording it (its segment
closed and committed under its own epoch), then hands the lease over; the new node starts
at its next turn. A node that lost a lease without knowing (paused, cut off) finds it
gone at its next turn and stops; anything it still commits is refused by the catalog.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from kuzet.cluster.leases import Leases, NameTaken
from kuzet.cluster.placement import place, plan_for

log = logging.getLogger(__name__)


class Member:
    def __init__(self, leases: Leases, release: Callable[[list[int]], None],
                 changed: Callable[[], None], status: Callable[[], Mapping[str, Any]],
                 recording: Callable[[], bool] = lambda: True) -> None:
        """`release`: stop recording these cameras and wait for their segments to be
        committed; `changed`: `held` changed (the recorder follows it at once);
        `status`: what the heartbeat reports of this node; `recording`: False while it
        records nothing (its UPS said the power is going): its cameras go to the others."""
        self.leases = leases
        self.name = leases.me.name
        self.release = release
        self.changed = changed
        self.status = status
        self.recording = recording
        self.held: Mapping[int, int] = {}  # camera id -> the lease epoch it records under

    def turn(self) -> None:
        try:
            t = self.leases.beat(self.status())
        except NameTaken:  # another process is this node now: record nothing more here
            if self.held:
                self.held = {}
                self.changed()
            raise
        held = t.mine(self.name)
        nodes = t.nodes if self.recording() else [
            replace(n, active=False) if n.name == self.name else n for n in t.nodes]
        plan = plan_for(self.name, place(nodes, t.cameras, t.leases), t.leases)
        if plan.hand:
            going = {c: held.pop(c) for c in plan.hand if c in held}
            self.held = dict(held)  # the recorder starts none of them again
            self.release(list(going))
            for cam, was in going.items():
                if self.leases.hand(cam, was, plan.hand[cam]):
                    log.info("camera %d handed to node %s", cam, plan.hand[cam] or "-")
        for cam in plan.take:
            seen = t.leases.get(cam)
            if seen is not None and seen.node == self.name:
                continue
            epoch = self.leases.take(cam, seen, let_go=t.expires.get(cam) == 0)
            if epoch is not None:
                log.info("camera %d taken under epoch %d", cam, epoch)
                held[cam] = epoch
        if held != self.held:
            self.held = held
            self.changed()
