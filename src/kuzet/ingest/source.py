"""What the recorder reads a camera through: a video track, perhaps an audio track, and
timed packets, whichever RTSP client delivers them.

Two clients do. Kuzet's own (kuzet.ingest.rtsp_source) is the default for every
`rtsp://` camera, over TCP-interleaved or UDP, and every `rtsps://` one (TLS, interleaved):
it reads in batches (FFmpeg's RTSP client
makes three `recv` calls for every RTP packet, which was most of the recorder's CPU),
puts reordered packets right and counts the lost, and derives B-frames' decoding times.
FFmpeg's, through PyAV (kuzet.ingest.ffmpeg_source), reads every camera the own client
hands back with its reason (interleaved packetization, a first keyframe its
parser cannot read, a camera reordering deeper than it showed at open).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Protocol

from kuzet.ingest.errors import GapCause, SourceError

SUPPORTED_VIDEO = ("h264", "hevc")


@dataclass(frozen=True)
class Track:
    """One stream of a camera: what a muxer needs to copy it into a file."""

    index: int
    codec: str
    time_base: Fraction
    template: Any  # a PyAV stream whose codec muxers copy (kuzet.mp4.writer)
    extradata: bytes  # video: Annex B parameter sets; audio: AudioSpecificConfig
    width: int = 0
    height: int = 0
    rate: float = 25.0  # frames per second, for a frame's duration before the next is seen
    sample_rate: int = 0  # audio: set on the muxer's stream where the template lacks it

    @property
    def frame_ticks(self) -> int:
        """One frame's duration in the time base, until frames show their own."""
        return max(1, int(1 / (self.rate * self.time_base)))


class Source(Protocol):
    video: Track
    audio: Track | None
    # Why the sound the camera offers is not kept (a codec no segment file holds, G.711
    # say), when sound was asked for and none is: what the status says instead of a crash.
    audio_left: str | None
    # RTP packets the camera sent that never arrived in this session (sequence numbers
    # skipped), and those it sent, lost or not (what the losses are a share of); FFmpeg's
    # client does not say, so its sources stay at 0.
    lost_packets: int
    expected_packets: int

    def packets(self) -> Iterator[tuple[int, Any]]:
        """(track index, av.Packet) with dts/pts in the track's time base, until the stream
        ends; a failure is a SourceError naming its gap cause."""
        ...

    def watched(self, on: bool) -> None:
        """Someone (live view, detection) waits on each frame: hand frames over promptly
        rather than in the batches that cost the recorder least."""
        ...

    def close(self) -> None: ...


class NeedsFfmpeg(SourceError):
    """The own client met a stream it does not record; FFmpeg's client takes it."""

    def __init__(self, message: str) -> None:
        super().__init__(GapCause.STREAM_ENDED, message)


# How the status names a sound it cannot keep: the SDP's rtpmap names and FFmpeg's.
SOUND_NAMES = {"PCMA": "G.711 A-law", "PCMU": "G.711 mu-law", "pcm_alaw": "G.711 A-law",
               "pcm_mulaw": "G.711 mu-law", "OPUS": "Opus", "G726-32": "G.726",
               "adpcm_g726": "G.726", "L16": "PCM", "MPEG4-GENERIC": "AAC"}


def sound_name(codec: str) -> str:
    return SOUND_NAMES.get(codec, codec)


def not_stored(codec: str) -> str:
    """Why a camera's sound is left out: the codec no segment file holds."""
    return f"the camera sends {sound_name(codec)}, which Kuzet cannot store"
