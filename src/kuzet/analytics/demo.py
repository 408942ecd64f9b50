"""What `kuzet demo` sets up for detection when it adds its simulated cameras (issue 21):
every camera keeps its motion activity for the archive's bar, and the camera the person
walks through (`rtsp.clip.PERSON_PHOTO`, seconds :20 to :40 of every minute) gets an
intrusion rule, so that within a minute of opening the wall a newcomer sees what Kuzet
is for: an alarm with its picture. The same calls a person makes in the console, audited
as the local operator's.
"""

from __future__ import annotations

from typing import Any

from kuzet.analytics.store import DetectionStore, check_settings
from kuzet.audit.log import Actor
from kuzet.rtsp.sim import SIM_CLOCK_MASK

# The pavement in front of the entrance scene's doors (rtsp.clip's "entrance", the left
# third of the picture), in fractions of the picture. The person's feet (at
# rtsp.clip.FLOOR_Y, 0.92) are inside it from their first steps in view, about :20, to
# about :26, when they have walked on past the doors. Only the left part: where the
# person is seen in two of the detector's square crops at once (at 640x360, when they
# straddle x = 280..360, from about :27), each crop may find half of them, and the half
# on the right starts a second track, which a zone over the whole pavement alarmed on too
# (tests/test_detection.py::test_an_event_spans_from_first_seen_to_last_seen walks her
# through it: one event).
DEMO_ZONE = ((0.0, 0.66), (0.36, 0.66), (0.40, 1.0), (0.0, 1.0))
DEMO_RULE: dict[str, Any] = {"name": "Main entrance", "labels": ["person"],
                             "zone": [list(p) for p in DEMO_ZONE]}


def set_up(store: DetectionStore, actor: Actor, camera_id: int, camera: str, person: bool,
           now_ns: int) -> None:
    """Motion activity on the camera (the simulator's clock overlay masked: it changes
    every frame), and, where the person walks, the demo's intrusion rule."""
    store.set_motion(actor, camera_id, camera, check_settings(True, 0.5, [SIM_CLOCK_MASK]),
                     now_ns)
    if person:
        store.add_rule(actor, camera_id, camera, "intrusion", DEMO_RULE, now_ns)
