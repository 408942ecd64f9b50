"""The daily integrity sample and the audit log's own chain."""

from __future__ import annotations

import csv
import random
import time
from pathlib import Path

from sqlalchemy import update

from conftest import Kuzet, Storage
from kuzet.audit.actions import AuditAction
from kuzet.audit.chain import GENESIS, EntryFacts, entry_hash
from kuzet.audit.log import Actor
from kuzet.catalog.models import AuditEntry
from kuzet.governance.holds import Holds
from kuzet.storage.integrity import IntegrityCheck
from kuzet.storage.retention import DAY_NS

NOW = 1_800_000_000 * 10**9


def test_the_daily_sample_raises_an_alarm_on_a_modified_file(storage: Storage) -> None:
    """UE-10-22 3.5.1: a recording edited on disk is found by the daily sample and alarmed."""
    rows = storage.seed("gate", NOW - 10**12, 20)
    check = IntegrityCheck(storage.catalog, storage.volumes, storage.alarms, storage.audit,
                           storage.settings.model_copy(update={"integrity_sample": 20}),
                           random.Random(7))
    assert check.run_if_due(NOW) == []
    assert check.run_if_due(NOW + 3600 * 10**9) is None  # not due again within the day
    victim = storage.catalog.path_of(rows[5])
    victim.chmod(0o644)
    victim.write_bytes(victim.read_bytes()[::-1])
    problems = check.run_if_due(NOW + 86_400 * 10**9)
    bad = storage.catalog.relpath(rows[5])
    assert problems is not None
    assert [p.path for p in problems] == [bad]
    (alarm,) = storage.alarms.list()
    assert alarm.kind == "integrity"
    assert alarm.severity == "critical"
    assert alarm.subject == bad
    assert "modified" in alarm.message
    entries = storage.audit.entries(action="integrity.sample")
    assert len(entries) == 2
    assert '"checked":' in entries[-1].detail


def test_the_audit_chain_names_the_first_edited_entry(storage: Storage) -> None:
    """UE-10-22 4.2: the audit log cannot be edited unnoticed; the first edited entry is named."""
    for i in range(5):
        storage.audit.record("tester", AuditAction.BOOKMARK_NOTE, f"thing/{i}", {"n": i})
    assert storage.audit.verify().first_bad_seq is None
    with storage.catalog.session.begin() as s:
        s.execute(update(AuditEntry).where(AuditEntry.seq == 3).values(actor="someone else"))
    assert storage.audit.verify().first_bad_seq == 3


def test_audit_export_is_csv_that_recomputes(kuzet: Kuzet, tmp_path: Path) -> None:
    """The export carries each entry with its hashes; recomputing them outside Kuzet works."""
    kuzet.run("camera", "add", "gate", "rtsp://10.0.0.2/s", "--zone", "corridor")
    kuzet.run("hold", "request", "--camera", "gate", "--from", "2026-11-27T01:00:00+05:00",
              "--to", "2026-11-27T02:00:00+05:00", "--reason", "fight, «қақтығыс»",
              "--incident", "П-2026/0017")
    # The rector decides in the console (no command does): here, the service the API calls.
    Holds(kuzet.catalog(), 7).approve(1, Actor("rector", ("rector",), "127.0.0.1"),
                                      expires_ns=time.time_ns() + 30 * DAY_NS)
    out = tmp_path / "audit.csv"
    kuzet.run("audit", "export", "--from", "2020-01-01T00:00:00Z", "-o", str(out))
    with out.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    # `kuzet init` wrote the first account (the administrator's role asked for, the
    # installer's given), then the camera was added; the hold follows
    assert [r["action"] for r in rows] == ["user.create", "role.request", "role.assign",
                                           "camera.add", "hold.request", "hold.approve"]
    assert '"source":"local"' in rows[3]["detail"]
    assert "«қақтығыс»" in rows[4]["detail"]
    assert '"source":"local"' in rows[4]["detail"]
    assert '"roles":["rector"]' in rows[5]["detail"]
    prev = GENESIS
    for r in rows:
        facts = EntryFacts(int(r["seq"]), int(r["at_ns"]), r["actor"], r["action"],
                           r["subject"], r["detail"])
        assert r["prev_hash"] == prev
        assert entry_hash(prev, facts) == r["hash"]
        prev = r["hash"]
    assert kuzet.run("audit", "export", "--to", "2020-01-01T00:00:00Z").stdout.count("\n") == 1
