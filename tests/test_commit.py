"""A segment's commit survives a kill -9 between any two of its steps.

The recorder commits a finished file in three steps (kuzet.storage.commit): the `.part`
made durable, the row and the gap closure in one transaction, the rename. A real process
commits a real segment and is killed with SIGKILL at each step in turn; start-up recovery
must then leave what an uninterrupted commit leaves: one row, its file at the row's path
with the row's SHA-256, no `.part`, and the outage's gap closed where the footage starts.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import SMALL_MAIN, Storage
from kuzet.storage.recovery import recover
from kuzet.timefmt import NS

CAM = "yard"
# A minute ago, on a whole second: recovery looks for unfinished files from the camera's
# creation (or its last segment) on, as a recorder's would be.
T0 = (time.time_ns() // NS - 60) * NS
OUTAGE_NS = T0 - 30 * NS
SEG_S = 4

# The child commits one segment of real footage, with the named step replaced by a kill.
CHILD = """
import os, signal, sys
from importlib import import_module
from pathlib import Path

from kuzet.catalog.db import make_engine
from kuzet.catalog.store import Catalog
from kuzet.rtsp.clip import ClipSpec

tests, url, clip_dir, target, start, seg_s, w, h, bps = sys.argv[1:]
sys.path.insert(0, tests)
import footage

module, _, path = target.partition(":")
owner = import_module(module)
*parents, name = path.split(".")
for parent in parents:
    owner = getattr(owner, parent)
setattr(owner, name, lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL))
footage.record(Catalog(make_engine(url)), Path(clip_dir), ClipSpec(int(w), int(h), int(bps)),
               "yard", int(start), 1, int(seg_s))
print("committed without being killed")
"""

STEPS = {
    "after the file is durable, before the row": "kuzet.catalog.store:Catalog.add_segment",
    "after the row, before the rename": "kuzet.storage.commit:name_file",
    "after the rename, before the folder is synced": "kuzet.storage.commit:fsync_dir",
}


@pytest.mark.parametrize("step", list(STEPS))
def test_a_kill_between_commit_steps_is_completed_by_recovery(
        step: str, database_url: str, tmp_path: Path, clip_cache: Path) -> None:
    home = tmp_path / "home"
    st = Storage(database_url, home)
    cam = st.catalog.add_camera(CAM, "rtsp://10.0.0.2/s", zone="corridor")
    st.catalog.open_gap(cam.id, OUTAGE_NS, "connect_failed", "refused")
    st.close()

    spec = SMALL_MAIN
    child = subprocess.run(
        [sys.executable, "-c", CHILD, str(Path(__file__).parent), database_url,
         str(clip_cache / "sim"), STEPS[step], str(T0), str(SEG_S), str(spec.width),
         str(spec.height), str(spec.bitrate_bps)],
        capture_output=True, text=True, timeout=120, check=False)
    assert child.returncode == -9, (child.returncode, child.stdout, child.stderr)

    st = Storage(database_url, home)
    try:
        volume = st.catalog.volume_path(st.default_volume_id)
        recover(st.catalog, st.default_volume_id)
        rows = st.catalog.segments(cam.id)
        assert [(r.start_ns, r.frames) for r in rows] == [(T0, SEG_S * 25)], step
        path = st.catalog.path_of(rows[0])
        assert hashlib.sha256(path.read_bytes()).digest() == rows[0].sha256
        assert not list(volume.rglob("*.part")), step
        assert [(g.start_ns, g.end_ns) for g in st.catalog.gaps(cam.id)] == [(OUTAGE_NS, T0)]
    finally:
        st.close()
