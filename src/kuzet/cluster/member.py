"""A recording node's turn, every `lease_renew_s`: heartbeat, renew, place, hand over,
take (issue 25). The recorder reads `held` to know which cameras it records and under
which epoch, and `standby` which it records beside their holder, waiting for them;
nothing else decides it.

A planned move (a drain, a move, a node joining) is made before it is broken: the holder
offers the camera to the new node and goes on recording it; the new node records it
beside the holder into files it does not catalogue yet, cutting them at every keyframe,
and says so once it has the stream; the holder then stops (its segment closed and
committed under its own epoch) and hands the lease over; the new node, at its next turn,
catalogues its files from the first that starts after the holder's last, so the camera's
gap is less than a GOP. An offer not taken up within `OFFER_WAIT_S` (the new node cannot
reach the camera) is handed over as it stands. A camera no node can take, or a node whose
power is going, hands over at once.

A node that lost a lease without knowing (paused, cut off) finds it gone at its next turn
and stops; anything it still commits is refused by the catalog.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from kuzet.cluster.leases import Leases, NameTaken, Turn
from kuzet.cluster.placement import Plan, place, plan_for

log = logging.getLogger(__name__)
# how long a holder waits for the node it offered a camera to: that node's turn, its
# connection, a GOP and its next turn take 2-5 s in the tests
OFFER_WAIT_S = 15.0


class Member:
    def __init__(self, leases: Leases, release: Callable[[list[int]], None],
                 changed: Callable[[], None], status: Callable[[], Mapping[str, Any]],
                 recording: Callable[[], bool] = lambda: True,
                 standing: Callable[[int], bool] = lambda camera: False) -> None:
        """`release`: stop recording these cameras and wait for their segments to be
        committed; `changed`: `held` or `standby` changed (the recorder follows at once);
        `status`: what the heartbeat reports of this node; `recording`: False while it
        records nothing (its UPS said the power is going): its cameras go to the others;
        `standing`: whether a camera in `standby` is being recorded here already."""
        self.leases = leases
        self.name = leases.me.name
        self.release = release
        self.changed = changed
        self.status = status
        self.recording = recording
        self.standing = standing
        self.held: Mapping[int, int] = {}  # camera id -> the lease epoch it records under
        # camera id -> the epoch it will be recorded under once its holder hands it over
        self.standby: Mapping[int, int] = {}
        self._offered: dict[int, tuple[str, float]] = {}  # camera -> (to whom, since)

    def turn(self) -> None:
        try:
            t = self.leases.beat(self.status())
        except NameTaken:  # another process is this node now: record nothing more here
            if self.held or self.standby:
                self.held, self.standby = {}, {}
                self.changed()
            raise
        held = t.mine(self.name)
        powered = self.recording()
        nodes = t.nodes if powered else [
            replace(n, active=False) if n.name == self.name else n for n in t.nodes]
        plan = plan_for(self.name, place(nodes, t.cameras, t.leases), t.leases)
        going = self._going(plan, held, t, powered)
        if going:
            moved = {c: held.pop(c) for c in going}
            self.held = dict(held)  # the recorder starts none of them again
            self.release(list(moved))
            for cam, was in moved.items():
                if self.leases.hand(cam, was, going[cam]):
                    log.info("camera %d handed to node %s", cam, going[cam] or "-")
        for cam in plan.take:
            seen = t.leases.get(cam)
            if seen is not None and seen.node == self.name:
                continue
            epoch = self.leases.take(cam, seen, let_go=t.expires.get(cam) == 0)
            if epoch is not None:
                log.info("camera %d taken under epoch %d", cam, epoch)
                held[cam] = epoch
        standby = {cam: o.epoch + 1 for cam, o in t.offers.items()
                   if o.to == self.name and cam not in held and cam in t.leases
                   and t.leases[cam].live}
        for cam in standby:
            if not t.offers[cam].ready and self.standing(cam):
                self.leases.ready(cam, t.offers[cam].epoch)
        if held != self.held or standby != self.standby:
            self.held, self.standby = held, standby
            self.changed()

    def _going(self, plan: Plan, held: Mapping[int, int], t: Turn,
               powered: bool) -> dict[int, str | None]:
        """The cameras to hand over now: those whose new node records them beside this
        one (or did not within `OFFER_WAIT_S`), those no node can take, all of them when
        the power is going; the others are offered, and offers the plan no longer makes
        withdrawn."""
        now = time.monotonic()
        going: dict[int, str | None] = {}
        for cam, to in plan.hand.items():
            if cam not in held:
                continue
            offer = t.offers.get(cam)
            offered = self._offered.get(cam)
            waited = offered is not None and offered[0] == to and \
                now - offered[1] > OFFER_WAIT_S
            taken_up = offer is not None and offer.to == to and (offer.ready or waited)
            if to is None or not powered or taken_up:
                going[cam] = to
            elif offer is None or offer.to != to:
                if self.leases.offer(cam, held[cam], to):
                    self._offered[cam] = (to, now)
                    log.info("camera %d offered to node %s", cam, to)
            elif offered is None or offered[0] != to:  # an offer of an earlier turn's
                self._offered[cam] = (to, now)
        for cam in t.offers:
            if cam in held and cam not in plan.hand:
                self.leases.offer(cam, held[cam], None)
        for cam in set(self._offered) - set(plan.hand):
            del self._offered[cam]
        for cam in going:
            self._offered.pop(cam, None)
        return going
