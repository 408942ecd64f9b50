"""The rows of a cluster: each node's heartbeat, each camera's lease, read and written in
PostgreSQL transactions (issue 25). Nothing of this is home-made consensus: a lease is a
row, taking one is a conditional UPDATE (or an INSERT that conflicts), and the catalog's
own clock (`clock_timestamp()`) is the one every expiry is measured by, so nodes whose
clocks differ by seconds still agree on which lease has run out.

A segment commit locks its camera's lease row (`Catalog.add_segment`), so a takeover and a
late commit of the node that lost the camera are serialised: one of them sees the other.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, Connection, cast, delete, func, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from kuzet.catalog.models import CameraLease, Gap, Segment
from kuzet.catalog.store import Catalog
from kuzet.catalog.streams import Stream
from kuzet.cluster.placement import CameraView, LeaseView, NodeView
from kuzet.errors import Conflict
from kuzet.ingest.errors import GapCause
from kuzet.timefmt import NS

# The catalog's clock in nanoseconds (microsecond resolution).
NOW = cast(func.extract("epoch", func.clock_timestamp()) * 1_000_000_000, BigInteger)
ACTIVE = "active"
DRAINING = "draining"


@dataclass(frozen=True)
class Me:
    """What a node says of itself at each heartbeat."""
    name: str
    addresses: tuple[str, ...]
    version: str
    schema: str
    max_cameras: int
    max_mbps: int
    building: str | None


@dataclass(frozen=True)
class Offer:
    """A camera its holder offers to another node (a planned move): under which of the
    holder's epochs, and whether that node records it beside the holder already."""
    to: str
    epoch: int
    ready: bool


@dataclass(frozen=True)
class Turn:
    """One heartbeat's reading of the cluster, as the catalog had it."""
    nodes: list[NodeView]
    cameras: list[CameraView]
    leases: dict[int, LeaseView]
    expires: dict[int, int]  # camera id -> its lease's expiry (0: let go at a stop)
    offers: dict[int, Offer]

    def mine(self, me: str) -> dict[int, int]:
        """The cameras leased to `me`, with their epochs."""
        return {c: lease.epoch for c, lease in self.leases.items() if lease.node == me}


class NameTaken(Conflict):
    """Another live process heartbeats under this node's name (a cloned home, a second
    `kuzet serve --node` of the same name): two recorders under one name would pass each
    other's fences."""


class Leases:
    def __init__(self, catalog: Catalog, me: Me, ttl_s: float) -> None:
        self.catalog = catalog
        self.me = me
        self.ttl_ns = int(ttl_s * NS)
        self.instance = secrets.token_hex(16)  # this process, among those of its name
        self._first = True

    def beat(self, status: Mapping[str, Any]) -> Turn:
        """Heartbeat, renew every lease this node holds, and read the cluster: one
        transaction, four statements (0.9 ms on this machine's PostgreSQL, 48 cameras).
        `NameTaken` when another live process holds the name. At a process's first turn
        the epochs of the leases it finds under its name go up by one: a process of the
        same name before it (paused, say, and replaced) is fenced off them."""
        me = self.me
        with self.catalog.engine.begin() as conn:
            now = int(conn.scalar(select(NOW)) or 0)
            state = conn.scalar(text(
                "INSERT INTO nodes (name, instance, addresses, version, schema, max_cameras, "
                "max_mbps, building, state, started_ns, heartbeat_ns, status) VALUES (:name, "
                ":instance, :addr, :version, :schema, :maxc, :maxm, :building, :active, :now, "
                ":now, :status) "
                "ON CONFLICT (name) DO UPDATE SET instance = excluded.instance, "
                "addresses = excluded.addresses, "
                "version = excluded.version, schema = excluded.schema, "
                "max_cameras = excluded.max_cameras, max_mbps = excluded.max_mbps, "
                "building = excluded.building, heartbeat_ns = excluded.heartbeat_ns, "
                "status = excluded.status WHERE nodes.instance = excluded.instance "
                "OR nodes.heartbeat_ns <= :stale RETURNING state"),
                {"name": me.name, "instance": self.instance,
                 "addr": json.dumps(list(me.addresses)),
                 "version": me.version, "schema": me.schema, "maxc": me.max_cameras,
                 "maxm": me.max_mbps, "building": me.building, "active": ACTIVE, "now": now,
                 "stale": now - self.ttl_ns, "status": json.dumps(dict(status))})
            if state is None:
                raise NameTaken("another live kuzet serve is node {name}: one process per "
                                "node name", name=me.name)
            # a new process: its leases' epochs go up, and what it offered is withdrawn
            bump = ", epoch = epoch + 1, offered_to = NULL, ready_ns = NULL" \
                if self._first else ""
            conn.execute(text(f"UPDATE camera_leases SET expires_ns = :until{bump} "  # noqa: S608
                              "WHERE node = :me"),
                         {"until": now + self.ttl_ns, "me": me.name})
            if self._first:  # an earlier process's word that it had an offered camera
                conn.execute(text("UPDATE camera_leases SET ready_ns = NULL "
                                  "WHERE offered_to = :me"), {"me": me.name})
            self._first = False
            nodes = [NodeView(r.name, r.heartbeat_ns > now - self.ttl_ns, r.state == ACTIVE,
                              r.max_cameras, r.building)
                     for r in conn.execute(text(
                         "SELECT name, heartbeat_ns, state, max_cameras, building FROM nodes"))]
            cameras = [CameraView(r.id, r.pinned_node, r.building) for r in conn.execute(text(
                "SELECT id, pinned_node, building FROM cameras WHERE removed_ns IS NULL"))]
            leases: dict[int, LeaseView] = {}
            expires: dict[int, int] = {}
            offers: dict[int, Offer] = {}
            for r in conn.execute(text(
                    "SELECT camera_id, node, epoch, expires_ns, offered_to, ready_ns "
                    "FROM camera_leases")):
                leases[r.camera_id] = LeaseView(r.node, r.epoch, r.expires_ns > now)
                expires[r.camera_id] = r.expires_ns
                if r.offered_to is not None:
                    offers[r.camera_id] = Offer(r.offered_to, r.epoch, r.ready_ns is not None)
        return Turn(nodes, cameras, leases, expires, offers)

    def offer(self, camera_id: int, epoch: int, to: str | None) -> bool:
        """Offer a camera this node holds to node `to` (None: withdraw the offer); False
        when the lease is no longer this node's under `epoch`."""
        with self.catalog.engine.begin() as conn:
            return conn.execute(update(CameraLease).where(
                CameraLease.camera_id == camera_id, CameraLease.node == self.me.name,
                CameraLease.epoch == epoch).values(offered_to=to, ready_ns=None)).rowcount == 1

    def ready(self, camera_id: int, epoch: int) -> bool:
        """Say this node records a camera offered to it beside its holder, which may now
        hand it over; False when the offer is gone."""
        with self.catalog.engine.begin() as conn:
            return conn.execute(update(CameraLease).where(
                CameraLease.camera_id == camera_id, CameraLease.offered_to == self.me.name,
                CameraLease.epoch == epoch, CameraLease.ready_ns.is_(None)).values(
                ready_ns=NOW)).rowcount == 1

    def take(self, camera_id: int, seen: LeaseView | None, let_go: bool) -> int | None:
        """Take a camera placed on this node whose lease nobody holds live: the new epoch,
        or None when another node took it first. The camera's gap from its last segment
        (its earlier node's last) opens in the same transaction, saying why."""
        me = self.me.name
        with self.catalog.engine.begin() as conn:
            if seen is None:
                epoch = conn.scalar(pg_insert(CameraLease).values(
                    camera_id=camera_id, node=me, epoch=1, since_ns=NOW,
                    expires_ns=NOW + self.ttl_ns).on_conflict_do_nothing()
                    .returning(CameraLease.epoch))
            else:
                epoch = conn.scalar(update(CameraLease).where(
                    CameraLease.camera_id == camera_id, CameraLease.epoch == seen.epoch,
                    CameraLease.expires_ns < NOW).values(
                    node=me, epoch=CameraLease.epoch + 1, since_ns=NOW,
                    expires_ns=NOW + self.ttl_ns, offered_to=None, ready_ns=None)
                    .returning(CameraLease.epoch))
            if epoch is None:
                return None
            if seen is not None and seen.node != me:
                if let_go:
                    _open_gap(conn, camera_id, GapCause.NODE_HANDOVER,
                              f"node {seen.node} stopped and let the camera go; recorded "
                              f"by node {me} from here")
                else:
                    _open_gap(conn, camera_id, GapCause.NODE_FAILOVER,
                              f"node {seen.node} stopped renewing its lease; recorded by "
                              f"node {me} from here")
            return int(epoch)

    def hand(self, camera_id: int, epoch: int, to: str | None) -> bool:
        """Hand a camera this node has stopped recording to node `to` (epoch + 1), or let
        its lease go (`to` None: the camera left the register, or no node can take it).
        False when the lease was no longer this node's."""
        me = self.me.name
        mine = (CameraLease.camera_id == camera_id, CameraLease.node == me,
                CameraLease.epoch == epoch)
        with self.catalog.engine.begin() as conn:
            if to is None:
                return conn.execute(delete(CameraLease).where(*mine)).rowcount == 1
            done = conn.execute(update(CameraLease).where(*mine).values(
                node=to, epoch=CameraLease.epoch + 1, since_ns=NOW,
                expires_ns=NOW + self.ttl_ns, offered_to=None, ready_ns=None))
            if done.rowcount != 1:
                return False
            _open_gap(conn, camera_id, GapCause.NODE_HANDOVER,
                      f"moved from node {me} to node {to}")
            return True

    def let_go(self) -> None:
        """At a clean stop: every lease of this node's expires now and its heartbeat says
        it is down, so the others take its cameras at their next turn, not a lease later."""
        with self.catalog.engine.begin() as conn:
            mine = conn.execute(text("UPDATE nodes SET heartbeat_ns = 0 WHERE name = :me "
                                     "AND instance = :instance"),
                                {"me": self.me.name, "instance": self.instance}).rowcount
            if mine:  # not when another process has taken the name since
                conn.execute(text("UPDATE camera_leases SET expires_ns = 0 WHERE node = :me"),
                             {"me": self.me.name})


def _open_gap(conn: Connection, camera_id: int, cause: GapCause, detail: str) -> None:
    """The camera's gap from its last segment's end, unless one is open (the first cause
    of an outage stands)."""
    is_open = conn.scalar(select(Gap.id).where(Gap.camera_id == camera_id,
                                               Gap.stream == Stream.MAIN,
                                               Gap.end_ns.is_(None)).limit(1))
    last_end = conn.scalar(select(func.max(Segment.end_ns)).where(
        Segment.camera_id == camera_id, Segment.stream == Stream.MAIN))
    if is_open is not None or last_end is None:
        return
    conn.execute(insert(Gap).values(camera_id=camera_id, stream=Stream.MAIN,
                                    start_ns=last_end, end_ns=None, cause=cause.value,
                                    detail=detail))
