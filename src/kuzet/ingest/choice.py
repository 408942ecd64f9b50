"""Which RTSP client reads a camera for recording (see kuzet.ingest.source).

A camera the own client handed back once stays with FFmpeg's until the process restarts:
what made it unsuitable (reordered frames, say) is a property of the camera.
"""

from __future__ import annotations

import logging

from kuzet.credentials import SecretUrl
from kuzet.ingest.ffmpeg_source import PyavSource, open_source
from kuzet.ingest.rtsp_source import RtspSource
from kuzet.ingest.source import NeedsFfmpeg, Source, handed_to_ffmpeg

log = logging.getLogger(__name__)


def open_recording_source(url: SecretUrl, *, transport: str, stall_s: float) -> Source:
    """Open a camera for recording with the client that suits it."""
    if transport == "tcp" and url.shown.lower().startswith("rtsp://") \
            and not handed_to_ffmpeg(url):
        try:
            return RtspSource.open(url, stall_s=stall_s)
        except NeedsFfmpeg as exc:  # remembered: FFmpeg's client takes it from now on
            log.warning("%s: %s", url, exc)
    return PyavSource(open_source(url, transport=transport, stall_s=stall_s))

