"""Replies of /api/transfers: the register of requests for footage from third parties
(clause 3.5.6), each with its basis, decision and package."""

from __future__ import annotations

from pydantic import Field

from kuzet.web.replies import Reply


class BasisReply(Reply):
    """The document the request rests on, and its scan if one is attached."""

    number: str
    date: str = Field(description="as the document gives it")
    type: str | None = Field(description="media type of the scan; null until attached")
    sha256: str | None = Field(description="of the scan; null until attached")


class ApprovalReply(Reply):
    """What the rector allowed: the request's scope or a narrower one, until it expires."""

    cameras: list[str]
    start_ns: int
    end_ns: int
    expires_ns: int | None


class ExportedFileReply(Reply):
    file: str = Field(description="the file's path inside the package")
    from_ns: int
    to_ns: int
    frames: int


class ExportedCameraReply(Reply):
    camera: str
    files: list[ExportedFileReply]


class PackageReply(Reply):
    """The signed package of an executed transfer; its hashes stay after it is removed."""

    file: str
    sha256: str = Field(description="of the .zip")
    bytes: int
    manifest_sha256: str
    fingerprint: str = Field(description="of the key that signed it")
    exported: list[ExportedCameraReply]
    on_server: bool | None = Field(
        default=None, description="whether the .zip can still be downloaded; given by the "
                                  "replies on one transfer, null in the register")


class TransferReply(Reply):
    id: int
    number: str
    state: str = Field(description="pending, approved, rejected or executed")
    requester_type: str = Field(description="investigative_body, court or depicted_person")
    requester: str
    requester_details: str
    basis: BasisReply
    reason: str
    cameras: list[str] = Field(description="as requested")
    start_ns: int
    end_ns: int
    registered_by: str
    registered_ns: int
    decided_by: str | None
    decided_ns: int | None
    note: str | None = Field(description="the rector's note on the decision")
    approved: ApprovalReply | None
    executed_by: str | None
    executed_ns: int | None
    recipient: str | None
    package: PackageReply | None


class NewTransferReply(TransferReply):
    """A registered request, with the hold asked for its footage meanwhile."""

    hold: int = Field(description="id of the pending hold request")
