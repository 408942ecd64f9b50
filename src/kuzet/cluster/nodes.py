"""The node register seen by people: the list with each node's state, and what IT does to
it (drain, undrain, forget) and to a camera's place (pin to a node, or back to automatic
placement). Each change is audited in its own transaction (4.2). None of this records or
deletes footage: a drained or forgotten node's segments stay its volumes' rows."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kuzet.catalog.models import Camera, CameraLease, Node
from kuzet.catalog.store import Catalog
from kuzet.cluster.leases import ACTIVE, DRAINING, NOW
from kuzet.errors import Conflict, Invalid, NotFound

InTransaction = Callable[[Session, object], object]
AUTO = "auto"  # `kuzet camera move CAMERA auto`: placed automatically again


@dataclass(frozen=True)
class NodeRow:
    name: str
    state: str  # active or draining
    up: bool  # its heartbeat within the lease time
    cameras: int  # leases it holds
    heartbeat_ns: int
    version: str
    schema: str
    addresses: list[str]
    max_cameras: int
    max_mbps: int
    building: str | None
    status: dict[str, Any]


def node_list(catalog: Catalog, ttl_s: float) -> list[NodeRow]:
    """Every node, up when its heartbeat is within `ttl_s` by the catalog's clock; none
    on SQLite, which a node refuses."""
    if catalog.engine.dialect.name == "sqlite":
        return []
    with catalog.session() as s:
        now = int(s.scalar(select(NOW)) or 0)
        held = {node: count for node, count in s.execute(
            select(CameraLease.node, func.count()).group_by(CameraLease.node))}
        return [NodeRow(n.name, n.state, n.heartbeat_ns > now - int(ttl_s * 1e9),
                        int(held.get(n.name, 0)), n.heartbeat_ns, n.version, n.schema,
                        json.loads(n.addresses), n.max_cameras, n.max_mbps, n.building,
                        json.loads(n.status))
                for n in s.scalars(select(Node).order_by(Node.name))]


def set_state(catalog: Catalog, name: str, draining: bool, audit: InTransaction) -> None:
    """Drain a node (it hands its cameras to the others and takes none) or take it back."""
    with catalog.session.begin() as s:
        node = s.get(Node, name)
        if node is None:
            raise NotFound("no node named {name!r}", name=name)
        node.state = DRAINING if draining else ACTIVE
        audit(s, node)


def forget(catalog: Catalog, name: str, ttl_s: float, audit: InTransaction) -> None:
    """A node taken out of the cluster for good: its row goes, its footage's rows stay
    (shown unavailable while its disks are away). Refused while it is up."""
    rows = {r.name: r for r in node_list(catalog, ttl_s)}
    row = rows.get(name)
    if row is None:
        raise NotFound("no node named {name!r}", name=name)
    if row.up:
        raise Conflict("node {name} is up: stop it (or drain it) before forgetting it",
                       name=name)
    with catalog.session.begin() as s:
        node = s.get(Node, name)
        if node is not None:
            s.delete(node)
        audit(s, node)


def move(catalog: Catalog, camera: str, node: str, audit: InTransaction) -> None:
    """Pin a camera to a node (its holder hands it over at its next turn), or `auto`."""
    with catalog.session.begin() as s:
        cam = s.scalar(select(Camera).where(Camera.name == camera,
                                            Camera.removed_ns.is_(None)))
        if cam is None:
            raise NotFound("no camera named {name!r}", name=camera)
        if node != AUTO and s.get(Node, node) is None:
            raise Invalid("no node named {name!r}: `kuzet node list` names them", name=node)
        cam.pinned_node = None if node == AUTO else node
        audit(s, cam)
