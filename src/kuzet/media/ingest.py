"""Opening a camera stream with PyAV, and naming what went wrong in the words of a gap row."""

from __future__ import annotations

import errno
import time
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

import av

SUPPORTED_SCHEMES = ("rtsp", "rtsps")
SUPPORTED_VIDEO = ("h264", "hevc")


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


def classify_open_error(exc: BaseException) -> SourceError:
    text = str(exc)
    low = text.lower()
    if isinstance(exc, av.error.HTTPUnauthorizedError) or "401" in text or "unauthorized" in low:
        return SourceError(GapCause.AUTH_FAILED, "the camera refused the credentials (401)")
    if isinstance(exc, av.error.HTTPForbiddenError) or "403" in text:
        return SourceError(GapCause.AUTH_FAILED, "the camera forbade access (403)")
    if isinstance(exc, av.error.HTTPNotFoundError) or "404" in text:
        return SourceError(GapCause.CONNECT_FAILED, "the camera has no stream at that path (404)")
    code = getattr(exc, "errno", None)
    if code == errno.ECONNREFUSED or "refused" in low:
        return SourceError(GapCause.CONNECT_FAILED, "connection refused")
    if code in (errno.ETIMEDOUT, errno.EHOSTUNREACH, errno.ENETUNREACH) or "timed out" in low \
            or "immediate exit" in low:
        return SourceError(GapCause.CONNECT_FAILED, "the camera did not answer in time")
    if "resolve" in low or "name or service" in low:
        return SourceError(GapCause.CONNECT_FAILED, "host name not found")
    return SourceError(GapCause.CONNECT_FAILED, _reason(exc))


def _reason(exc: BaseException) -> str:
    """The error's own words without the URL, which may carry a password."""
    return str(getattr(exc, "strerror", None) or type(exc).__name__)


def classify_read_error(exc: BaseException) -> SourceError:
    low = str(exc).lower()
    code = getattr(exc, "errno", None)
    if isinstance(exc, av.error.ExitError) or code == errno.ETIMEDOUT or "timed out" in low \
            or "immediate exit" in low:
        return SourceError(GapCause.STALLED, "no packet arrived in time")
    if isinstance(exc, av.error.EOFError) or "end of file" in low:
        return SourceError(GapCause.STREAM_ENDED, "the camera ended the stream")
    return SourceError(GapCause.STREAM_ENDED, _reason(exc))


def open_source(url: str, *, transport: str, stall_s: float) -> Any:
    """Open one RTSP session and find its video (and audio) stream.

    Time-outs come from FFmpeg's own socket option, not from PyAV's `timeout=` argument:
    that one installs an interrupt callback which takes the GIL on every I/O poll and
    triples the recorder's CPU (measured: 38 against 13 CPU-s per camera-hour).
    """
    check_url(url)
    options = {
        "rtsp_transport": transport,
        "timeout": str(int(stall_s * 1_000_000)),
        "probesize": "500000",
        "analyzeduration": "1000000",
        "allowed_media_types": "video+audio",
    }
    started = time.monotonic()
    try:
        container = av.open(url, options=options)
    except (av.FFmpegError, OSError) as exc:
        if time.monotonic() - started >= 0.9 * stall_s:
            raise SourceError(GapCause.CONNECT_FAILED,
                              f"the camera did not answer within {stall_s:g} s") from exc
        raise classify_open_error(exc) from exc
    video = container.streams.video
    if not video:
        container.close()
        raise SourceError(GapCause.NO_VIDEO, "the stream carries no video")
    if video[0].codec_context.name not in SUPPORTED_VIDEO:
        name = video[0].codec_context.name
        container.close()
        raise SourceError(GapCause.UNSUPPORTED, f"video codec {name} is not H.264 or H.265")
    return container
