"""Catalog tables. Instants are BIGINT nanoseconds since the epoch, UTC."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Camera(Base):
    __tablename__ = "cameras"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    main_url: Mapped[str] = mapped_column(Text)
    sub_url: Mapped[str | None] = mapped_column(Text)
    transport: Mapped[str | None] = mapped_column(String(8))
    zone: Mapped[str | None] = mapped_column(String(32))
    location: Mapped[str | None] = mapped_column(Text)
    created_ns: Mapped[int] = mapped_column(BigInteger)
    removed_ns: Mapped[int | None] = mapped_column(BigInteger)


class Segment(Base):
    """A closed fMP4 file: one init segment, one fragment per GOP."""

    __tablename__ = "segments"
    __table_args__ = (Index("ix_segments_camera_stream_start", "camera_id", "stream", "start_ns"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id"))
    stream: Mapped[str] = mapped_column(String(8))
    volume: Mapped[str] = mapped_column(Text)
    path: Mapped[str] = mapped_column(Text)
    start_ns: Mapped[int] = mapped_column(BigInteger)
    end_ns: Mapped[int] = mapped_column(BigInteger)
    frames: Mapped[int] = mapped_column(Integer)
    bytes: Mapped[int] = mapped_column(BigInteger)
    codec: Mapped[str] = mapped_column(String(16))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    audio_codec: Mapped[str | None] = mapped_column(String(16))
    codec_params: Mapped[str] = mapped_column(Text)
    keyframes: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    prev_sha256: Mapped[str | None] = mapped_column(String(64))
    salvaged: Mapped[bool] = mapped_column(Boolean, default=False)


class Gap(Base):
    """Time with no recording, and why. `end_ns` is NULL while the gap is still open."""

    __tablename__ = "gaps"
    __table_args__ = (Index("ix_gaps_camera_stream_start", "camera_id", "stream", "start_ns"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id"))
    stream: Mapped[str] = mapped_column(String(8))
    start_ns: Mapped[int] = mapped_column(BigInteger)
    end_ns: Mapped[int | None] = mapped_column(BigInteger)
    cause: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str | None] = mapped_column(Text)
