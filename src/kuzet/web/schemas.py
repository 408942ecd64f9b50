"""Request bodies. Unknown fields are refused (`extra="forbid"`) so a typo is an error,
not a silently ignored setting."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Path
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from kuzet.access.permissions import Perm
from kuzet.regulation import Zone, check_retention_days, check_zone


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Login(Body):
    username: str = Field(max_length=64)
    password: str = Field(max_length=256)
    totp: str | None = Field(None, max_length=32)  # six digits, or a recovery code


class PasswordChange(Body):
    old_password: str = Field(max_length=256)
    new_password: str = Field(max_length=256)


class TotpConfirm(Body):
    code: str = Field(max_length=10)


class NewUser(Body):
    name: str = Field(max_length=64)
    display_name: str = Field("", max_length=200)


class RoleRequest(Body):
    user: str = Field(max_length=64)
    role: str = Field(max_length=32)
    group: str | None = Field(None, max_length=64)
    order_no: str | None = Field(None, max_length=64)
    order_date: str | None = Field(None, max_length=10, description="YYYY-MM-DD")


class RolePerms(Body):
    """A role's new permissions and the rector's order the edit rests on (4.1)."""

    perms: list[Perm] = Field(max_length=len(Perm))
    order_no: str = Field(min_length=1, max_length=64)
    order_date: str = Field(max_length=10, description="YYYY-MM-DD")


class RoleApproval(Body):
    """The rector's order an administrator's appointment rests on (3.4.2), when the request
    did not carry it (`kuzet init`'s first administrator) or carried another."""

    order_no: str | None = Field(None, max_length=64)
    order_date: str | None = Field(None, max_length=10, description="YYYY-MM-DD")


class CameraGroupBody(Body):
    name: str = Field(max_length=64, pattern=r"^[A-Za-z0-9._-]{1,64}$")
    cameras: list[str] = Field(max_length=1000)


class GrantRequest(Body):
    user: str = Field(max_length=64)
    perms: list[Perm] = Field(min_length=1, max_length=3)
    cameras: list[str] = Field(min_length=1, max_length=1000)
    footage_from: str = Field(max_length=40, description="ISO 8601 with offset")
    footage_to: str = Field(max_length=40)
    valid_from: str = Field(max_length=40)
    valid_until: str = Field(max_length=40)
    instruction: str = Field(min_length=1, max_length=200,
                             description="The rector's instruction (number, date)")


class Decision(Body):
    note: str = Field("", max_length=500)


class HoldRequest(Body):
    cameras: list[str] = Field(min_length=1, max_length=1000)
    start: str = Field(max_length=40)
    end: str = Field(max_length=40)
    reason: str = Field(min_length=1, max_length=500)
    incident: str = Field(min_length=1, max_length=200)


class HoldApproval(Body):
    expires: str = Field(max_length=40, description="ISO 8601; at most 3 years ahead")


class TokenRequest(Body):
    name: str = Field(max_length=64)
    perms: list[Perm] = Field(min_length=1, max_length=len(Perm))
    days: int = Field(90, ge=1, le=366)


def _listed_zone(zone: object) -> Zone:
    """A zone of the regulation's list, or a refusal that names the clause (rather than
    pydantic's bare list of values)."""
    return check_zone(None if zone is None else str(zone))


# OpenAPI lists the values; a value outside them is refused with the clause.
ListedZone = Annotated[Zone, BeforeValidator(_listed_zone)]


class NewCamera(Body):
    name: str = Field(max_length=64)
    url: str = Field(max_length=1000, description="rtsp:// or rtsps:// main stream")
    sub_url: str | None = Field(None, max_length=1000)
    zone: ListedZone = Field(description="installation zone (UE-10-22 3.3.9-3.3.17)")
    location: str | None = Field(None, max_length=200)
    building: str | None = Field(None, max_length=64, description="the console's camera tree")
    floor: str | None = Field(None, max_length=32)
    retention_days: int | None = Field(None, description="at most 30 days (clause 3.3)")
    tls_fingerprint: str | None = Field(None, max_length=200, description=(
        "rtsps:// only: the SHA-256 the camera's TLS certificate must have (hex, colons "
        "allowed); another is refused"))

    @field_validator("retention_days")
    @classmethod
    def _within_clause_3_3(cls, days: int | None) -> int | None:
        return None if days is None else check_retention_days(days)

    @model_validator(mode="before")
    @classmethod
    def _zone_given(cls, data: Any) -> Any:
        """A camera without a zone is refused naming the clauses, not as a bare missing
        field."""
        if isinstance(data, dict) and "zone" not in data:
            check_zone(None)
        return data


class CameraZone(Body):
    zone: ListedZone = Field(description="installation zone (UE-10-22 3.3.9-3.3.17)")


class CameraCertificate(Body):
    """An rtsps:// camera's TLS certificate pin (issue 20)."""

    tls_fingerprint: str | None = Field(max_length=200, description=(
        "the SHA-256 the camera's certificate must have (hex, colons allowed); null: "
        "any certificate, only logged"))


class AudioOrder(Body):
    """The rector's order that keeps a camera's sound (UE-10-22 3.1.2)."""

    order_no: str = Field(min_length=1, max_length=64, description="the order's number")
    order_date: str = Field(max_length=10, description="YYYY-MM-DD, no later than today")


class NewBookmark(Body):
    at: str | None = Field(None, max_length=40,
                           description="ISO 8601 with offset; none: now (live)")
    note: str = Field("", max_length=500)
    kind: Literal["incident", "note"] = "incident"


class WallLayout(Body):
    cols: int = Field(ge=1, le=6)
    rows: int = Field(ge=1, le=6)
    tiles: list[Annotated[str, Field(max_length=64)] | None] = Field([], max_length=36)


LayoutName = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[^/\x00-\x1f]+$")]


class ProtocolStart(Body):
    camera: str = Field(max_length=64)
    at: str | None = Field(None, max_length=40,
                           description="ISO 8601 with offset; none: now (live)")


class ProtocolEdit(Body):
    location: str | None = Field(None, max_length=10_000)
    circumstances: str | None = Field(None, max_length=10_000)
    measures: str | None = Field(None, max_length=10_000)
    informed: str | None = Field(None, max_length=40, description="when the head of "
                                 "security was informed orally (ISO 8601 with offset)")


class ActStart(Body):
    protocols: list[int] = Field(min_length=1, max_length=50,
                                 description="ids of registered protocols")


class ActEdit(Body):
    what: str | None = Field(None, max_length=10_000)
    persons: str | None = Field(None, max_length=10_000, description="as people wrote them")
    witnesses: str | None = Field(None, max_length=10_000)
    consequences: str | None = Field(None, max_length=10_000)
    measures: str | None = Field(None, max_length=10_000)
    protocols: list[int] | None = Field(None, min_length=1, max_length=50)


class AttendeeBody(Body):
    name: str = Field(min_length=1, max_length=200)
    capacity: Literal["depicted", "parent_or_representative", "law_enforcement", "staff"]
    document: str = Field(min_length=1, max_length=200, description="identity document shown")


class ViewingRecord(Body):
    cameras: list[str] = Field(min_length=1, max_length=16)
    start: str = Field(max_length=40, description="footage shown: from")
    end: str = Field(max_length=40, description="footage shown: to")
    purpose: str = Field(min_length=5, max_length=500)
    attendees: list[AttendeeBody] = Field(min_length=1, max_length=50)
    held: str | None = Field(None, max_length=40, description="when; none: now")


class HoldFromDocument(Body):
    before_s: int = Field(300, ge=0, le=86_400, description="footage kept before the instant")
    after_s: int = Field(300, ge=0, le=86_400, description="and after it")
    reason: str = Field(min_length=1, max_length=500)


class ReviewNote(Body):
    note: str = Field("", max_length=10_000)


class ViewingRequest(Body):
    camera: str = Field(max_length=64)
    start: str | None = Field(None, max_length=40, description="archive: footage start")
    end: str | None = Field(None, max_length=40, description="archive: footage end")
    purpose: str | None = Field(None, max_length=500,
                                description="archive: why the footage is opened (recorded)")


# Row ids in paths: bounded, so a huge number is a 422, not a database overflow.
class TransferRequestBody(Body):
    requester_type: Literal["investigative_body", "court", "depicted_person"]
    requester: str = Field(max_length=500)
    requester_details: str = Field("", max_length=2000)
    basis_number: str = Field(max_length=64)
    basis_date: str = Field(max_length=10, pattern=r"^\d{4}-\d{2}-\d{2}$")
    reason: str = Field(max_length=4000)
    cameras: list[str] = Field(min_length=1, max_length=64)
    start: str = Field(max_length=40, description="ISO 8601 with offset")
    end: str = Field(max_length=40)


class TransferApproval(Body):
    """Without cameras/start/end the request is approved as asked; with them, narrowed."""

    expires: str = Field(max_length=40)
    cameras: list[str] | None = Field(None, min_length=1, max_length=64)
    start: str | None = Field(None, max_length=40)
    end: str | None = Field(None, max_length=40)
    note: str = Field("", max_length=2000)


class TransferExecution(Body):
    """Without cameras/start/end the whole approval is exported."""

    recipient: str = Field(min_length=3, max_length=500)
    recipient_document: str = Field(min_length=3, max_length=500)
    cameras: list[str] | None = Field(None, min_length=1, max_length=64)
    start: str | None = Field(None, max_length=40)
    end: str | None = Field(None, max_length=40)


class PackageReceipt(Body):
    """The executor's confirmation that the package reached them whole."""

    sha256: str = Field(pattern="^[0-9a-fA-F]{64}$",
                        description="SHA-256 of the package as received (hex, 64 digits)")


Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
PointBody = Annotated[list[Fraction], Field(min_length=2, max_length=2)]


class WindowBody(Body):
    days: list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]] = Field(
        default=["mon", "tue", "wed", "thu", "fri", "sat", "sun"], max_length=7)
    start: str = Field(pattern=r"^\d{2}:\d{2}$", description="HH:MM, display time zone")
    end: str = Field(pattern=r"^\d{2}:\d{2}$", description="before start: past midnight")


class ScheduleBody(Body):
    windows: list[WindowBody] = Field(default=[], max_length=20, description="none: always")
    holidays: list[str] = Field(default=[], max_length=50, description="extra YYYY-MM-DD")
    holidays_all_day: bool = False


class RuleBody(Body):
    """Geometry in fractions of the frame (0..1), as drawn on a still of the camera."""

    kind: Literal["intrusion", "line", "loitering", "crowding", "vehicle", "tamper"]
    name: str = Field("", max_length=80, description="what the zone or line is, for "
                      "searching events by it: 'Storage room 12', 'Main entrance'")
    zone: list[PointBody] = Field(default=[], max_length=64)
    line: list[PointBody] | None = Field(None, min_length=2, max_length=2)
    direction: Literal["left", "right", "both"] = "both"
    labels: list[str] = Field(default=["person"], min_length=1, max_length=20)
    seconds: float = Field(0, ge=0, le=86_400)
    count: int = Field(0, ge=0, le=1000)
    schedule: ScheduleBody = ScheduleBody()


class RuleSwitch(Body):
    enabled: bool


class MotionBody(Body):
    """A camera's motion settings; masks in fractions of the frame, never looked at."""

    activity: bool = Field(False, description="keep the camera's motion activity for the "
                           "archive's bar even when it has no rules")
    sensitivity: Fraction = 0.5
    masks: list[Annotated[list[PointBody], Field(min_length=3, max_length=64)]] = Field(
        default=[], max_length=16)


class Acknowledgement(Body):
    note: str = Field("", max_length=2000)


RowId = Annotated[int, Path(ge=1, le=2**31 - 1)]
SeqId = Annotated[int, Path(ge=1, le=2**62)]


Short = Annotated[str | None, Field(None, max_length=200)]


class ItemFields(Body):
    """An item's passport: a field left out stays as it is; "" clears it."""

    model: Short = None
    manufacturer: Short = None
    serial: Short = None
    inventory_no: Short = None
    firmware: Short = None
    mac: Short = None
    ip: Short = None
    building: Short = None
    floor: Short = None
    room: Short = None
    installed: Short = None
    responsible: Short = None
    notes: str | None = Field(None, max_length=2000)
    uplink: Short = None
    uplink_port: Short = None
    power: Short = None
    part_of: Short = None
    state: Literal["in_service", "faulty", "under_repair", "decommissioned"] | None = None


class NewItem(ItemFields):
    kind: Literal["monitor", "ups", "server", "switch", "storage", "software"]
    name: str = Field(max_length=64)


class LogEntry(Body):
    kind: Literal["check", "fault", "repair"]
    what: str = Field(max_length=2000)
    outcome: Literal["ok", "fault"] | None = None
    closes: int | None = Field(None, ge=1, le=2**62)


class NewEdition(Body):
    """An edition or amendment of UE-10-22 prepared for the rector's approval (4.1)."""

    number: str = Field(min_length=1, max_length=32, description='as the order writes it: "2"')
    kind: str = Field("edition", pattern="^(edition|amendment)$")
    title: str = Field(min_length=1, max_length=200)
    text_kk: str = Field(min_length=1, max_length=100_000, description="the original")
    text_ru: str = Field(min_length=1, max_length=100_000)
    text_en: str | None = Field(None, max_length=100_000, description="a working translation")
    summary: str | None = Field(None, max_length=2000, description="for sign-off sheets")


class EditionApproval(Body):
    """The rector's order that brings the edition into force (4.3)."""

    order_no: str = Field(max_length=64)
    order_date: str = Field(max_length=10, description="YYYY-MM-DD")
    effective: str = Field(max_length=10, description="the campus day it takes effect")


class EditionRead(Body):
    """The account's confirmation that it read the text shown (3.1.4, 3.4.7)."""

    language: str = Field(pattern="^(kk|ru|en)$")
    text_sha256: str = Field(pattern="^[0-9a-f]{64}$", description="of the text shown")


class PlaceBody(Body):
    """A place under the cameras' view (UE-10-22 3.3.9-3.3.17, 3.4.5)."""

    building: str = Field(max_length=64)
    floor: str | None = Field(None, max_length=32)
    room: str = Field(max_length=200, description="the room or area, as people say it")
    zone: str = Field(max_length=32, description="an installation zone of the closed list")
    kind: str = Field("other", description="classroom, computer_class, sports_hall, "
                      "assembly_hall (the rooms 3.4.5 names) or other")
    cameras: list[str] = Field(default=[], max_length=64)


class NewPlace(PlaceBody):
    name: str = Field(max_length=64)


class NewSign(Body):
    position: str = Field(max_length=200, description="where it hangs")
    kind: str = Field("sign", description="sign (pictogram and text) or notice")
    installed: str = Field(max_length=10, description="YYYY-MM-DD")


class SignCheck(Body):
    day: str = Field(max_length=10, description="YYYY-MM-DD")
    present: bool = Field(True, description="false: found taken down")


class NewMeeting(Body):
    """A general meeting where participants were told (UE-10-22 3.4.6)."""

    held: str = Field(max_length=10, description="YYYY-MM-DD")
    audience: str = Field(min_length=1, max_length=200, description="a faculty, a "
                          "dormitory, a department")
    informed_by: str = Field(min_length=1, max_length=200)
    attendees: int | None = Field(None, ge=0, le=100_000)
    notes: str | None = Field(None, max_length=4000)


class NewSheet(Body):
    unit: str = Field(min_length=1, max_length=200)
    group: str | None = Field(None, max_length=64)


class SheetMarks(Body):
    marks: dict[str, str] = Field(max_length=5000, description="person id -> signed, "
                                  "refused or absent")


class CentreCamera(Body):
    camera: str = Field(max_length=64)
    stream: str = Field("main", pattern="^(main|sub)$")


class NewCentre(Body):
    """A centre that receives live video (UE-10-22 3.2.11), asked of the rector."""

    name: str = Field(max_length=120)
    kind: str = Field(pattern="^(police|occ|state)$", description="a police duty unit, an "
                      "Operational Control Centre, another state body")
    contact: str = Field(max_length=200)
    basis_no: str = Field(max_length=64, description="the agreement or rector's order")
    basis_date: str = Field(max_length=10, description="YYYY-MM-DD")
    addresses: list[str] = Field(min_length=1, max_length=16, description="addresses or "
                                 "small networks it connects from (at most 256 each)")
    cameras: list[CentreCamera] = Field(min_length=1, max_length=1000)
    max_streams: int = Field(4, ge=1, le=256)
    max_kbps: int = Field(16_000, ge=64, le=10_000_000)
    valid_from: str = Field(max_length=10)
    valid_until: str = Field(max_length=10)
    guard_push: bool = Field(False, description="the agreement lets guards push a camera")
    reason: str | None = Field(None, max_length=2000)


class CentreCameras(Body):
    """The whole set of cameras a centre is to receive, asked of the rector."""

    cameras: list[CentreCamera] = Field(max_length=1000)
    reason: str | None = Field(None, max_length=2000)


class CentrePush(Body):
    """An incident's camera pushed to a centre for a bounded time (UE-10-22 3.2.11)."""

    camera: str = Field(max_length=64)
    stream: str = Field("main", pattern="^(main|sub)$")
    minutes: int = Field(60, ge=1, le=240)
    reason: str = Field(max_length=2000)
    incident: str = Field(max_length=40, description="alarm:N, event:N or protocol:N")
