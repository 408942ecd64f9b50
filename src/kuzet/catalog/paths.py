"""Where a segment's file lies: `<volume>/<camera>/<YYYY>/<MM>/<DD>/<start>.mp4` (UTC).

The path is not stored in the row: it follows from camera, stream and start, so the
catalog derives it here, and a row and its path cannot disagree. Camera names become
directory names, so they are checked here, once, before anything touches a disk.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from kuzet.catalog.streams import Stream
from kuzet.errors import Invalid
from kuzet.timefmt import NS, file_stamp

PART_SUFFIX = ".part"
QUARANTINE_DIR = ".quarantine"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


class CameraNameError(Invalid):
    pass


def check_camera_name(name: str) -> str:
    if "/" in name or "\\" in name or ".." in name:
        raise CameraNameError("camera name {name!r} may not contain '/', '\\' or '..'", name=name)
    if not _NAME.match(name):
        raise CameraNameError(
            "camera name {name!r} must be 1-64 letters, digits, '_' or '-', starting with a "
            "letter or digit", name=name)
    return name


def is_camera_name(name: str) -> bool:
    try:
        check_camera_name(name)
    except CameraNameError:
        return False
    return True


def segment_relpath(camera: str, start_ns: int, stream: Stream = Stream.MAIN) -> str:
    day = datetime.fromtimestamp(start_ns // NS, UTC)
    prefix = camera if stream is Stream.MAIN else f"{camera}/{stream.label}"
    return f"{prefix}/{day:%Y/%m/%d}/{file_stamp(start_ns)}.mp4"


def day_folder(camera: str, day_ns: int, stream: Stream = Stream.MAIN) -> str:
    """The folder of the segments of `camera` starting on the UTC day holding `day_ns`."""
    return segment_relpath(camera, day_ns, stream).rpartition("/")[0]


def part_path(volume: Path, camera: str, first_arrival_ns: int,
              stream: Stream = Stream.MAIN) -> Path:
    return volume / (segment_relpath(camera, first_arrival_ns, stream) + PART_SUFFIX)
