"""A camera read by Kuzet's own RTSP client: RTP over TCP-interleaved, in large chunks.

FFmpeg's client reads each RTP packet with three `recv` calls (about 360 packets a second
for a 4 Mbit/s camera). Here the socket's receive low-water mark (SO_RCVLOWAT) holds the
thread asleep until a batch of the stream has arrived (`BATCH_S` of it, or
`WATCHED_BATCH_S` while someone waits on each frame), then one `recv_into` takes it all
and kuzet.rtsp.depacketize cuts the packets out of the buffer. The batch size is most of
the difference in CPU (docs/design/recording.md, Numbers).
"""

from __future__ import annotations

import io
import socket
import time
from collections.abc import Callable, Iterator
from fractions import Fraction
from typing import Any

import av

from kuzet.credentials import SecretUrl
from kuzet.ingest.errors import GapCause, SourceError
from kuzet.ingest.source import SUPPORTED_VIDEO, NeedsFfmpeg, Track, not_stored
from kuzet.nal import to_annexb
from kuzet.rtsp.client import (
    ConnectionLost,
    CredentialsRefused,
    RequestRefused,
    RtspClient,
    RtspError,
)
from kuzet.rtsp.depacketize import (
    AacDepacketizer,
    AccessUnit,
    Depacketizer,
    H264Depacketizer,
    H265Depacketizer,
    StreamSyncError,
    TimestampUnwrapper,
    split_interleaved,
)
from kuzet.rtsp.protocol import decimal
from kuzet.rtsp.sdp import Medium, parse_sdp

BUFFER_BYTES = 256 * 1024  # holds any RTP packet (64 KiB) with room for a batch
BATCH_S = 0.25  # of the stream per wake-up while only the recorder reads it
WATCHED_BATCH_S = 0.04  # while live viewers or detection wait on each frame
MAX_LOWAT = 256 * 1024
FIRST_KEYFRAME_S = 15.0  # cameras send a keyframe every 1-10 s
PROBE_FRAMES = 4  # read past the first keyframe before recording: B-frames show by then
REORDER_WINDOW = 45_000  # a step back this small (0.5 s at 90 kHz) is a B-frame, not a jump
ADTS_FREQUENCIES = (96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000,
                    11025, 8000, 7350)


class RtspSource:
    def __init__(self, url: SecretUrl, client: RtspClient, video: Track, audio: Track | None,
                 channels: dict[int, Depacketizer], video_channel: int, stall_s: float) -> None:
        self.url = url  # as configured, credentials and all: what the recorder asks for
        # told when the stream turns out to need FFmpeg's client after recording began
        self.handed_back: Callable[[SecretUrl], None] | None = None
        self.client = client
        self.video = video
        self.audio = audio
        self.audio_left: str | None = None  # the sound offered that is not kept
        self._channels = channels
        self._video_channel = video_channel
        self._stall_s = stall_s
        self._buf = bytearray(BUFFER_BYTES)
        self._start = 0
        self._end = 0
        self._held: list[tuple[int, AccessUnit]] = []
        self._last_video = -1
        self._next_keepalive = time.monotonic() + client.session_timeout_s / 2
        self._lowat = 1
        self._batch_s = BATCH_S
        self._bytes_per_s = 0.0
        self._rate_since = time.monotonic()
        self._rate_bytes = 0
        assert client.sock is not None
        client.sock.settimeout(stall_s)

    # -- opening ----------------------------------------------------------------------
    @classmethod
    def open(cls, url: SecretUrl, *, stall_s: float, audio: bool = False) -> RtspSource:
        """A session playing the camera's video, and its AAC sound only with `audio`
        (a camera whose sound the rector's order keeps, UE-10-22 3.1.2): without it the
        sound is never set up, so the camera sends none of it."""
        client = RtspClient(url, timeout_s=stall_s)
        try:
            client.connect()
            return cls._handshake(url, client, stall_s, audio)
        except NeedsFfmpeg:
            client.close()
            raise
        except RtspError as exc:
            client.close()
            raise _gap(exc) from exc
        except BaseException:
            client.close()
            raise

    @classmethod
    def _handshake(cls, url: SecretUrl, client: RtspClient, stall_s: float,
                   audio_wanted: bool) -> RtspSource:
        client.request("OPTIONS", client.url)
        reply = client.request("DESCRIBE", client.url, {"Accept": "application/sdp"})
        base = reply.header("content-base") or reply.header("content-location") or client.url
        media = parse_sdp(reply.body.decode("utf-8", "replace"))
        video = next((m for m in media if m.kind == "video"), None)
        if video is None:
            raise SourceError(GapCause.NO_VIDEO, "the stream carries no video")
        if video.codec not in SUPPORTED_VIDEO:
            raise SourceError(GapCause.UNSUPPORTED,
                              f"video codec {video.encoding or video.payload_type} is not H.264 "
                              "or H.265")
        if video.fmtp.get("packetization-mode") == "2" or \
                video.fmtp.get("sprop-max-don-diff", "0") != "0":
            raise NeedsFfmpeg("the camera sends its NAL units out of order (interleaved "
                              "packetization)")
        audio = next((m for m in media if audio_wanted and m.kind == "audio" and _aac_hbr(m)),
                     None)
        channels: dict[int, Depacketizer] = {}
        video_channel = _setup(client, video, base, 0)
        channels[video_channel] = (H264Depacketizer() if video.codec == "h264"
                                   else H265Depacketizer())
        audio_track: Track | None = None
        refused: str | None = None
        if audio is not None:
            config = audio.audio_config()
            template = _aac_template(config, audio.clock_rate)
            if template is not None:
                try:
                    audio_channel = _setup(client, audio, base, 2)
                except RequestRefused as exc:  # the sound never stops the video
                    refused = f"the camera refused to set its AAC sound up ({exc})"
                else:
                    channels[audio_channel] = AacDepacketizer()
                    audio_track = Track(1, "aac", Fraction(1, audio.clock_rate), template,
                                        config, sample_rate=audio.clock_rate)
        client.request("PLAY", base, {"Range": "npt=0.000-"})  # the aggregate control URL
        placeholder = Track(0, video.codec or "", Fraction(1, video.clock_rate), None,
                            b"", rate=video.framerate or 25.0)
        source = cls(url, client, placeholder, audio_track, channels, video_channel, stall_s)
        offered = next((m for m in media if m.kind == "audio"), None)
        if audio_wanted and audio_track is None and offered is not None:
            source.audio_left = refused or not_stored(offered.encoding
                                                      or str(offered.payload_type))
        source._find_keyframe(video)
        return source

    def _find_keyframe(self, medium: Medium) -> None:
        """Read until the first keyframe, whose picture fixes the video track's template,
        and a few frames past it: a camera that sends reordered frames is found here, and
        handed to FFmpeg's client before anything is recorded."""
        deadline = time.monotonic() + max(FIRST_KEYFRAME_S, self._stall_s)
        held: list[tuple[int, AccessUnit]] = []
        frames = 0
        while frames < PROBE_FRAMES:
            units = self._read()
            if units is None:
                raise SourceError(GapCause.STREAM_ENDED,
                                  "the camera ended the stream before its first keyframe")
            for channel, unit in units:
                video = channel == self._video_channel
                if not held:
                    if not (video and unit.keyframe):
                        continue  # nothing before the first keyframe is of use
                    self.video = _video_track(medium, unit, self.video)
                held.append((channel, unit))
                frames += video
            if not held and time.monotonic() > deadline:
                raise SourceError(GapCause.STALLED,
                                  f"no keyframe within {FIRST_KEYFRAME_S:g} s")
        self._held = held

    # -- reading ----------------------------------------------------------------------
    def packets(self) -> Iterator[tuple[int, Any]]:
        try:
            yield from self._packets()
        except NeedsFfmpeg:
            if self.handed_back is not None:
                self.handed_back(self.url)
            raise
        except RtspError as exc:  # a keep-alive the camera did not take
            raise _gap(exc) from exc

    def _packets(self) -> Iterator[tuple[int, Any]]:
        video_channel = self._video_channel
        video_tb = self.video.time_base
        audio_tb = self.audio.time_base if self.audio else video_tb
        video_unwrap = TimestampUnwrapper()
        audio_unwrap: TimestampUnwrapper | None = None
        video_ticks = 0
        units: list[tuple[int, AccessUnit]] | None = self._held
        self._held = []
        while units is not None:
            for channel, unit in units:
                packet = av.Packet(unit.data)
                if channel == video_channel:
                    video_ticks = video_unwrap(unit.timestamp)
                    packet.pts = packet.dts = video_ticks
                    packet.time_base = video_tb
                    packet.is_keyframe = unit.keyframe
                    yield 0, packet
                else:
                    if audio_unwrap is None:
                        # Sound starts where the picture is (within a batch), not at zero.
                        audio_unwrap = TimestampUnwrapper(
                            int(video_ticks * video_tb / audio_tb))
                    packet.pts = packet.dts = audio_unwrap(unit.timestamp)
                    packet.time_base = audio_tb
                    yield 1, packet
            units = self._read()

    def _check_order(self, timestamp: int, keyframe: bool) -> None:
        """Frames in decoding order whose presentation times step back: B-frames. RTP
        carries no decoding times, and FFmpeg's client knows how to make them up."""
        back = (self._last_video - timestamp) & 0xFFFFFFFF
        if self._last_video >= 0 and 0 < back < REORDER_WINDOW and not keyframe:
            raise NeedsFfmpeg("the camera sends reordered frames (B-frames); FFmpeg's RTSP "
                              "client records it from now on")
        self._last_video = timestamp

    def _read(self) -> list[tuple[int, AccessUnit]] | None:
        """Wait for the next batch of the stream; None when the camera closed it."""
        sock = self.client.sock
        assert sock is not None
        buf = self._buf
        view = memoryview(buf)
        if self.client.leftover:
            chunk = self.client.leftover
            buf[self._end:self._end + len(chunk)] = chunk
            self._end += len(chunk)
            self.client.leftover = b""
        while True:
            now = time.monotonic()
            if now >= self._next_keepalive:
                self.client.keepalive()
                self._next_keepalive = now + self.client.session_timeout_s / 2
            if now - self._rate_since >= 1.0:
                self._bytes_per_s = self._rate_bytes / (now - self._rate_since)
                self._set_lowat()
                self._rate_since, self._rate_bytes = now, 0
            if self._end > len(buf) - 65536:  # keep room for a whole read
                size = self._end - self._start
                buf[:size] = buf[self._start:self._end]
                self._start, self._end = 0, size
            try:
                got = sock.recv_into(view[self._end:])
            except TimeoutError:
                # The low-water mark was not reached in time; whatever did arrive is read
                # at once, and only a silent socket is a stall.
                sock.setblocking(False)
                try:
                    got = sock.recv_into(view[self._end:])
                except BlockingIOError as exc:
                    raise SourceError(GapCause.STALLED, "no packet arrived in time") from exc
                except OSError as exc:
                    raise SourceError(GapCause.STREAM_ENDED, exc.strerror or str(exc)) from exc
                finally:
                    sock.settimeout(self._stall_s)
            except OSError as exc:
                raise SourceError(GapCause.STREAM_ENDED, exc.strerror or str(exc)) from exc
            if not got:
                return None
            self._end += got
            self._rate_bytes += got
            try:
                self._start = split_interleaved(buf, self._start, self._end, self._channels)
            except StreamSyncError as exc:
                raise NeedsFfmpeg(str(exc)) from exc
            if self._start == self._end:
                self._start = self._end = 0
            units = self._drain()
            if units:
                return units

    def watched(self, on: bool) -> None:
        self._batch_s = WATCHED_BATCH_S if on else BATCH_S
        self._set_lowat()

    def _set_lowat(self) -> None:
        """Sleep until a batch of the stream is waiting: one wake-up per batch."""
        lowat = max(1, min(MAX_LOWAT, int(self._bytes_per_s * self._batch_s)))
        if abs(lowat - self._lowat) * 4 > self._lowat:  # moved by more than a quarter
            sock = self.client.sock
            assert sock is not None
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT, lowat)
            self._lowat = lowat

    def _drain(self) -> list[tuple[int, AccessUnit]]:
        out: list[tuple[int, AccessUnit]] = []
        for channel, depacketizer in self._channels.items():
            if depacketizer.ready:
                if channel == self._video_channel:
                    for unit in depacketizer.ready:
                        self._check_order(unit.timestamp, unit.keyframe)
                out.extend((channel, unit) for unit in depacketizer.ready)
                depacketizer.ready.clear()
        return out

    def close(self) -> None:
        self.client.close()


def _gap(exc: RtspError) -> SourceError:
    """The session's failure as the gap it makes."""
    if isinstance(exc, CredentialsRefused):
        return SourceError(GapCause.AUTH_FAILED, str(exc))
    if isinstance(exc, ConnectionLost):
        return SourceError(GapCause.STREAM_ENDED, str(exc))
    return SourceError(GapCause.CONNECT_FAILED, str(exc))


def _setup(client: RtspClient, medium: Medium, base: str, channel: int) -> int:
    """SETUP one medium over TCP-interleaved; returns the RTP channel the camera chose."""
    reply = client.setup(medium.urls(base),
                         f"RTP/AVP/TCP;unicast;interleaved={channel}-{channel + 1}")
    for field in reply.header("transport").split(";"):
        key, _, value = field.strip().partition("=")
        if key.lower() == "interleaved":
            first = value.partition("-")[0]
            if decimal(first):
                return int(first)
    if "TCP" not in reply.header("transport", "RTP/AVP/TCP").upper():
        raise NeedsFfmpeg("the camera offered no TCP-interleaved transport")
    return channel


def _aac_hbr(medium: Medium) -> bool:
    fmtp = medium.fmtp
    return (medium.codec == "aac" and fmtp.get("mode", "").lower() == "aac-hbr"
            and fmtp.get("sizelength") == "13" and fmtp.get("indexlength", "3") == "3")


def _video_track(medium: Medium, keyframe: AccessUnit, placeholder: Track) -> Track:
    """The video track, with a template stream made by FFmpeg's parser from the keyframe
    (and the SDP's parameter sets, which some cameras send only there)."""
    codec = medium.codec or ""
    sets = medium.parameter_sets()
    data = to_annexb(sets) + keyframe.data
    try:
        container = av.open(io.BytesIO(data), format="h264" if codec == "h264" else "hevc")
        stream = container.streams.video[0]
    except (av.FFmpegError, IndexError) as exc:
        raise NeedsFfmpeg(f"the first keyframe did not parse: {exc}") from exc
    stream.time_base = placeholder.time_base
    ctx = stream.codec_context
    return Track(0, codec, placeholder.time_base, stream, to_annexb(sets),
                 ctx.width, ctx.height, placeholder.rate)


def _aac_template(config: bytes, clock_rate: int) -> Any:
    """An AAC stream for muxers to copy, from one empty ADTS frame built on the SDP's
    AudioSpecificConfig; None when ADTS cannot say it (then the camera is recorded
    without its sound)."""
    if len(config) < 2:
        return None
    profile = config[0] >> 3
    frequency = ((config[0] & 0x07) << 1) | (config[1] >> 7)
    channels = (config[1] >> 3) & 0x0F
    if not 1 <= profile <= 4 or frequency >= len(ADTS_FREQUENCIES) or not channels:
        return None
    size = 7  # the header alone
    header = bytes((0xFF, 0xF1, ((profile - 1) << 6) | (frequency << 2) | (channels >> 2),
                    ((channels & 3) << 6) | (size >> 11), (size >> 3) & 0xFF,
                    ((size & 7) << 5) | 0x1F, 0xFC))
    try:
        stream = av.open(io.BytesIO(header), format="aac").streams.audio[0]
    except (av.FFmpegError, IndexError):
        return None
    stream.time_base = Fraction(1, clock_rate)
    return stream

