"""What goes wrong reading a camera, in the words of a gap row; and the checks that keep
a camera's URL (which may carry a password) out of every message."""

from __future__ import annotations

from enum import StrEnum
from urllib.parse import urlsplit

SUPPORTED_SCHEMES = ("rtsp", "rtsps")


class GapCause(StrEnum):
    CONNECT_FAILED = "connect_failed"
    AUTH_FAILED = "auth_failed"
    NO_VIDEO = "no_video"
    UNSUPPORTED = "unsupported"
    STREAM_ENDED = "stream_ended"
    STALLED = "stalled"
    TIMESTAMP_JUMP = "timestamp_jump"
    STORAGE_FULL = "storage_full"
    STORAGE_ERROR = "storage_error"
    PROCESS_STOPPED = "process_stopped"


class SourceError(Exception):
    """A camera stream could not be opened or read; `cause` says which gap this makes."""

    def __init__(self, cause: GapCause, message: str) -> None:
        super().__init__(message)
        self.cause = cause


def check_url(url: str) -> None:
    """Refuse what we cannot record before trying to connect."""
    parts = urlsplit(url)
    if parts.scheme.lower() not in SUPPORTED_SCHEMES:
        raise SourceError(GapCause.UNSUPPORTED,
                          f"unsupported scheme {parts.scheme or '(none)'!r}: use rtsp:// or rtsps://")
    if not parts.hostname:
        raise SourceError(GapCause.UNSUPPORTED, "the URL names no host")


def mask_url(url: str) -> str:
    """The URL with its password hidden, for logs, status and listings."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username}:***@{parts.hostname}"
    if parts.port:
        netloc += f":{parts.port}"
    return parts._replace(netloc=netloc).geturl()
