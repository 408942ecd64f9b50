"""Replies of the equipment register's routes."""

from __future__ import annotations

from pydantic import Field

from kuzet.web.replies import Reply


class ItemReply(Reply):
    """An item of the register: its passport, links by name. A camera's building, floor and
    room are the camera's own."""

    kind: str
    name: str
    state: str
    model: str | None
    manufacturer: str | None
    serial: str | None
    inventory_no: str | None
    firmware: str | None
    mac: str | None
    ip: str | None
    building: str | None
    floor: str | None
    room: str | None
    installed: str | None = Field(description="YYYY-MM-DD")
    responsible: str | None
    notes: str | None
    uplink: str | None = Field(description="the switch it is connected to")
    uplink_port: str | None
    power: str | None = Field(description="the UPS it is powered from")
    part_of: str | None = Field(description="the array or server it belongs to")
    alarms: int = Field(description="its open alarms")


class EntryReply(Reply):
    id: int
    kind: str = Field(description="check, fault, repair or change")
    at: str = Field(description="ISO 8601 UTC")
    by: str
    what: str
    outcome: str | None
    closes: int | None
    alarm: int | None
    open: bool = Field(description="a fault not closed yet")


class ItemAlarmReply(Reply):
    kind: str
    severity: str
    message: str
    since: str = Field(description="ISO 8601 UTC")


class ItemDetailReply(Reply):
    item: ItemReply
    log: list[EntryReply]
    alarms: list[ItemAlarmReply]
    linked: list[str] = Field(description="items linked to this one (on its ports, its "
                              "power, its parts)")


class BadRowReply(Reply):
    line: int
    name: str
    reason: str


class ImportReply(Reply):
    imported: bool
    added: int
    changed: int
    bad_rows: list[BadRowReply]


class DueReply(Reply):
    name: str
    kind: str
    due: str = Field(description="YYYY-MM-DD")
    overdue: bool
    last_check: str | None
    what: str
