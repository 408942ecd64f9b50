"""Tables of access control: accounts, roles as data, camera groups, role assignments
waiting for the rector, grants by instruction, browser sessions and API tokens.

Secrets are never stored: passwords as argon2id hashes, session ids and API tokens as
SHA-256 digests (both are 256-bit random values, so a fast hash is enough).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kuzet.catalog.models import Base


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(Text)
    must_change_password: Mapped[bool] = mapped_column(Boolean)
    totp_secret: Mapped[str | None] = mapped_column(String(255))
    totp_confirmed: Mapped[bool] = mapped_column(Boolean)
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)  # no code used twice
    # SHA-256 of the unused recovery codes (JSON list), issued when a second factor is
    # confirmed; each replaces a lost phone once.
    recovery_codes: Mapped[str | None] = mapped_column(Text)
    # A second-factor reset asked for by one person, waiting for a second to confirm it.
    totp_reset_by: Mapped[str | None] = mapped_column(String(64))
    totp_reset_ns: Mapped[int | None] = mapped_column(BigInteger)
    disabled: Mapped[bool] = mapped_column(Boolean)
    created_ns: Mapped[int] = mapped_column(BigInteger)
    created_by: Mapped[str] = mapped_column(String(64))
    language: Mapped[str | None] = mapped_column(String(8))  # the console's, once chosen


class LoginFailure(Base):
    """Failed logins in a row to one account from one address: a lockout holds only
    there, so a stranger elsewhere cannot lock the rector out of the rector's desk."""

    __tablename__ = "login_failures"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    address: Mapped[str] = mapped_column(String(64), primary_key=True)
    failed: Mapped[int] = mapped_column(Integer)
    locked_until_ns: Mapped[int] = mapped_column(BigInteger)


class Role(Base):
    __tablename__ = "roles"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    perms: Mapped[str] = mapped_column(Text)  # JSON list, sorted
    clause: Mapped[str] = mapped_column(String(64))
    titles: Mapped[str] = mapped_column(Text)  # JSON {kk, ru, en}
    # The rector's order the last edit rests on (4.1); none while the defaults stand.
    order_no: Mapped[str | None] = mapped_column(String(64))
    order_date: Mapped[str | None] = mapped_column(String(10))


class CameraGroup(Base):
    __tablename__ = "camera_groups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)


class CameraGroupMember(Base):
    __tablename__ = "camera_group_members"

    group_id: Mapped[int] = mapped_column(ForeignKey("camera_groups.id"), primary_key=True)
    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id"), primary_key=True)


class RoleAssignment(Base):
    """A role given to a user, on every camera or on one group; privileged roles wait in
    `pending` until the rector approves."""

    __tablename__ = "role_assignments"
    __table_args__ = (Index("ix_role_assignments_user", "user_id", "state"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    role: Mapped[str] = mapped_column(ForeignKey("roles.name"))
    group_id: Mapped[int | None] = mapped_column(ForeignKey("camera_groups.id"))
    state: Mapped[str] = mapped_column(String(16))  # pending, active, rejected, revoked
    requested_by: Mapped[str] = mapped_column(String(64))
    requested_ns: Mapped[int] = mapped_column(BigInteger)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_ns: Mapped[int | None] = mapped_column(BigInteger)
    order_no: Mapped[str | None] = mapped_column(String(64))  # the rector's order (3.4.2)
    order_date: Mapped[str | None] = mapped_column(String(10))


class Grant(Base):
    """Access by the rector's instruction (3.5.5): cameras, a footage window, a validity."""

    __tablename__ = "grants"
    __table_args__ = (Index("ix_grants_user", "user_id", "state"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    perms: Mapped[str] = mapped_column(Text)  # JSON list
    cameras: Mapped[str] = mapped_column(Text)  # JSON list of camera ids
    footage_from_ns: Mapped[int] = mapped_column(BigInteger)
    footage_to_ns: Mapped[int] = mapped_column(BigInteger)
    valid_from_ns: Mapped[int] = mapped_column(BigInteger)
    valid_until_ns: Mapped[int] = mapped_column(BigInteger)
    instruction: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(16))  # pending, active, rejected, revoked
    requested_by: Mapped[str] = mapped_column(String(64))
    requested_ns: Mapped[int] = mapped_column(BigInteger)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_ns: Mapped[int | None] = mapped_column(BigInteger)


class WebSession(Base):
    __tablename__ = "web_sessions"

    id_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    csrf: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(64))
    created_ns: Mapped[int] = mapped_column(BigInteger)
    last_seen_ns: Mapped[int] = mapped_column(BigInteger)
    ended_ns: Mapped[int | None] = mapped_column(BigInteger)
    # The console's screen lock (migration 0016): since when, or NULL; in the row, so a
    # restart or another node of a distributed install keeps it.
    locked_ns: Mapped[int | None] = mapped_column(BigInteger)
    # Wrong unlocks since the lock; `sessions.UNLOCK_TRIES` of them end the session.
    unlock_failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    name: Mapped[str] = mapped_column(String(64))
    secret_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    perms: Mapped[str] = mapped_column(Text)  # JSON list: never more than the owner holds
    created_ns: Mapped[int] = mapped_column(BigInteger)
    expires_ns: Mapped[int] = mapped_column(BigInteger)
    revoked_ns: Mapped[int | None] = mapped_column(BigInteger)
