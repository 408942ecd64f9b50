"""The parts of a camera's SDP (RFC 8866) a recorder needs: each medium's codec, clock,
control URL and format parameters, and the parameter sets sent out of band."""

from __future__ import annotations

import base64
import binascii
import contextlib
from dataclasses import dataclass, field
from urllib.parse import urljoin

from kuzet.rtsp.protocol import decimal

CODEC_NAMES = {"H264": "h264", "H265": "hevc", "MPEG4-GENERIC": "aac", "PCMA": "pcm_alaw",
               "PCMU": "pcm_mulaw"}
# RFC 3551's static payload types that cameras send without an rtpmap line: G.711.
STATIC_PAYLOADS = {0: ("PCMU", 8000), 8: ("PCMA", 8000)}


@dataclass
class Medium:
    kind: str  # "video", "audio", ...
    payload_type: int
    encoding: str = ""  # as in rtpmap, upper case: H264, H265, MPEG4-GENERIC, ...
    clock_rate: int = 90_000
    channels: int = 1
    control: str = ""
    framerate: float = 0.0
    fmtp: dict[str, str] = field(default_factory=dict)

    @property
    def codec(self) -> str | None:
        """Kuzet's (FFmpeg's) codec name, or None for a codec we do not record."""
        return CODEC_NAMES.get(self.encoding)

    def parameter_sets(self) -> tuple[bytes, ...]:
        """VPS/SPS/PPS from sprop-parameter-sets (H.264) or sprop-vps/sps/pps (H.265)."""
        if self.encoding == "H264":
            values = self.fmtp.get("sprop-parameter-sets", "").split(",")
        else:
            values = [self.fmtp.get(k, "") for k in ("sprop-vps", "sprop-sps", "sprop-pps")]
        units = []
        for value in values:
            if not value:
                continue
            try:
                units.append(base64.b64decode(value + "=" * (-len(value) % 4)))
            except (binascii.Error, ValueError):
                continue  # a garbled set: the in-band ones will do
        return tuple(u for u in units if u)

    def audio_config(self) -> bytes:
        """AudioSpecificConfig of an mpeg4-generic medium (its `config` parameter)."""
        try:
            return bytes.fromhex(self.fmtp.get("config", ""))
        except ValueError:
            return b""

    def url(self, base: str) -> str:
        """The medium's control URL as FFmpeg and live555 make it, and as cameras expect:
        a relative control appended to the whole base (its query too) after one slash."""
        return self.urls(base)[0]

    def urls(self, base: str) -> tuple[str, ...]:
        """The control URLs to try in turn: the appended form (`url`), then, where it
        differs, the base joined by RFC 3986, which drops the base's query and its last
        path segment (`rtsp://h/cam/realmonitor?channel=1` + `trackID=0` gives
        `rtsp://h/cam/trackID=0`). Cameras take one or the other; some only one. A
        control from the host's root (`/...`) is tried as RFC 3986 joins it first."""
        control = self.control
        if not control or control == "*":
            return (base,)
        if "://" in control:
            return (control,)
        joined = urljoin(base, control)
        if control.startswith("/"):  # a path from the host's root: that first
            appended = base.rstrip("/") + control
            return (joined,) if joined == appended else (joined, appended)
        appended = (base if base.endswith("/") else base + "/") + control
        return (appended,) if joined == appended else (appended, joined)


def parse_sdp(text: str) -> list[Medium]:
    media: list[Medium] = []
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("m="):
            fields = line[2:].split()
            try:
                pt = int(fields[3])
            except (IndexError, ValueError):
                pt = -1
            medium = Medium(kind=fields[0] if fields else "", payload_type=pt)
            if pt in STATIC_PAYLOADS:  # an rtpmap line, if any, says the same
                medium.encoding, medium.clock_rate = STATIC_PAYLOADS[pt]
            media.append(medium)
        elif line.startswith("a=") and media:
            _attribute(media[-1], line[2:])
    return media


def _attribute(medium: Medium, attr: str) -> None:
    name, _, value = attr.partition(":")
    if name == "control":
        medium.control = value.strip()
    elif name in ("framerate", "x-framerate"):
        with contextlib.suppress(ValueError):  # garbled: the stream's own timing will do
            medium.framerate = float(value)
    elif name == "rtpmap":
        pt, _, spec = value.partition(" ")
        if pt.strip() != str(medium.payload_type):
            return
        parts = spec.strip().split("/")
        medium.encoding = parts[0].upper()
        if len(parts) > 1 and decimal(parts[1]) and int(parts[1]) > 0:
            medium.clock_rate = int(parts[1])
        if len(parts) > 2 and decimal(parts[2]):
            medium.channels = int(parts[2])
    elif name == "fmtp":
        pt, _, params = value.partition(" ")
        if pt.strip() != str(medium.payload_type):
            return
        for item in params.split(";"):
            key, sep, val = item.strip().partition("=")
            if sep:
                medium.fmtp[key.strip().lower()] = val.strip()
