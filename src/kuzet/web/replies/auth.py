"""Replies of /api/auth: login, the caller's own account, password and second factor."""

from __future__ import annotations

from pydantic import Field

from kuzet.web.replies import Reply


class StatusReply(Reply):
    """A done step with nothing more to say than what was done, in words."""

    status: str


class NoticeReply(Reply):
    """A change to the caller's credentials made by someone else since the last login."""

    action: str = Field(description="the audit action, e.g. user.password_reset")
    by: str = Field(description="who made the change")
    at: str = Field(description="when (ISO 8601 UTC)")
    outcome: str = Field(description='"allowed", or "refused" for an attempt that was stopped')


class LoginReply(Reply):
    csrf: str = Field(description="echoed in the X-CSRF-Token header of unsafe requests")
    second_factor_missing: bool = Field(
        description="the account's roles need a second factor it has not enrolled yet; "
                    "nothing but enrolment is allowed until it has")
    must_change_password: bool
    notices: list[NoticeReply]


class MeReply(Reply):
    name: str
    roles: list[str]
    perms: list[str] = Field(description="the permissions the caller's roles hold, sorted")
    grants: list[int] = Field(description="ids of the caller's grants in force")
    via: str = Field(description='"session" or "token"')
    second_factor_missing: bool
    must_change_password: bool
    locked: bool = Field(description="the screen is locked (PUT /api/auth/lock): only "
                         "the wall and the unlock are answered")


class TotpEnrolReply(Reply):
    otpauth_uri: str = Field(description="the new secret for the phone; shown this once")
    qr_svg: str = Field(description="the same address as a QR code, an SVG document for "
                                    "the phone's camera to scan; shown this once")


class TotpConfirmReply(Reply):
    status: str
    recovery_codes: list[str] = Field(
        description="each replaces a lost phone once; shown this once")
