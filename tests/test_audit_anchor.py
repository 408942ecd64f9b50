"""The audit chain anchored by signed checkpoints (issue 16, clause 4.2).

Whoever can write the database can delete audit entries and recompute every hash and the
head after them; the chain alone then verifies. A checkpoint signed with the
installation's key, kept in a file beside the database (and published over MQTT), is what
such a rewrite cannot follow: `kuzet audit verify` names the span it falls in.
"""

from __future__ import annotations

import base64
import json
import re
import stat
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import delete, event, select, update

from conftest import Kuzet, Storage, stop, wait_for
from kuzet.audit.actions import AuditAction
from kuzet.audit.anchor import FILE_NAME, INTERVAL_NS, Anchor
from kuzet.audit.chain import GENESIS, EntryFacts, StoredEntry, entry_hash
from kuzet.audit.checkpoint import Anchors, BadCheckpoint, Checkpoint, sign, verified
from kuzet.audit.log import AuditLog
from kuzet.audit.verify import check
from kuzet.catalog.models import AuditEntry, AuditHead
from kuzet.catalog.store import Catalog
from kuzet.signing import fingerprint, known_keys
from kuzet.timefmt import format_instant
from mqtt_peer import BROKER, Subscriber


def rewrite_consistently(catalog: Catalog, first: int, last: int) -> None:
    """What someone with write access to the database can do: delete entries first..last,
    renumber the ones after them, recompute every hash from there and set the head."""
    with catalog.session.begin() as s:
        s.execute(delete(AuditEntry).where(AuditEntry.seq.between(first, last)))
        prev = s.scalar(select(AuditEntry.hash).where(AuditEntry.seq == first - 1)) or GENESIS
        seq = first - 1
        for e in s.scalars(select(AuditEntry).where(AuditEntry.seq > last)
                           .order_by(AuditEntry.seq)).all():
            seq += 1
            e.seq, e.prev_hash = seq, prev
            e.hash = prev = entry_hash(prev, EntryFacts(seq, e.at_ns, e.actor, e.action,
                                                        e.subject, e.detail))
            s.flush()  # one at a time: each new number was freed by the one before
        s.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=seq, last_hash=prev))


def record(audit: AuditLog, n: int) -> None:
    for i in range(n):
        audit.record("tester", AuditAction.BOOKMARK_NOTE, f"thing/{i}", {"n": i})


def lines(home: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (home / FILE_NAME).read_text().splitlines()]


def started(home: Path, **settings: str) -> Kuzet:
    """`kuzet` as a separate process on an initialised home with no cameras."""
    k = Kuzet(home, home.parent / "cache", **settings)
    k.home.mkdir()
    k.run("init")
    return k


def chain_of(facts: list[EntryFacts]) -> list[StoredEntry]:
    """Entries numbered from 1 with every hash computed, as a writer (or a rewriter) would."""
    out: list[StoredEntry] = []
    prev = GENESIS
    for seq, f in enumerate(facts, 1):
        f = EntryFacts(seq, f.at_ns, f.actor, f.action, f.subject, f.detail)
        out.append(StoredEntry(f, prev, entry_hash(prev, f)))
        prev = out[-1].hash
    return out


def test_the_span_of_a_rewrite_is_named_between_two_checkpoints() -> None:
    """Pure: entries, head and checkpoints in memory, a key made for the test."""
    key = Ed25519PrivateKey.generate()
    keys = {fingerprint(key): key.public_key()}
    log = chain_of([EntryFacts(0, n * 10**9, "tester", "thing.done", f"thing/{n}", "{}")
                    for n in range(1, 13)])
    docs = [sign(Checkpoint(s, log[s - 1].hash, s * 10**9 + 1), key).doc() for s in (4, 8)]
    anchors = Anchors("the file", tuple(verified(d, keys).checkpoint for d in docs))
    assert check(log, (12, log[-1].hash), anchors).anchor == anchors.valid[1]

    rewritten = chain_of([e.facts for e in log if e.facts.seq not in (6, 7)])
    head = (10, rewritten[-1].hash)
    assert check(rewritten, head).ok  # the chain alone cannot tell
    verdict = check(rewritten, head, anchors)
    assert verdict.first_bad_seq is None
    assert verdict.anchor == anchors.valid[0]
    (problem,) = verdict.problems
    assert problem.startswith(f"entries 5-8 were removed or rewritten after the checkpoint of "
                              f"{format_instant(8 * 10**9 + 1)}")
    assert problem.endswith(f"the checkpoint of {format_instant(4 * 10**9 + 1)} at entry 4 "
                            "still matches")
    shorter = rewritten[:7]  # and the tail cut as well: entry 8 is gone
    assert "the log has no entry 8 (it ends at entry 7)" in check(
        shorter, (7, shorter[-1].hash), anchors).problems[0]

    forged = {**docs[1], "head": rewritten[7].hash}  # the line made to fit the rewrite
    with pytest.raises(BadCheckpoint, match="does not verify"):
        verified(forged, keys)
    stranger = Ed25519PrivateKey.generate()
    with pytest.raises(BadCheckpoint, match="does not know"):
        verified(sign(Checkpoint(8, rewritten[7].hash, 1), stranger).doc(), keys)


@pytest.fixture
def cli(tmp_path: Path, database_url: str) -> Iterator[Kuzet]:
    """On a catalog of either database."""
    k = started(tmp_path / "home", database_url=database_url)
    yield k
    k.close()


@pytest.fixture
def sqlite_cli(tmp_path: Path) -> Iterator[Kuzet]:
    k = started(tmp_path / "home")
    yield k
    k.close()


def test_a_consistent_rewrite_behind_a_checkpoint_is_named(cli: Kuzet) -> None:
    """UE-10-22 4.2: a rewrite that keeps the chain consistent is found by the checkpoints."""
    catalog = cli.catalog()
    audit = AuditLog(catalog.session)
    record(audit, 10)
    cli.run("audit", "checkpoint")
    record(audit, 10)
    cli.run("audit", "checkpoint")
    record(audit, 5)
    first, second = lines(cli.home)
    a, b = first["seq"], second["seq"]
    ok = cli.run("audit", "verify").stdout
    assert "hash chain intact" in ok
    assert "2 checkpoints match" in ok
    assert f"entries 1-{b} anchored by the checkpoint of {format_instant(second['at_ns'])}" in ok

    rewrite_consistently(catalog, a + 3, a + 5)
    assert audit.verify().ok  # the chain alone is fooled: every hash follows
    out = cli.run("audit", "verify", check=False)
    assert out.returncode == 1, out.stdout
    assert (f"entries {a + 1}-{b} were removed or rewritten after the checkpoint of "
            f"{format_instant(second['at_ns'])}") in out.stdout
    assert (f"the checkpoint of {format_instant(first['at_ns'])} at entry {a} still matches"
            in out.stdout)
    assert "breaks the hash chain" not in out.stdout


def test_an_altered_checkpoint_signature_is_reported(sqlite_cli: Kuzet) -> None:
    cli = sqlite_cli
    cli.run("audit", "checkpoint")
    cli.run("audit", "checkpoint")
    path = cli.home / FILE_NAME
    first, second = path.read_text().splitlines()
    doc = json.loads(first)
    sig = bytearray(base64.b64decode(doc["sig"]))
    sig[0] ^= 1
    doc["sig"] = base64.b64encode(bytes(sig)).decode()
    path.write_text(json.dumps(doc) + "\n" + second + "\n")
    out = cli.run("audit", "verify", check=False)
    assert out.returncode == 1
    assert f"line 1 of {path}: its signature does not verify" in out.stdout
    # and the entry that recorded that checkpoint says the file no longer holds it intact
    assert re.search(rf"records the checkpoint of .* at entry {doc['seq']}, which {path} does "
                     "not hold intact", out.stdout), out.stdout


def test_lines_removed_from_the_checkpoint_file_are_found_in_the_log(
        storage: Storage) -> None:
    anchor = Anchor(storage.audit, storage.settings.home)
    record(storage.audit, 3)
    anchor.checkpoint()
    record(storage.audit, 3)
    kept = anchor.checkpoint().checkpoint
    gone = anchor.checkpoint().checkpoint
    assert anchor.verify()[0].ok
    text = anchor.path.read_text().splitlines(keepends=True)
    anchor.path.write_text("".join(text[:2]))  # the newest line cut off the end
    verdict = anchor.verify()[0]
    assert verdict.anchor == kept
    (problem,) = verdict.problems
    assert problem == (f"entry {gone.seq + 1} records the checkpoint of "
                       f"{format_instant(gone.at_ns)} at entry {gone.seq}, which "
                       f"{anchor.path} does not hold intact: lines were removed from it or "
                       "altered")


def test_verify_reads_the_log_a_page_at_a_time(storage: Storage) -> None:
    """Issue 16, item 13: no read of the whole log at once, whatever its length."""
    anchor = Anchor(storage.audit, storage.settings.home)
    record(storage.audit, 12)
    anchor.checkpoint()
    record(storage.audit, 12)
    reads: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if re.search(r"FROM audit_log\b", statement):
            reads.append(statement)

    event.listen(storage.catalog.engine, "before_cursor_execute", seen)
    try:
        verdict, _ = anchor.verify(page=7)
    finally:
        event.remove(storage.catalog.engine, "before_cursor_execute", seen)
    assert verdict.ok
    assert verdict.checkpoints == 1
    assert verdict.entries == storage.audit.head()[0]
    assert len(reads) >= verdict.entries // 7, reads
    assert all("LIMIT" in r for r in reads), reads
    with storage.catalog.session.begin() as s:  # an edit on the third page is found there
        s.execute(update(AuditEntry).where(AuditEntry.seq == 17).values(actor="someone"))
    assert storage.audit.verify(page=7).first_bad_seq == 17


def test_a_checkpoint_is_made_an_hour_after_the_last(storage: Storage) -> None:
    now = time.time_ns()
    anchor = Anchor(storage.audit, storage.settings.home)
    made = anchor.run_if_due(now)
    assert made is not None
    assert made.checkpoint.seq == storage.audit.head()[0] - 1
    assert anchor.run_if_due(now + INTERVAL_NS - 1) is None
    again = anchor.run_if_due(now + INTERVAL_NS)
    assert again is not None
    # a restart reads the schedule from the log, not from memory
    restarted = Anchor(storage.audit, storage.settings.home)
    assert restarted.run_if_due(now + INTERVAL_NS + 1) is None
    assert stat.S_IMODE(anchor.path.stat().st_mode) == 0o600
    assert [d["seq"] for d in lines(storage.settings.home)] == [made.checkpoint.seq,
                                                                again.checkpoint.seq]
    verdict = anchor.verify()[0]
    assert verdict.ok
    assert verdict.anchor == again.checkpoint


@pytest.mark.slow
def test_serve_checkpoints_at_start_and_stop_and_publishes_them(tmp_path: Path,
                                                                 site: str) -> None:
    k = started(tmp_path / "home", mqtt_url=f"mqtt://{BROKER[0]}:{BROKER[1]}", mqtt_site=site)
    topic = f"kuzet/{site}/audit/checkpoint"
    sub = Subscriber(topic)
    server = k.serve()
    try:
        wait_for(lambda: sub.messages, 60, what="the start-up checkpoint on MQTT")
        assert stop(server) < 15, k.log("serve")
        assert server.returncode == 0, k.log("serve")
        wait_for(lambda: len(sub.messages) >= 2, 10, what="the checkpoint made at stop")
        docs = [doc for _, doc, _ in sub.messages]
        keys = known_keys(k.home)
        assert [verified(d, keys).checkpoint.seq for d in docs] == [
            d["seq"] for d in lines(k.home)]
        assert docs[1]["seq"] > docs[0]["seq"]
        assert "2 checkpoints match" in k.run("audit", "verify").stdout
    finally:
        sub.close()
        k.close()
        c = mqtt.Client(CallbackAPIVersion.VERSION2)
        c.connect(*BROKER)
        c.loop_start()
        c.publish(topic, b"", qos=1, retain=True).wait_for_publish(5)
        c.loop_stop()
        c.disconnect()
