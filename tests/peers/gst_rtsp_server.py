"""An independent RTSP server for the tests: GStreamer's gst-rtsp-server.

Run with Debian's /usr/bin/python3 (python3-gi): `gst_rtsp_server.py`. Listens on a
free port of 127.0.0.1 and prints "ready PORT" once listening. Mounts:
  /h264     H.264 320x240 25 fps
  /h265aac  H.265 320x240 25 fps with AAC audio
  /h264b    H.264 320x240 25 fps with B-frames (decoding order differs from display order)
  /audio    AAC audio only (a URL that serves no video)
  /h264pcma H.264 with G.711 A-law audio (a Hikvision or Dahua camera's factory default)
  /h264pcmu H.264 with G.711 mu-law audio
  /h264bpcma H.264 with B-frames and G.711 A-law audio
  /h264slices H.264 in several slices a picture, parameter sets with every keyframe
"""

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402

VIDEO = ("videotestsrc is-live=true pattern=ball ! "
         "video/x-raw,width=320,height=240,framerate=25/1 ! ")
AUDIO = ("audiotestsrc is-live=true wave=sine ! audio/x-raw,rate=48000,channels=1 ! "
         "avenc_aac ! aacparse ! rtpmp4gpay name=pay{n} pt=97")
G711 = ("audiotestsrc is-live=true wave=sine ! audio/x-raw,rate=8000,channels=1 ! "
        "{enc} ! {pay} name=pay1")
H264 = ("x264enc tune=zerolatency speed-preset=ultrafast key-int-max=25 "
        "! rtph264pay name=pay0 pt=96 config-interval=1 ")
H264B = ("x264enc speed-preset=veryfast bframes=2 b-adapt=false rc-lookahead=4 key-int-max=25 "
         "! video/x-h264,profile=main ! rtph264pay name=pay0 pt=96 config-interval=1 ")
MOUNTS = {
    "/h264": "( " + VIDEO + "x264enc tune=zerolatency speed-preset=ultrafast key-int-max=25 "
             "! rtph264pay name=pay0 pt=96 config-interval=1 )",
    "/h265aac": "( " + VIDEO + "x265enc tune=zerolatency speed-preset=ultrafast "
                "key-int-max=25 ! rtph265pay name=pay0 pt=96 config-interval=1 "
                + AUDIO.format(n=1) + " )",
    "/h264b": "( " + VIDEO + "x264enc speed-preset=veryfast bframes=2 b-adapt=false "
              "rc-lookahead=4 key-int-max=25 ! video/x-h264,profile=main ! "
              "rtph264pay name=pay0 pt=96 config-interval=1 )",
    "/audio": "( " + AUDIO.format(n=0) + " )",
    "/h264pcma": "( " + VIDEO + H264 + G711.format(enc="alawenc", pay="rtppcmapay") + " )",
    "/h264pcmu": "( " + VIDEO + H264 + G711.format(enc="mulawenc", pay="rtppcmupay") + " )",
    "/h264bpcma": "( " + VIDEO + H264B + G711.format(enc="alawenc", pay="rtppcmapay") + " )",
    "/h264slices": "( " + VIDEO + "x264enc tune=zerolatency speed-preset=ultrafast "
                   "key-int-max=25 sliced-threads=true threads=4 option-string=scenecut=0 ! "
                   "rtph264pay name=pay0 "
                   "pt=96 config-interval=-1 )",
}


def main() -> None:
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service("0")  # any free port: get_bound_port says which, once attached
    mounts = server.get_mount_points()
    for path, launch in MOUNTS.items():
        factory = GstRtspServer.RTSPMediaFactory()
        factory.set_launch(launch)
        factory.set_shared(True)
        mounts.add_factory(path, factory)
    server.attach(None)
    print(f"ready {server.get_bound_port()}", flush=True)
    GLib.MainLoop().run()


main()
