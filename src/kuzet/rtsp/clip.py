"""The simulator's picture: one minute of H.264 encoded once, then served by stream copy.

The clip holds 60 one-second GOPs. The server picks GOP number `wall-clock second mod 60`,
so the overlay (":SS.ff", seconds and frame of the minute) shows the wall clock's
seconds while costing no encoding at serve time. A box moves across the picture so that
motion detection and players have something to show.

With a photograph of a person (`kuzet sim --person IMAGE`), the box is replaced by that
person walking across the picture from second 20 to second 40 of every minute, and the
scene is otherwise still: the first frame showing the person is sent at wall-clock second
:20 exactly, which is what bench/analytics.py measures an alarm's latency from.

With `bframes` (issue 20) the clip has B-frames, as many cameras' main streams do: it is
stored in decoding order with each frame's presentation index within its GOP, which the
server turns into the RTP timestamp a camera would send.

Encoding a 1080p minute takes about 15 s here, so clips are cached on disk by their
parameters. The sound of `--audio` (`load_audio`) is a beep at each second's start,
encoded once per codec and cached too.
"""

from __future__ import annotations

import hashlib
import math
import struct
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from kuzet.nal import H264_PPS, H264_SPS, nal_type, split_annexb
from kuzet.rtsp.rtp import FramePayloads, aac_hbr_payload, packetize_h264

FPS = 25
GOP_FRAMES = FPS
CLIP_SECONDS = 60
CACHE_VERSION = 2  # 2: each frame's presentation index stored (B-frames)
MAX_BFRAMES = 3
_RECORD = struct.Struct("!?BI")  # keyframe, presentation index within the GOP, size
PERSON_FROM_S, PERSON_UNTIL_S = 20, 40
PERSON_HEIGHT = 0.8  # of the picture


@dataclass(frozen=True)
class ClipSpec:
    width: int
    height: int
    bitrate_bps: int
    person: Path | None = None  # a photograph of a person to walk across the picture
    bframes: int = 0  # B-frames between references (0..3), as libx264's `bf`

    @property
    def key(self) -> str:
        raw = f"v{CACHE_VERSION}-{self.width}x{self.height}-{self.bitrate_bps}"
        if self.bframes:
            raw += f"-bf{self.bframes}"
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


Encoded = tuple[bool, int, bytes]  # keyframe, presentation index within its GOP, data


def _x264_options(spec: ClipSpec) -> dict[str, str]:
    """Near-CBR, closed one-second GOPs; with B-frames a fixed pattern (b-adapt off, no
    pyramid) and no zero-latency tune, which would turn them off."""
    kbps = spec.bitrate_bps // 1000
    params = f"nal-hrd=cbr:force-cfr=1:vbv-maxrate={kbps}:vbv-bufsize={kbps // 2}"
    options = {
        "preset": "ultrafast",
        "tune": "zerolatency",
        "bf": "0",
        "keyint_min": str(GOP_FRAMES),
        "sc_threshold": "0",
        "x264-params": params,
    }
    if spec.bframes:
        del options["tune"]
        options["bf"] = str(spec.bframes)
        options["x264-params"] = params + ":b-adapt=0:b-pyramid=none:open-gop=0"
    return options


def encode_clip(spec: ClipSpec) -> list[Encoded]:
    """Encode the minute with libx264: closed one-second GOPs, near-CBR, B-frames only as
    `spec.bframes` says; frames in decoding order."""
    if not 0 <= spec.bframes <= MAX_BFRAMES:
        raise ValueError(f"bframes {spec.bframes}: 0 to {MAX_BFRAMES}")
    ctx = av.CodecContext.create("libx264", "w")
    ctx.width, ctx.height = spec.width, spec.height
    ctx.pix_fmt = "yuv420p"
    ctx.framerate = Fraction(FPS)
    ctx.time_base = Fraction(1, FPS)
    ctx.bit_rate = spec.bitrate_bps
    ctx.gop_size = GOP_FRAMES
    ctx.options = _x264_options(spec)
    ctx.open()
    background = _background(spec)
    person = load_person(spec.person, spec.height) if spec.person is not None else None
    packets = []
    for index in range(CLIP_SECONDS * FPS):
        frame = av.VideoFrame.from_ndarray(draw_frame(spec, index, background, person),
                                           format="bgr24")
        frame.pts = index
        packets.extend(ctx.encode(frame))
    packets.extend(ctx.encode(None))
    if len(packets) != CLIP_SECONDS * FPS:
        raise RuntimeError(f"encoder returned {len(packets)} frames, "
                           f"expected {CLIP_SECONDS * FPS}")
    out: list[Encoded] = []
    for position, p in enumerate(packets):
        if p.pts is None or p.pts // GOP_FRAMES != position // GOP_FRAMES:
            raise RuntimeError(f"frame {p.pts} decoded outside its one-second GOP")
        out.append((p.is_keyframe, p.pts % GOP_FRAMES, bytes(p)))
    return out


def _save(path: Path, records: list[Encoded]) -> None:
    tmp = path.with_suffix(".tmp")
    with tmp.open("wb") as f:
        for key, shown, data in records:
            f.write(_RECORD.pack(key, shown, len(data)))
            f.write(data)
    tmp.replace(path)


def _load(path: Path) -> list[Encoded]:
    raw = path.read_bytes()
    out: list[Encoded] = []
    pos = 0
    while pos < len(raw):
        key, shown, size = _RECORD.unpack_from(raw, pos)
        pos += _RECORD.size
        out.append((key, shown, raw[pos : pos + size]))
        pos += size
    return out


def load_clip(spec: ClipSpec, cache_dir: Path) -> Clip:
    cache_dir.mkdir(parents=True, exist_ok=True)
    path = cache_dir / f"clip-{spec.key}.h264pk"
    packets: list[Encoded] | None = None
    if path.exists():
        packets = _load(path)
        if len(packets) != CLIP_SECONDS * FPS:
            packets = None
    if packets is None:
        packets = encode_clip(spec)
        _save(path, packets)
    units = list(split_annexb(packets[0][2]))
    sps = next(u for u in units if nal_type("h264", u) == H264_SPS)
    pps = next(u for u in units if nal_type("h264", u) == H264_PPS)
    frames = tuple(FramePayloads(packetize_h264(data), key, shown)
                   for key, shown, data in packets)
    return Clip(spec=spec, sps=sps, pps=pps, frames=frames)


def load_access_units(spec: ClipSpec, cache_dir: Path) -> tuple[list[tuple[bool, bytes]], Clip]:
    """The clip's frames as Annex B access units (keyframe flag, bytes), as encoded, for
    code that writes or decodes them rather than serving them over RTP."""
    clip = load_clip(spec, cache_dir)
    units = [(key, data) for key, _, data in _load(cache_dir / f"clip-{spec.key}.h264pk")]
    return units, clip


# -- sound (`kuzet sim --audio`) ---------------------------------------------------------
AUDIO_CACHE_VERSION = 1
BEEP_S = 0.1  # a 1-kHz beep this long at the start of every second, silence otherwise
BEEP_HZ = 1000


@dataclass(frozen=True)
class AudioFormat:
    """How a camera sends one audio codec over RTP. AAC at 16 kHz: what cameras' built-in
    microphones capture speech at (a voice band needs no more), a third of
    48 kHz's packets; one 1024-sample access unit per packet, 64 ms."""

    codec: str  # as `--audio` names it
    encoder: str  # PyAV's
    rate: int  # samples per second, the RTP clock
    samples: int  # per RTP packet
    payload_type: int
    rtpmap: str

    @property
    def loop_s(self) -> int:
        """The shortest whole number of seconds that holds whole packets (AAC at 16 kHz:
        8 s, 125 access units), so that the loop repeats on a second's boundary."""
        return math.lcm(self.rate, self.samples) // self.rate


AUDIO_FORMATS = {f.codec: f for f in (
    AudioFormat("aac", "aac", 16_000, 1024, 97, "mpeg4-generic/16000/1"),
    AudioFormat("pcma", "pcm_alaw", 8000, 160, 8, "PCMA/8000"),
    AudioFormat("pcmu", "pcm_mulaw", 8000, 160, 0, "PCMU/8000"),
    AudioFormat("opus", "libopus", 48_000, 960, 111, "opus/48000/2"),
)}
# AAC-LC (object type 2), 16 kHz (frequency index 8), mono: ISO 14496-3 1.6.2.1
AAC_CONFIG = f"{(2 << 11) | (8 << 7) | (1 << 3):04X}"


@dataclass(frozen=True)
class AudioClip:
    """One loop of the beeping sound as RTP payloads; packet p since the epoch carries
    `payloads[p % len(payloads)]`."""

    format: AudioFormat
    payloads: tuple[bytes, ...]

    def sdp(self) -> list[str]:
        pt = self.format.payload_type
        lines = [f"m=audio 0 RTP/AVP {pt}", f"a=rtpmap:{pt} {self.format.rtpmap}"]
        if self.format.codec == "aac":
            lines.append(f"a=fmtp:{pt} streamtype=5;profile-level-id=1;mode=AAC-hbr;"
                         f"sizelength=13;indexlength=3;indexdeltalength=3;config={AAC_CONFIG}")
        if self.format.codec == "opus":
            lines.append(f"a=fmtp:{pt} sprop-stereo=0")
        lines.append("a=control:trackID=1")
        return lines


def _beeps(rate: int, seconds: int) -> np.ndarray:
    t = np.arange(rate * seconds) / rate
    tone = np.sin(2 * np.pi * BEEP_HZ * t) * 0.3 * ((t % 1.0) < BEEP_S)
    return (tone * 32767).astype(np.int16)


def encode_audio(fmt: AudioFormat) -> list[bytes]:
    """One loop of beeps as the codec's packets. Two loops are encoded and the second one
    kept, so that the loop starts with the encoder's state of a running stream and its
    first packet covers the loop's first samples (AAC's and Opus's packets start
    before their input: priming, 1024 and 312 samples)."""
    ctx = av.CodecContext.create(fmt.encoder, "w")
    assert isinstance(ctx, av.AudioCodecContext)
    ctx.sample_rate = fmt.rate
    ctx.layout = "mono"
    ctx.format = "fltp" if fmt.encoder == "aac" else "s16"
    ctx.time_base = Fraction(1, fmt.rate)
    ctx.open()
    step = ctx.frame_size or fmt.samples  # G.711 takes any: 160 samples, 20 ms
    loop = fmt.loop_s * fmt.rate
    pcm = _beeps(fmt.rate, 2 * fmt.loop_s)
    packets = []
    for start in range(0, len(pcm), step):
        chunk = pcm[start:start + step]
        samples = chunk[None, :] if ctx.format.name == "s16" \
            else chunk.astype(np.float32)[None, :] / 32768
        frame = av.AudioFrame.from_ndarray(samples, format=ctx.format.name, layout="mono")
        frame.sample_rate = fmt.rate
        frame.pts = start
        packets.extend(ctx.encode(frame))
    packets.extend(ctx.encode(None))
    kept = [bytes(p) for p in packets if p.pts is not None and p.pts > loop - fmt.samples]
    return kept[:loop // fmt.samples]


def load_audio(codec: str, cache_dir: Path) -> AudioClip:
    """The sound for `--audio CODEC` (a key of AUDIO_FORMATS), encoded once and cached."""
    fmt = AUDIO_FORMATS[codec]
    cache_dir.mkdir(parents=True, exist_ok=True)
    path = cache_dir / f"audio-v{AUDIO_CACHE_VERSION}-{codec}.pk"
    count = fmt.loop_s * fmt.rate // fmt.samples
    units = [data for _, _, data in _load(path)] if path.exists() else []
    if len(units) != count:
        units = encode_audio(fmt)
        if len(units) != count:
            raise RuntimeError(f"{codec}: {len(units)} packets for the loop, expected {count}")
        _save(path, [(False, 0, u) for u in units])
    if codec == "aac":
        units = [aac_hbr_payload(u) for u in units]
    return AudioClip(fmt, tuple(units))
