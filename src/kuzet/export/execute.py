"""Carrying out an approved transfer: the package built, then the execution recorded;
and the package deleted from the server once it has left it.

The approval is checked before building (to refuse early) and again when recording (of
two executions racing, one wins and the other's package is removed). One execution of a
transfer runs at a time in this process.

A package is a copy of footage outside the archive (clause 3.5.1), made for one
recipient, so it stays on the server only until it is handed over. Handed over means
received, which only the receiving end knows: a download the server finished sending may
still have been cut short in the network or the browser, and a download is anyone's who
may execute. So the executor, who hands the package to the recipient the act names,
confirms receipt by the SHA-256 of the copy they hold (`received`): the right hash
deletes the server's copy, a wrong one or another account's confirmation is refused and
changes nothing. Until then the package can be downloaded again; one never confirmed
goes, at the latest, when the transfer's approval expires (`expire_packages`, run by the
storage sweeper), and a package a crash left unfinished goes then too. The register keeps
the hashes either way, so the copy handed over can still be checked (`kuzet export
verify`).
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from kuzet.access.steps import Entry, take_step
from kuzet.audit.actions import AuditAction
from kuzet.audit.log import SYSTEM, Actor, AuditLog, append
from kuzet.catalog.store import Catalog
from kuzet.errors import Conflict, Denied, NotFound
from kuzet.export.package import Built, build
from kuzet.governance.models import Transfer
from kuzet.governance.transfers import Scope, Transfers
from kuzet.signing import load_or_create
from kuzet.storage.footage import Footage
from kuzet.timefmt import format_instant


def package_folder(t: Transfer) -> str:
    return f"kuzet-transfer-{t.year}-{t.seq:04d}"


def exports_folder(home: Path) -> Path:
    """Where packages wait to be handed over."""
    return home.resolve() / "exports"


def _gone(path: Path) -> bool:
    """Delete `path`; whether it was there."""
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True


def expire_packages(session: sessionmaker[Session], home: Path, now_ns: int) -> int:
    """Delete every package (and any a crash left unfinished) of a transfer whose approval
    has expired by `now_ns`, each audited as the system's `transfer.package_discard`; how
    many went. The storage sweeper runs it (`storage.derived.Beside`)."""
    folder = exports_folder(home)
    with session() as s:
        due = list(s.scalars(select(Transfer).where(Transfer.expires_ns <= now_ns)))
    deleted = 0
    for t in due:
        name = f"{package_folder(t)}.zip"  # as `Exports.execute` names it
        for path in (folder / name, folder / f"{name}.part"):
            if _gone(path):
                deleted += 1
                with session.begin() as s:
                    append(s, SYSTEM, AuditAction.TRANSFER_PACKAGE_DISCARD, f"transfer/{t.id}",
                           {"number": t.number, "reason": "approval expired",
                            "file": path.name, "sha256": t.package_sha256
                            if path.name == t.package_file else None}, now_ns)
    return deleted


class Exports:
    def __init__(self, transfers: Transfers, catalog: Catalog, audit: AuditLog, home: Path,
                 organisation: str, footage: Footage | None = None) -> None:
        self.transfers = transfers
        self.catalog = catalog
        self.footage = footage  # segments of other recording nodes (issue 25)
        self.audit = audit
        self.home = home.resolve()
        self.organisation = organisation
        self.folder = exports_folder(self.home)
        self._lock = threading.Lock()
        self._running: set[int] = set()

    def path_of(self, t: Transfer) -> Path:
        assert t.package_file is not None
        return self.folder / t.package_file

    def discard(self, actor: Actor, t: Transfer) -> None:
        """Remove a package from the server before it is handed over (made by mistake, or
        the recipient will not come). The register keeps its hashes."""
        if t.package_file is None:
            raise Conflict("transfer {number} has no package", number=t.number)
        if not _gone(self.path_of(t)):
            raise Conflict("the package of {number} was removed already", number=t.number)
        self.audit.act(actor, AuditAction.TRANSFER_PACKAGE_DISCARD, f"transfer/{t.id}",
                       number=t.number, sha256=t.package_sha256, reason="discarded")

    def received(self, actor: Actor, transfer_id: int, sha256: str) -> Transfer:
        """`actor` confirms that the package reached them whole, by the SHA-256 of the copy
        they hold: the hand-over, after which the server's copy goes (audited as
        `transfer.package_discard`, "handed over", with the hash). Only whoever executed
        the transfer confirms (a refusal audited, as every step's); a hash not the
        package's, or a package gone already, is refused and changes nothing. A download
        still running from the file goes on to its end."""
        with take_step(self.catalog.session, actor) as step:
            t = step.session.get(Transfer, transfer_id)
            if t is None:
                raise NotFound("no transfer {transfer_id}", transfer_id=transfer_id)
            if t.package_file is None:
                raise Conflict("refused: transfer {number} has no package to hand over "
                               "(UE-10-22 3.5.6)", number=t.number)
            entry = Entry(AuditAction.TRANSFER_PACKAGE_DISCARD, f"transfer/{t.id}",
                          {"number": t.number})
            if actor.name != t.executed_by:
                step.refuse(entry, Denied(
                    "refused: receipt of the package of {number} confirmed by {who}; only "
                    "{executor}, who executed the transfer and hands the package to its "
                    "recipient, confirms it (UE-10-22 3.5.6)",
                    number=t.number, who=actor.name, executor=t.executed_by))
            path = self.path_of(t)
            if not path.is_file():
                raise Conflict("refused: the package of {number} is no longer on the "
                               "server: handed over, discarded, or its approval expired "
                               "(UE-10-22 3.3)", number=t.number)
            if sha256.strip().lower() != t.package_sha256:
                raise Conflict("refused: SHA-256 {given} is not that of the package of "
                               "{number} ({made}): the copy held is not the one made; "
                               "download it again and check it before handing it over "
                               "(UE-10-22 3.5.6)", given=sha256.strip().lower(),
                               number=t.number, made=t.package_sha256)
            if not _gone(path):  # another confirmation took it meanwhile
                raise Conflict("refused: the package of {number} is no longer on the "
                               "server: handed over already (UE-10-22 3.3)", number=t.number)
            step.record(entry, reason="handed over", sha256=t.package_sha256)
        return t

    def _facts(self, t: Transfer, actor: Actor, recipient: str, document: str,
               now_ns: int) -> dict[str, object]:
        return {
            "number": t.number, "transfer_id": t.id, "organisation": self.organisation,
            "executed_by": actor.name, "executed": format_instant(now_ns),
            "recipient": recipient, "recipient_document": document,
            "request": {
                "requester_type": t.requester_type, "requester": t.requester,
                "basis": {"number": t.basis_number, "date": t.basis_date,
                          "sha256": t.basis_sha256, "type": t.basis_type},
                "reason": t.reason, "cameras": json.loads(t.cameras),
                "from": format_instant(t.start_ns), "to": format_instant(t.end_ns),
                "registered_by": t.registered_by,
                "registered": format_instant(t.registered_ns),
                "audit_entry": self.audit.hash_of(t.registered_entry)},
            "decision": {
                "by": t.decided_by, "at": format_instant(t.decided_ns or 0),
                "note": t.decision_note, "cameras": json.loads(t.approved_cameras or "[]"),
                "from": format_instant(t.approved_start_ns or 0),
                "to": format_instant(t.approved_end_ns or 0),
                "expires": format_instant(t.expires_ns or 0),
                "audit_entry": self.audit.hash_of(t.decided_entry)}}

    def execute(self, actor: Actor, transfer_id: int, scope: Scope, recipient: str,
                document: str, now_ns: int) -> tuple[Transfer, Built]:
        with self._lock:
            if transfer_id in self._running:
                raise Conflict("this transfer is being executed now")
            self._running.add(transfer_id)
        try:
            t = self.transfers.executable(actor, transfer_id, scope, now_ns)
            folder = package_folder(t)
            dest = self.folder / f"{folder}.zip"
            dest.unlink(missing_ok=True)  # left by an execution that was not recorded
            built = build(dest, folder, [(c, scope.start_ns, scope.end_ns)
                                         for c in scope.cameras],
                          self._facts(t, actor, recipient, document, now_ns),
                          load_or_create(self.home), self.catalog, now_ns,
                          self.organisation, self.footage)
            exported = [{"camera": c.camera, "files": [
                {"file": p.file, "from_ns": p.start_ns, "to_ns": p.end_ns, "frames": p.frames}
                for p in c.parts]} for c in built.cameras]
            try:
                t = self.transfers.record_execution(actor, transfer_id, scope, recipient,
                                                    document, {
                    "file": dest.name, "sha256": built.sha256, "bytes": built.size,
                    "manifest_sha256": built.manifest_sha256, "fingerprint": built.fingerprint,
                    "exported": exported}, now_ns)
            except Exception:
                dest.unlink(missing_ok=True)
                raise
            return t, built
        finally:
            with self._lock:
                self._running.discard(transfer_id)
