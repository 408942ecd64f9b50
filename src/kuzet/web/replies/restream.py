"""Replies of /api/centres and /api/restream: the centres that receive live video
(UE-10-22 3.2.11), the requests the rector decides, and the sessions."""

from __future__ import annotations

from pydantic import Field

from kuzet.web.replies import Reply


class CentreRequestReply(Reply):
    id: int
    kind: str = Field(description="register or cameras")
    cameras: dict[str, str] = Field(description="camera -> main or sub: the whole set asked")
    reason: str | None
    state: str = Field(description="pending, approved, rejected or withdrawn")
    requested_by: str
    requested: str
    decided_by: str | None
    decided: str | None
    note: str | None
    expires: str | None = Field(description="a push's end")
    incident: str | None = Field(description="what a push came from: alarm:N, event:N, "
                                 "protocol:N")
    reviewed_by: str | None = Field(description="the rector, who reviewed a push afterwards")
    reviewed: str | None


class TargetReply(Reply):
    """A centre a camera may be pushed to, as a guard sees it: no address, no account."""

    id: int
    name: str
    kind: str
    state: str
    guard_push: bool


class CentreReply(Reply):
    id: int
    name: str
    kind: str
    contact: str
    basis_no: str
    basis_date: str
    basis_type: str | None
    addresses: list[str]
    username: str
    max_streams: int
    max_kbps: int
    valid_from: str
    valid_until: str
    guard_push: bool
    client_sha256: str | None = Field(description="the pin of the client certificate the "
                                      "centre must present over RTSPS, if one is set")
    state: str = Field(description="pending, active, not_yet, expired, disabled, rejected")
    cameras: dict[str, str] = Field(description="the approved set in force")
    urls: dict[str, str] = Field(description="the restream URL of each camera in force")
    requests: list[CentreRequestReply]
    disabled_by: str | None
    disabled: str | None


class CreatedCentreReply(Reply):
    centre: CentreReply
    password: str = Field(description="the digest password: shown this once, kept nowhere")


class RestreamReply(Reply):
    urls: dict[str, str] = Field(description="rtsp, rtsps and the certificate's SHA-256 "
                                 "fingerprint; empty while the restream is off")
    centres: list[CentreReply]


class SessionReply(Reply):
    id: int
    centre: str
    camera: str
    stream: str
    source: str
    transport: str
    start: str
    end: str | None
    bytes: int
    frames: int
    dropped: int = Field(description="frames a slow reader lost")
    ended: str | None


class LiveSessionReply(Reply):
    id: str
    centre: str
    camera: str
    stream: str
    source: str
    transport: str
    start: str
    bytes: int
    frames: int
    dropped: int
    kbps: float
