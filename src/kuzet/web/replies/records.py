"""Replies of the records routes: holds, the audit log, health."""

from __future__ import annotations

from pydantic import Field

from kuzet.storage.retention import HoldState
from kuzet.web.replies import Reply


class HoldRangeReply(Reply):
    camera: str
    start: str = Field(description="ISO 8601 UTC")
    end: str = Field(description="ISO 8601 UTC, excluded")


class HoldReply(Reply):
    """A hold as the register lists it; `state` is worked out at the time of asking (a
    pending hold lapses, an active one expires)."""

    id: int
    state: HoldState
    reason: str
    incident: str
    requested_by: str
    requested: str = Field(description="ISO 8601 UTC")
    approved_by: str | None
    expires: str | None = Field(description="ISO 8601 UTC; none until approved")
    ranges: list[HoldRangeReply]
    transfer: str | None = Field(description="number of the transfer request it is "
                                 "decided with; none for a hold of its own")


class HoldStateReply(Reply):
    """A hold's state just after a request or a decision on it."""

    id: int
    state: HoldState


class DocumentHoldReply(Reply):
    """A hold requested over a protocol's or an act's footage: its incident is the
    document's number, its range the document's instants, padded."""

    id: int
    state: HoldState
    incident: str
    cameras: list[str]
    start: str = Field(description="ISO 8601 UTC")
    end: str = Field(description="ISO 8601 UTC, excluded")


class AuditEntryReply(Reply):
    seq: int
    at: str = Field(description="ISO 8601 UTC")
    at_ns: int = Field(description="UTC nanoseconds")
    actor: str
    action: str
    subject: str
    detail: str = Field(description="the entry's detail as the chain hashes it: canonical "
                        "JSON, keys sorted")
    prev_hash: str
    hash: str


class AuditCheckReply(Reply):
    """The chain and the signed checkpoints, as `kuzet audit verify` checks them: integrity
    only, nothing an entry says (what `audit.verify` may see, clause 3.4.3)."""

    entries: int = Field(description="entries walked, up to the head read first")
    intact: bool
    first_bad_seq: int | None = Field(description="the first entry that breaks the chain "
                                      "itself")
    checkpoints: int = Field(description="valid checkpoints checked")
    problems: list[str]


class AlarmReply(Reply):
    kind: str
    subject: str
    severity: str
    message: str
    since: str = Field(description="ISO 8601 UTC")


class VolumeReply(Reply):
    """A volume; its usage only while it is present (null otherwise)."""

    name: str
    state: str = Field(description="enabled, draining (read-only) or removed")
    present: bool
    total_bytes: int | None = None
    free_bytes: int | None = None
    floor_bytes: int | None = Field(None, description="the free space the volume keeps: "
                                    "below it the oldest footage goes")


class NodeReply(Reply):
    """A recording node of a cluster on one PostgreSQL catalog (issue 25)."""

    name: str
    up: bool = Field(description="its heartbeat within the lease time")
    state: str = Field(description="active, or draining (hands its cameras over)")
    cameras: int = Field(description="cameras it records (holds the lease of)")
    max_cameras: int
    version: str
    heartbeat: str | None = Field(description="ISO 8601 UTC; none after a clean stop")
    free_bytes: int | None = Field(description="free space of its volumes, as it last said")


class HealthReply(Reply):
    alarms: list[AlarmReply]
    volumes: list[VolumeReply]
    cameras: dict[str, int] = Field(description="how many cameras are in each state")
    nodes: list[NodeReply] = Field(description="the recording nodes; none on a single "
                                   "server")


class HourRateReply(Reply):
    start: str = Field(description="ISO 8601 UTC, the hour's start")
    fps: float | None = Field(description="frames recorded per second; none for an hour "
                              "with nothing recorded")
    bitrate_bps: int | None


class CameraRatesReply(Reply):
    camera: str
    hours: list[HourRateReply] = Field(description="oldest first, the current hour last")
