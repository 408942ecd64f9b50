"""GStreamer's own RTSP relay, the baseline of bench/restream.py: gst-rtsp-server serving
each camera of a `kuzet sim` again, `rtspsrc ! rtph264depay ! rtph264pay` per camera (one
pipeline a camera, shared by its clients), as a relay built from GStreamer would.

Run with Debian's /usr/bin/python3 (python3-gi): `gst_relay.py PORT SIM_PORT CAMERAS`;
prints "ready" once listening. Mounts /cam01 ... /camNN.
"""

import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


def main() -> None:
    port, sim_port, cameras = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(port)
    mounts = server.get_mount_points()
    for i in range(1, cameras + 1):
        factory = GstRtspServer.RTSPMediaFactory()
        factory.set_launch(
            f"( rtspsrc location=rtsp://127.0.0.1:{sim_port}/cam{i:02d}/main latency=0 "
            "protocols=tcp ! rtph264depay ! rtph264pay name=pay0 pt=96 config-interval=-1 )")
        factory.set_shared(True)
        mounts.add_factory(f"/cam{i:02d}", factory)
    server.attach(None)
    print("ready", flush=True)
    GLib.MainLoop().run()


if __name__ == "__main__":
    main()
