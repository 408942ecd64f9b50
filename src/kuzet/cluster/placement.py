"""Which node records each camera: pure, the same answer on every node from the same rows.

Each node reads the nodes, the cameras and their leases once a turn and works out the
whole placement; it then takes only the cameras placed on itself and hands over only its
own. Two nodes that read at different instants may disagree for a turn: the lease rows'
conditional writes (`kuzet.cluster.leases`) let only one of them take a camera, and the
other sees it taken at its next turn.

The rules, in order: a camera pinned to a live, active node is on that node; a camera
whose lease a live, active node holds stays there, unless that node holds more than its
share (the cameras in proportion to the nodes' capacities, rounded up): a move costs a
gap of a second or two, so cameras move for balance only when a node joins or comes back,
never back and forth; any other camera goes to a live, active node of its building if
there is one, else of any building, the least full first (cameras placed over its
capacity), ties by name. A camera for which no node is live and active is placed nowhere.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class NodeView:
    name: str
    live: bool  # heartbeat within the lease time
    active: bool  # not draining
    max_cameras: int
    building: str | None = None

    @property
    def usable(self) -> bool:
        return self.live and self.active


@dataclass(frozen=True)
class CameraView:
    id: int
    pinned: str | None = None
    building: str | None = None


@dataclass(frozen=True)
class LeaseView:
    node: str
    epoch: int
    live: bool  # renewed within its time


@dataclass
class Plan:
    """One node's part of the placement: what it takes, and what it hands to whom
    (None: to nobody, the lease let go)."""
    take: list[int] = field(default_factory=list)
    hand: dict[int, str | None] = field(default_factory=dict)


def place(nodes: Iterable[NodeView], cameras: Iterable[CameraView],
          leases: Mapping[int, LeaseView]) -> dict[int, str | None]:
    """Every camera's node (None: no node can take it)."""
    usable = {n.name: n for n in nodes if n.usable}
    load = dict.fromkeys(usable, 0)
    out: dict[int, str | None] = {}
    free: list[CameraView] = []
    cams = sorted(cameras, key=lambda c: c.id)
    room = sum(n.max_cameras for n in usable.values())
    share = {n: -(-len(cams) * u.max_cameras // room) for n, u in usable.items()}
    for cam in cams:
        lease = leases.get(cam.id)
        if cam.pinned in usable:
            node = cam.pinned
        elif cam.pinned is None and lease is not None and lease.live and lease.node in usable \
                and load[lease.node] < share[lease.node]:
            node = lease.node
        else:
            free.append(cam)
            continue
        out[cam.id] = node
        load[node] += 1
    for cam in free:
        near = [n for n in usable.values() if cam.building and n.building == cam.building]
        among = near or list(usable.values())
        if not among:
            out[cam.id] = None
            continue
        best = min(among, key=lambda n: (load[n.name] / n.max_cameras, n.name))
        out[cam.id] = best.name
        load[best.name] += 1
    return out


def plan_for(me: str, placed: Mapping[int, str | None],
             leases: Mapping[int, LeaseView]) -> Plan:
    """What node `me` does this turn: take what is placed on it and not held live by
    another (a live holder hands it over itself), hand over what it holds and is placed
    on another node. A camera no node can take stays where it is, draining or not: a
    camera recorded by a node being drained beats one recorded by none."""
    plan = Plan()
    for cam_id, node in sorted(placed.items()):
        lease = leases.get(cam_id)
        if node == me:
            if lease is None or lease.node == me or not lease.live:
                plan.take.append(cam_id)
        elif lease is not None and lease.node == me and node is not None:
            plan.hand[cam_id] = node  # (placed nowhere: it stays here, recorded)
    for cam_id, lease in sorted(leases.items()):  # a camera no longer in the register
        if cam_id not in placed and lease.node == me:
            plan.hand[cam_id] = None
    return plan
