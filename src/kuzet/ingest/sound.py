"""A camera's G.711 sound made AAC-LC, so that a segment file can hold it and the
console's player and exports play it (issue 20).

Hikvision and Dahua cameras send G.711 (A-law or mu-law, 8 kHz mono) by factory default.
MP4 does not carry it and browsers do not play it, so where the rector's order keeps a
camera's sound (UE-10-22 3.1.2) it is decoded and encoded to AAC-LC at its own rate:
measured here at 9 CPU-s per camera-hour (8 kHz mono, 32 kbit/s; 60 s of A-law in
0.15 s of one core), against about 10 for recording the camera's video.

The AAC stream keeps the camera's clock: each encoded frame is placed at the time of
its first sample. Sound that does not follow on from what came before (a jump of the
camera's clock, packets lost; not a step 10 ms off) starts a new run at its own time;
the samples of the old run that did not fill an AAC frame are dropped (less than 128 ms).
"""

from __future__ import annotations

import io
from fractions import Fraction
from typing import Any, cast

import av

from kuzet.ingest.source import Track

G711 = ("pcm_alaw", "pcm_mulaw")
AAC_FRAME = 1024  # samples in one AAC-LC frame
BITRATE = 32_000  # bits per second: speech at 8 kHz mono
RUN_SLACK = 80  # samples (10 ms at 8 kHz) a packet may start off where the last ended


class AacFromG711:
    """Takes the camera's G.711 packets, gives AAC packets on `track`'s time base."""

    def __init__(self, g711: Track) -> None:
        rate = g711.sample_rate or int(1 / g711.time_base)
        self._in_tb = g711.time_base
        self._decoder = cast(av.AudioCodecContext, av.CodecContext.create(g711.codec, "r"))
        self._decoder.sample_rate = rate
        self._decoder.layout = "mono"
        self._resampler = av.AudioResampler(format="fltp", layout="mono", rate=rate)
        holder = av.open(io.BytesIO(), "w", format="mp4")  # a stream for muxers to copy
        stream = holder.add_stream("aac", rate=rate)
        stream.layout = "mono"
        stream.bit_rate = BITRATE
        stream.codec_context.time_base = Fraction(1, rate)
        stream.codec_context.open()
        self._encoder = stream.codec_context
        self.track = Track(g711.index, "aac", Fraction(1, rate), stream,
                           bytes(self._encoder.extradata or b""), sample_rate=rate)
        self._fifo = av.AudioFifo()
        self._next: int | None = None  # where the next G.711 sample is expected, in ticks
        self._run_pts = 0  # time of the fifo's first sample

    def convert(self, packet: Any) -> list[Any]:
        """The AAC packets that this G.711 packet completes (often none: an AAC frame
        holds 1024 samples, a camera's packet 160 or 320)."""
        pts = packet.pts if packet.pts is not None else packet.dts
        if pts is None:
            return []
        ticks = pts * self._in_tb.numerator * self.track.time_base.denominator \
            // (self._in_tb.denominator * self.track.time_base.numerator)
        if self._next is None or abs(ticks - self._next) > RUN_SLACK:
            # A new run: the camera's clock moved, or packets were lost. A step a little
            # off the packet's length (a camera's irregular clock) is not one.
            self._fifo = av.AudioFifo()
            self._run_pts = ticks
        out: list[Any] = []
        for frame in self._decoder.decode(packet):
            self._next = ticks + frame.samples
            for resampled in self._resampler.resample(frame):
                resampled.pts = None
                self._fifo.write(resampled)
        while self._fifo.samples >= AAC_FRAME:
            chunk = self._fifo.read(AAC_FRAME)
            assert chunk is not None  # the fifo holds that many
            chunk.pts = self._run_pts
            chunk.time_base = self.track.time_base
            self._run_pts += AAC_FRAME
            for encoded in self._encoder.encode(chunk):
                encoded.dts = encoded.pts
                encoded.time_base = self.track.time_base
                out.append(encoded)
        return out
