"""Tables of detection: the rules drawn per camera, and the events they raised."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from kuzet.catalog.models import Base


class DetectionRule(Base):
    """One rule of one camera; geometry in fractions of the frame, schedule as JSON."""

    __tablename__ = "detection_rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    spec: Mapped[str] = mapped_column(Text)  # JSON: zone, line, direction, labels, …
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_ns: Mapped[int] = mapped_column(BigInteger)


class Event(Base):
    """An alarm a rule raised: what, where, when, how sure, the picture at that moment;
    and whether a guard has acknowledged it."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_camera_at", "camera_id", "at_ns"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id"))
    rule_id: Mapped[int | None] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    label: Mapped[str] = mapped_column(String(32))
    score: Mapped[float] = mapped_column(Float)
    at_ns: Mapped[int] = mapped_column(BigInteger)  # when the rule raised it
    # When its objects were first seen, and last seen once they have all left (None
    # while one is still in view).
    start_ns: Mapped[int | None] = mapped_column(BigInteger)
    end_ns: Mapped[int | None] = mapped_column(BigInteger)
    tracks: Mapped[str] = mapped_column(Text)  # JSON list of track ids in that camera
    snapshot_jpeg: Mapped[bytes | None] = mapped_column(LargeBinary)
    acknowledged_by: Mapped[str | None] = mapped_column(String(64))
    acknowledged_ns: Mapped[int | None] = mapped_column(BigInteger)
    note: Mapped[str | None] = mapped_column(Text)


class AnalyticsSettings(Base):
    """How one camera's motion is looked at: sensitivity, masked polygons, and whether
    its activity is kept for the archive even without rules."""

    __tablename__ = "camera_analytics"

    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id"), primary_key=True)
    activity: Mapped[bool] = mapped_column(Boolean, default=False)
    sensitivity: Mapped[float] = mapped_column(Float, default=0.5)
    masks: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of polygons
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_ns: Mapped[int] = mapped_column(BigInteger)


class MotionMinute(Base):
    """One camera-minute of motion (kuzet.analytics.activity): 60 level bytes and a
    16×9 bit grid of where it was."""

    __tablename__ = "motion_minutes"

    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id"), primary_key=True)
    minute_ns: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    levels: Mapped[bytes] = mapped_column(LargeBinary)
    grid: Mapped[bytes] = mapped_column(LargeBinary)
