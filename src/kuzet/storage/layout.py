"""Media file paths: `<volume>/<camera>/<YYYY>/<MM>/<DD>/<start>.mp4` (UTC), and camera names.

Camera names become directory names, so they are checked here, once, before anything
touches a disk.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from kuzet.timefmt import NS, file_stamp

PART_SUFFIX = ".part"
QUARANTINE_DIR = ".quarantine"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


class CameraNameError(ValueError):
    pass


def check_camera_name(name: str) -> str:
    if "/" in name or "\\" in name or ".." in name:
        raise CameraNameError(f"camera name {name!r} may not contain '/', '\\' or '..'")
    if not _NAME.match(name):
        raise CameraNameError(
            f"camera name {name!r} must be 1-64 letters, digits, '_' or '-', starting with a "
            "letter or digit")
    return name


def is_camera_name(name: str) -> bool:
    try:
        check_camera_name(name)
    except CameraNameError:
        return False
    return True


def segment_relpath(camera: str, start_ns: int, stream: str = "main") -> str:
    day = datetime.fromtimestamp(start_ns // NS, UTC)
    prefix = camera if stream == "main" else f"{camera}/{stream}"
    return f"{prefix}/{day:%Y/%m/%d}/{file_stamp(start_ns)}.mp4"


def part_path(volume: Path, camera: str, first_arrival_ns: int, stream: str = "main") -> Path:
    return volume / (segment_relpath(camera, first_arrival_ns, stream) + PART_SUFFIX)

STREAMS = ("main", "sub")  # a segment row stores the index: a small integer, not text
RECORDED_STREAMS = ("main",)  # the sub stream joins when the console records it


def stream_code(stream: str) -> int:
    try:
        return STREAMS.index(stream)
    except ValueError:
        raise ValueError(f"unknown stream {stream!r}") from None
