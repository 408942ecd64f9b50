"""Retention (30-day ceiling), holds (3-year ceiling, pending protection) and crash safety of
the sweep, with an injected clock, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy import update

from conftest import Kuzet, Storage, wait_for
from kuzet.audit.log import Actor
from kuzet.catalog.models import Camera
from kuzet.config import Settings
from kuzet.errors import Denied, NotFound
from kuzet.governance.holds import Holds
from kuzet.regulation import (
    PolicyError,
    Zone,
    add_years,
    check_decision_window_days,
    check_retention_days,
)
from kuzet.storage.retention import (
    DAY_NS,
    HoldFacts,
    pending_ends_ns,
    pending_reach_ns,
    protected_ranges,
    protections,
)
from kuzet.storage.verify import verify_camera
from kuzet.web.schemas import NewCamera

NOW = 1_800_000_000 * 10**9  # 2027-01-15, a fixed "now" for every sweep
MIN = 60 * 10**9
RECTOR = Actor("rector", ("rector",), "127.0.0.1")


def problems(st: Storage, camera: str) -> list[str]:
    return [p.reason for p in verify_camera(st.catalog, st.volumes, camera)]


def test_thirty_days_is_a_ceiling(tmp_path: Path) -> None:
    """The setting refuses more, and so do the command line and the API before a camera's
    retention reaches the catalog (the command line's refusals: tests/test_bad_input.py).
    UE-10-22 3.3: recordings are kept no more than 30 days."""
    with pytest.raises(ValidationError, match=r"clause 3\.3"):
        Settings(home=tmp_path, retention_days=31)
    with pytest.raises(PolicyError, match=r"clause 3\.3"):
        check_retention_days(45)
    assert check_retention_days(30) == 30
    with pytest.raises(PolicyError, match="no more than 30 days"):
        check_retention_days(31)
    with pytest.raises(ValidationError, match=r"clause 3\.3"):
        NewCamera(name="gate", url="rtsp://10.0.0.2/s", zone=Zone.ENTRANCE, retention_days=31)


def test_sweep_deletes_what_outlived_its_policy_and_audits_it(storage: Storage) -> None:
    """UE-10-22 3.3: what outlived its retention (30 days at most) is deleted and audited."""
    # Two cameras over 40 days at 6-hour segments; "lab" keeps 7 days only.
    start = NOW - 40 * DAY_NS
    gate = storage.seed("gate", start, 160, seg_s=6 * 3600)
    storage.catalog.add_camera("lab", "rtsp://10.0.0.3/s", zone="corridor", retention_days=7)
    lab = storage.seed("lab", start, 160, seg_s=6 * 3600)
    report = storage.sweeper.sweep(NOW)
    for rows, days in ((gate, 30), (lab, 7)):
        cutoff = NOW - days * DAY_NS
        kept = storage.catalog.segments(rows[0].camera_id)
        assert [r.start_ns for r in kept] == [r.start_ns for r in rows if r.end_ns > cutoff]
        for r in rows:
            assert storage.catalog.path_of(r).exists() == (r.end_ns > cutoff)
    assert storage.rows() == storage.files()
    entries = storage.audit.entries(action="recordings.delete")
    assert len(entries) == 2  # one per camera per sweep
    by_camera = {e.subject: json.loads(e.detail) for e in entries}
    gone = [r for r in gate if r.end_ns <= NOW - 30 * DAY_NS]
    assert by_camera["camera/gate"] == {
        "reason": "retention", "stream": "main", "segments": len(gone), "bytes": 1000 * len(gone),
        "from_ns": gone[0].start_ns, "to_ns": gone[-1].end_ns}
    assert report.deleted("retention") == len(gone) + by_camera["camera/lab"]["segments"]
    # The chain still verifies across what retention removed, and goes on from it.
    assert problems(storage, "gate") == problems(storage, "lab") == []
    storage.seed("gate", gate[-1].end_ns, 1, seg_s=6 * 3600)
    assert storage.sweeper.sweep(NOW + DAY_NS).deleted() > 0
    assert problems(storage, "gate") == []
    assert storage.audit.verify().first_bad_seq is None


def test_a_stray_retention_in_a_row_is_never_obeyed(storage: Storage) -> None:
    """Every writer refuses more than 30 days; the sweeper still caps what a row holds
    (a value written around them), and a value below a day, which would put the cut-off
    in the future, falls back to the default instead of deleting everything."""
    start = NOW - 40 * DAY_NS
    rows = {name: storage.seed(name, start, 160, seg_s=6 * 3600) for name in ("far", "neg")}
    with storage.catalog.session.begin() as s:
        for name, days in (("far", 45), ("neg", -1)):
            s.execute(update(Camera).where(Camera.name == name).values(retention_days=days))
    storage.sweeper.sweep(NOW)
    cutoff = NOW - 30 * DAY_NS  # the ceiling, and the default here
    for name, seeded in rows.items():
        kept = storage.catalog.segments(seeded[0].camera_id)
        assert [r.start_ns for r in kept] == [r.start_ns for r in seeded
                                               if r.end_ns > cutoff], name


def test_holds_protect_whole_segments(storage: Storage) -> None:
    """UE-10-22 3.3: a hold the rector approved keeps incident footage, in whole segments."""
    rows = storage.seed("gate", NOW - 40 * DAY_NS, 10)  # ten 1-minute segments, all expired
    young = storage.seed("gate", NOW - 31 * DAY_NS, 2)  # expired, but not 30 + 3 days old
    cam = "gate"
    # An approved hold touching the last second of segment 2 and all of 3 keeps both, whole.
    h1 = storage.holds.request([cam], rows[2].end_ns - 10**9, rows[3].end_ns,
                               reason="fight at the gate", incident="П-2027/0001",
                               by="head of security", now_ns=NOW - 40 * DAY_NS)
    with pytest.raises(Denied, match="someone other than"):
        storage.holds.approve(h1.id, Actor("head of security", ("rector",), "127.0.0.1"),
                              expires_ns=NOW + DAY_NS, now_ns=NOW - 39 * DAY_NS)
    with pytest.raises(PolicyError, match="up to 3 years"):
        storage.holds.approve(h1.id, RECTOR, now_ns=NOW - 39 * DAY_NS,
                              expires_ns=add_years(NOW - 39 * DAY_NS, 3) + 1)
    storage.holds.approve(h1.id, RECTOR, now_ns=NOW - 39 * DAY_NS,
                          expires_ns=add_years(NOW - 39 * DAY_NS, 3))
    # A hold requested two days ago and not yet decided protects footage 31 days old...
    storage.holds.request([cam], young[0].start_ns, young[0].end_ns, reason="theft",
                          incident="П-2027/0002", by="guard", now_ns=NOW - 2 * DAY_NS)
    # ...but not segment 6, 40 days old: past 30 days plus the decision window (3 d), only
    # the rector's approval keeps footage (clause 3.3).
    storage.holds.request([cam], rows[6].start_ns, rows[6].end_ns, reason="theft, again",
                          incident="П-2027/0005", by="guard", now_ns=NOW - 2 * DAY_NS)
    # One requested ten days ago and never decided no longer protects (its window is over).
    storage.holds.request([cam], rows[8].start_ns, rows[8].end_ns, reason="noise",
                          incident="П-2027/0003", by="guard", now_ns=NOW - 10 * DAY_NS)
    # A rejected hold protects nothing.
    h4 = storage.holds.request([cam], rows[9].start_ns, rows[9].end_ns, reason="x",
                               incident="П-2027/0004", by="guard", now_ns=NOW - DAY_NS)
    storage.holds.reject(h4.id, RECTOR, note="not an incident", now_ns=NOW - DAY_NS)
    storage.sweeper.sweep(NOW)
    kept = [r.start_ns for r in storage.catalog.segments(rows[0].camera_id)]
    assert kept == [rows[2].start_ns, rows[3].start_ns, young[0].start_ns]
    assert problems(storage, cam) == []
    # Released by the rector, the held footage goes at the next sweep.
    storage.holds.release(h1.id, RECTOR, now_ns=NOW + 1)
    storage.sweeper.sweep(NOW + 2)
    assert [r.start_ns for r in storage.catalog.segments(rows[0].camera_id)] == [young[0].start_ns]
    # The pending hold lapses after its window; then its footage goes too.
    storage.sweeper.sweep(NOW + DAY_NS)
    assert storage.catalog.segments(rows[0].camera_id) == []
    assert storage.rows() == storage.files() == set()
    actions = [e.action for e in storage.audit.entries()]
    assert actions.count("hold.request") == 5
    assert "hold.approve" in actions
    assert "hold.reject" in actions
    assert "hold.release" in actions
    assert storage.audit.verify().first_bad_seq is None


def test_a_pending_hold_never_keeps_footage_past_30_days_and_the_window(
        storage: Storage) -> None:
    """UE-10-22 3.3: nothing outlives 30 days without the rector's instruction. A hold
    requested but not decided keeps its footage while the rector decides (the decision
    window, 3 days by default), and only footage younger than 30 days plus that window,
    however recent the request: before issue 18 it kept its whole range, of any age, for
    up to 90 days. Swept on real files, day by day through the window."""
    window = storage.holds.window_ns
    assert window == 3 * DAY_NS  # hold_decision_window_days' default
    rows = storage.seed("gate", NOW - 40 * DAY_NS, 160, seg_s=6 * 3600)  # 40 days to now
    asked = NOW - 3600 * 10**9  # an hour ago, for everything
    storage.holds.request(["gate"], rows[0].start_ns, rows[-1].end_ns, reason="theft",
                          incident="П-2027/0009", by="head of security", now_ns=asked)
    for day in range(3):
        now = NOW + day * DAY_NS
        storage.sweeper.sweep(now)
        kept = storage.catalog.segments(rows[0].camera_id)
        # Kept: every segment that ended less than 30 days + the window ago, no other...
        assert [r.start_ns for r in kept] == [
            r.start_ns for r in rows if r.end_ns > now - 30 * DAY_NS - window], day
        assert max(now - r.end_ns for r in kept) < 30 * DAY_NS + window
        # ...which is more than retention alone keeps: the request does protect.
        assert any(r.end_ns <= now - 30 * DAY_NS for r in kept)
        assert storage.rows() == storage.files()
    # The window over, undecided, the hold has lapsed: ordinary retention again.
    storage.sweeper.sweep(asked + window)
    kept = storage.catalog.segments(rows[0].camera_id)
    assert [r.start_ns for r in kept] == [
        r.start_ns for r in rows if r.end_ns > asked + window - 30 * DAY_NS]
    assert storage.rows() == storage.files()
    assert [v.state.value for v in storage.holds.list(asked + window)] == ["lapsed"]
    assert problems(storage, "gate") == []


def test_what_an_undecided_hold_reaches_is_pure_arithmetic() -> None:
    """UE-10-22 3.3, the rule alone: an undecided hold protects, within its window, only
    the part of its ranges younger than 30 days plus the window; an approved one all of
    them; and its protection ends with the window or with its footage's age."""
    window, now = 3 * DAY_NS, NOW
    reach = now - 33 * DAY_NS
    ranges = ((1, reach - DAY_NS, reach + DAY_NS), (1, reach - 2 * DAY_NS, reach),
              (2, now - DAY_NS, now))
    pending = HoldFacts(1, now - DAY_NS, None, None, None, None, ranges)
    assert pending_reach_ns(now, window) == reach
    assert protected_ranges(pending, now, window) == (
        (1, reach, reach + DAY_NS), (2, now - DAY_NS, now))  # clipped; the old one dropped
    approved = HoldFacts(2, now - DAY_NS, now - DAY_NS, now + DAY_NS, None, None, ranges)
    assert protected_ranges(approved, now, window) == ranges
    assert protected_ranges(pending, now - DAY_NS + window, window) == ()  # lapsed
    prot = protections([pending], now, window)
    assert (prot[1].starts, prot[1].ends) == ([reach], [reach + DAY_NS])
    # Protection ends with the window, or sooner when the footage gets too old first.
    assert pending_ends_ns(now, now, window) == now + window
    assert pending_ends_ns(now, now - 31 * DAY_NS, window) == now + 2 * DAY_NS


def test_the_decision_window_is_at_most_seven_days(tmp_path: Path) -> None:
    """UE-10-22 3.3: the window a pending hold keeps footage past 30 days is short, at
    most 7 days, refused beyond naming the clause; the setting it replaced (up to 90) is
    refused by name."""
    with pytest.raises(ValidationError, match=r"refused: a decision window of 8\.0 days for "
                                              r"requested holds \(UE-10-22 3\.3\)"):
        Settings(home=tmp_path, hold_decision_window_days=8)
    with pytest.raises(PolicyError, match=r"UE-10-22 3\.3"):
        check_decision_window_days(7.5)
    assert Settings(home=tmp_path, hold_decision_window_days=1).hold_decision_window_days == 1
    assert Settings(home=tmp_path, hold_decision_window_days=7).hold_decision_window_days == 7
    assert Settings(home=tmp_path).hold_decision_window_days == 3
    with pytest.raises(ValidationError, match="hold_pending_days is now "
                                              "hold_decision_window_days"):
        Settings.model_validate({"home": tmp_path, "hold_pending_days": 7})


def test_the_decision_window_is_at_least_a_day(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """UE-10-22 3.3: the rector is reminded of pending holds once a day, so a window below
    a day could lapse with no reminder: refused naming the clause, from the settings file
    and the environment alike, and nothing is built (before: anything above 0 passed)."""
    for days in (0.5, 0, -1, float("nan")):
        with pytest.raises(ValidationError, match=r"refused: a decision window of .* days for "
                                                  r"requested holds \(UE-10-22 3\.3\): the "
                                                  r"rector is reminded of them once a day"):
            Settings(home=tmp_path, hold_decision_window_days=days)
    monkeypatch.setenv("KUZET_HOLD_DECISION_WINDOW_DAYS", "0.9")
    with pytest.raises(ValidationError, match=r"\(UE-10-22 3\.3\)"):
        Settings(home=tmp_path)
    with pytest.raises(PolicyError, match=r"at least 1 day"):
        check_decision_window_days(0.99)


def test_an_expired_hold_releases_its_footage(storage: Storage) -> None:
    """UE-10-22 3.3: footage under a hold is deleted once the hold expires."""
    rows = storage.seed("gate", NOW - 40 * DAY_NS, 2)
    h = storage.holds.request(["gate"], rows[0].start_ns, rows[1].end_ns, reason="r",
                              incident="П-1", by="head", now_ns=NOW - 39 * DAY_NS)
    storage.holds.approve(h.id, RECTOR, expires_ns=NOW + DAY_NS, now_ns=NOW - 38 * DAY_NS)
    storage.sweeper.sweep(NOW)
    assert len(storage.catalog.segments(rows[0].camera_id)) == 2
    storage.sweeper.sweep(NOW + DAY_NS)  # the hold has expired
    assert storage.catalog.segments(rows[0].camera_id) == []


CRASHING_SWEEP = """
import os, signal, sys
sys.path.insert(0, {tests!r})
from conftest import Kuzet, Storage, wait_for
st = Storage({url!r}, __import__("pathlib").Path({home!r}))
count = 0
def unlink(path):
    global count
    count += 1
    if count == 4:
        os.kill(os.getpid(), signal.SIGKILL)
    os.unlink(path)
st.sweeper.unlink = unlink
st.sweeper.sweep({now})
"""


def test_kill_9_in_the_middle_of_a_sweep(storage: Storage) -> None:
    rows = storage.seed("gate", NOW - 31 * DAY_NS, 30)  # 30 one-minute segments, all expired
    fresh = storage.seed("gate", NOW - DAY_NS, 3)
    code = CRASHING_SWEEP.format(tests=str(Path(__file__).parent), now=NOW,
                                 url=storage.settings.catalog_url,
                                 home=str(storage.settings.home))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()
    # The crash left 33 rows, 30 of them marked for deletion (out of every listing), and
    # three of their files already gone.
    listed = [r.start_ns for r in storage.catalog.segments(rows[0].camera_id)]
    assert listed == [r.start_ns for r in fresh]
    assert len(storage.rows()) == 33
    assert len(storage.files()) == 30
    # The next start of `kuzet serve` completes the deletion: no orphan rows or files.
    home = storage.settings.home
    env = {**os.environ, "KUZET_HOME": str(home),
           "KUZET_DATABASE_URL": storage.settings.catalog_url, "KUZET_VOLUME_FLOOR_BYTES": "0",
           "KUZET_VOLUME_FLOOR_PERCENT": "0", "KUZET_STALL_S": "1"}
    serve = subprocess.Popen([sys.executable, "-m", "kuzet", "serve"], env=env,
                             stderr=subprocess.PIPE)
    wait_for(lambda: (home / "run" / "status.json").exists() or serve.poll() is not None, 60,
             what="kuzet serve started")
    serve.send_signal(signal.SIGTERM)
    _, err = serve.communicate(timeout=30)
    assert b"completed 30 deletions cut short by a crash" in err, err.decode()
    assert storage.rows() == storage.files() == {storage.catalog.relpath(r) for r in fresh}
    assert problems(storage, "gate") == []
    details = [json.loads(e.detail) for e in storage.audit.entries(action="recordings.delete")]
    assert [(d["reason"], d["segments"]) for d in details] == [
        ("interrupted deletion completed", 30)]
    assert not any(p.suffix == ".part" for p in
                   storage.catalog.volume_path(storage.default_volume_id).rglob("*"))


def test_cli_holds_and_ceilings(kuzet: Kuzet) -> None:
    kuzet.run("camera", "add", "gate", "rtsp://10.0.0.2/s", "--zone", "corridor")
    too_long = kuzet.run("camera", "retention", "gate", "31", check=False)
    assert too_long.returncode == 2
    assert "clause 3.3" in too_long.stderr
    for args, message in ((["camera", "retention", "gate", "two weeks"], "number of days"),
                          (["camera", "retention", "nosuch", "7"], "no camera"),
                          (["volume", "add", "default", str(kuzet.home / "v2")],
                           "already exists"),
                          (["volume", "add", "v2", str(kuzet.home / "v2"), "--floor", "lots"],
                           "is not a number")):
        bad = kuzet.run(*args, check=False)
        assert bad.returncode == 2, (args, bad.stderr)
        assert message in bad.stderr, (args, bad.stderr)
    kuzet.run("camera", "retention", "gate", "14")
    assert kuzet.json("camera", "list")[0]["retention_days"] == 14
    kuzet.env["KUZET_RETENTION_DAYS"] = "45"
    refused = kuzet.run("camera", "list", check=False)
    assert refused.returncode == 2
    assert "clause 3.3" in refused.stderr
    del kuzet.env["KUZET_RETENTION_DAYS"]
    kuzet.run("hold", "request", "--camera", "gate", "--from", "2026-11-27T02:50:00+05:00",
              "--to", "2026-11-27T03:20:00+05:00", "--reason", "unauthorised entry",
              "--incident", "П-2026/0017")
    (pending,) = kuzet.json("hold", "list")
    assert pending["state"] == "pending"
    assert pending["ranges"] == [
        {"camera": "gate", "from": "2026-11-26T21:50:00.000000000Z",
         "to": "2026-11-26T22:20:00.000000000Z"}]
    # No command decides a hold: the rector does, in the console (clause 3.3).
    approve = kuzet.run("hold", "approve", "1", "--until", "2027-01-01T00:00:00Z",
                        check=False)
    assert approve.returncode == 2
    assert "(UE-10-22 3.3)" in approve.stderr
    for gone in ("reject", "release"):
        assert kuzet.run("hold", gone, "1", "--note", "x", check=False).returncode == 2
    assert kuzet.json("hold", "list")[0]["state"] == "pending"
    (requested,) = kuzet.json("audit", "list", "--action", "hold.request")
    # the operating-system user and host, never a name typed on the command line
    assert requested["actor"].startswith("local:")
    assert "@" in requested["actor"]
    assert requested["detail"]["source"] == "local"
    assert requested["detail"]["roles"] == []
    # The rector's decision, through the service the API calls, keeps its ceilings.
    holds, now = Holds(kuzet.catalog(), 7), time.time_ns()
    with pytest.raises(NotFound, match="no hold 99"):
        holds.approve(99, RECTOR, expires_ns=now + DAY_NS, now_ns=now)
    with pytest.raises(Denied, match="someone other than"):
        holds.approve(1, Actor(requested["actor"], ("rector",), "127.0.0.1"),
                      expires_ns=now + 30 * DAY_NS, now_ns=now)
    with pytest.raises(PolicyError, match="up to 3 years"):
        holds.approve(1, RECTOR, expires_ns=now + 1200 * DAY_NS, now_ns=now)
    holds.approve(1, RECTOR, expires_ns=now + 1095 * DAY_NS, now_ns=now)
    (active,) = kuzet.json("hold", "list")
    assert (active["state"], active["approved_by"]) == ("active", "rector")
    holds.release(1, RECTOR, note="case closed")
    assert kuzet.json("hold", "list")[0]["state"] == "released"
