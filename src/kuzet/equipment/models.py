"""Tables of the equipment register.

A recorded camera is one record: its item row points at the catalog's camera
(`camera_id`), takes the camera's name, and its building, floor and place are the camera's
own (`cameras.building`, `.floor`, `.location`): the register writes them there and never
keeps a second copy. Links are columns, one per relation the regulation's complex has: a
camera or server on a switch's port (`uplink_id`, `uplink_port`), anything on a UPS
(`power_id`), a disk in an array or server (`part_of_id`).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kuzet.catalog.models import Base


class EquipmentItem(Base):
    __tablename__ = "equipment"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # fields.Kind
    name: Mapped[str] = mapped_column(String(64), unique=True)
    camera_id: Mapped[int | None] = mapped_column(ForeignKey("cameras.id"), unique=True)
    model: Mapped[str | None] = mapped_column(String(128))
    manufacturer: Mapped[str | None] = mapped_column(String(128))
    serial: Mapped[str | None] = mapped_column(String(64), unique=True)
    inventory_no: Mapped[str | None] = mapped_column(String(64), unique=True)
    firmware: Mapped[str | None] = mapped_column(String(64))
    mac: Mapped[str | None] = mapped_column(String(17))
    ip: Mapped[str | None] = mapped_column(String(45))
    building: Mapped[str | None] = mapped_column(String(64))  # None for a camera: its own
    floor: Mapped[str | None] = mapped_column(String(32))
    room: Mapped[str | None] = mapped_column(Text)
    installed: Mapped[str | None] = mapped_column(String(10))  # YYYY-MM-DD
    responsible: Mapped[str | None] = mapped_column(String(128))
    state: Mapped[str] = mapped_column(String(16))  # fields.State
    uplink_id: Mapped[int | None] = mapped_column(ForeignKey("equipment.id"))
    uplink_port: Mapped[str | None] = mapped_column(String(32))
    power_id: Mapped[int | None] = mapped_column(ForeignKey("equipment.id"))
    part_of_id: Mapped[int | None] = mapped_column(ForeignKey("equipment.id"))
    notes: Mapped[str | None] = mapped_column(Text)
    created_ns: Mapped[int] = mapped_column(BigInteger)
    updated_ns: Mapped[int] = mapped_column(BigInteger)


class EquipmentEntry(Base):
    """One line of an item's maintenance log: a check done (`outcome` ok or fault), a
    fault opened (by hand or from an alarm, `alarm_id`), a repair, a change of state or of
    the passport. A fault stays open until a repair closes it (`closes_id`)."""

    __tablename__ = "equipment_log"
    __table_args__ = (
        Index("ix_equipment_log_item", "item_id", "at_ns"),
        # an alarm's fault found when it clears; a fault closed once, by one repair
        Index("ix_equipment_log_alarm", "alarm_id"),
        Index("ux_equipment_log_closes", "closes_id", unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("equipment.id"))
    kind: Mapped[str] = mapped_column(String(16))  # fields.EntryKind
    at_ns: Mapped[int] = mapped_column(BigInteger)
    by: Mapped[str] = mapped_column(String(64))
    what: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(String(16))  # a check's: ok or fault
    closes_id: Mapped[int | None] = mapped_column(ForeignKey("equipment_log.id"))
    alarm_id: Mapped[int | None] = mapped_column(Integer)
