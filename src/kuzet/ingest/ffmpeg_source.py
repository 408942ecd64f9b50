"""A camera read by FFmpeg's RTSP client, through PyAV: every camera Kuzet's own client
hands back, with its reason (kuzet.ingest.source); PyAV's errors named in the words of a
gap row.
"""

from __future__ import annotations

import errno
import time
from collections.abc import Iterator
from fractions import Fraction
from typing import Any

import av

from kuzet.credentials import SecretUrl
from kuzet.ingest.errors import GapCause, SourceError, check_url
from kuzet.ingest.sound import G711
from kuzet.ingest.source import SUPPORTED_VIDEO, Track, not_stored
from kuzet.ingest.timestamps import fill_missing_timestamps, join_access_units
from kuzet.nal import Codec

# Sound a segment file holds and the console's player and exports play, as sent or (G.711)
# once made AAC by the recorder (kuzet.ingest.sound). FFmpeg's MP4 muxer refuses G.711
# ("'mp4' format does not support 'pcm_alaw'"): handed it as it came, every session failed
# at the first packet and the camera never recorded (issue 20).
AUDIO_KEPT = {"aac", "mp3", "opus", *G711}


def classify_open_error(exc: BaseException) -> SourceError:
    text = str(exc)
    low = text.lower()
    if isinstance(exc, av.error.HTTPUnauthorizedError) or "401" in text or "unauthorized" in low:
        return SourceError(GapCause.AUTH_FAILED, "the camera refused the credentials (401)")
    if isinstance(exc, av.error.HTTPForbiddenError) or "403" in text:
        return SourceError(GapCause.AUTH_FAILED, "the camera forbade access (403)")
    if isinstance(exc, av.error.HTTPNotFoundError) or "404" in text:
        return SourceError(GapCause.CONNECT_FAILED, "the camera has no stream at that path (404)")
    code = getattr(exc, "errno", None)
    if code == errno.ECONNREFUSED or "refused" in low:
        return SourceError(GapCause.CONNECT_FAILED, "connection refused")
    if code in (errno.ETIMEDOUT, errno.EHOSTUNREACH, errno.ENETUNREACH) or "timed out" in low \
            or "immediate exit" in low:
        return SourceError(GapCause.CONNECT_FAILED, "the camera did not answer in time")
    if "resolve" in low or "name or service" in low:
        return SourceError(GapCause.CONNECT_FAILED, "host name not found")
    return SourceError(GapCause.CONNECT_FAILED, _reason(exc))


def _reason(exc: BaseException) -> str:
    """The error's own words without the URL, which may carry a password."""
    return str(getattr(exc, "strerror", None) or type(exc).__name__)


def classify_read_error(exc: BaseException) -> SourceError:
    low = str(exc).lower()
    code = getattr(exc, "errno", None)
    if isinstance(exc, av.error.ExitError) or code == errno.ETIMEDOUT or "timed out" in low \
            or "immediate exit" in low:
        return SourceError(GapCause.STALLED, "no packet arrived in time")
    if isinstance(exc, av.error.EOFError) or "end of file" in low:
        return SourceError(GapCause.STREAM_ENDED, "the camera ended the stream")
    return SourceError(GapCause.STREAM_ENDED, _reason(exc))


def open_source(url: SecretUrl, *, transport: str, stall_s: float, audio: bool = False) -> Any:
    """Open one RTSP session and find its video stream, and its sound only with `audio`
    (a camera whose sound the rector's order keeps, UE-10-22 3.1.2): without it FFmpeg
    sets up the video alone, so the camera sends no sound.

    Time-outs come from FFmpeg's own socket option, not from PyAV's `timeout=` argument:
    that one installs an interrupt callback which takes the GIL on every I/O poll and
    triples the recorder's CPU (measured: 38 against 13 CPU-s per camera-hour).
    """
    check_url(url)
    options = {
        "rtsp_transport": transport,
        "timeout": str(int(stall_s * 1_000_000)),
        "probesize": "500000",
        "analyzeduration": "1000000",
        "allowed_media_types": "video+audio" if audio else "video",
    }
    started = time.monotonic()
    try:
        container = av.open(url.reveal(), options=options)
    except (av.FFmpegError, OSError) as exc:
        if time.monotonic() - started >= 0.9 * stall_s:
            raise SourceError(GapCause.CONNECT_FAILED,
                              f"the camera did not answer within {stall_s:g} s") from exc
        raise classify_open_error(exc) from exc
    video = container.streams.video
    if not video:
        container.close()
        raise SourceError(GapCause.NO_VIDEO, "the stream carries no video")
    if video[0].codec_context.name not in SUPPORTED_VIDEO:
        name = video[0].codec_context.name
        container.close()
        raise SourceError(GapCause.UNSUPPORTED, f"video codec {name} is not H.264 or H.265")
    return container


class PyavSource:
    """A camera read by FFmpeg's RTSP client."""

    def __init__(self, container: Any) -> None:
        self._container = container
        video = container.streams.video[0]
        rate = video.average_rate or video.guessed_rate or 25
        ctx = video.codec_context
        self.video = Track(video.index, ctx.name, Fraction(video.time_base), video,
                           bytes(ctx.extradata or b""), ctx.width, ctx.height, float(rate))
        offered = [a.codec_context.name for a in container.streams.audio]
        audio = next((a for a in container.streams.audio
                      if a.codec_context.name in AUDIO_KEPT), None)
        self.audio = None if audio is None else Track(
            audio.index, audio.codec_context.name, Fraction(audio.time_base), audio,
            bytes(audio.codec_context.extradata or b""),
            sample_rate=audio.codec_context.sample_rate or 0)
        self.audio_left = not_stored(offered[0]) if audio is None and offered else None
        self.lost_packets = self.expected_packets = 0  # FFmpeg's client keeps its counts

    def packets(self) -> Iterator[tuple[int, Any]]:
        wanted = [self.video.template] + ([self.audio.template] if self.audio else [])
        codec: Codec = "h264" if self.video.codec == "h264" else "hevc"
        timed = fill_missing_timestamps(self._container.demux(wanted), self.video.index,
                                        self.video.frame_ticks, codec)
        # FFmpeg's parser cuts a picture whose slices each carry parameter sets into one
        # packet a slice, all with the picture's time: joined back into one frame here.
        for packet in join_access_units(timed, self.video.index, codec):
            yield packet.stream_index, packet

    def watched(self, on: bool) -> None:
        """FFmpeg's client hands over every packet as it arrives anyway."""

    def close(self) -> None:
        self._container.close()
