"""The rector's daily reminder of pending holds (UE-10-22 3.3, issue 18): raised once a day
of the display time zone while holds wait, never twice the same day, a restart included,
and cleared when nothing waits; with an injected clock on SQLite and PostgreSQL, and once
through `kuzet serve`'s maintenance loop."""

from __future__ import annotations

import json
import signal
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from conftest import Kuzet, Storage, wait_for
from kuzet.audit.log import Actor, AuditLog
from kuzet.governance.hold_reminder import KIND, HoldReminder, day_of
from kuzet.governance.holds import Holds
from kuzet.storage.retention import DAY_NS
from kuzet.timefmt import NS

ZONE = "Asia/Almaty"
RECTOR = Actor("rector", ("rector",), "127.0.0.1")
HOUR = 3600 * NS


def _morning() -> int:
    """09:00 in Almaty, some days from now: a day's first hours lie ahead of it."""
    day = datetime.now(ZoneInfo(ZONE)).date() + timedelta(days=3)
    t = datetime(day.year, day.month, day.day, 9, tzinfo=ZoneInfo(ZONE))
    return int(t.timestamp()) * NS


def _reminder(st: Storage) -> HoldReminder:
    """The reminder as `kuzet serve` builds it: a new one stands for a restart."""
    return HoldReminder(st.holds, st.alarms, st.audit, ZONE)


def _open(st: Storage) -> list[str]:
    return [a.message for a in st.alarms.list() if a.kind == KIND]


def test_the_rector_is_reminded_once_a_day_while_holds_are_pending(storage: Storage) -> None:
    """UE-10-22 3.3: a hold requested and not decided keeps its footage only for the
    decision window; the rector hears of it every day of that window, once."""
    t = _morning()
    rows = storage.seed("gate", t - 31 * DAY_NS, 2)
    assert _reminder(storage).run_if_due(t) is None  # nothing pending: nothing said
    h = storage.holds.request(["gate"], rows[0].start_ns, rows[1].end_ns, reason="theft",
                              incident="П-2027/0003", by="head of security", now_ns=t)
    assert _reminder(storage).run_if_due(t + 60 * NS) == [h.id]
    [message] = _open(storage)
    # It counts the holds and gives their ids, nothing of what they are for: the alarm is
    # on the health page of IT support and the installer, who may not read the holds
    # (before: each hold's free-text incident).
    assert message == (f"1 hold request(s) await the rector's decision (UE-10-22 3.3): "
                       f"hold(s) {h.id}; undecided, each keeps its footage only for the "
                       "decision window")
    assert "П-2027/0003" not in message
    assert "theft" not in message
    # Later the same day, and after a restart the same day: no second reminder.
    reminder = _reminder(storage)
    for later in (t + HOUR, t + 14 * HOUR):
        assert reminder.run_if_due(later) is None
    assert _reminder(storage).run_if_due(t + 14 * HOUR + 1) is None
    # The next day (of Almaty, though UTC's day has not changed) it comes again.
    midnight = int(datetime.combine(day_of(t, ZONE) + timedelta(days=1), datetime.min.time(),
                                    ZoneInfo(ZONE)).timestamp()) * NS
    assert _reminder(storage).run_if_due(midnight + 60 * NS) == [h.id]
    reminders = storage.audit.entries(action="hold.remind")
    assert [(e.actor, json.loads(e.detail)) for e in reminders] == [
        ("system", {"holds": [h.id], "to": "rector"})] * 2
    assert [e.at_ns for e in reminders] == [t + 60 * NS, midnight + 60 * NS]
    assert len(_open(storage)) == 1  # one alarm, updated
    # Decided, nothing waits: the alarm clears and no reminder follows.
    storage.holds.approve(h.id, RECTOR, expires_ns=t + 365 * DAY_NS, now_ns=t + DAY_NS + HOUR)
    assert _reminder(storage).run_if_due(t + 2 * DAY_NS) is None
    assert _open(storage) == []
    assert len(storage.audit.entries(action="hold.remind")) == 2
    assert storage.audit.verify().first_bad_seq is None


def test_a_lapsed_hold_is_not_reminded_of(storage: Storage) -> None:
    """UE-10-22 3.3: past its decision window a request keeps nothing; the reminder is
    for the holds whose footage is still at stake, and ends with the window."""
    t = _morning()
    rows = storage.seed("gate", t - DAY_NS, 1)
    storage.holds.request(["gate"], rows[0].start_ns, rows[0].end_ns, reason="theft",
                          incident="П-2027/0004", by="guard", now_ns=t)
    days = [_reminder(storage).run_if_due(t + d * DAY_NS + HOUR) for d in range(5)]
    assert days == [[1], [1], [1], None, None]  # the default window: 3 days
    assert _open(storage) == []


def test_kuzet_serve_reminds_once_a_day_across_a_restart(kuzet: Kuzet) -> None:
    """UE-10-22 3.3: the recorder's maintenance loop gives the reminder; started again the
    same day, it does not repeat it."""
    catalog = kuzet.catalog()
    catalog.add_camera("gate", "rtsp://10.0.0.2/s", zone="corridor")
    now = time.time_ns()
    Holds(catalog, 3).request(["gate"], now - HOUR, now, reason="theft",
                              incident="П-2027/0005", by="head of security", now_ns=now)
    # A pass every 0.2 s, each with an integrity sample: a second sample after a start
    # means the first pass, reminder included, is over.
    kuzet.env.update(KUZET_SWEEP_INTERVAL_S="0.2", KUZET_INTEGRITY_INTERVAL_S="0.1")

    audit = AuditLog(catalog.session)

    def run_once() -> None:
        before = len(audit.entries(action="integrity.sample"))
        serve = kuzet.serve()
        wait_for(lambda: len(audit.entries(action="integrity.sample")) >= before + 2
                 or serve.poll() is not None, 60, what="two maintenance passes")
        assert serve.poll() is None, kuzet.log("serve")
        serve.send_signal(signal.SIGTERM)
        serve.wait(30)

    run_once()
    [alarm] = [a for a in kuzet.json("alarms") if a["kind"] == KIND]
    assert "hold(s) 1;" in alarm["message"]
    assert "П-2027/0005" not in alarm["message"]
    run_once()
    reminded = audit.entries(action="hold.remind")
    expected = 1 if day_of(now, ZONE) == day_of(time.time_ns(), ZONE) else 2  # midnight
    assert len(reminded) == expected
