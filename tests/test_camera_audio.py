"""Issue 20, defect 1: a camera's sound never stops its video. Hikvision and Dahua cameras
send G.711 by factory default; with the rector's order to keep a camera's sound
(UE-10-22 3.1.2), a sound no segment file can hold is left out, the video recorded, and
the camera's status says so, on Kuzet's own client and on FFmpeg's (over UDP, and for a
B-frame camera). Before, FFmpeg's path failed every session at the first packet
("'mp4' format does not support 'pcm_alaw'") and recorded nothing, and the own client
dropped the sound without a word."""

from __future__ import annotations

import datetime

import pytest

from conftest import Kuzet, ffprobe, stop, wait_for

pytestmark = pytest.mark.slow

CAMERAS = {  # name: (GStreamer mount, transport, the sound it sends)
    "alaw": ("h264pcma", "tcp", "G.711 A-law"),  # Kuzet's own client
    "mulaw": ("h264pcmu", "udp", "G.711 mu-law"),  # FFmpeg's client
    "bframes": ("h264bpcma", "tcp", "G.711 A-law"),  # B-frames: FFmpeg's client
}


def test_a_sound_no_file_can_hold_is_left_out_and_the_video_recorded(
        kuzet: Kuzet, gst_server: int) -> None:
    """3.1.2: sound only on the rector's order, and where the order keeps a sound no file
    holds, the camera's images are still obtained: video recorded, the status says why."""
    today = datetime.date.today().isoformat()
    for name, (mount, transport, _) in CAMERAS.items():
        kuzet.run("camera", "add", name, f"rtsp://127.0.0.1:{gst_server}/{mount}",
                  "--zone", "corridor", "--transport", transport)
        # the rector's order to keep its sound, as the console's Approvals leaves it
        kuzet.catalog().set_audio(name, ("7", today))
    serve = kuzet.serve()

    def recorded() -> bool:
        catalog = kuzet.catalog()
        status = kuzet.status()
        return all(len(catalog.segments(catalog.camera(n).id)) >= 2
                   and status.get(n, {}).get("audio") for n in CAMERAS)

    wait_for(recorded, 90, what="every camera with G.711 recording its video")
    status = kuzet.status()
    stop(serve, timeout=10)
    log = kuzet.log("serve")
    catalog = kuzet.catalog()
    for name, (_, _, sound) in CAMERAS.items():
        said = status[name]["audio"]
        assert said == (f"not recorded: the camera sends {sound}, which Kuzet cannot "
                        "store; video is recorded"), (name, status[name])
        assert log.count(f"camera {name}: sound not recorded") == 1, name  # once, not a loop
        assert kuzet.json("recordings", "gaps", name) == [], name
        first = catalog.segments(catalog.camera(name).id)[0]
        probe = ffprobe(catalog.path_of(first))
        assert [s["codec_type"] for s in probe["streams"]] == ["video"], (name, probe)
        assert int(probe["streams"][0]["nb_read_frames"]) == first.frames, name
    assert "Traceback" not in log
