"""What goes wrong reading a camera, in the words of a gap row; and the check of a
camera's URL (a `SecretUrl`: it may carry a password, which no message shows)."""

from __future__ import annotations

from enum import StrEnum
from urllib.parse import urlsplit

from kuzet.credentials import SecretUrl
from kuzet.errors import Phrase

SUPPORTED_SCHEMES = ("rtsp", "rtsps")
# said to whoever registers the camera, in their language (kuzet.web.locale)
UNSUPPORTED_SCHEME = "unsupported scheme {scheme}: use rtsp:// or rtsps://"
NO_HOST = "the URL names no host"


class GapCause(StrEnum):
    CONNECT_FAILED = "connect_failed"
    AUTH_FAILED = "auth_failed"
    NO_VIDEO = "no_video"
    UNSUPPORTED = "unsupported"
    STREAM_ENDED = "stream_ended"
    STALLED = "stalled"
    TIMESTAMP_JUMP = "timestamp_jump"
    PACKET_LOSS = "packet_loss"  # the network lost whole frames: cut until the next keyframe
    STORAGE_FULL = "storage_full"
    STORAGE_ERROR = "storage_error"
    PROCESS_STOPPED = "process_stopped"
    # the UPS powering the server said its battery is low: segments closed before the
    # power goes (UE-10-22 3.3.4; kuzet.equipment.power)
    POWER = "power"
    # another recording node took the camera after its node stopped renewing the lease,
    # or was handed it by a node drained or told to move it (issue 25; kuzet.cluster)
    NODE_FAILOVER = "node_failover"
    NODE_HANDOVER = "node_handover"


class SourceError(Exception):
    """A camera stream could not be opened or read; `cause` says which gap this makes."""

    def __init__(self, cause: GapCause, message: str) -> None:
        super().__init__(message)
        self.cause = cause
        self.message = message  # a Phrase where a person is to read it


def check_url(url: SecretUrl) -> None:
    """Refuse what we cannot record before trying to connect."""
    parts = urlsplit(url.shown)  # scheme and host, which the shown form keeps
    if parts.scheme.lower() not in SUPPORTED_SCHEMES:
        raise SourceError(GapCause.UNSUPPORTED,
                          Phrase(UNSUPPORTED_SCHEME, scheme=repr(parts.scheme or "(none)")))
    if not parts.hostname:
        raise SourceError(GapCause.UNSUPPORTED, Phrase(NO_HOST))

