"""`kuzet sim`: N simulated cameras, each with a main and a sub stream, on one RTSP port."""

from __future__ import annotations

import asyncio
import json
import signal
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from kuzet.rtsp.clip import SCENES, Clip, ClipSpec, load_audio, load_clip
from kuzet.rtsp.server import AuthConfig, NetworkFaults, RtspServer, StreamSource


@dataclass(frozen=True)
class SimOptions:
    cameras: int = 4
    host: str = "127.0.0.1"
    port: int = 8554
    main: ClipSpec = ClipSpec(1920, 1080, 4_000_000)
    sub: ClipSpec = ClipSpec(640, 360, 512_000)
    auth: AuthConfig | None = None
    resize_every_s: int = 0
    ts_jump_every_s: int = 0
    stats_file: Path | None = None
    port_file: Path | None = None
    stagger: bool = False
    stamp: bool = False  # each main-stream frame's send time in an SEI (rtsp.stamp)
    spread: bool = False  # each frame's RTP packets across its 40 ms, as a camera sends
    # issue 20, on the main stream only (B-frames: `main.bframes`)
    audio: str = ""  # "", or a key of clip.AUDIO_FORMATS: aac, pcma, pcmu, opus
    faults: NetworkFaults = field(default_factory=NetworkFaults)
    # issue 21, for `kuzet demo`: each camera its own picture (clip.SCENES, its name drawn
    # large), encoded per camera; and the cameras the person walks through (none named:
    # every camera, as before)
    scenes: bool = False
    person_on: frozenset[str] = frozenset()
    clock_offset_ms: int = 0  # issue 22: the cameras' clocks, off the true time
    sender_reports: bool = True  # False: no RTCP sender reports (only ONVIF tells the clock)


def offset_s(index: int, cameras: int, stagger: bool) -> int:
    """How far camera `index`'s picture runs ahead of the wall clock: with `stagger`,
    the cameras spread over the minute, so that the person of `--person` walks through
    them at different times, as people do, rather than through all at once."""
    return index * 60 // cameras if stagger else 0


# Where the clock overlay is, in fractions of the picture: masked from motion (it changes
# every frame).
SIM_CLOCK_MASK = [(0.0, 0.0), (0.4, 0.0), (0.4, 0.25), (0.0, 0.25)]


def camera_name(index: int) -> str:
    return f"cam{index + 1:02d}"


def camera_specs(opts: SimOptions, index: int) -> tuple[ClipSpec, ClipSpec]:
    """Camera `index`'s main and sub clips: the same for every camera, or with `scenes` a
    picture of its own; without the person where `person_on` leaves it out."""
    name, main, sub = camera_name(index), opts.main, opts.sub
    if opts.person_on and name not in opts.person_on:
        main, sub = replace(main, person=None), replace(sub, person=None)
    if opts.scenes:
        scene = index % len(SCENES)
        main = replace(main, label=name, scene=scene)
        sub = replace(sub, label=name, scene=scene)
    return main, sub


def build_sources(opts: SimOptions, cache_dir: Path) -> dict[str, StreamSource]:
    clips: dict[ClipSpec, Clip] = {}  # cameras with the same picture share its clip

    def clip(spec: ClipSpec) -> Clip:
        if spec not in clips:
            clips[spec] = load_clip(spec, cache_dir)
        return clips[spec]

    audio = load_audio(opts.audio, cache_dir) if opts.audio else None
    faults = opts.faults if opts.faults.any else None
    sources: dict[str, StreamSource] = {}
    for i in range(opts.cameras):
        name = camera_name(i)
        main, sub = camera_specs(opts, i)
        alt = None
        if opts.resize_every_s:
            alt = clip(replace(main, width=main.width // 2 // 2 * 2,
                               height=main.height // 2 // 2 * 2,
                               bitrate_bps=main.bitrate_bps // 2))
        ahead = offset_s(i, opts.cameras, opts.stagger)
        sources[f"{name}/main"] = StreamSource(
            f"{name}/main", clip(main), alt_clip=alt, resize_every_s=opts.resize_every_s,
            ts_jump_every_s=opts.ts_jump_every_s, offset_s=ahead, stamp=opts.stamp,
            audio=audio, faults=faults, clock_offset_ms=opts.clock_offset_ms,
            sender_reports=opts.sender_reports)
        sources[f"{name}/sub"] = StreamSource(f"{name}/sub", clip(sub), offset_s=ahead,
                                              clock_offset_ms=opts.clock_offset_ms,
                                              sender_reports=opts.sender_reports)
    return sources


async def serve(opts: SimOptions, cache_dir: Path, ready: asyncio.Event | None = None) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    sources = build_sources(opts, cache_dir)
    server = RtspServer(sources, auth=opts.auth, spread=opts.spread)
    await server.start(opts.host, opts.port)
    if opts.port_file:  # written whole (renamed into place): a reader never sees half
        tmp = opts.port_file.with_name(opts.port_file.name + ".tmp")
        tmp.write_text(f"{server.port}\n")
        tmp.replace(opts.port_file)
    names = sorted({k.split("/")[0] for k in sources})
    print(f"kuzet sim: {len(names)} cameras on rtsp://{opts.host}:{server.port}/"
          f"{{{names[0]}..{names[-1]}}}/{{main,sub}}", flush=True)
    if ready is not None:
        ready.set()
    await stop.wait()
    await server.close()
    if opts.stats_file:
        opts.stats_file.write_text(json.dumps(stats_of(sources)))


def stats_of(sources: dict[str, StreamSource]) -> dict[str, dict[str, Any]]:
    """Frames sent per stream and, for streams with faults, what the faults did."""
    stats: dict[str, dict[str, Any]] = {
        "frames_sent": {k: v.frames_sent for k, v in sources.items()}}
    faulty = {k: asdict(v.fault_counts) for k, v in sources.items() if v.faults is not None}
    if faulty:
        stats["faults"] = faulty
    return stats
