"""An independent RTSP server for the tests: GStreamer's gst-rtsp-server.

Run with Debian's /usr/bin/python3 (python3-gi): `gst_rtsp_server.py`. Listens on a
free port of 127.0.0.1 and prints "ready PORT" once listening. With `--tls CERT KEY`
(PEM files) it speaks RTSPS instead, RTSP over TLS on every connection, as Axis, Hanwha,
Bosch and UniFi Protect cameras offer it; its clients then use `rtsps://`. Mounts:
  /h264     H.264 320x240 25 fps
  /h265aac  H.265 320x240 25 fps with AAC audio
  /h265open H.265 with open GOPs and B-frames: CRA keyframes, leading pictures (RASL)
            after each, as x265 codes a GOP that ends inside a group of B-frames; a
            client joins at the first CRA, as it joins a real camera's running stream
  /h264b    H.264 320x240 25 fps with B-frames (decoding order differs from display order)
  /audio    AAC audio only (a URL that serves no video)
  /h264pcma H.264 with G.711 A-law audio (a Hikvision or Dahua camera's factory default)
  /h264pcmu H.264 with G.711 mu-law audio
  /h264bpcma H.264 with B-frames and G.711 A-law audio
  /h264slices H.264 in several slices a picture, parameter sets with every keyframe
"""

import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import Gio, GLib, Gst, GstRtspServer  # noqa: E402

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
    "/h265open": "( " + VIDEO + "x265enc speed-preset=ultrafast key-int-max=24 "
                 "option-string=open-gop=1:bframes=3:b-adapt=0:scenecut=0:min-keyint=24:"
                 "repeat-headers=1 "
                 "! rtph265pay name=pay0 pt=96 config-interval=1 )",
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


def tls_auth(cert: str, key: str) -> GstRtspServer.RTSPAuth:
    """What makes the server speak TLS: an RTSPAuth holding its certificate, which it
    presents on every connection it accepts. An auth also guards each mount, so
    everyone (the default token's role) is let in: no client certificate, no password."""
    auth = GstRtspServer.RTSPAuth()
    auth.set_tls_certificate(Gio.TlsCertificate.new_from_files(cert, key))
    auth.set_tls_authentication_mode(Gio.TlsAuthenticationMode.NONE)
    token = GstRtspServer.RTSPToken()
    token.set_string("media.factory.role", "anyone")
    auth.set_default_token(token)
    return auth


def everyone() -> GstRtspServer.RTSPPermissions:
    """A mount's permissions under an auth: anyone may open and build it."""
    permissions = GstRtspServer.RTSPPermissions()
    permissions.add_permission_for_role("anyone", "media.factory.access", True)
    permissions.add_permission_for_role("anyone", "media.factory.construct", True)
    return permissions


def join_at_first_cra(factory: GstRtspServer.RTSPMediaFactory,
                      media: GstRtspServer.RTSPMedia) -> None:
    """The stream a client gets starts at a CRA keyframe, as a client joining a real
    camera's running stream meets one: an IDR and what follows it up to the next CRA
    are dropped on their way to the payloader (the encoder's first picture and the one
    the server has it force when a client starts playing are IDRs, which have no
    leading pictures; x265 codes every other keyframe as a CRA)."""
    joined = False

    def probe(_: Gst.Pad, info: Gst.PadProbeInfo) -> Gst.PadProbeReturn:
        nonlocal joined
        buffer = info.get_buffer()
        # a CRA's NAL header (type 21) after a start code
        data = buffer.extract_dup(0, buffer.get_size())
        if b"\x00\x00\x01\x28" in data:  # an IDR (type 20): dropped with what follows it
            joined = False
        elif b"\x00\x00\x01\x2a" in data:  # a CRA (type 21)
            joined = True
        return Gst.PadProbeReturn.OK if joined else Gst.PadProbeReturn.DROP

    pay = media.get_element().get_by_name("pay0")
    pay.get_static_pad("sink").add_probe(Gst.PadProbeType.BUFFER, probe)


def main() -> None:
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service("0")  # any free port: get_bound_port says which, once attached
    tls = sys.argv[1:2] == ["--tls"]
    if tls:
        server.set_auth(tls_auth(sys.argv[2], sys.argv[3]))
    mounts = server.get_mount_points()
    for path, launch in MOUNTS.items():
        factory = GstRtspServer.RTSPMediaFactory()
        factory.set_launch(launch)
        # Each client its own pipeline, as each camera is its own: a client joining a
        # shared media restarts its clock for the clients already playing it, a
        # timestamp jump the tests would take for the recorder's (measured: pts back to 0
        # for a TCP client when a UDP one joined /h264b).
        factory.set_shared(False)
        if tls:
            factory.set_permissions(everyone())
        if path == "/h265open":
            factory.connect("media-configure", join_at_first_cra)
        mounts.add_factory(path, factory)
    server.attach(None)
    print(f"ready {server.get_bound_port()}", flush=True)
    GLib.MainLoop().run()


main()
