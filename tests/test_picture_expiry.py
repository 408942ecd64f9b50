"""Pictures of footage live no longer than the footage (clause 3.3): an event's picture, a
protocol's frame and a minute of motion activity at instant t of a camera are kept
exactly as long as that camera's footage at t would be — its retention, or a hold that
covers t — and the storage sweeper clears them with it, audited as the system. The rows
stay (the event, the protocol); the pictures go. Pure decisions first, then the sweeper
over a real catalog, SQLite and PostgreSQL, with an injected clock."""

from __future__ import annotations

import json

from conftest import Storage
from kuzet.analytics.activity import Minute
from kuzet.analytics.store import DetectionStore
from kuzet.audit.log import Actor
from kuzet.governance.protocols import Protocols
from kuzet.storage.expiry import (
    EARLIEST,
    SETTLE_NS,
    expired,
    expired_spans,
    settled,
    subtract,
    within,
)
from kuzet.storage.retention import DAY_NS, Protection

NOW = 1_800_000_000 * 10**9  # a fixed "now" for every sweep
HOUR = 3600 * 10**9
RECTOR = Actor("rector", ("rector",), "127.0.0.1")
GUARD = Actor("guard", ("guard",), "127.0.0.1")
JPEG = b"\xff\xd8 an event's picture"
PNG = b"\x89PNG\r\n\x1a\n a protocol's frame"


# -- the pure decision ------------------------------------------------------------------
def test_expired_instants_are_those_before_the_cutoff_that_no_hold_covers() -> None:
    assert expired_spans(100, None) == ((EARLIEST, 100),)
    held = Protection([10, 40, 90, 150], [20, 50, 120, 160])
    # A hold covers [start, end): 10 and 40 are held, 20 and 50 are not; a hold across
    # the cut-off ends the spans at its start; one after it changes nothing.
    assert expired_spans(100, held) == ((EARLIEST, 10), (20, 40), (50, 90))
    assert expired_spans(30, held) == ((EARLIEST, 10), (20, 30))
    assert expired_spans(5, held) == ((EARLIEST, 5),)
    assert expired_spans(100, Protection([EARLIEST], [200])) == ()
    spans = expired_spans(100, held)
    assert [t for t in (9, 10, 19, 20, 45, 50, 89, 90, 99, 100) if within(t, t + 1, spans)] \
        == [9, 20, 50, 89]
    # A minute [m, m + 60) goes only when wholly expired: not across a hold or the cut-off.
    assert within(-100, -40, spans)
    assert not within(0, 60, spans)  # reaches into the hold at 10
    assert within(50, 90, spans)
    assert not within(50, 91, spans)


def test_subtract_leaves_what_the_other_spans_do_not_cover() -> None:
    assert subtract(((0, 100),), ()) == ((0, 100),)
    assert subtract(((0, 100),), ((10, 20), (30, 40))) == ((0, 10), (20, 30), (40, 100))
    assert subtract(((0, 10), (20, 30)), ((5, 25),)) == ((0, 5), (25, 30))
    assert subtract(((0, 10),), ((0, 10),)) == ()
    assert subtract(((0, 10),), ((EARLIEST, 5), (8, 50))) == ((5, 8),)


def test_a_sweep_looks_again_only_at_what_it_has_not_cleared() -> None:
    """What the sweeper remembers after clearing (`settled`) keeps the next sweep from
    reading old rows again: only the last day before the cut-off, the minute the cut-off
    moved, and footage a hold stopped protecting are fresh."""
    first = expired(30 * DAY_NS, Protection([5 * DAY_NS], [6 * DAY_NS]), ())
    assert first.fresh == first.spans  # after a start: everything, once
    cleared = settled(first, 30 * DAY_NS)
    assert cleared == ((EARLIEST, 5 * DAY_NS), (6 * DAY_NS, 30 * DAY_NS - SETTLE_NS))
    later = expired(30 * DAY_NS + 60 * 10**9, Protection([5 * DAY_NS], [6 * DAY_NS]), cleared)
    assert later.fresh == ((30 * DAY_NS - SETTLE_NS, 30 * DAY_NS + 60 * 10**9),)
    released = expired(30 * DAY_NS + 60 * 10**9, None, cleared)
    assert released.fresh == ((5 * DAY_NS, 6 * DAY_NS),
                              (30 * DAY_NS - SETTLE_NS, 30 * DAY_NS + 60 * 10**9))


# -- the sweeper over a real catalog ----------------------------------------------------
def _pictures(detection: DetectionStore, camera_id: int) -> dict[int, bool]:
    return {e.at_ns: e.snapshot_jpeg is not None for e in detection.events([camera_id])}


def _frames(protocols: Protocols) -> dict[int, bool]:
    return {p.at_ns: p.snapshot_png is not None for p in protocols.listing()}


def test_pictures_and_frames_go_with_their_footage_unless_held(storage: Storage) -> None:
    """UE-10-22 3.3: a picture of footage lives no longer than the footage, unless held.
    Before: event pictures were cleared only by detection, behind a camera's oldest
    segment left (so one old held segment kept every picture after it, and a camera with
    no footage left kept them all), and protocol frames were kept forever."""
    st = storage
    cutoff = NOW - 30 * DAY_NS
    st.seed("gate", NOW - 40 * DAY_NS, 160, seg_s=6 * 3600)  # 40 days in 6-hour segments
    gate = st.catalog.camera("gate").id
    lab = st.catalog.add_camera("lab", "rtsp://10.0.0.3/s", zone="classroom",
                              retention_days=7).id  # no footage
    detection = DetectionStore(st.catalog.session, "Asia/Almaty")
    protocols = Protocols(st.catalog.session, "Asia/Almaty")
    held_from = NOW - 36 * DAY_NS
    hold = st.holds.request(["gate"], held_from, held_from + 6 * HOUR, reason="fight",
                            incident="П-2027/0001", by="head of security",
                            now_ns=NOW - 35 * DAY_NS)
    st.holds.approve(hold.id, RECTOR, expires_ns=NOW + DAY_NS, now_ns=NOW - 35 * DAY_NS)
    at = {"held": held_from + HOUR, "old": NOW - 33 * DAY_NS, "last": cutoff - 1,
          "first kept": cutoff, "recent": NOW - 2 * DAY_NS}  # the instants of pictures
    for t in at.values():
        detection.record(gate, None, "intrusion", "person", 0.9, t, [1], JPEG)
        p = protocols.start(GUARD, gate, "gate", t, NOW - 40 * DAY_NS)
        protocols.attach_snapshot(p.id, PNG)
    for t in (at["held"], at["old"], at["recent"]):
        detection.write_minute(gate, Minute.at(t))
    detection.record(lab, None, "intrusion", "person", 0.9, NOW - 8 * DAY_NS, [2], JPEG)
    detection.record(lab, None, "intrusion", "person", 0.9, NOW - 6 * DAY_NS, [3], JPEG)

    report = st.sweeper.sweep(NOW)
    kept = {at["held"]: True, at["old"]: False, at["last"]: False, at["first kept"]: True,
            at["recent"]: True}
    assert _pictures(detection, gate) == kept
    assert _frames(protocols) == kept
    assert _pictures(detection, lab) == {NOW - 8 * DAY_NS: False, NOW - 6 * DAY_NS: True}
    minutes = [m for m, _, _ in detection.minutes(gate, NOW - 40 * DAY_NS, NOW)]
    assert minutes == [Minute.at(at["held"]).start_ns, Minute.at(at["recent"]).start_ns]
    assert report.pictures == {"event_pictures": 3, "activity_minutes": 1,
                               "protocol_frames": 2}
    # The rows stay: five events and five protocols of gate, two events of lab.
    assert len(detection.events([gate])) == len(protocols.listing()) == 5
    entries = {e.subject: (e.actor, json.loads(e.detail))
               for e in st.audit.entries(action="pictures.delete")}
    assert entries == {
        "camera/gate": ("system", {"event_pictures": 2, "activity_minutes": 1,
                                   "protocol_frames": 2, "before_ns": cutoff}),
        "camera/lab": ("system", {"event_pictures": 1, "activity_minutes": 0,
                                  "protocol_frames": 0, "before_ns": NOW - 7 * DAY_NS})}
    # A minute later the cut-off has passed the next picture and frame; once they are
    # cleared, a sweep at the same instant finds nothing and says nothing.
    report = st.sweeper.sweep(NOW + 60 * 10**9)
    assert report.pictures == {"event_pictures": 1, "activity_minutes": 0,
                               "protocol_frames": 1}
    assert _pictures(detection, gate)[at["first kept"]] is False
    assert sum(st.sweeper.sweep(NOW + 60 * 10**9).pictures.values()) == 0
    assert len(st.audit.entries(action="pictures.delete")) == 3
    # Released by the rector, the held footage goes, and its picture, frame and minute too.
    st.holds.release(hold.id, RECTOR, now_ns=NOW + 2 * 60 * 10**9)
    report = st.sweeper.sweep(NOW + 3 * 60 * 10**9)
    assert report.pictures == {"event_pictures": 1, "activity_minutes": 1,
                               "protocol_frames": 1}
    assert _pictures(detection, gate)[at["held"]] is False
    assert _frames(protocols)[at["held"]] is False
    assert st.audit.verify().first_bad_seq is None


def test_a_frame_taken_near_the_cutoff_is_still_cleared(storage: Storage) -> None:
    """UE-10-22 3.3. A frame can be taken from a segment still on disk although its instant is
    already past the cut-off (a segment goes when its end passes it); the sweeper looks
    at the last day before the cut-off again, so such a frame goes at the next sweep."""
    st = storage
    st.seed("gate", NOW - 32 * DAY_NS, 1, seg_s=3 * 86_400)  # ends after the cut-off
    gate = st.catalog.camera("gate").id
    protocols = Protocols(st.catalog.session, "Asia/Almaty")
    st.sweeper.sweep(NOW)
    assert len(st.catalog.segments(gate)) == 1  # still on disk
    p = protocols.start(GUARD, gate, "gate", NOW - 30 * DAY_NS - 12 * HOUR, NOW)
    protocols.attach_snapshot(p.id, PNG)
    assert st.sweeper.sweep(NOW + 60 * 10**9).pictures["protocol_frames"] == 1
    assert protocols.get(p.id).snapshot_png is None
