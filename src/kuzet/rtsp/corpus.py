"""The field corpus (issue 20): what real cameras do, as data, replayed by the simulator.

Each `Behaviour` is one camera: the URL layout its vendor documents, the RTSP and SDP
shapes it answers with (`CameraQuirks`), and what its encoder and network do to the RTP
stream (`StreamSource`'s switches, `NetworkFaults`). The facts come from vendors' published
URL layouts and from issue threads of other RTSP clients that met the cameras; `why` says
which, in our own words. `serve` starts one simulator per behaviour, each on its own port,
so that a test records them all with one `kuzet serve` and checks what each made of it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace
from pathlib import Path

from kuzet.rtsp.clip import FPS, ClipSpec, load_audio, load_clip
from kuzet.rtsp.server import (
    LOSS_AT_FRAME,
    CameraQuirks,
    NetworkFaults,
    RtspServer,
    StreamSource,
)

# What the corpus's cameras send: a small picture, so that a score of them record at once
# on two cores; the same spec the tests cache (conftest.SMALL_SUB).
CORPUS_CLIP = ClipSpec(320, 180, 300_000)
RESIZED_CLIP = ClipSpec(160, 90, 150_000)
KEEPALIVE_S = 6  # the short session timeout of the keep-alive behaviours
NO_GET_PARAMETER = "OPTIONS, DESCRIBE, SETUP, PLAY, PAUSE, TEARDOWN"


@dataclass(frozen=True)
class Behaviour:
    """One camera of the corpus."""

    name: str
    """The camera's name in Kuzet (and the test's id)."""
    kind: str
    """The vendor whose cameras do this, or what kind of behaviour it is
    (`keepalive`, `transport`, `encoder`, `network`, `sdp`, `audio`)."""
    path: str
    """The stream's path and query as the vendor lays its URLs out."""
    why: str
    """The fact this replays and where it was found (our words, nothing copied)."""
    quirks: CameraQuirks = field(default_factory=CameraQuirks)
    """The RTSP and SDP side: control names and forms, Session header, keep-alives,
    interleaved channels. The default is the simulator's own behaviour."""
    transport: str = "tcp"
    """What Kuzet is told to ask for: `tcp` (interleaved) or `udp`."""
    audio: str = ""
    """The sound the camera sends, a key of clip.AUDIO_FORMATS, or "" for none."""
    faults: NetworkFaults | None = None
    """Loss, reordering, duplicates on the video's packets."""
    ts_jump_every_s: int = 0
    """The camera's clock jumps back 30 s at every wall-clock second divisible by this."""
    restart_every_s: int = 0
    """The encoder restarts (new SSRC, sequence and RTP time bases) every this many
    wall-clock seconds."""
    ts_wrap_in_s: int = 0
    """The video's RTP clock passes 2**32 this many seconds after PLAY."""
    seq_wrap_in: int = 0
    """The video's sequence number passes 65535 this many packets after PLAY."""
    inband_params: bool = True
    """False: SPS and PPS only in the SDP's sprop-parameter-sets, never in the stream."""
    resize_every_s: int = 0
    """The picture's size halves and comes back every this many seconds (new SPS)."""
    gap_causes: frozenset[str] = frozenset()
    """The gap causes this behaviour may make in a recording; any other is a defect."""
    gaps_required: bool = False
    """Whether the behaviour must make at least one gap (a loss or a jump Kuzet must
    see) while it is recorded."""

    def fresh_quirks(self) -> CameraQuirks:
        """The quirks with their own, empty, request log: one per server."""
        return replace(self.quirks, requests=[])

    def events_ns(self, start_ns: int, end_ns: int) -> list[int]:
        """The wall-clock instants in [start_ns, end_ns) at which this behaviour does
        what may make a gap: a clock jump, an encoder restart, a loss burst."""
        every_s, into_ns = 0, 0
        if self.ts_jump_every_s:
            every_s = self.ts_jump_every_s
        elif self.restart_every_s:
            every_s = self.restart_every_s
        elif self.faults is not None and self.faults.loss_every_s:
            every_s, into_ns = self.faults.loss_every_s, LOSS_AT_FRAME * 10**9 // FPS
        if not every_s:
            return []
        step = every_s * 10**9
        first = -(-(start_ns - into_ns) // step) * step + into_ns
        return list(range(first, end_ns, step))


CORPUS: tuple[Behaviour, ...] = (
    # -- vendors: URL layouts, SDP and RTSP shapes --------------------------------------
    Behaviour(
        "hikvision", "Hikvision", "Streaming/Channels/101",
        "Hikvision's URL id is channel*100 + stream (1 main, 2 sub; Hikvision ISAPI "
        "documentation, enpinfo.hikvision.com). Its media server's SDP names tracks "
        "trackID=video and trackID=audio and, on many firmwares, has no "
        "sprop-parameter-sets: SPS and PPS come in-band only (SDP quoted in "
        "bluenviron/gortsplib#88 and AxisCommunications/media-stream-library-js#417); "
        "its sound is AAC in the same session.",
        CameraQuirks(controls=("trackID=video", "trackID=audio"), sprop=False,
                     framerate=False),
        audio="aac"),
    Behaviour(
        "hikvision-absolute", "Hikvision", "Streaming/Channels/101?transportmode=unicast",
        "The newer URL form with its optional ?transportmode=unicast (Hikvision URL rules, "
        "as republished on cnblogs.com/elesos/p/9881690.html); controls as absolute "
        "URLs numbered from 1, the query after the control.",
        CameraQuirks(controls=("trackID=1", "trackID=2"), control_form="absolute")),
    Behaviour(
        "dahua", "Dahua", "cam/realmonitor?channel=1&subtype=0",
        "Dahua's layout: channel from 1, subtype 0 main and 1 sub (listed beside "
        "Hikvision's on help.dayta.ai); the Content-Base is the DESCRIBE URL, query and "
        "all, with no trailing slash (issue 20's field report); G.711 A-law sound.",
        CameraQuirks(bare_base=True), audio="pcma"),
    Behaviour(
        "axis", "Axis", "axis-media/media.amp?videocodec=h264",
        "Axis's VAPIX path with the codec in the query; its SDP numbers the video "
        "trackID=1, keeps SPS and PPS in sprop-parameter-sets and does not repeat them "
        "before keyframes (an Axis DESCRIBE quoted in meetecho/janus-gateway#849); with "
        "a query its controls are absolute URLs, the query after the control; AAC sound.",
        CameraQuirks(controls=("trackID=1", "trackID=2"), control_form="absolute"),
        audio="aac", inband_params=False),
    Behaviour(
        "axis-udp", "Axis", "axis-media/media.amp",
        "Over UDP an Axis camera ends a session that sends no RTSP request within the "
        "timeout; receiver reports do not count (ZoneMinder/zoneminder#560). Here: "
        f"{KEEPALIVE_S} s, so Kuzet's keep-alives must arrive.",
        CameraQuirks(setup_timeout_s=KEEPALIVE_S, controls=("trackID=1", "trackID=2"),
                     keepalive_timeout_s=KEEPALIVE_S), transport="udp"),
    Behaviour(
        "uniview", "Uniview", "media/video1",
        "Uniview's layout: /media/video1 main, video2 sub (the path the issue names; the "
        "corpus search found no Uniview page to confirm it).",
        CameraQuirks()),
    Behaviour(
        "reolink", "Reolink", "h264Preview_01_main",
        "Reolink's layout: h264Preview_<channel, two digits>_<main|sub> on port 554 "
        "(support.reolink.com, 'What is RTSP'); AAC sound.",
        CameraQuirks(), audio="aac"),
    Behaviour(
        "tapo", "TP-Link Tapo", "stream1",
        "Tapo's layout: /stream1 main and /stream2 sub on port 554, with a camera account "
        "set in the app (a Tapo C200 how-to, actutana.com); G.711 mu-law sound.",
        CameraQuirks(), audio="pcmu"),
    Behaviour(
        "unifi", "Ubiquiti UniFi Protect", "aBcDeFgHiJkLmNoP",
        "UniFi Protect shares a stream as rtsps://host:7441/<stream key> (a vendor "
        "reference table on getrealtime.com); the key is the whole path, no track in the "
        "URL. Served here without TLS (the plain form on 7447); RTSPS itself is "
        "tests/test_camera_tls.py's.",
        CameraQuirks()),
    # -- keep-alives and session time-outs ----------------------------------------------
    Behaviour(
        "keepalive-501", "keepalive", "live/ch0",
        "A camera that lists GET_PARAMETER in Public but answers it 501 and ends the "
        "session unless some request is answered 200 within the timeout (clients that "
        "keep alive with GET_PARAMETER only lose such cameras: ngraziano/SharpRTSP#63, "
        "meetecho/janus-gateway#1407).",
        CameraQuirks(setup_timeout_s=KEEPALIVE_S, get_parameter_status=501,
                     keepalive_timeout_s=KEEPALIVE_S)),
    Behaviour(
        "keepalive-options", "keepalive", "live/ch0",
        "A camera whose Public leaves GET_PARAMETER out and answers it 405: the client "
        "must keep alive with OPTIONS (the rule FFmpeg, GStreamer and gortsplib follow, "
        "bluenviron/mediamtx#1066).",
        CameraQuirks(setup_timeout_s=KEEPALIVE_S, public=NO_GET_PARAMETER,
                     get_parameter_status=405, keepalive_timeout_s=KEEPALIVE_S)),
    Behaviour(
        "keepalive-ignored", "keepalive", "live/ch0",
        "A camera that never answers keep-alives once playing but streams on "
        "(bluenviron/mediamtx#2908: GET_PARAMETER left unanswered).",
        CameraQuirks(setup_timeout_s=4, silent_keepalives=True)),
    Behaviour(
        "timeout-spaced", "keepalive", "live/ch0",
        "The Session header's timeout with spaces around '=' and after ';'.",
        CameraQuirks(setup_timeout_s=KEEPALIVE_S, timeout_form="; timeout = {}",
                     keepalive_timeout_s=KEEPALIVE_S)),
    Behaviour(
        "timeout-missing", "keepalive", "live/ch0",
        "No timeout in the Session header: RFC 2326's 60 s applies.",
        CameraQuirks(timeout_form="")),
    # -- interleaved channels the camera picks ------------------------------------------
    Behaviour(
        "channels-high", "transport", "live/ch0",
        "The camera answers SETUP with interleaved channels of its own choosing, not "
        "those asked for (a camera answering 4-5 to 2-3, bluenviron/gortsplib#72; RFC "
        "2326 12.39 lets it): video 6-7, sound 8-9.",
        CameraQuirks(channels=(6, 8)), audio="aac"),
    Behaviour(
        "channels-swapped", "transport", "live/ch0",
        "As channels-high, the video on 2-3 (where the client asked for the sound's) and "
        "the sound on 4-5.",
        CameraQuirks(channels=(2, 4)), audio="pcma"),
    # -- the encoder and its clocks -----------------------------------------------------
    Behaviour(
        "ssrc-restart", "encoder", "live/ch0",
        "The encoder restarts every 5 s (a settings change, a crashed streaming "
        "process): new SSRC, new sequence and RTP time bases, at a keyframe.",
        restart_every_s=5, gap_causes=frozenset({"timestamp_jump"})),
    Behaviour(
        "ts-wrap", "encoder", "live/ch0",
        "The 32-bit RTP clock wraps 4 s after PLAY (13 h 15 min at 90 kHz, so every "
        "long-running camera does it).",
        ts_wrap_in_s=4),
    Behaviour(
        "seq-wrap", "encoder", "live/ch0",
        "The 16-bit sequence number wraps 150 packets after PLAY.",
        seq_wrap_in=150),
    Behaviour(
        "ts-jump", "encoder", "live/ch0",
        "The camera's clock jumps back 30 s every 5 s (an NTP step on the camera).",
        ts_jump_every_s=5, gap_causes=frozenset({"timestamp_jump"}), gaps_required=True),
    Behaviour(
        "resize", "sdp", "live/ch0",
        "The picture's size changes mid-stream every 4 s: new SPS and PPS in-band, the "
        "SDP's describing the first size only.",
        resize_every_s=4),
    # -- sound ---------------------------------------------------------------------------
    Behaviour(
        "audio-opus", "audio", "live/ch0",
        "Opus sound (opus/48000/2), which Kuzet does not store: the video records alone.",
        audio="opus"),
    # -- the network ---------------------------------------------------------------------
    Behaviour(
        "udp-loss", "network", "live/ch0",
        "Over UDP, 3 packets lost mid-GOP every 2 s and every 7th packet reordered.",
        transport="udp",
        faults=NetworkFaults(loss_every_s=2, loss_packets=3, reorder_every=7),
        gap_causes=frozenset({"packet_loss"}), gaps_required=True),
)
"""Every behaviour, one camera each."""

STORED_AUDIO = frozenset({"aac", "pcma", "pcmu"})  # what Kuzet records (G.711 as AAC)


def source(behaviour: Behaviour, cache_dir: Path) -> StreamSource:
    """The simulator's stream for `behaviour`, its clips loaded from `cache_dir`."""
    name = behaviour.path.partition("?")[0]
    return StreamSource(
        name, load_clip(CORPUS_CLIP, cache_dir),
        alt_clip=load_clip(RESIZED_CLIP, cache_dir) if behaviour.resize_every_s else None,
        resize_every_s=behaviour.resize_every_s, ts_jump_every_s=behaviour.ts_jump_every_s,
        audio=load_audio(behaviour.audio, cache_dir) if behaviour.audio else None,
        faults=behaviour.faults, restart_every_s=behaviour.restart_every_s,
        ts_wrap_in_s=behaviour.ts_wrap_in_s, seq_wrap_in=behaviour.seq_wrap_in,
        inband_params=behaviour.inband_params)


async def serve(behaviours: tuple[Behaviour, ...], cache_dir: Path,
                host: str = "127.0.0.1") -> list[RtspServer]:
    """One started simulator per behaviour, each on a port of its own, in order."""
    servers = []
    for behaviour in behaviours:
        stream = source(behaviour, cache_dir)
        server = RtspServer({stream.name: stream}, quirks=behaviour.fresh_quirks())
        await server.start(host, 0)
        servers.append(server)
    return servers


def url(behaviour: Behaviour, server: RtspServer, host: str = "127.0.0.1") -> str:
    return f"rtsp://{host}:{server.port}/{behaviour.path}"


async def close(servers: list[RtspServer]) -> None:
    await asyncio.gather(*(s.close() for s in servers))
