"""One camera stream, recorded for as long as the process runs.

The supervisor owns the camera's single RTSP session. It connects, copies packets into
segment files, cuts them at keyframes, catalogs each closed file, and when anything
fails it closes what it has, opens a gap row naming the cause, and reconnects with
backoff. It runs on its own thread; a camera that blocks, stalls or fails never holds up
another.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import av

from kuzet.catalog.paths import part_path
from kuzet.catalog.store import Catalog, CutGap
from kuzet.config import Settings
from kuzet.credentials import SecretUrl
from kuzet.ingest.errors import GapCause, SourceError
from kuzet.ingest.ffmpeg_source import classify_read_error
from kuzet.ingest.source import Source, Track, sound_name
from kuzet.mp4.writer import SegmentFile, VideoParams, probe_dimensions
from kuzet.nal import Codec, parameter_sets, to_annexb
from kuzet.recorder.clock import OffsetEstimator, is_discontinuity, segment_start_ns
from kuzet.recorder.fanout import LiveHub
from kuzet.recorder.rotation import Cut, PacketFacts, decide_cut
from kuzet.recorder.status import CameraStatus, RateWindow, State, backoff_delay_s
from kuzet.recorder.worker import Worker
from kuzet.storage.commit import commit_salvaged, commit_segment
from kuzet.storage.volumes import Volumes

log = logging.getLogger(__name__)

PERMANENT_CAUSES = {GapCause.AUTH_FAILED, GapCause.UNSUPPORTED, GapCause.NO_VIDEO}
STORAGE_CAUSES = {GapCause.STORAGE_FULL, GapCause.STORAGE_ERROR}

Opener = Callable[..., Source]


@dataclass(frozen=True)
class CameraSource:
    id: int
    name: str
    url: SecretUrl
    transport: str
    # The rector's order keeps this camera's sound (UE-10-22 3.1.2); otherwise the session
    # sets up the video alone and segments hold video only.
    keep_audio: bool = False


class _Open:
    """The segment being written and the facts needed to catalog it."""

    def __init__(self, file: SegmentFile, volume_id: int, first_dts_ns: int,
                 units: tuple[bytes, ...], continuous: bool, cut_gap: GapCause | None) -> None:
        self.file = file
        self.volume_id = volume_id
        self.first_dts_ns = first_dts_ns
        self.units = units
        self.continuous = continuous
        self.cut_gap = cut_gap
        self.offsets = OffsetEstimator()


class Supervisor(Worker):
    def __init__(self, source: CameraSource, catalog: Catalog, settings: Settings,
                 volumes: Volumes, *, opener: Opener,
                 clock_ns: Callable[[], int] = time.time_ns) -> None:
        super().__init__(f"rec-{source.name}")
        self.source = source
        self.catalog = catalog
        self.settings = settings
        self.volumes = volumes
        self.opener = opener
        self.clock_ns = clock_ns
        self.status = CameraStatus(camera=source.name, since_ns=clock_ns())
        self.live = LiveHub()
        self._rates = RateWindow()
        self._rates.observe(clock_ns(), 0, 0)
        self._dims: dict[tuple[bytes, ...], tuple[int, int]] = {}
        self.writing = False  # a segment is open: stopping must wait for it
        last = catalog.last_segment(source.id)
        self.prev_end_ns: int | None = last.end_ns if last else None

    # -- lifecycle ------------------------------------------------------------------
    def run(self) -> None:
        attempt = 0
        while not self._stop.is_set():
            self._set_state(State.STARTING if attempt == 0 else State.RECONNECTING)
            frames_before = self.status.frames_recorded
            refused = False
            try:
                source = self.opener(self.source.url, transport=self.source.transport,
                                     stall_s=self.settings.stall_s,
                                     audio=self.source.keep_audio)
            except SourceError as exc:
                refused = self._failed(exc, attempt)
            else:
                try:
                    self._record(source)
                except SourceError as exc:
                    refused = self._failed(exc, attempt)
                except Exception as exc:  # a bug must not end 24/7 recording
                    log.exception("camera %s: unexpected error", self.source.name)
                    self._failed(SourceError(GapCause.STREAM_ENDED, f"internal error: {exc!r}"),
                                 attempt)
                finally:
                    with contextlib.suppress(av.FFmpegError, OSError):
                        source.close()
            if self.status.frames_recorded > frames_before:
                attempt = 0  # it worked for a while: start the backoff over
            if not self._stop.is_set():
                self._stop.wait(backoff_delay_s(attempt, self.settings.backoff_max_s,
                                                refused=refused))
                attempt += 1
        self._set_state(State.STOPPED)

    def _say_audio(self, audio: Track | None, left: str | None) -> None:
        """With the order to keep the sound, the status says whether it is recorded; a
        sound no segment file can hold is left out, video recorded, and logged once per
        camera, not at each session (issue 20: G.711 made every session fail)."""
        if not self.source.keep_audio:
            self.status.audio = None
            return
        if audio is not None:
            said = f"recorded ({sound_name(audio.codec)})"
        elif left is not None:
            said = f"not recorded: {left}; video is recorded"
        else:
            said = "not recorded: the camera sends no sound"
        if said != self.status.audio and audio is None:
            log.warning("camera %s: sound %s", self.source.name, said)
        self.status.audio = said

    # -- recording ------------------------------------------------------------------
    def _record(self, source: Source) -> None:
        """Copy packets into segments until stopped or the stream fails."""
        video = source.video
        # The opener sets no sound up without the order; whatever a source offers, none is
        # written without it (3.1.2).
        audio = source.audio if self.source.keep_audio else None
        self._say_audio(audio, source.audio_left)
        codec: Codec = "h264" if video.codec == "h264" else "hevc"
        seg: _Open | None = None
        recorded = False
        prev_dts = prev_dts_ns = prev_arrival_ns = 0
        have_prev = False
        tb_num, tb_den = video.time_base.numerator, video.time_base.denominator
        frame_ticks = video.frame_ticks
        pending_cut_gap: GapCause | None = None
        target_ns = int(self.settings.segment_s * 1e9)
        video_index = video.index
        status = self.status
        watched = False
        try:
            for index, packet in source.packets():
                if self._stop.is_set():
                    break
                dts = packet.dts
                if dts is None:
                    continue
                if index != video_index:
                    if seg is not None:
                        self._write(seg.file.add_audio, packet)
                    continue
                arrival_ns = self.clock_ns()
                dts_ns = dts * tb_num * 1_000_000_000 // tb_den
                key = packet.is_keyframe
                jump = have_prev and is_discontinuity(prev_dts_ns, dts_ns, prev_arrival_ns,
                                                      arrival_ns)
                if have_prev and not jump:
                    frame_ticks = dts - prev_dts
                if seg is None or key or jump:
                    # The slow path: only at keyframes, jumps and before the first segment.
                    if jump and not key and seg is not None:
                        self._close(seg)
                        seg = None
                        pending_cut_gap = GapCause.TIMESTAMP_JUMP
                    if seg is None and not key:
                        have_prev = False
                        continue
                    data = bytes(packet)
                    units = parameter_sets(codec, data)
                    if seg is not None:
                        # Compared as sets: a keyframe repeating some or all of the
                        # segment's parameter sets changes nothing.
                        changed = bool(units) and not set(units) <= set(seg.units)
                        cut = decide_cut(PacketFacts(True, dts_ns, changed, jump),
                                         seg.first_dts_ns, target_ns)
                        if cut is not Cut.NONE:
                            self._close(seg)
                            seg = None
                            if cut is Cut.DISCONTINUITY:
                                pending_cut_gap = GapCause.TIMESTAMP_JUMP
                    if seg is None:
                        continuous = recorded and pending_cut_gap is None
                        seg = self._open(video, audio, codec, units, data, dts_ns, arrival_ns,
                                         continuous, pending_cut_gap)
                        pending_cut_gap = None
                    if status.state is not State.RECORDING:
                        self._set_state(State.RECORDING)
                        status.last_error = None
                active = self.live.active
                if active is not watched:
                    source.watched(active)
                    watched = active
                if active:
                    self._to_viewers(seg, video, packet, dts, frame_ticks, key, jump,
                                     arrival_ns)
                self._write(seg.file.add_video, packet, dts, frame_ticks)
                seg.offsets.observe(arrival_ns, dts_ns)
                prev_dts, prev_dts_ns, prev_arrival_ns, have_prev = dts, dts_ns, arrival_ns, True
                recorded = True
                status.frames_recorded += 1
                status.bytes_recorded += packet.size
        except SourceError as exc:
            if seg is not None:
                # A failing disk leaves the file to salvage; a failing camera, a whole file.
                if exc.cause in STORAGE_CAUSES:
                    self._abort_and_salvage(seg)
                else:
                    self._close(seg)
            raise
        except (av.FFmpegError, OSError) as exc:
            if seg is not None:
                self._close(seg)
            raise classify_read_error(exc) from exc
        finally:
            self.live.reset()
        if seg is not None:
            self._close(seg)
        if not self._stop.is_set():
            raise SourceError(GapCause.STREAM_ENDED, "the camera ended the stream")

    def _to_viewers(self, seg: _Open, video: Track, packet: Any, dts: int, frame_ticks: int,
                    key: bool, jump: bool, arrival_ns: int) -> None:
        """Hand a frame to live viewers; whatever goes wrong there, recording goes on."""
        try:
            if jump:
                self.live.reset()
            self.live.frame(seg.file.params, video.template, bytes(packet), dts, packet.pts,
                            frame_ticks, key, arrival_ns)
        except Exception:
            log.exception("camera %s: live view failed; viewers restart at the next keyframe",
                          self.source.name)
            self.live.reset()

    @staticmethod
    def _write(action: Callable[..., None], *args: Any) -> None:
        """Run a muxer write, naming a full or failing disk as the gap cause it is."""
        try:
            action(*args)
        except OSError as exc:
            if exc.errno == errno.ENOSPC:
                raise SourceError(GapCause.STORAGE_FULL, "the media volume is full") from exc
            raise SourceError(GapCause.STORAGE_ERROR, f"writing failed: {exc}") from exc
        except av.FFmpegError as exc:
            if "space" in str(exc).lower() or getattr(exc, "errno", None) == errno.ENOSPC:
                raise SourceError(GapCause.STORAGE_FULL, "the media volume is full") from exc
            raise

    def _open(self, video: Track, audio: Track | None, codec: Codec,
              units: tuple[bytes, ...], keyframe: bytes, dts_ns: int, arrival_ns: int,
              continuous: bool, cut_gap: GapCause | None) -> _Open:
        extradata = to_annexb(units) if units else video.extradata
        if units:
            if units not in self._dims:
                self._dims[units] = probe_dimensions(codec, extradata, keyframe)
            width, height = self._dims[units]
        else:
            width, height = video.width, video.height
        params = VideoParams(codec=codec, extradata=extradata, width=width, height=height)
        volume_id, volume = self.volumes.choose()
        path = part_path(volume, self.source.name, arrival_ns)
        try:
            file = SegmentFile(path, video, audio, params)
        except OSError as exc:
            cause = GapCause.STORAGE_FULL if exc.errno == errno.ENOSPC else GapCause.STORAGE_ERROR
            raise SourceError(cause, f"cannot create {path.name}: {exc}") from exc
        self.writing = True
        return _Open(file, volume_id, dts_ns, units, continuous, cut_gap)

    def _close(self, seg: _Open) -> None:
        """Finish the file, then commit it (kuzet.storage.commit says in which order)."""
        try:
            self._finish(seg)
        finally:
            self.writing = False

    def _finish(self, seg: _Open) -> None:
        try:
            closed = seg.file.close()
        except (av.FFmpegError, OSError) as exc:
            log.warning("camera %s: closing segment failed (%s); salvaging", self.source.name, exc)
            self._abort_and_salvage(seg)
            return
        if seg.file.frames == 0:
            seg.file.part_path.unlink(missing_ok=True)
            return
        start_ns = segment_start_ns(seg.offsets.wall(seg.first_dts_ns), self.prev_end_ns,
                                    seg.continuous)
        cut = None
        if seg.cut_gap is not None and self.prev_end_ns is not None:
            cut = CutGap(self.prev_end_ns, seg.cut_gap.value,
                         "timestamps jumped; new segment started")
        row = commit_segment(self.catalog, seg.volume_id, self.source.id, self.source.name,
                             seg.file.part_path, closed, start_ns, cut=cut)
        self.prev_end_ns = row.end_ns
        self.status.segments_closed += 1

    def _abort_and_salvage(self, seg: _Open) -> None:
        try:
            self._salvage(seg)
        finally:
            self.writing = False

    def _salvage(self, seg: _Open) -> None:
        seg.file.abort()
        try:
            row = commit_salvaged(self.catalog, seg.volume_id, self.source.id, self.source.name,
                                  seg.file.part_path, self.prev_end_ns)
        except Exception as exc:  # the file stays as .part for the next start to retry
            log.warning("camera %s: salvage failed: %s", self.source.name, exc)
            return
        if row is not None:
            self.prev_end_ns = row.end_ns

    # -- status ---------------------------------------------------------------------
    def _failed(self, exc: SourceError, attempt: int) -> bool:
        """Record the failure (gap, state, status); True when the camera refused the
        credentials, which are then tried again only after a longer wait."""
        now = self.clock_ns()
        start = self.prev_end_ns if self.prev_end_ns is not None else now
        self.catalog.open_gap(self.source.id, start, exc.cause.value, str(exc))
        state = State.RECONNECTING
        if exc.cause in PERMANENT_CAUSES:
            state = State.FAILED
        elif exc.cause is GapCause.STORAGE_FULL:
            state = State.STORAGE_FULL
        self._set_state(state)
        if exc.cause is GapCause.AUTH_FAILED:  # the wait the loop takes next, said at once
            wait = backoff_delay_s(attempt, self.settings.backoff_max_s, refused=True)
            self.status.last_error = f"{exc}; next try in {wait:.0f} s"
        else:
            self.status.last_error = str(exc)
        self.status.last_cause = exc.cause.value
        log.warning("camera %s (%s): %s: %s", self.source.name, self.source.url,
                    exc.cause.value, exc)
        return exc.cause is GapCause.AUTH_FAILED

    def _set_state(self, state: State) -> None:
        if self.status.state is not state:
            self.status.state = state
            self.status.since_ns = self.clock_ns()

    def snapshot(self) -> CameraStatus:
        """The status with fps and bitrate over the last few seconds."""
        st = self.status
        st.fps, st.bitrate_bps = self._rates.observe(self.clock_ns(), st.frames_recorded,
                                                     st.bytes_recorded)
        return st
