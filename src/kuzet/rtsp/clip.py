"""The simulator's picture: one minute of H.264 encoded once, then served by stream copy.

The clip holds 60 one-second GOPs. The server picks GOP number `wall-clock second mod 60`,
so the overlay (":SS.ff", seconds and frame of the minute) shows the wall clock's
seconds while costing no encoding at serve time. A box moves across the picture so that
motion detection and players have something to show.

With a photograph of a person (`kuzet sim --person IMAGE`), the box is replaced by that
person walking across the picture from second 20 to second 40 of every minute, and the
scene is otherwise still: the first frame showing the person is sent at wall-clock second
:20 exactly, which is what bench/analytics.py measures an alarm's latency from.

With a `scene` (`kuzet sim --scenes`, what `kuzet demo` runs) a camera shows a picture of
its own: one of `SCENES` (an entrance, a lobby, a corridor...) drawn with a few shapes, and
its name large in the top right corner, so that a wall of cameras is told apart at a
glance. The person then stands on the scene's floor (`FLOOR_Y`), not on the picture's
bottom edge, where a zone drawn on the floor contains their feet.

With `bframes` (issue 20) the clip has B-frames, as many cameras' main streams do: it is
stored in decoding order with each frame's presentation index within its GOP, which the
server turns into the RTP timestamp a camera would send.

Frames are drawn in I420, the encoder's own format: the scene (background) is drawn
and converted once, and each frame pastes only what moves and the overlay onto a copy,
since converting every 1080p frame from BGR cost 9 ms, as much as encoding it. A 1080p
minute takes about 12 s here to encode, a 720p one 5 s, so clips are cached on disk by
their parameters. The sound of `--audio` (`load_audio`) is a beep at each second's start,
encoded once per codec and cached too.
"""

from __future__ import annotations

import hashlib
import math
import os
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
CACHE_VERSION = 3  # 2: each frame's presentation index stored (B-frames); 3: drawn in I420
MAX_BFRAMES = 3
_RECORD = struct.Struct("!?BI")  # keyframe, presentation index within the GOP, size
PERSON_FROM_S, PERSON_UNTIL_S = 20, 40
PERSON_HEIGHT = 0.8  # of the picture
FLOOR_Y = 0.92  # where a scene's person stands, in fractions of the picture's height
# The demo's person: Eileen Collins, NASA astronaut, a public-domain NASA photograph (the
# one scikit-image ships as `data.astronaut()` and the detector's tests use), cropped to
# her and stored as a JPEG (47 kB) inside the package, so the demo downloads nothing.
PERSON_PHOTO = Path(__file__).parent / "assets" / "person.jpg"
# What `scene` i draws, in the order of `kuzet demo`'s places (cli.main.DEMO_PLACES).
SCENES = ("entrance", "lobby", "corridor", "dormitory entrance", "dormitory floor",
          "sports hall")


@dataclass(frozen=True)
class ClipSpec:
    width: int
    height: int
    bitrate_bps: int
    person: Path | None = None  # a photograph of a person to walk across the picture
    bframes: int = 0  # B-frames between references (0..3), as libx264's `bf`
    label: str = ""  # with a scene: the camera's name, drawn large
    scene: int | None = None  # an index into SCENES; None: the plain gradient

    @property
    def key(self) -> str:
        raw = f"v{CACHE_VERSION}-{self.width}x{self.height}-{self.bitrate_bps}"
        if self.bframes:
            raw += f"-bf{self.bframes}"
        if self.person is not None:
            raw += "-" + hashlib.sha256(self.person.read_bytes()).hexdigest()
        if self.scene is not None:
            raw += f"-scene{self.scene}-{self.label}"
        return hashlib.sha256(raw.encode()).hexdigest()[:16]


def load_person(path: Path, height: int) -> np.ndarray:
    """The photograph scaled to `PERSON_HEIGHT` of a picture `height` high, in even
    pixels (I420 halves both); ValueError when it is not a picture OpenCV reads."""
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError(f"{path} is not a picture (PNG, JPEG, BMP, ...)")
    h = max(8, int(height * PERSON_HEIGHT)) // 2 * 2
    w = max(4, round(image.shape[1] * h / image.shape[0])) // 2 * 2
    return cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA)


def person_x(index: int, width: int, person_w: int) -> int | None:
    """Where the person's left edge is in frame `index` of the minute (None: not there).
    From just inside the left edge, so that the first frame already shows most of them,
    to past the right edge; always even (I420's chroma is half the width)."""
    t = index / FPS
    if not PERSON_FROM_S <= t < PERSON_UNTIL_S:
        return None
    phase = (t - PERSON_FROM_S) / (PERSON_UNTIL_S - PERSON_FROM_S)
    start = -person_w // 4
    return int(start + phase * (width - start)) // 2 * 2


@dataclass(frozen=True)
class Clip:
    spec: ClipSpec
    sps: bytes
    pps: bytes
    frames: tuple[FramePayloads, ...]

    @property
    def profile_level_id(self) -> str:
        return self.sps[1:4].hex().upper()


# -- drawing -----------------------------------------------------------------------------
Colour = tuple[int, int, int]  # BGR
WHITE_Y, GREY_Y, NEUTRAL = 235, 188, 128  # white and light grey in I420 (limited range)
BOX: Colour = (40, 190, 250)


def planes(img: np.ndarray, width: int, height: int
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The Y, U and V planes of an I420 picture (views into it)."""
    flat = img.reshape(-1)
    y_size, c_size = width * height, width * height // 4
    return (flat[:y_size].reshape(height, width),
            flat[y_size:y_size + c_size].reshape(height // 2, width // 2),
            flat[y_size + c_size:].reshape(height // 2, width // 2))


def to_i420(bgr: np.ndarray) -> np.ndarray:
    """BGR to I420 as libswscale does it (BT.601, limited range; within 1 of it)."""
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2YUV_I420)


def _yuv(colour: Colour) -> tuple[int, int, int]:
    y, u, v = planes(to_i420(np.full((2, 2, 3), colour, np.uint8)), 2, 2)
    return int(y[0, 0]), int(u[0, 0]), int(v[0, 0])


def _text(img: np.ndarray, spec: ClipSpec, text: str, org: tuple[int, int], scale: float,
          luma: int, thickness: int) -> None:
    """Grey text on an I420 picture: the luma plane, and neutral chroma under it."""
    y, u, v = planes(img, spec.width, spec.height)
    cv2.putText(y, text, org, cv2.FONT_HERSHEY_SIMPLEX, scale, luma, thickness, cv2.LINE_AA)
    for chroma in (u, v):
        cv2.putText(chroma, text, (org[0] // 2, org[1] // 2), cv2.FONT_HERSHEY_SIMPLEX,
                    scale / 2, NEUTRAL, max(1, thickness // 2), cv2.LINE_AA)


Layer = tuple[np.ndarray, np.ndarray]  # an I420 picture, and where it is drawn (a mask)


def draw_frame(spec: ClipSpec, index: int, background: np.ndarray,
               person: np.ndarray | None = None, above: Layer | None = None) -> np.ndarray:
    """The I420 picture for frame `index` of the minute: the background (`scene_i420`),
    a moving box or the person walking (`person` in I420, from `load_person`) with the
    camera's name (`name_layer`) over them, and the seconds overlay."""
    w, h = spec.width, spec.height
    img = background.copy()
    y, u, v = planes(img, w, h)
    if person is None:
        t = index / FPS
        phase = (t % 10.0) / 10.0
        travel = 2 * phase if phase < 0.5 else 2 * (1 - phase)
        box_w, box_h = max(8, w // 10) // 2 * 2, max(8, h // 4) // 2 * 2
        x = int(travel * (w - box_w)) // 2 * 2
        top = int(h * 0.45) // 2 * 2
        for plane, value, k in zip((y, u, v), _yuv(BOX), (1, 2, 2), strict=True):
            plane[top // k:(top + box_h) // k, x // k:(x + box_w) // k] = value
    elif (px := person_x(index, w, person.shape[1])) is not None:
        ph, pw = person.shape[0] * 2 // 3, person.shape[1]
        a, b = max(0, px), min(w, px + pw)
        top = (h if spec.scene is None else int(h * FLOOR_Y)) // 2 * 2 - ph
        if b > a:
            for plane, part, k in zip((y, u, v), planes(person, pw, ph), (1, 2, 2),
                                      strict=True):
                plane[top // k:(top + ph) // k, a // k:b // k] = \
                    part[:, (a - px) // k:(b - px) // k]
            if above is not None:
                np.copyto(img, above[0], where=above[1])
    scale = h / 360
    _text(img, spec, f":{index // FPS:02d}.{index % FPS:02d}",
          (int(20 * scale), int(70 * scale)), 2.0 * scale, WHITE_Y, max(1, int(4 * scale)))
    return img


def _still(spec: ClipSpec, named: bool) -> np.ndarray:
    w, h = spec.width, spec.height
    if spec.scene is None:
        ramp = np.linspace(30, 90, w, dtype=np.uint8)
        img = np.empty((h, w, 3), np.uint8)
        img[:, :, 0] = ramp
        img[:, :, 1] = ramp // 2
        img[:, :, 2] = 25
    else:
        img = draw_scene(spec.scene % len(SCENES), w, h)
        if named:
            _name(img, spec.label, SCENES[spec.scene % len(SCENES)])
    out = to_i420(img)
    scale = h / 360
    _text(out, spec, "KUZET SIM", (int(20 * scale), h - int(20 * scale)), 0.8 * scale,
          GREY_Y, max(1, int(2 * scale)))
    return out


def scene_i420(spec: ClipSpec) -> np.ndarray:
    """What stays still in every frame, in I420: the gradient or the scene, the camera's
    name, "KUZET SIM"."""
    return _still(spec, named=True)


def name_layer(spec: ClipSpec) -> Layer | None:
    """The camera's name as a layer over the person, as a camera's on-screen title is
    burnt in over whatever passes (None: no scene, no name)."""
    if spec.scene is None:
        return None
    named = _still(spec, named=True)
    return named, named != _still(spec, named=False)


def _name(img: np.ndarray, label: str, scene: str) -> None:
    """The camera's name large in the top right corner (a tenth of the picture's height),
    and its scene under it, white on a dark edge: readable on any tile of the wall."""
    h, w = img.shape[:2]
    font = cv2.FONT_HERSHEY_DUPLEX
    for text, height, top in ((label, 0.11, 0.05), (scene.upper(), 0.04, 0.19)):
        scale = cv2.getFontScaleFromHeight(font, max(4, int(h * height)))
        thick = max(1, int(scale * 2.5)) if text == label else max(1, int(scale * 1.5))
        (tw, th), _ = cv2.getTextSize(text, font, scale, thick)
        x, y = w - tw - int(w * 0.03), int(h * top) + th
        edge = max(1, thick // 2)
        for dx, dy in ((-edge, -edge), (edge, -edge), (-edge, edge), (edge, edge)):
            cv2.putText(img, text, (x + dx, y + dy), font, scale, (30, 30, 30), thick,
                        cv2.LINE_AA)
        cv2.putText(img, text, (x, y), font, scale, (255, 255, 255), thick, cv2.LINE_AA)


# -- scenes: a few shapes each, in fractions of the picture ------------------------------
def _poly(img: np.ndarray, points: list[tuple[float, float]], colour: Colour) -> None:
    h, w = img.shape[:2]
    corners = np.array([(round(x * w), round(y * h)) for x, y in points], np.int32)
    cv2.fillPoly(img, [corners], colour, cv2.LINE_AA)


def _rect(img: np.ndarray, x0: float, y0: float, x1: float, y1: float,
          colour: Colour) -> None:
    _poly(img, [(x0, y0), (x1, y0), (x1, y1), (x0, y1)], colour)


def _line(img: np.ndarray, a: tuple[float, float], b: tuple[float, float], colour: Colour,
          width: float = 0.004) -> None:
    h, w = img.shape[:2]
    cv2.line(img, (round(a[0] * w), round(a[1] * h)), (round(b[0] * w), round(b[1] * h)),
             colour, max(1, round(width * h)), cv2.LINE_AA)


def _gradient(img: np.ndarray, y0: float, y1: float, top: Colour, bottom: Colour) -> None:
    h = img.shape[0]
    a, b = int(y0 * h), int(y1 * h)
    mix = np.linspace(0.0, 1.0, max(1, b - a))[:, None]
    rows = (1 - mix) * np.array(top, float) + mix * np.array(bottom, float)
    img[a:b] = rows.astype(np.uint8)[:, None, :]


def _entrance(img: np.ndarray) -> None:
    _gradient(img, 0.0, 0.64, (235, 200, 150), (250, 235, 215))  # sky
    _rect(img, 0.04, 0.10, 0.96, 0.64, (165, 190, 215))  # facade
    for col in range(5):
        for row in range(2):
            x = 0.40 + col * 0.11
            _rect(img, x, 0.30 + row * 0.17, x + 0.07, 0.40 + row * 0.17, (110, 80, 55))
    _rect(img, 0.12, 0.29, 0.36, 0.33, (70, 70, 70))  # canopy
    _rect(img, 0.16, 0.33, 0.32, 0.64, (90, 75, 55))  # doors
    _rect(img, 0.17, 0.35, 0.235, 0.62, (150, 130, 100))
    _rect(img, 0.245, 0.35, 0.31, 0.62, (150, 130, 100))
    _rect(img, 0.0, 0.64, 1.0, 1.0, (150, 150, 150))  # pavement
    for k in range(-5, 6):
        _line(img, (0.5 + k * 0.05, 0.64), (0.5 + k * 0.2, 1.0), (120, 120, 120))
    for y in (0.70, 0.79, 0.9):
        _line(img, (0.0, y), (1.0, y), (120, 120, 120))


def _lobby(img: np.ndarray) -> None:
    _rect(img, 0.0, 0.0, 1.0, 0.58, (200, 225, 235))  # wall
    _rect(img, 0.08, 0.12, 0.30, 0.36, (90, 120, 70))  # notice board
    _rect(img, 0.0, 0.55, 1.0, 0.58, (70, 80, 90))  # skirting
    edges = [0.58, 0.64, 0.72, 0.83, 1.0]  # tiles: rows deepen towards the camera
    for r in range(4):
        for c in range(10):
            _rect(img, c / 10, edges[r], (c + 1) / 10, edges[r + 1],
                  (185, 185, 180) if (r + c) % 2 else (115, 115, 110))
    _rect(img, 0.62, 0.40, 0.94, 0.68, (60, 95, 140))  # reception desk
    _rect(img, 0.60, 0.37, 0.96, 0.41, (40, 60, 100))
    _rect(img, 0.36, 0.44, 0.42, 0.58, (50, 70, 120))  # plant pot
    h, w = img.shape[:2]
    cv2.circle(img, (int(0.39 * w), int(0.38 * h)), int(0.08 * h), (60, 140, 50), -1,
               cv2.LINE_AA)


def _corridor(img: np.ndarray, walls: Colour, floor: Colour, doors: Colour) -> None:
    """A corridor in one-point perspective: ceiling, floor, the end wall, doors."""
    _rect(img, 0.0, 0.0, 1.0, 1.0, walls)
    _poly(img, [(0.0, 0.0), (1.0, 0.0), (0.6, 0.33), (0.4, 0.33)], (235, 235, 235))
    _poly(img, [(0.0, 1.0), (1.0, 1.0), (0.6, 0.57), (0.4, 0.57)], floor)
    blue, green, red = walls
    _rect(img, 0.4, 0.33, 0.6, 0.57, (blue * 4 // 5, green * 4 // 5, red * 4 // 5))
    for x0, x1 in ((0.06, 0.14), (0.22, 0.27), (0.31, 0.34)):  # doors along both walls
        for left in (True, False):
            near, far = (x0, x1) if left else (1 - x0, 1 - x1)
            _poly(img, [(near, 0.08 + x0 * 0.7), (far, 0.08 + x1 * 0.7),
                        (far, 1.0 - x1 * 1.1), (near, 1.0 - x0 * 1.1)], doors)
    for k in range(4):  # ceiling lights
        t = k / 4
        _rect(img, 0.5 - 0.12 * (1 - t), 0.03 + 0.27 * t, 0.5 + 0.12 * (1 - t),
              0.05 + 0.27 * t, (255, 255, 255))


def _brick(img: np.ndarray) -> None:
    _rect(img, 0.0, 0.0, 1.0, 0.72, (60, 80, 150))
    rows = 18
    for r in range(rows):
        y = r * 0.72 / rows
        _line(img, (0.0, y), (1.0, y), (170, 175, 180), 0.003)
        for c in range(13):
            x = (c + (0.5 if r % 2 else 0.0)) / 12
            _line(img, (x, y), (x, y + 0.72 / rows), (170, 175, 180), 0.003)
    _rect(img, 0.39, 0.22, 0.61, 0.72, (40, 75, 115))  # door
    _rect(img, 0.41, 0.25, 0.59, 0.45, (140, 120, 90))
    h, w = img.shape[:2]
    cv2.circle(img, (int(0.5 * w), int(0.15 * h)), int(0.035 * h), (120, 230, 250), -1,
               cv2.LINE_AA)  # lamp
    _rect(img, 0.0, 0.72, 1.0, 0.78, (60, 140, 60))  # grass
    _rect(img, 0.0, 0.78, 1.0, 1.0, (165, 170, 170))  # path


def _sports_hall(img: np.ndarray) -> None:
    _rect(img, 0.0, 0.0, 1.0, 0.52, (150, 110, 60))  # walls
    for k in range(7):  # high windows
        _rect(img, 0.04 + k * 0.14, 0.06, 0.14 + k * 0.14, 0.16, (235, 220, 200))
    _rect(img, 0.0, 0.52, 1.0, 1.0, (80, 150, 210))  # floor
    white = (245, 245, 245)
    _line(img, (0.0, 0.6), (1.0, 0.6), white)
    _line(img, (0.5, 0.6), (0.5, 1.0), white)
    h, w = img.shape[:2]
    cv2.ellipse(img, (w // 2, int(0.78 * h)), (int(0.12 * w), int(0.08 * h)), 0, 0, 360,
                white, max(1, int(0.004 * h)), cv2.LINE_AA)
    _rect(img, 0.83, 0.28, 0.95, 0.42, white)  # backboard and hoop
    cv2.ellipse(img, (int(0.89 * w), int(0.44 * h)), (int(0.03 * w), int(0.01 * h)), 0, 0,
                360, (40, 60, 230), max(1, int(0.006 * h)), cv2.LINE_AA)


def draw_scene(scene: int, width: int, height: int) -> np.ndarray:
    """Scene `scene` (an index into SCENES) in BGR."""
    img = np.zeros((height, width, 3), np.uint8)
    match SCENES[scene]:
        case "entrance":
            _entrance(img)
        case "lobby":
            _lobby(img)
        case "corridor":
            _corridor(img, (170, 200, 170), (140, 140, 150), (80, 110, 150))
        case "dormitory entrance":
            _brick(img)
        case "dormitory floor":
            _corridor(img, (205, 175, 150), (70, 110, 160), (60, 60, 120))
        case _:
            _sports_hall(img)
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
    background, above = scene_i420(spec), name_layer(spec)
    person = None if spec.person is None else to_i420(load_person(spec.person, spec.height))
    packets = []
    for index in range(CLIP_SECONDS * FPS):
        frame = av.VideoFrame.from_ndarray(draw_frame(spec, index, background, person, above),
                                           format="yuv420p")
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
    # A name of this process's own: two processes encoding the same clip into one cache
    # (the tests' workers share theirs) each rename a whole file into place.
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
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
