"""Issue 20, defect 1: a camera's sound never stops its video. Hikvision and Dahua cameras
send G.711 by factory default; with the rector's order to keep a camera's sound
(UE-10-22 3.1.2) it is stored as AAC, which a segment file holds and browsers play, on
Kuzet's own client (over TCP and UDP, with B-frames) and on FFmpeg's; a sound Kuzet cannot
store is left out, the video recorded and the camera's status says so. Before, FFmpeg's
path failed every session at the first packet ("'mp4' format does not support
'pcm_alaw'") and recorded nothing, and the own client dropped the sound without a word."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from conftest import Kuzet, Storage, ffmpegs_client, ffprobe, stop, wait_for
from kuzet.credentials import SecretUrl
from kuzet.recorder.supervisor import CameraSource, Supervisor

pytestmark = pytest.mark.slow

CAMERAS = {  # name: (GStreamer mount, transport, the sound it sends)
    "alaw": ("h264pcma", "tcp", "G.711 A-law"),
    "mulaw": ("h264pcmu", "udp", "G.711 mu-law"),
    "bframes": ("h264bpcma", "tcp", "G.711 A-law"),  # B-frames
}


def test_g711_is_stored_as_aac_and_a_sound_kuzet_cannot_store_leaves_the_video(
        kuzet: Kuzet, gst_server: int) -> None:
    """3.1.2: sound only on the rector's order, and where the order keeps G.711 it is
    recorded as AAC; where it keeps a sound no file holds (Opus on the own client), the
    camera's images are still obtained: video recorded, the status says why, once."""
    today = datetime.date.today().isoformat()
    _, opus = kuzet.sim("--audio", "opus")
    urls = {name: f"rtsp://127.0.0.1:{gst_server}/{mount}"
            for name, (mount, _, _) in CAMERAS.items()}
    urls["opus"] = f"rtsp://127.0.0.1:{opus}/cam01/main"
    for name, url in urls.items():
        transport = CAMERAS[name][1] if name in CAMERAS else "tcp"
        kuzet.run("camera", "add", name, url, "--zone", "corridor", "--transport", transport)
        # the rector's order to keep its sound, as the console's Approvals leaves it
        kuzet.catalog().set_audio(name, ("7", today))
    serve = kuzet.serve()

    def recorded() -> bool:
        catalog = kuzet.catalog()
        status = kuzet.status()
        return all(len(catalog.segments(catalog.camera(n).id)) >= 2
                   and status.get(n, {}).get("audio") for n in urls)

    wait_for(recorded, 90, what="every camera recording its video")
    status = kuzet.status()
    stop(serve, timeout=10)
    log = kuzet.log("serve")
    catalog = kuzet.catalog()
    for name, (_, _, sound) in CAMERAS.items():
        assert status[name]["audio"] == f"recorded ({sound}, stored as AAC)", status[name]
        assert kuzet.json("recordings", "gaps", name) == [], name
        second = catalog.segments(catalog.camera(name).id)[1]  # the first starts mid-way
        probe = ffprobe(catalog.path_of(second))
        streams = {s["codec_type"]: s for s in probe["streams"]}
        assert streams["audio"]["codec_name"] == "aac", (name, probe)
        assert int(streams["video"]["nb_read_frames"]) == second.frames, name
        # the sound covers the segment, not a few frames of it
        length = (second.end_ns - second.start_ns) / 1e9
        assert float(streams["audio"]["duration"]) >= 0.9 * length, (name, probe)
    assert status["opus"]["audio"] == ("not recorded: the camera sends Opus, which Kuzet "
                                       "cannot store; video is recorded"), status["opus"]
    assert log.count("camera opus: sound not recorded") == 1  # once, not a loop
    first = catalog.segments(catalog.camera("opus").id)[0]
    assert [s["codec_type"] for s in ffprobe(catalog.path_of(first))["streams"]] == ["video"]
    assert "Traceback" not in log



def test_ffmpegs_client_stores_g711_as_aac_too(gst_server: int, tmp_path: Path) -> None:
    """3.1.2 on the fallback client (the cameras the own client hands back):
    the G.711 it reads is made AAC the same way."""
    storage = Storage(f"sqlite:///{tmp_path / 'catalog.db'}", tmp_path / "home",
                      segment_s=2.0)
    try:
        cam = storage.catalog.add_camera("alaw", "rtsp://127.0.0.1/", zone="corridor")
        url = SecretUrl(f"rtsp://127.0.0.1:{gst_server}/h264pcma")
        supervisor = Supervisor(CameraSource(cam.id, "alaw", url, "udp", keep_audio=True),
                                storage.catalog, storage.settings, storage.volumes,
                                opener=ffmpegs_client)
        supervisor.start()
        wait_for(lambda: len(storage.catalog.segments(cam.id)) >= 2, 40, what="two segments")
        supervisor.stop()
        assert supervisor.join(15)
        assert supervisor.status.audio == "recorded (G.711 A-law, stored as AAC)"
        row = storage.catalog.segments(cam.id)[1]
        streams = {s["codec_type"]: s for s in ffprobe(storage.catalog.path_of(row))["streams"]}
        assert streams["audio"]["codec_name"] == "aac"
        assert float(streams["audio"]["duration"]) >= 0.9 * (row.end_ns - row.start_ns) / 1e9
    finally:
        storage.close()
