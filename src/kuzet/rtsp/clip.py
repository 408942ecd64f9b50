"""The simulator's picture: one minute of H.264 encoded once, then served by stream copy.

The clip holds 60 one-second GOPs. The server picks GOP number `wall-clock second mod 60`,
so the overlay (":SS.ff", seconds and frame of the minute) shows the wall clock's
seconds while costing no encoding at serve time. A box moves across the picture so that
motion detection and players have something to show.

With a photograph of a person (`kuzet sim --person IMAGE`), the box is replaced by that
person walking across the picture from second 20 to second 40 of every minute, and the
scene is otherwise still: the first frame showing the person is sent at wall-clock second
:20 exactly, which is what bench/analytics.py measures an alarm's latency from.

Encoding a 1080p minute takes about 15 s here, so clips are cached on disk by their
parameters.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from kuzet.nal import H264_PPS, H264_SPS, nal_type, split_annexb
from kuzet.rtsp.rtp import FramePayloads, packetize_h264

FPS = 25
GOP_FRAMES = FPS
CLIP_SECONDS = 60
CACHE_VERSION = 1
PERSON_FROM_S, PERSON_UNTIL_S = 20, 40
PERSON_HEIGHT = 0.8  # of the picture


@dataclass(frozen=True)
class ClipSpec:
    width: int
    height: int
    bitrate_bps: int
    person: Path | None = None  # a photograph of a person to walk across the picture

    @property
    def key(self) -> str:
        raw = f"v{CACHE_VERSION}-{self.width}x{self.height}-{self.bitrate_bps}"
        if self.person is not None:
            raw += "-" + hashlib.sha256(self.person.read_bytes()).hexdigest()
        return hashlib.sha256(raw.encode()).hexdigest()[:16]


def load_person(path: Path, height: int) -> np.ndarray:
    """The photograph scaled to `PERSON_HEIGHT` of a picture `height` high; ValueError
    when it is not a picture OpenCV reads."""
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError(f"{path} is not a picture (PNG, JPEG, BMP, ...)")
    h = max(8, int(height * PERSON_HEIGHT))
    w = max(4, round(image.shape[1] * h / image.shape[0]))
    return cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA)


def person_x(index: int, width: int, person_w: int) -> int | None:
    """Where the person's left edge is in frame `index` of the minute (None: not there).
    From just inside the left edge, so that the first frame already shows most of them,
    to past the right edge."""
    t = index / FPS
    if not PERSON_FROM_S <= t < PERSON_UNTIL_S:
        return None
    phase = (t - PERSON_FROM_S) / (PERSON_UNTIL_S - PERSON_FROM_S)
    start = -person_w // 4
    return int(start + phase * (width - start))


@dataclass(frozen=True)
class Clip:
    spec: ClipSpec
    sps: bytes
    pps: bytes
    frames: tuple[FramePayloads, ...]

    @property
    def profile_level_id(self) -> str:
        return self.sps[1:4].hex().upper()


def draw_frame(spec: ClipSpec, index: int, background: np.ndarray,
               person: np.ndarray | None = None) -> np.ndarray:
    """The picture for frame `index` of the minute: seconds overlay and a moving box, or
    the person walking."""
    w, h = spec.width, spec.height
    img = background.copy()
    if person is None:
        t = index / FPS
        phase = (t % 10.0) / 10.0
        travel = 2 * phase if phase < 0.5 else 2 * (1 - phase)
        box_w, box_h = max(8, w // 10), max(8, h // 4)
        x = int(travel * (w - box_w))
        y = int(h * 0.45)
        cv2.rectangle(img, (x, y), (x + box_w, y + box_h), (40, 190, 250), -1)
    elif (px := person_x(index, w, person.shape[1])) is not None:
        ph, pw = person.shape[:2]
        a, b = max(0, px), min(w, px + pw)
        if b > a:
            img[h - ph:h, a:b] = person[:, a - px:b - px]
    scale = h / 360
    text = f":{index // FPS:02d}.{index % FPS:02d}"
    cv2.putText(img, text, (int(20 * scale), int(70 * scale)), cv2.FONT_HERSHEY_SIMPLEX,
                2.0 * scale, (255, 255, 255), max(1, int(4 * scale)), cv2.LINE_AA)
    cv2.putText(img, "KUZET SIM", (int(20 * scale), h - int(20 * scale)),
                cv2.FONT_HERSHEY_SIMPLEX, 0.8 * scale, (200, 200, 200), max(1, int(2 * scale)),
                cv2.LINE_AA)
    return img


def _background(spec: ClipSpec) -> np.ndarray:
    ramp = np.linspace(30, 90, spec.width, dtype=np.uint8)
    img = np.empty((spec.height, spec.width, 3), np.uint8)
    img[:, :, 0] = ramp
    img[:, :, 1] = ramp // 2
    img[:, :, 2] = 25
    return img


def encode_clip(spec: ClipSpec) -> list[tuple[bool, bytes]]:
    """Encode the minute with libx264: closed one-second GOPs, no B-frames, near-CBR."""
    ctx = av.CodecContext.create("libx264", "w")
    ctx.width, ctx.height = spec.width, spec.height
    ctx.pix_fmt = "yuv420p"
    ctx.framerate = Fraction(FPS)
    ctx.time_base = Fraction(1, FPS)
    ctx.bit_rate = spec.bitrate_bps
    ctx.gop_size = GOP_FRAMES
    kbps = spec.bitrate_bps // 1000
    ctx.options = {
        "preset": "ultrafast",
        "tune": "zerolatency",
        "bf": "0",
        "keyint_min": str(GOP_FRAMES),
        "sc_threshold": "0",
        "x264-params": f"nal-hrd=cbr:force-cfr=1:vbv-maxrate={kbps}:vbv-bufsize={kbps // 2}",
    }
    ctx.open()
    background = _background(spec)
    person = load_person(spec.person, spec.height) if spec.person is not None else None
    out: list[tuple[bool, bytes]] = []
    for index in range(CLIP_SECONDS * FPS):
        frame = av.VideoFrame.from_ndarray(draw_frame(spec, index, background, person),
                                           format="bgr24")
        frame.pts = index
        out.extend((p.is_keyframe, bytes(p)) for p in ctx.encode(frame))
    out.extend((p.is_keyframe, bytes(p)) for p in ctx.encode(None))
    if len(out) != CLIP_SECONDS * FPS:
        raise RuntimeError(f"encoder returned {len(out)} frames, expected {CLIP_SECONDS * FPS}")
    return out


def _save(path: Path, packets: list[tuple[bool, bytes]]) -> None:
    tmp = path.with_suffix(".tmp")
    with tmp.open("wb") as f:
        for key, data in packets:
            f.write(struct.pack("!?I", key, len(data)))
            f.write(data)
    tmp.replace(path)


def _load(path: Path) -> list[tuple[bool, bytes]]:
    raw = path.read_bytes()
    out: list[tuple[bool, bytes]] = []
    pos = 0
    while pos < len(raw):
        key, size = struct.unpack_from("!?I", raw, pos)
        pos += 5
        out.append((key, raw[pos : pos + size]))
        pos += size
    return out


def load_clip(spec: ClipSpec, cache_dir: Path) -> Clip:
    cache_dir.mkdir(parents=True, exist_ok=True)
    path = cache_dir / f"clip-{spec.key}.h264pk"
    packets: list[tuple[bool, bytes]] | None = None
    if path.exists():
        packets = _load(path)
        if len(packets) != CLIP_SECONDS * FPS:
            packets = None
    if packets is None:
        packets = encode_clip(spec)
        _save(path, packets)
    units = list(split_annexb(packets[0][1]))
    sps = next(u for u in units if nal_type("h264", u) == H264_SPS)
    pps = next(u for u in units if nal_type("h264", u) == H264_PPS)
    frames = tuple(FramePayloads(packetize_h264(data), key) for key, data in packets)
    return Clip(spec=spec, sps=sps, pps=pps, frames=frames)


def load_access_units(spec: ClipSpec, cache_dir: Path) -> tuple[list[tuple[bool, bytes]], Clip]:
    """The clip's frames as Annex B access units (keyframe flag, bytes), as encoded, for
    code that writes or decodes them rather than serving them over RTP."""
    clip = load_clip(spec, cache_dir)
    return _load(cache_dir / f"clip-{spec.key}.h264pk"), clip
