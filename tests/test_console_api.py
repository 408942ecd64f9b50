"""The console's data through the real API: the archive's timeline (spans, missing files,
holds, bookmarks, each clipped to the caller's footage window), the calendar in the
display time zone, bookmarks from the wall and the archive, layouts per user, and a
camera removed while someone watches it."""

from __future__ import annotations

import errno
import time
from typing import Any

import pytest
from starlette.websockets import WebSocketDisconnect

from api_world import CAM, World
from conftest import SQLITE_ONLY
from kuzet.console.layouts import LayoutError, check_layout
from kuzet.console.timeline import clip, merge, month_days
from kuzet.timefmt import parse_instant

NOW = parse_instant("2026-09-21T14:00:00Z")
MIN = 60 * 10**9
DAY = {"start": "2026-09-21T00:00:00Z", "end": "2026-09-22T00:00:00Z"}


@pytest.fixture
def world(storage: Any) -> World:
    return World(storage, NOW)


def test_touching_segments_are_one_span_and_gaps_stay() -> None:
    segs = [(0, 60), (60, 120), (120, 180), (400, 460), (460, 520)]
    assert merge(segs, join_ns=0) == [(0, 180), (400, 520)]
    assert merge([(0, 60), (61, 90)], join_ns=1) == [(0, 90)]
    assert merge([(0, 60), (62, 90)], join_ns=1) == [(0, 60), (62, 90)]
    assert clip([(0, 180), (400, 520)], [(100, 450)]) == [(100, 180), (400, 450)]


def test_calendar_days_are_days_of_the_display_zone() -> None:
    days = month_days(2026, 2, "Asia/Almaty")
    assert len(days) == 28
    first, start, end = days[0]
    assert str(first) == "2026-02-01"
    assert start == parse_instant("2026-01-31T19:00:00Z")  # Almaty is UTC+5
    assert end - start == 86_400 * 10**9
    # A zone with summer time: the day it starts is 23 hours long.
    hours = 3_600_000_000_000
    march = {str(d): (b - a) // hours for d, a, b in month_days(2026, 3, "Europe/Berlin")}
    assert march["2026-03-29"] == 23
    assert march["2026-03-28"] == 24


def test_layouts_are_checked() -> None:
    assert check_layout({"cols": 3, "rows": 2, "tiles": ["cam1", None]})["cols"] == 3
    for bad in ({"cols": 7, "rows": 1}, {"cols": 2, "rows": 0}, {"cols": 1, "rows": 1,
                "tiles": ["a"] * 37}, {"cols": 2, "rows": 2, "tiles": ["../etc"]},
                {"cols": True, "rows": 1}, [1, 2]):
        with pytest.raises(LayoutError):
            check_layout(bad)


def test_timeline_draws_spans_missing_files_holds_and_bookmarks(world: World) -> None:
    world.user("head", "head_of_security")
    world.user("rector", "rector")
    world.user("guard", "guard")
    rows = world.storage.seed(CAM, parse_instant("2026-09-21T10:00:00Z"), 30)
    world.storage.seed(CAM, parse_instant("2026-09-21T11:00:00Z"), 10)  # after a 30-min gap
    gone = world.storage.catalog.path_of(rows[5])
    gone.chmod(0o644)
    gone.unlink()  # a file lost on disk
    head, rector, guard = world.login("head"), world.login("rector"), world.login("guard")
    r = head.post("/api/holds", json={"cameras": [CAM], "start": "2026-09-21T10:10:00Z",
                                      "end": "2026-09-21T10:20:00Z", "reason": "theft",
                                      "incident": "P-2026/0040"})
    assert r.status_code == 201, r.text
    # The guard marks an incident from the wall (now, live view); a bookmark in the past
    # needs archive view, which the guard lacks.
    r = guard.post(f"/api/cameras/{CAM}/bookmarks", json={"note": "door forced"})
    assert r.status_code == 201, r.text
    assert r.json()["at_ns"] == NOW
    assert r.json()["kind"] == "incident"
    r = guard.post(f"/api/cameras/{CAM}/bookmarks",
                   json={"at": "2026-09-21T10:03:00Z", "kind": "note"})
    assert r.status_code == 403
    r = head.post(f"/api/cameras/{CAM}/bookmarks",
                  json={"at": "2026-09-21T10:03:00Z", "kind": "note", "note": "car at gate"})
    assert r.status_code == 201, r.text
    assert head.post(f"/api/cameras/{CAM}/bookmarks",
                     json={"kind": "opinion"}).status_code == 422
    r = head.get(f"/api/cameras/{CAM}/timeline", params=DAY)
    assert r.status_code == 200, r.text
    t = r.json()
    spans = [(s["start"][11:19], s["end"][11:19]) for s in t["spans"]]
    assert spans == [("10:00:00", "10:30:00"), ("11:00:00", "11:10:00")]
    assert [(m["start"][11:19], m["end"][11:19]) for m in t["missing"]] == [
        ("10:05:00", "10:06:00")]
    assert [(h["start"][11:19], h["end"][11:19], h["state"]) for h in t["holds"]] == [
        ("10:10:00", "10:20:00", "pending")]
    assert [(b["kind"], b["by"], b["note"]) for b in t["bookmarks"]] == [
        ("note", "head", "car at gate"), ("incident", "guard", "door forced")]
    marks = world.audit("bookmark.incident") + world.audit("bookmark.note")
    assert sorted(m.actor for m in marks) == ["guard", "head"]
    # A grant's window clips everything the timeline shows.
    world.user("inspector", "viewer")
    world.grant(head, rector, "inspector", ("2026-09-21T10:15:00Z", "2026-09-21T11:05:00Z"),
                "Rector's instruction No. 18")
    t = world.login("inspector").get(f"/api/cameras/{CAM}/timeline", params=DAY).json()
    assert [(s["start"][11:19], s["end"][11:19]) for s in t["spans"]] == [
        ("10:15:00", "10:30:00"), ("11:00:00", "11:05:00")]
    assert [(h["start"][11:19], h["end"][11:19]) for h in t["holds"]] == [
        ("10:15:00", "10:20:00")]
    assert t["missing"] == []
    assert t["bookmarks"] == []


def test_an_unchanged_timeline_is_answered_without_a_body(world: World) -> None:
    """Issue 19: the console asks a day again as it pans and as recording goes on; a day
    unchanged since is 304 (the page sends the ETag it kept), a file lost on disk changes
    it at once, and the bar joins a day's touching segments into runs."""
    world.user("head", "head_of_security")
    rows = world.storage.seed(CAM, parse_instant("2026-09-21T10:00:00Z"), 30)
    head = world.login("head")
    first = head.get(f"/api/cameras/{CAM}/timeline", params=DAY)
    assert first.status_code == 200
    tag = first.headers["etag"]
    assert first.headers["cache-control"] == "no-store"  # the page keeps it, not the disk
    again = head.get(f"/api/cameras/{CAM}/timeline", params=DAY,
                     headers={"If-None-Match": tag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == tag
    gone = world.storage.catalog.path_of(rows[29])
    gone.chmod(0o644)
    gone.unlink()
    changed = head.get(f"/api/cameras/{CAM}/timeline", params=DAY,
                       headers={"If-None-Match": tag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != tag
    t = changed.json()
    assert [(s["start"][11:19], s["end"][11:19]) for s in t["spans"]] == [
        ("10:00:00", "10:30:00")]
    assert [(m["start"][11:19], m["end"][11:19]) for m in t["missing"]] == [
        ("10:29:00", "10:30:00")]
    # another account does not get the first one's answer by its tag
    world.user("guard", "guard")
    refused = world.login("guard").get(f"/api/cameras/{CAM}/timeline", params=DAY,
                                       headers={"If-None-Match": tag})
    assert refused.status_code == 403


def _settle(world: World) -> None:
    """Wait until the day's folders have settled: an answer drawn from a folder changed
    in the last seconds is never kept (`console.folders.SETTLE_NS`)."""
    root = world.storage.catalog.volume_path(world.storage.default_volume_id)
    folders = [f for f in [root, *root.rglob("*")] if f.is_dir()]
    deadline = time.monotonic() + 30
    while world.svc.timelines.listings.settled(folders) is None:
        assert time.monotonic() < deadline, "the folders never settled"
        time.sleep(0.1)


def test_a_kept_timeline_answer_follows_every_change(world: World,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 19: the answer built for a day is sent again while nothing it was built from
    has changed, and never once something has: a segment recorded, a bookmark, a hold
    asked for and lapsing, a file lost on disk, another caller's footage window."""
    world.user("head", "head_of_security")
    rows = world.storage.seed(CAM, parse_instant("2026-09-21T10:00:00Z"), 10)
    head = world.login("head")
    _settle(world)

    def spans() -> list[tuple[str, str]]:
        t = head.get(f"/api/cameras/{CAM}/timeline", params=DAY).json()
        return [(s["start"][11:19], s["end"][11:19]) for s in t["spans"]]

    first = head.get(f"/api/cameras/{CAM}/timeline", params=DAY)
    assert head.get(f"/api/cameras/{CAM}/timeline", params=DAY).content == first.content
    assert len(world.svc.timelines) == 1  # kept: what follows tests it, not a rebuild
    assert spans() == [("10:00:00", "10:10:00")]
    world.storage.seed(CAM, parse_instant("2026-09-21T10:10:00Z"), 2)
    _settle(world)
    assert spans() == [("10:00:00", "10:12:00")]
    r = head.post(f"/api/cameras/{CAM}/bookmarks",
                  json={"at": "2026-09-21T10:03:00Z", "kind": "note", "note": "van"})
    assert r.status_code == 201, r.text
    t = head.get(f"/api/cameras/{CAM}/timeline", params=DAY).json()
    assert [b["note"] for b in t["bookmarks"]] == ["van"]
    # a narrower footage window is its own answer, never the head's
    world.user("rector", "rector")
    world.user("inspector", "viewer")
    world.grant(head, world.login("rector"), "inspector",
                ("2026-09-21T10:05:00Z", "2026-09-21T10:06:00Z"), "Rector's instruction No. 19")
    t = world.login("inspector").get(f"/api/cameras/{CAM}/timeline", params=DAY).json()
    assert [(s["start"][11:19], s["end"][11:19]) for s in t["spans"]] == [
        ("10:05:00", "10:06:00")]
    assert t["missing"] == []
    assert t["bookmarks"] == []
    r = head.post("/api/holds", json={"cameras": [CAM], "start": "2026-09-21T10:01:00Z",
                                      "end": "2026-09-21T10:02:00Z", "reason": "theft",
                                      "incident": "P-2026/0041"})
    assert r.status_code == 201, r.text
    t = head.get(f"/api/cameras/{CAM}/timeline", params=DAY).json()
    assert [h["state"] for h in t["holds"]] == ["pending"]
    # nobody decided within the window: the request lapses and protects nothing
    world.clock.advance(world.settings.hold_decision_window_days * 86_400 + 60)
    head = world.login("head")  # the old session timed out meanwhile
    t = head.get(f"/api/cameras/{CAM}/timeline", params=DAY).json()
    assert t["holds"] == []
    gone = world.storage.catalog.path_of(rows[3])
    gone.chmod(0o644)
    gone.unlink()
    _settle(world)
    t = head.get(f"/api/cameras/{CAM}/timeline", params=DAY).json()
    assert [(m["start"][11:19], m["end"][11:19]) for m in t["missing"]] == [
        ("10:03:00", "10:04:00")]
    # a folder that cannot be listed draws its files missing, and that is not kept
    kept = len(world.svc.timelines)
    hours = {"start": "2026-09-21T09:00:00Z", "end": "2026-09-21T12:00:00Z"}

    def no_descriptors(path: Any) -> list[str]:
        raise OSError(errno.EMFILE, "Too many open files")

    (gone.parent / "notes.txt").touch()  # the folder changed: listed again
    _settle(world)
    monkeypatch.setattr("kuzet.console.folders.os.listdir", no_descriptors)
    t = head.get(f"/api/cameras/{CAM}/timeline", params=hours).json()
    assert [(m["start"][11:19], m["end"][11:19]) for m in t["missing"]] == [
        ("10:00:00", "10:12:00")]
    assert len(world.svc.timelines) == kept
    monkeypatch.undo()
    t = head.get(f"/api/cameras/{CAM}/timeline", params=hours).json()
    assert [(m["start"][11:19], m["end"][11:19]) for m in t["missing"]] == [
        ("10:03:00", "10:04:00")]


def test_footage_being_deleted_is_not_drawn_as_lost(world: World) -> None:
    """Retention at work is not a lost file: rows the sweeper has marked leave the bar at
    once, though their files are gone before their rows (issue 19 review)."""
    from kuzet.catalog import segments
    from kuzet.catalog.streams import Stream

    world.user("head", "head_of_security")
    rows = world.storage.seed(CAM, parse_instant("2026-09-21T10:00:00Z"), 10)
    catalog = world.storage.catalog
    with catalog.session.begin() as s:
        segments.mark_deleting(s, rows[0].camera_id, Stream.MAIN,
                               [r.start_ns for r in rows[:2]])
    for r in rows[:2]:
        path = catalog.path_of(r)
        path.chmod(0o644)
        path.unlink()
    t = world.login("head").get(f"/api/cameras/{CAM}/timeline", params=DAY).json()
    assert [(s["start"][11:19], s["end"][11:19]) for s in t["spans"]] == [
        ("10:02:00", "10:10:00")]
    assert t["missing"] == []


def test_calendar_marks_the_almaty_days_with_footage(world: World) -> None:
    world.user("head", "head_of_security")
    # 20:30 UTC on the 19th is 01:30 on the 20th in Almaty.
    world.storage.seed(CAM, parse_instant("2026-09-19T20:30:00Z"), 2)
    world.storage.seed(CAM, parse_instant("2026-09-21T06:00:00Z"), 2)
    head = world.login("head")
    r = head.get(f"/api/cameras/{CAM}/days", params={"month": "2026-09"})
    assert r.status_code == 200, r.text
    assert r.json()["days"] == ["2026-09-20", "2026-09-21"]
    assert head.get(f"/api/cameras/{CAM}/days", params={"month": "2026-10"}).json()["days"] == []
    for bad in ("2026-13", "26-09", "2026-9", "../.."):
        assert head.get(f"/api/cameras/{CAM}/days", params={"month": bad}).status_code == 422
    world.user("guard", "guard")
    assert world.login("guard").get(f"/api/cameras/{CAM}/days",
                                    params={"month": "2026-09"}).status_code == 403


def test_layouts_belong_to_their_user(world: World) -> None:
    world.user("guard", "guard")
    world.user("guard2", "guard")
    guard, other = world.login("guard"), world.login("guard2")
    body = {"cols": 3, "rows": 2, "tiles": [CAM, None, "cam2"]}
    assert guard.put("/api/layouts/Night shift", json=body).status_code == 200
    assert guard.put("/api/layouts/.last", json={"cols": 1, "rows": 1}).status_code == 200
    assert guard.get("/api/layouts").json()["layouts"] == {
        ".last": {"cols": 1, "rows": 1, "tiles": []}, "Night shift": body}
    assert other.get("/api/layouts").json()["layouts"] == {}
    assert other.delete("/api/layouts/Night shift").status_code == 404
    assert guard.put("/api/layouts/x", json={"cols": 1, "rows": 1,
                                             "tiles": ["../etc"]}).status_code == 400
    assert guard.put("/api/layouts/x", json={"cols": 9, "rows": 1}).status_code == 422
    assert guard.put("/api/layouts/x", json={"cols": 1, "rows": 1},
                     headers={"x-csrf-token": "wrong"}).status_code == 403
    assert guard.delete("/api/layouts/Night shift").status_code == 200
    assert list(guard.get("/api/layouts").json()["layouts"]) == [".last"]
    assert world.client().get("/api/layouts").status_code == 401


def test_a_removed_camera_is_not_offered_live(world: World) -> None:
    world.user("admin2", "administrator")
    world.user("guard", "guard")
    sid = world.login("guard").cookies.get("kuzet_session")
    assert world.login("admin2").delete(f"/api/cameras/{CAM}").status_code == 200
    world.svc.cameras_changed()
    with pytest.raises(WebSocketDisconnect) as closed, world.client().websocket_connect(
            f"/api/ws/live/{CAM}", headers={"cookie": f"kuzet_session={sid}"}) as ws:
        ws.receive_json()
    assert closed.value.code == 1008


def test_an_instant_after_all_footage_offers_the_nearest_before(world: World) -> None:
    world.user("head", "head_of_security")
    rows = world.storage.seed(CAM, parse_instant("2026-09-21T10:00:00Z"), 3)
    sid = world.login("head").cookies.get("kuzet_session")
    with world.client().websocket_connect(
            f"/api/ws/archive/{CAM}?start=2026-09-21T12:00:00Z&purpose=Round+check",
            headers={"cookie": f"kuzet_session={sid}"}) as ws:
        assert ws.receive_json() == {"type": "nothing", "nearest_before_ns": rows[-1].end_ns}
        assert ws.receive_json() == {"type": "end"}



def test_open_views_per_account_are_capped(storage: Any) -> None:
    """Many tabs (or a runaway page) cannot hold unbounded sockets: beyond the cap a view
    is refused with the reason, audited; a closed view frees its place."""
    world = World(storage, NOW, max_views_per_user=1)
    world.user("head", "head_of_security")
    sid = world.login("head").cookies.get("kuzet_session")
    url = f"/api/ws/archive/{CAM}?start=2026-09-21T12:00:00Z&purpose=Round+check"
    headers = {"cookie": f"kuzet_session={sid}"}
    with world.client().websocket_connect(url, headers=headers) as first:
        assert first.receive_json()["type"] == "nothing"
        with pytest.raises(WebSocketDisconnect) as closed, world.client().websocket_connect(
                url, headers=headers) as second:
            second.receive_json()
        assert closed.value.code == 1008
        assert "at most 1" in closed.value.reason
    with world.client().websocket_connect(url, headers=headers) as again:
        assert again.receive_json()["type"] == "nothing"
    refused = [e for e in world.audit("access.refused") if "at most 1" in e.detail]
    assert len(refused) == 1
    assert refused[0].actor == "head"


def test_the_chosen_language_follows_the_account(world: World) -> None:
    world.user("guard", "guard")
    first = world.login("guard")
    assert 'lang="kk"' in first.get("/").text  # Kazakh by default
    assert 'lang="ru"' in first.get("/wall?lang=ru").text
    elsewhere = world.login("guard")  # another console, another browser
    assert elsewhere.cookies.get("kuzet_lang") == "ru"
    assert 'lang="ru"' in elsewhere.get("/wall").text
    assert 'lang="en"' in world.client().get("/?lang=en").text  # no session: nothing kept
    assert world.login("guard").cookies.get("kuzet_lang") == "ru"


@SQLITE_ONLY
def test_a_camera_removed_while_watched_ends_its_stream(world: World) -> None:
    from kuzet.recorder.fanout import LiveHub

    hub = LiveHub()  # the real fan-out, with no recorder feeding it
    world.svc.live = lambda name, stream: hub
    world.user("admin2", "administrator")
    world.user("guard", "guard")
    sid = world.login("guard").cookies.get("kuzet_session")
    admin = world.login("admin2")
    with world.client().websocket_connect(
            f"/api/ws/live/{CAM}?stream=sub", headers={"cookie": f"kuzet_session={sid}"}) as ws:
        assert ws.receive_json() == {"type": "stream", "stream": "sub"}
        assert hub.active
        assert admin.delete(f"/api/cameras/{CAM}").status_code == 200
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_json()  # within one permission re-check (5 s)
        assert closed.value.code == 4004
    assert not hub.active
    stops = world.audit("live.stop")
    assert len(stops) == 1
    assert stops[0].actor == "guard"
