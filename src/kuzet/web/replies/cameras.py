"""Replies of the cameras' routes: cameras and their status, the archive's timeline,
calendar and gaps, bookmarks, and live or archive viewings."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from kuzet.recorder.status import State
from kuzet.regulation import Zone
from kuzet.web.replies import Reply

INSTANT = "ISO 8601, UTC"
NS = "UTC nanoseconds"


class CameraStatusReply(Reply):
    """What the recorder says of a camera it runs (kuzet.recorder.status)."""

    camera: str
    state: State
    since_ns: int = Field(description=f"when the camera entered this state, {NS}")
    last_error: str | None
    last_cause: str | None = Field(description="the kind of the last error, for machines")
    fps: float = Field(description="frames per second over the last few seconds")
    bitrate_bps: int = Field(description="bits per second over the last few seconds")
    frames_recorded: int
    bytes_recorded: int
    segments_closed: int
    packets_lost: int = Field(default=0, description=(
        "RTP packets the camera sent that never arrived (own client; FFmpeg's does not "
        "count); whole frames lost also leave a packet_loss gap"))
    audio: str | None = Field(
        default=None, description="with the order to keep the camera's sound (UE-10-22 "
        "3.1.2): whether it is recorded, and if not why; null: video only")
    certificate_sha256: str | None = Field(default=None, description=(
        "rtsps://: the SHA-256 of the TLS certificate the camera presented in its current "
        "or last session"))
    packets_expected: int = Field(default=0, description=(
        "RTP packets the camera sent, lost or not: what packets_lost is a share of (own "
        "client only)"))
    clock_offset_ms: int | None = Field(default=None, description=(
        "the camera's clock against the server's, from its RTCP sender reports (positive: "
        "ahead; the network's delay included), else from its ONVIF clock; null when "
        "neither tells it"))
    clock_source: str | None = Field(default=None, description=(
        "what said clock_offset_ms: rtcp or onvif; null with no offset"))
    last_arrival_ns: int | None = Field(default=None, description=(
        "when the last frame recorded reached the recorder (ns since the epoch, UTC): the "
        "lag is now less this; null before the first"))
    behind_ms: int | None = Field(default=None, description=(
        "how much later than its timestamp the last frame was read, against the soonest "
        "reads of the last ten minutes' segments (the recorder or the network falling "
        "behind); null while not recording"))


class UnknownStatusReply(Reply):
    """A camera the recorder does not (yet) run: nothing more is known of it."""

    camera: str
    state: Literal["unknown"]


class AudioOrderReply(Reply):
    """The rector's order on which a camera's sound is recorded (UE-10-22 3.1.2)."""

    order_no: str
    order_date: str = Field(description="YYYY-MM-DD")


class CameraReply(Reply):
    name: str
    zone: Zone | None = Field(description="installation zone (UE-10-22 3.3.9-3.3.17); none "
                                          "until one of the list is set")
    unlisted_zone: str | None = Field(description=(
        "what a camera added before the list was closed holds instead (\"dormitory\", "
        "\"other\", free text), until someone sets a zone of the list"))
    audio: AudioOrderReply | None = Field(description=(
        "the order its sound is recorded on; none: video only, the default"))
    location: str | None
    building: str | None
    floor: str | None
    retention_days: int | None = Field(description="none: the configured default")
    tls_fingerprint: str | None = Field(default=None, description=(
        "rtsps://: the SHA-256 the camera's TLS certificate must have; none: any"))
    status: CameraStatusReply | UnknownStatusReply


class CameraRemovedReply(Reply):
    name: str
    removed: bool


class SpanReply(Reply):
    """[start, end) of the archive."""

    start: str = Field(description=INSTANT)
    end: str = Field(description=INSTANT)
    start_ns: int = Field(description=NS)
    end_ns: int = Field(description=NS)


class HeldSpanReply(SpanReply):
    """Part of the window a hold protects from retention."""

    hold: int = Field(description="the hold's id")
    state: str = Field(description="the hold's state")


class TimelineBookmarkReply(Reply):
    id: int
    at: str = Field(description=INSTANT)
    at_ns: int = Field(description=NS)
    kind: str
    note: str
    by: str = Field(description="who marked it")


class TimelineReply(Reply):
    """What the archive's bar draws of [start, end), within the footage the caller may see."""

    camera: str
    start: str = Field(description=INSTANT)
    end: str = Field(description=INSTANT)
    spans: list[SpanReply] = Field(description="recorded footage, touching segments joined")
    missing: list[SpanReply] = Field(description="recorded, but the files are gone from disk "
                                     "or on a recording node that is down")
    unavailable: list[str] = Field(description="the recording nodes that are down holding "
                                   "footage of the window: its files are not gone, only "
                                   "unavailable until they are up (issue 25)")
    holds: list[HeldSpanReply]
    bookmarks: list[TimelineBookmarkReply]


class FootageDaysReply(Reply):
    camera: str
    month: str = Field(description="YYYY-MM")
    zone: str = Field(description="the display time zone the days are counted in")
    days: list[str] = Field(description="YYYY-MM-DD: the days holding footage")


class BookmarkReply(Reply):
    id: int
    camera: str
    at: str = Field(description=INSTANT)
    at_ns: int = Field(description=NS)
    kind: str
    note: str
    by: str = Field(description="who marked it")


class GapReply(Reply):
    """Time with no recording, and why; an open gap has no end yet."""

    start: str = Field(description=INSTANT)
    end: str | None = Field(description=f"{INSTANT}; none while the gap is open")
    start_ns: int = Field(description=NS)
    end_ns: int | None = Field(description=f"{NS}; none while the gap is open")
    cause: str
    detail: str | None


class GapsReply(Reply):
    camera: str
    gaps: list[GapReply]


class LiveViewingReply(Reply):
    viewing: int = Field(description="the viewing's number: the audit entry that opened it")
    camera: str
    basis: str = Field(description="why the caller may watch")


class ArchiveViewingReply(Reply):
    viewing: int = Field(description="the viewing's number: the audit entry that opened it")
    camera: str
    basis: str = Field(description="why the caller may open the footage")
    start: str = Field(description=INSTANT)
    end: str = Field(description=INSTANT)


class ViewingEndedReply(Reply):
    viewing: int
    ended: bool
