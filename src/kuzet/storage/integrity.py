"""The daily integrity check: re-hash a random sample of segments, alarm on a mismatch.

`kuzet verify` checks everything on demand; this job spreads the same check over time so
that a modified or lost file is noticed within a day without reading every disk daily.
When it last ran is read from the audit log, so a restart does not reset its schedule.
"""

from __future__ import annotations

import random
import time

from kuzet.audit.actions import AuditAction
from kuzet.audit.log import SYSTEM, AuditLog
from kuzet.catalog.alarms import Alarms, Severity
from kuzet.catalog.store import Catalog
from kuzet.config import Settings
from kuzet.storage.verify import Problem, check_file, sample_segments
from kuzet.storage.volumes import Volumes
from kuzet.timefmt import NS


class IntegrityCheck:
    def __init__(self, catalog: Catalog, volumes: Volumes, alarms: Alarms, audit: AuditLog,
                 settings: Settings, rng: random.Random | None = None) -> None:
        self.catalog = catalog
        self.volumes = volumes
        self.alarms = alarms
        self.audit = audit
        self.sample = settings.integrity_sample
        self.interval_ns = int(settings.integrity_interval_s * NS)
        # The OS's randomness: which segments the next sample re-hashes cannot be worked
        # out from the ones sampled before, by someone who would edit footage unseen.
        self.rng = rng or random.SystemRandom()

    def run_if_due(self, now_ns: int | None = None) -> list[Problem] | None:
        now = now_ns if now_ns is not None else time.time_ns()
        if self.sample <= 0:
            return None
        last = self.audit.last(AuditAction.INTEGRITY_SAMPLE)
        if last is not None and now - last.at_ns < self.interval_ns:
            return None
        return self.run(now)

    def run(self, now_ns: int | None = None) -> list[Problem]:
        now = now_ns if now_ns is not None else time.time_ns()
        present = self.volumes.present_ids()
        problems: list[Problem] = []
        checked = 0
        for seg in sample_segments(self.catalog, self.sample, self.rng):
            if seg.volume_id not in present:
                continue
            checked += 1
            reason = check_file(self.catalog, seg)
            if reason is not None:
                problems.append(Problem(self.catalog.camera_name(seg.camera_id),
                                        self.catalog.relpath(seg), reason))
        for p in problems:
            self.alarms.raise_("integrity", p.path, Severity.CRITICAL,
                               f"camera {p.camera}, {p.path}: {p.reason}", now_ns=now)
        self.audit.record(SYSTEM, AuditAction.INTEGRITY_SAMPLE, "recordings",
                          {"checked": checked, "problems": [
                              {"path": p.path, "reason": p.reason}
                              for p in problems]}, now)
        return problems
