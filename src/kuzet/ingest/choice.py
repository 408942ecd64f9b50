"""Which RTSP client reads a camera for recording (see kuzet.ingest.source).

A camera the own client handed back once stays with FFmpeg's for as long as the recorder
that met it runs: what made it unsuitable (reordered frames, say) is a property of the
camera. The memory belongs to one `ClientChoice`, the recorder's, not to the process, so
two recorders (or two tests) in one process never decide for each other.
"""

from __future__ import annotations

import logging
import threading

from kuzet.credentials import SecretUrl
from kuzet.ingest.ffmpeg_source import PyavSource, open_source
from kuzet.ingest.rtsp_source import RtspSource
from kuzet.ingest.source import NeedsFfmpeg, Source

log = logging.getLogger(__name__)


class ClientChoice:
    """Opens cameras for one recorder with the client that suits each; its `open` is the
    supervisors' opener. Called from every camera's thread."""

    def __init__(self) -> None:
        self._ffmpeg: set[SecretUrl] = set()
        self._lock = threading.Lock()

    def open(self, url: SecretUrl, *, transport: str, stall_s: float,
             audio: bool = False) -> Source:
        """The camera's video, and its sound only with `audio` (either client leaves the
        sound's medium unopened otherwise)."""
        if transport == "tcp" and url.shown.lower().startswith("rtsp://") \
                and not self.handed_to_ffmpeg(url):
            try:
                source = RtspSource.open(url, stall_s=stall_s, audio=audio)
            except NeedsFfmpeg as exc:  # remembered: FFmpeg's client takes it from now on
                log.warning("%s: %s", url, exc)
                self.hand_to_ffmpeg(url)
            else:
                source.handed_back = self.hand_to_ffmpeg
                return source
        return PyavSource(open_source(url, transport=transport, stall_s=stall_s, audio=audio))

    def hand_to_ffmpeg(self, url: SecretUrl) -> None:
        with self._lock:
            self._ffmpeg.add(url)

    def handed_to_ffmpeg(self, url: SecretUrl) -> bool:
        with self._lock:
            return url in self._ffmpeg
