"""Replies of the people routes: accounts, roles, camera groups, role assignments, grants
and API tokens."""

from __future__ import annotations

from pydantic import Field

from kuzet.web.replies import Reply


class UserReply(Reply):
    name: str
    display_name: str
    disabled: bool
    second_factor: bool = Field(description="a second factor is enrolled and confirmed")
    locked: bool = Field(description="locked out for now after failed logins")
    second_factor_reset_asked_by: str | None = Field(
        description="who asked to remove the second factor, waiting for a second person")
    created: str = Field(description="ISO 8601 UTC")
    created_by: str


class NewUserReply(Reply):
    name: str
    one_time_password: str | None = Field(
        description="to be changed at first login; shown this once")


class UserStatusReply(Reply):
    name: str
    status: str


class OneTimePasswordReply(Reply):
    name: str
    one_time_password: str = Field(description="to be changed at first login; shown this once")


class TotpResetReply(Reply):
    """A second-factor reset waiting for the second person."""

    name: str
    display_name: str
    asked_by: str
    asked: str | None = Field(description="ISO 8601 UTC")


class RoleReply(Reply):
    name: str
    clause: str = Field(description="the clause of the regulation the role comes from")
    titles: dict[str, str] = Field(description="the role's title by language: kk, ru, en")
    perms: list[str]
    order_no: str | None = Field(description="the rector's order its last edit rests on "
                                             "(none while the defaults stand)")
    order_date: str | None = Field(description="YYYY-MM-DD")


class RolePermsReply(Reply):
    name: str
    perms: list[str]
    order_no: str
    order_date: str


class CameraGroupReply(Reply):
    name: str
    cameras: list[str]


class AssignmentReply(Reply):
    """A role given to an account, within a camera group or everywhere."""

    id: int
    user: str
    role: str
    group: str | None = Field(description="the camera group; none for every camera")
    state: str = Field(description="pending, active, rejected or revoked")
    requested_by: str
    decided_by: str | None
    order_no: str | None = Field(description="the rector's order appointing an administrator")
    order_date: str | None = Field(description="YYYY-MM-DD")


class AssignmentStateReply(Reply):
    assignment: int
    state: str


class GrantReply(Reply):
    """Permissions lent to an account over some cameras' footage for a while: each instant
    both as UTC nanoseconds (`_ns`) and as ISO 8601 UTC."""

    id: int
    user: str
    perms: list[str]
    cameras: list[str]
    footage_from_ns: int
    footage_to_ns: int
    valid_from_ns: int
    valid_until_ns: int
    instruction: str
    state: str = Field(description="pending, active, expired, rejected or revoked")
    requested_by: str
    decided_by: str | None
    footage_from: str
    footage_to: str
    valid_from: str
    valid_until: str


class GrantStateReply(Reply):
    grant: int
    state: str


class TokenReply(Reply):
    id: int
    name: str
    perms: list[str]
    created: str = Field(description="ISO 8601 UTC")
    expires: str = Field(description="ISO 8601 UTC")
    revoked: str | None = Field(description="ISO 8601 UTC; none while in force")


class NewTokenReply(Reply):
    id: int
    token: str = Field(description="the secret, in this answer only: Kuzet keeps its hash")


class TokenRevokedReply(Reply):
    id: int
    revoked: bool
