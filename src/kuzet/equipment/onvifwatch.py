"""`kuzet serve`'s reads of cameras' clocks over ONVIF (UE-10-22 3.4.1: one real-time
system; issue 22): for each camera with an ONVIF address (`kuzet camera onvif`, or found
by `kuzet equipment onvif --add`), every `onvif_clock_poll_s`.

A camera's clock is best told by its RTCP sender reports (`recorder.supervisor`: every
5 s, within 50 ms); a camera recorded by FFmpeg's client, or one that sends no reports,
has none, and its ONVIF device clock (GetSystemDateAndTime, whole seconds, narrowed to
some 30 ms by timing the questions: `onvifclock`) is what tells it. The reading goes to
the camera's status (`RecorderService.set_onvif_clock`), so that the status, `kuzet camera
list`, the metrics and the `camera_clock` alarm (`recorder.camera_health`) use one
offset, its source said. A camera that cannot be read has none from ONVIF: a
`camera_clock` alarm it had clears (nothing tells its clock any more), and the reason is
logged once and kept in the status part. Asked only on the LAN (3.5.3), with the
camera's own RTSP credentials; one camera at a time (about a second each), in the
periodic check's thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import unquote, urlsplit

from kuzet.access.destinations import Destination
from kuzet.access.lan import Network
from kuzet.catalog.models import Camera
from kuzet.equipment.onvif import Clock, Target, clock_at, target
from kuzet.errors import KuzetError

log = logging.getLogger(__name__)


def credentials(main_url: str) -> tuple[str | None, str | None]:
    """The user and password in a camera's RTSP URL (percent-decoded), if any."""
    parts = urlsplit(main_url)
    if parts.username is None:
        return None, None
    return unquote(parts.username), (None if parts.password is None
                                     else unquote(parts.password))


class OnvifClocks:
    """`poll` is the check `kuzet serve` runs every `onvif_clock_poll_s`."""

    def __init__(self, cameras: Callable[[], Iterable[Camera]],
                 said: Callable[[str, int | None], None], lan: list[Network],
                 read: Callable[[Target], Clock] = clock_at) -> None:
        """`said(camera, offset_ms or None)`: where each reading goes (the recorder)."""
        self.cameras = cameras
        self.said = said
        self.lan = lan
        self.read = read
        self.last: dict[str, dict[str, Any]] = {}

    def poll(self) -> None:
        seen: dict[str, dict[str, Any]] = {}
        for cam in self.cameras():
            if cam.onvif_url is None or cam.removed_ns is not None:
                continue
            seen[cam.name] = entry = self._read(cam, cam.onvif_url)
            self.said(cam.name, entry.get("offset_ms"))
        for name in set(self.last) - set(seen):  # no longer asked: ONVIF says nothing
            self.said(name, None)
        self.last = seen

    def _read(self, cam: Camera, device_url: str) -> dict[str, Any]:
        user, password = credentials(cam.main_url)
        try:
            t = target(device_url, user, password)
            place = Destination.on_lan("the camera's ONVIF address", t.host, t.port,
                                       self.lan)
            place.check(place.resolve())
            clock = self.read(t)
        except (KuzetError, OSError) as exc:
            error = str(exc)
            if (self.last.get(cam.name) or {}).get("error") != error:  # once per change
                log.warning("camera %s: its ONVIF clock not read: %s", cam.name, error)
            return {"error": error}
        return {"offset_ms": round(clock.offset_ns / 1e6), "error_ms":
                round(clock.error_ns / 1e6, 1), "set_by": clock.set_by}

    def status(self) -> dict[str, dict[str, Any]]:
        """Each camera's last reading, for `run/status.json` ("onvif_clock")."""
        return dict(self.last)
