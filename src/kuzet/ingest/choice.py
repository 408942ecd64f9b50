"""Which RTSP client reads a camera for recording (see kuzet.ingest.source): Kuzet's own
for every `rtsp://` camera, over TCP or UDP, and every `rtsps://` one (over TCP, the only
transport RTSPS has here: kuzet.ingest.rtsp_source); FFmpeg's for a camera the own client
hands back (`NeedsFfmpeg`, logged with its reason).

A camera the own client handed back once stays with FFmpeg's for as long as the recorder
that met it runs: what made it unsuitable (reordered frames, say) is a property of the
camera. The memory belongs to one `ClientChoice`, the recorder's, not to the process, so
two recorders (or two tests) in one process never decide for each other. So does the
memory of each `rtsps://` camera's certificate, logged when first seen and when it changes.

FFmpeg's client neither verifies a camera's certificate (by default) nor can hold it to a
pinned fingerprint, so a camera with a pin is never handed to it: it fails, saying why,
rather than be recorded from whatever answers at its address.
"""

from __future__ import annotations

import logging
import threading
from urllib.parse import urlsplit

from kuzet.credentials import SecretUrl
from kuzet.ingest.errors import GapCause, SourceError
from kuzet.ingest.ffmpeg_source import PyavSource, open_source
from kuzet.ingest.rtsp_source import RtspSource
from kuzet.ingest.source import NeedsFfmpeg, Source

log = logging.getLogger(__name__)

OWN_CLIENT_SCHEMES = ("rtsp", "rtsps")


class ClientChoice:
    """Opens cameras for one recorder with the client that suits each; its `open` is the
    supervisors' opener. Called from every camera's thread."""

    def __init__(self) -> None:
        self._ffmpeg: set[SecretUrl] = set()
        self._certificates: dict[SecretUrl, str] = {}  # rtsps:// camera -> SHA-256
        self._told_tcp: set[SecretUrl] = set()
        self._lock = threading.Lock()

    def open(self, url: SecretUrl, *, transport: str, stall_s: float,
             audio: bool = False, tls_fingerprint: str | None = None) -> Source:
        """The camera's video, and its sound only with `audio` (either client leaves the
        sound's medium unopened otherwise). `tls_fingerprint`: the SHA-256 an rtsps://
        camera's certificate must have (kuzet.rtsp.client.fingerprint's forms)."""
        scheme = urlsplit(url.shown).scheme.lower()
        if scheme in OWN_CLIENT_SCHEMES and not self.handed_to_ffmpeg(url):
            if scheme == "rtsps" and transport == "udp":
                self._tell_tcp(url)
            try:
                source = RtspSource.open(url, stall_s=stall_s, audio=audio,
                                         transport=transport, tls_fingerprint=tls_fingerprint)
            except NeedsFfmpeg as exc:  # remembered: FFmpeg's client takes it from now on
                log.warning("%s: %s", url, exc)
                self.hand_to_ffmpeg(url)
            else:
                source.handed_back = self.hand_to_ffmpeg
                self._note_certificate(url, source.peer_certificate_sha256)
                return source
        if tls_fingerprint:
            raise SourceError(GapCause.UNSUPPORTED,
                              "the camera needs FFmpeg's RTSP client, which cannot check its "
                              "pinned TLS certificate; unpin it to record it that way")
        return PyavSource(open_source(url, transport=transport, stall_s=stall_s, audio=audio))

    def hand_to_ffmpeg(self, url: SecretUrl) -> None:
        with self._lock:
            self._ffmpeg.add(url)

    def handed_to_ffmpeg(self, url: SecretUrl) -> bool:
        with self._lock:
            return url in self._ffmpeg

    def _tell_tcp(self, url: SecretUrl) -> None:
        """Once a camera: its UDP transport is not what it gets."""
        with self._lock:
            if url in self._told_tcp:
                return
            self._told_tcp.add(url)
        log.info("%s: rtsps:// carries RTP inside its TLS connection (TCP-interleaved); "
                 "the camera's udp transport is not used", url)

    def _note_certificate(self, url: SecretUrl, sha256: str | None) -> None:
        """Log an rtsps:// camera's certificate when first seen, and when it changes (a
        new certificate, or someone else answering at the camera's address)."""
        if sha256 is None:
            return
        with self._lock:
            before = self._certificates.get(url)
            self._certificates[url] = sha256
        if before is None:
            log.info("%s: TLS certificate sha256 %s (not verified: pin it to hold the "
                     "camera to it)", url, sha256)
        elif before != sha256:
            log.warning("%s: the TLS certificate changed: sha256 %s, was %s", url, sha256,
                        before)
