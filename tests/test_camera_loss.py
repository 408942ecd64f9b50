"""Issue 20, defect 5: on UDP, what the network loses is seen. Whole frames lost are a
`packet_loss` gap placed where they were and the camera's status counts the RTP packets
lost; a camera frozen for longer than `stall_s` is a `stalled` gap from its last frame,
even though its RTCP sender reports keep arriving. Before, a UDP camera
frozen for 10 s got no gap at all and its file was catalogued as a whole 30 s. The
camera: Kuzet's simulator dropping a burst of packets at a known instant, or freezing.
(How soon a stall is seen, `stall_s` plus one batch, is measured on the source alone:
tests/test_own_client.py.)"""

from __future__ import annotations

import re
from typing import Any

import pytest

from conftest import Kuzet, ffprobe, stop, wait_for

pytestmark = pytest.mark.slow

LOSS_EVERY_S = 2
LOSS_AT_S = 12 / 25  # the simulator drops its burst at frame 12 of the second
FREEZE_EVERY_S, FREEZE_FOR_S = 12, 7


def test_lost_frames_and_a_frozen_camera_leave_gaps_where_they_were(kuzet: Kuzet) -> None:
    """UE-10-22 3.3.2 (cameras record continuously; what is not recorded is accounted
    for): each burst of loss is one `packet_loss` gap starting within 1 s of the burst
    and ending at the next keyframe, and each freeze one `stalled` gap; every file's
    frames are the catalog's. 3.3.6 (the cable network): the share of packets lost is a
    `camera_packet_loss` warning (issue 22)."""
    _, lossy = kuzet.sim("--loss-every", str(LOSS_EVERY_S), "--loss-packets", "6")
    _, frozen = kuzet.sim("--freeze-every", str(FREEZE_EVERY_S),
                          "--freeze-for", str(FREEZE_FOR_S))
    for name, port in (("lossy", lossy), ("frozen", frozen)):
        kuzet.run("camera", "add", name, f"rtsp://127.0.0.1:{port}/cam01/main",
                  "--zone", "corridor", "--transport", "udp")
    # issue 22: a share of packets lost over a window is an alarm (0.84 % here: 6 of the
    # ~710 packets of two seconds at 4 Mbit/s)
    kuzet.env.update({"KUZET_CAMERA_LOSS_ALARM_PERCENT": "0.4",
                      "KUZET_CAMERA_LOSS_WINDOW_S": "6"})
    serve = kuzet.serve()
    catalog = kuzet.catalog()

    def gaps(name: str, cause: str) -> list[dict[str, Any]]:
        return [g for g in kuzet.json("recordings", "gaps", name)
                if g["cause"] == cause and g["end_ns"] is not None]

    def after_footage() -> list[dict[str, Any]]:
        """The frozen camera's stalled gaps that follow footage of its own."""
        rows = catalog.segments(catalog.camera("frozen").id)
        return [g for g in gaps("frozen", "stalled")
                if any(r.end_ns <= g["start_ns"] for r in rows)]

    wait_for(lambda: len(gaps("lossy", "packet_loss")) >= 2 and after_footage(), 60,
             what="two bursts of loss and a freeze after footage, each recorded past")
    (alarm,) = wait_for(lambda: [a for a in kuzet.json("alarms") if a["subject"] == "lossy"
                                 and a["kind"] == "camera_packet_loss"], 30, 0.5,
                        what="the lossy camera's camera_packet_loss warning")
    status = kuzet.status()
    stop(serve, timeout=10)
    assert status["lossy"]["packets_lost"] >= 12, status["lossy"]
    # "camera lossy: 18 of 2154 RTP packets lost in the last 6 s (0.8 %, more than 0.4 %)"
    assert alarm["severity"] == "warning"
    assert re.fullmatch(r"camera lossy: \d+ of \d+ RTP packets lost in the last 6 s "
                        r"\(\d\.\d %, more than 0\.4 %\)", alarm["message"]), alarm
    # the denominator is counted, not taken from the losses: the scripted bursts are a
    # small share of it (0.8 % at the clip's rate; 2.0 % was seen once in CI, where the
    # loaded simulator sent 150 packets a second instead of 355)
    assert status["lossy"]["packets_expected"] > 20 * status["lossy"]["packets_lost"]
    rows = catalog.segments(catalog.camera("lossy").id)
    bursts = [s for s in range(rows[0].start_ns // 10**9 + 1, rows[-1].end_ns // 10**9)
              if s % LOSS_EVERY_S == 0]  # the bursts sent while the camera recorded
    assert len(gaps("lossy", "packet_loss")) >= len(bursts) - 1, bursts
    for gap in gaps("lossy", "packet_loss"):
        into = gap["start_ns"] / 1e9 % LOSS_EVERY_S
        assert LOSS_AT_S - 0.2 <= into <= LOSS_AT_S + 1.0, gap  # where the burst was
        assert (gap["end_ns"] - gap["start_ns"]) / 1e9 < 1.0, gap  # to the next keyframe
        assert "RTP packets lost" in gap["detail"], gap
    assert {g["cause"] for g in kuzet.json("recordings", "gaps", "lossy")} == {"packet_loss"}
    frozen_rows = catalog.segments(catalog.camera("frozen").id)
    for gap in gaps("frozen", "stalled"):
        # A first session that connected during a freeze has nothing before it: its gap
        # starts when the stall is noticed (seen: 6.5 s into the freeze), not at the freeze.
        if not any(r.end_ns <= gap["start_ns"] for r in frozen_rows):
            assert "no video arrived" in gap["detail"], gap
            continue
        # It starts at the freeze (the last frame before it). A session that reconnected
        # during the previous freeze got that freeze's catch-up burst first; its segments
        # were placed by the burst's arrival, seconds late, and every later one of the
        # session with them, so this gap started 1.3, 3.1 and 5.4 s into its freeze. Now
        # burst segments are placed by the frames after the burst (issue 20).
        into = gap["start_ns"] / 1e9 % FREEZE_EVERY_S
        assert into <= 0.5 or into >= FREEZE_EVERY_S - 0.5, gap
        assert "no video arrived" in gap["detail"], gap
    for name in ("lossy", "frozen"):
        for row in catalog.segments(catalog.camera(name).id):
            probe = ffprobe(catalog.path_of(row))
            assert int(probe["streams"][0]["nb_read_frames"]) == row.frames, (name, row)
