"""The daily integrity sample and the audit log's own chain."""

from __future__ import annotations

import random

from sqlalchemy import update

from conftest import Storage
from kuzet.catalog.models import AuditEntry
from kuzet.storage.integrity import IntegrityCheck

NOW = 1_800_000_000 * 10**9


def test_the_daily_sample_raises_an_alarm_on_a_modified_file(storage: Storage) -> None:
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
    assert problems is not None and [p.path for p in problems] == [bad]
    (alarm,) = storage.alarms.list()
    assert alarm.kind == "integrity" and alarm.severity == "critical"
    assert alarm.subject == bad and "modified" in alarm.message
    entries = storage.audit.entries(action="integrity.sample")
    assert len(entries) == 2 and '"checked":' in entries[-1].detail


def test_the_audit_chain_names_the_first_edited_entry(storage: Storage) -> None:
    for i in range(5):
        storage.audit.record("tester", "thing.done", f"thing/{i}", {"n": i})
    assert storage.audit.verify().first_bad_seq is None
    with storage.catalog.session.begin() as s:
        s.execute(update(AuditEntry).where(AuditEntry.seq == 3).values(actor="someone else"))
    assert storage.audit.verify().first_bad_seq == 3
