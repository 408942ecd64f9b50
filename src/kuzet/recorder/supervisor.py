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
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av

from kuzet.catalog.db import UNREACHABLE
from kuzet.catalog.paths import part_path
from kuzet.catalog.store import Catalog, CutGap, Fence, Fenced
from kuzet.config import Settings
from kuzet.credentials import SecretUrl
from kuzet.ingest.errors import GapCause, SourceError
from kuzet.ingest.ffmpeg_source import classify_read_error
from kuzet.ingest.sound import G711, AacFromG711
from kuzet.ingest.source import Source, Track, sound_name
from kuzet.mp4.writer import ClosedSegment, SegmentFile, VideoParams, probe_dimensions
from kuzet.nal import (
    HEVC_OPEN_KEYFRAMES,
    HEVC_RASL,
    Codec,
    first_slice_type,
    parameter_sets,
    to_annexb,
)
from kuzet.recorder.clock import (
    OffsetEstimator,
    is_discontinuity,
    placed_offsets,
    segment_start_ns,
)
from kuzet.recorder.fanout import LiveHub
from kuzet.recorder.rotation import Cut, PacketFacts, decide_cut
from kuzet.recorder.status import CameraStatus, RateWindow, State, backoff_delay_s
from kuzet.recorder.waiting import Waiting, WaitingRows
from kuzet.recorder.worker import Worker
from kuzet.storage.commit import commit_salvaged, commit_segment
from kuzet.storage.recovery import quarantine
from kuzet.storage.volumes import Volumes

log = logging.getLogger(__name__)

PERMANENT_CAUSES = {GapCause.AUTH_FAILED, GapCause.UNSUPPORTED, GapCause.NO_VIDEO}
STORAGE_CAUSES = {GapCause.STORAGE_FULL, GapCause.STORAGE_ERROR}
CLOCK_REPORTS = 6  # sender reports whose best offset the status says (30 s at 5 s apart)
# The recorder's lag is judged against the soonest reads of the last ten minutes' segments:
# a camera's clock drifts 12 ms in that time at 20 ppm, a recorder falling behind more.
LAG_FLOOR_NS = 600 * 10**9
LAG_FLOORS = 64  # segments remembered for it (ten minutes of 10-s segments)

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
    # rtsps://: the SHA-256 the camera's TLS certificate must have (the register's pin);
    # another certificate is refused (auth_failed). None: any, only logged.
    tls_fingerprint: str | None = None
    # On a node of a cluster: the epoch of the camera's lease this node records it under
    # (kuzet.cluster); every segment is committed under it, or refused. None: one server.
    epoch: int | None = None


# A source counts lost packets once per batch it reads (the own client: 0.25 s, about 7
# frames) and hands the batch's frames over after: a hole in time within this many frames
# of a new count is where frames were lost.
LOSS_SUSPECT_FRAMES = 16
# A stream has settled after a timestamp jump once this many keyframes have followed
# it with no other jump: a whole GOP ran cleanly.
SETTLE_KEYFRAMES = 2
CUT_DETAIL = {GapCause.TIMESTAMP_JUMP: "timestamps jumped; new segment started",
              GapCause.PACKET_LOSS: "the network lost whole frames ({lost} RTP packets lost "
                                    "this session); new segment from the next keyframe"}
# Sound ahead of the picture waits for it, at most this many packets (2.5 s of G.711's
# 20-ms packets, 2.7 s of 48-kHz AAC): a file never runs longer than its video.
MAX_SOUND_WAITING = 128
# Sound further ahead than this is from the other side of a jump of the camera's clock
# (from before a jump back, or after one forward that the picture has not reached): it
# would only hold up the sound behind it, and is dropped.
MAX_SOUND_AHEAD_NS = 2_000_000_000
# A segment cut at its length stays open for sound this long after the cut (of the
# picture's time): the own client hands a batch's frames over before its sound (0.25 s),
# and G.711 made AAC comes out up to 256 ms after it went in. Closed at once, 0.4 s of
# sound a cut were lost (a 3-s segment held 2.6 s of it).
LATE_SOUND_NS = 600_000_000


class _Sound:
    """A camera's sound, written into the segment its time belongs to. Sound from after
    the picture's last frame waits until the picture gets there, for up to 2 s of it (a
    jump of the camera's clock reaches the sound first: one AAC packet from 50 s ahead
    made a 20-s segment's file last 80 s, issue 20); sound stepping back is dropped, since
    a file's track runs forwards only; sound from before a segment's first keyframe is
    dropped by the file."""

    def __init__(self, track: Track) -> None:
        self._num = track.time_base.numerator * 1_000_000_000
        self._den = track.time_base.denominator
        self.waiting: deque[tuple[int, Any]] = deque(maxlen=MAX_SOUND_WAITING)
        # the segment cut last, open for its late sound until the picture is
        # LATE_SOUND_NS past `retiring_end_ns`, where its picture ended
        self.retiring: _Open | None = None
        self.retiring_end_ns = 0

    def add(self, seg: _Open | None, packet: Any, video_end_ns: int) -> None:
        at_ns = packet.dts * self._num // self._den
        if self.retiring is not None and at_ns < self.retiring_end_ns:
            self._write(self.retiring, packet)
            return
        if video_end_ns and at_ns - video_end_ns > MAX_SOUND_AHEAD_NS:
            return
        if seg is None or self.waiting or at_ns > video_end_ns:
            self.waiting.append((at_ns, packet))
        else:
            self._write(seg, packet)

    def catch_up(self, seg: _Open, video_end_ns: int) -> None:
        waiting = self.waiting
        while waiting and waiting[0][0] <= video_end_ns:
            self._write(seg, waiting.popleft()[1])

    @staticmethod
    def _write(seg: _Open, packet: Any) -> None:
        dts = packet.dts  # the camera's time: the file rewrites the packet's own
        if seg.last_audio_dts is not None and dts <= seg.last_audio_dts:
            return
        Supervisor._write(seg.file.add_audio, packet)
        seg.last_audio_dts = dts


class _Open:
    """The segment being written and the facts needed to catalog it."""

    def __init__(self, file: SegmentFile, volume_id: int, first_dts_ns: int,
                 units: tuple[bytes, ...], continuous: bool,
                 cut_gap: tuple[GapCause, str] | None) -> None:
        self.file = file
        self.volume_id = volume_id
        self.first_dts_ns = first_dts_ns
        self.units = units
        self.continuous = continuous
        self.cut_gap = cut_gap
        self.offsets = OffsetEstimator()
        self.last_audio_dts: int | None = None

    @property
    def same_clock(self) -> bool:
        """Whether its media time runs on the clock of the segment before it: not after a
        jump of the camera's clock (a cut for lost frames keeps the clock)."""
        return self.cut_gap is None or self.cut_gap[0] is not GapCause.TIMESTAMP_JUMP


class Supervisor(Worker):
    def __init__(self, source: CameraSource, catalog: Catalog, settings: Settings,
                 volumes: Volumes, *, opener: Opener,
                 clock_ns: Callable[[], int] = time.time_ns, standby: bool = False) -> None:
        """`standby`: the camera is offered to this node and still recorded by its holder
        (kuzet.cluster.member): its files are cut at every keyframe and not catalogued
        until `grant`, then from the first that starts after the holder's last."""
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
        self._offsets: OffsetEstimator | None = None  # the segment being written's
        # the camera's clock against this server's as ONVIF last read it (ms), set by
        # `kuzet.equipment.onvifwatch`; said where no sender report tells it
        self.onvif_clock_ms: int | None = None
        # earlier segments' (last arrival, soonest read) on the same camera clock
        self._floors: deque[tuple[int, int]] = deque(maxlen=LAG_FLOORS)
        self._rates.observe(clock_ns(), 0, 0)
        self._dims: dict[tuple[bytes, ...], tuple[int, int]] = {}
        self.writing = False  # a segment is open or held: stopping must wait for it
        # the lease every segment is committed under, on a node of a cluster (issue 25)
        self._fence = (Fence(catalog.node, source.epoch) if catalog.node is not None
                       else None)
        self.fenced = False  # a commit was refused: another node records the camera now
        self._granted = threading.Event()
        if not standby:
            self._granted.set()
        self._standing_by = standby  # until its files are weighed against the holder's
        # closed segments that arrived in a burst, waiting for a later segment's offset
        # (kuzet.recorder.clock); committed at the latest when the session ends
        self._held: list[tuple[_Open, ClosedSegment]] = []
        # closed segments not catalogued yet (the catalog unreachable), in order; since when
        self._unstored = WaitingRows(settings.home, source.name, settings.catalog_waiting_rows)
        self._catalog_lost: int | None = None
        self._gap_waiting: tuple[int, str, str] | None = None  # an outage's, after them
        self._reports: dict[str, tuple[int, int, int]] | None = None
        # the offsets (ns) of the session's last sender reports, and the last report seen
        self._clock_said: deque[int] = deque(maxlen=CLOCK_REPORTS)
        self._clock_last: tuple[int, int, int] | None = None
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
                                     audio=self.source.keep_audio,
                                     tls_fingerprint=self.source.tls_fingerprint)
            except SourceError as exc:
                refused = self._failed(exc, attempt)
            except Exception as exc:  # a bug, or a camera's answer it did not foresee
                log.exception("camera %s: unexpected error opening it", self.source.name)
                self._failed(SourceError(GapCause.CONNECT_FAILED, f"internal error: {exc!r}"),
                             attempt)
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
        self.live.end()  # its viewers open the camera again, wherever it is now
        self._store()  # a last try; what is left is catalogued at the next start
        if not self.granted:  # never handed over: its holder has all of it
            self._discard(len(self._unstored), "the move did not happen")
        self._set_state(State.STOPPED)

    @property
    def granted(self) -> bool:
        """Whether this node holds the camera's lease (not standing by for it)."""
        return self._granted.is_set()

    def grant(self) -> None:
        """The holder handed the camera over: what was recorded beside it is catalogued
        from the first file that starts after the holder's last, at the next cut."""
        self._granted.set()

    def _say_audio(self, audio: Track | None, left: str | None) -> None:
        """With the order to keep the sound, the status says whether it is recorded; a
        sound no segment file can hold is left out, video recorded, and logged once per
        camera, not at each session (issue 20: G.711 made every session fail)."""
        if not self.source.keep_audio:
            self.status.audio = None
            return
        if audio is not None and audio.codec in G711:
            said = f"recorded ({sound_name(audio.codec)}, stored as AAC)"
        elif audio is not None:
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
        """Record one session; whatever ends it, the segments it held are catalogued
        before its failure is (the gap starts where they end)."""
        try:
            self._record_session(source)
        finally:
            self._commit_held(None)
            self.writing = False  # nothing open, nothing held: a stop need not wait

    def _record_session(self, source: Source) -> None:
        """Copy packets into segments until stopped or the stream fails."""
        video = source.video
        # The opener sets no sound up without the order; whatever a source offers, none is
        # written without it (3.1.2).
        audio = source.audio if self.source.keep_audio else None
        self._say_audio(audio, source.audio_left)
        # what an rtsps:// camera presented (the own client's; FFmpeg's does not say)
        seen: str | None = getattr(source, "peer_certificate_sha256", None)
        if seen is not None:
            self.status.certificate_sha256 = seen
        # the own client's RTCP sender reports by medium: (NTP ns, RTP, arrival ns)
        self._reports = getattr(source, "sender_reports", None)
        # a new session: its own reports only (a new deque: the status thread may be
        # reading the old one)
        self._clock_said = deque(maxlen=CLOCK_REPORTS)
        # G.711, which no MP4 holds, is made AAC on the way (kuzet.ingest.sound)
        made_aac = AacFromG711(audio) if audio is not None and audio.codec in G711 else None
        if made_aac is not None:
            audio = made_aac.track
        codec: Codec = "h264" if video.codec == "h264" else "hevc"
        seg: _Open | None = None
        recorded = False
        prev_dts = prev_dts_ns = prev_arrival_ns = 0
        prev_size = -1
        have_prev = False
        tb_num, tb_den = video.time_base.numerator, video.time_base.denominator
        frame_ticks = video.frame_ticks
        pending_cut: tuple[GapCause, str] | None = None
        settling: int | None = None  # clean keyframes since the last jump, until settled
        sound = _Sound(audio) if audio is not None else None
        end_ns = 0  # where the last frame written ends, in media time
        target_ns = int(self.settings.segment_s * 1e9)
        video_index = video.index
        status = self.status
        lost_seen, expected_seen = source.lost_packets, source.expected_packets
        suspect = 0  # frames left in which a hole in time is taken for lost frames
        leading = False  # the segment began at an open-GOP keyframe: RASL pictures follow
        watched = False
        try:
            for index, packet in source.packets():
                if self._stop.is_set():
                    break
                dts = packet.dts
                if dts is None:
                    continue
                if index != video_index:
                    if sound is not None and made_aac is None:
                        sound.add(seg, packet, end_ns)
                    elif sound is not None and made_aac is not None:
                        for aac in made_aac.convert(packet):
                            sound.add(seg, aac, end_ns)
                    continue
                arrival_ns = self.clock_ns()
                dts_ns = dts * tb_num * 1_000_000_000 // tb_den
                key = packet.is_keyframe
                jump = have_prev and is_discontinuity(prev_dts_ns, dts_ns, prev_arrival_ns,
                                                      arrival_ns)
                cause = GapCause.TIMESTAMP_JUMP
                if jump and dts == prev_dts and packet.size == prev_size:
                    continue  # the same frame delivered twice (the muxer took the first's
                    # bytes, so its time and size tell): kept once
                if source.expected_packets != expected_seen:
                    status.packets_expected += source.expected_packets - expected_seen
                    expected_seen = source.expected_packets
                if source.lost_packets != lost_seen:
                    lost = source.lost_packets - lost_seen
                    lost_seen += lost
                    status.packets_lost += lost
                    suspect = LOSS_SUSPECT_FRAMES
                if suspect:
                    suspect -= 1
                    if have_prev and not jump and dts - prev_dts > frame_ticks * 3 // 2:
                        # Whole frames are missing: what follows until the next keyframe
                        # refers to them, so the segment ends at the last good frame.
                        jump, cause, suspect = True, GapCause.PACKET_LOSS, 0
                if jump and cause is GapCause.TIMESTAMP_JUMP:
                    settling = self._unsettled(settling)
                elif key and settling is not None:
                    settling = settling + 1 if settling + 1 < SETTLE_KEYFRAMES else None
                if leading and not key and not jump:
                    if first_slice_type(codec, bytes(packet)) in HEVC_RASL:
                        continue  # refers to pictures before the segment: undecodable
                    leading = False
                if have_prev and not jump:
                    frame_ticks = dts - prev_dts
                if seg is None or key or jump:
                    # The slow path: only at keyframes, jumps and before the first segment.
                    if jump and pending_cut is None:  # the first cause of a hole stands
                        pending_cut = (cause, CUT_DETAIL[cause].format(lost=lost_seen))
                    if jump and not key and seg is not None:
                        self._close_all(seg, sound)
                        seg = None
                    if seg is None and not key:
                        have_prev = False
                        continue
                    data = bytes(packet)
                    units = parameter_sets(codec, data)
                    if seg is not None:
                        # Compared as sets: a keyframe repeating some or all of the
                        # segment's parameter sets changes nothing.
                        changed = bool(units) and not set(units) <= set(seg.units)
                        # standing by, a file a GOP until one after the holder's last
                        # is catalogued: that one starts at most a GOP after it
                        cut = decide_cut(PacketFacts(True, dts_ns, changed, jump),
                                         seg.first_dts_ns,
                                         0 if self._standing_by else target_ns)
                        if cut is Cut.DISCONTINUITY or (cut is not Cut.NONE and sound is None):
                            self._close_all(seg, sound)
                            seg = None
                        elif cut is not Cut.NONE and sound is not None:
                            self._retire(seg, sound, end_ns)
                            seg = None
                    if seg is None:
                        continuous = recorded and pending_cut is None
                        seg = self._open(video, audio, codec, units, data, dts_ns, arrival_ns,
                                         continuous, pending_cut)
                        pending_cut = None
                        # An H.265 open GOP's leading pictures (RASL) refer to the GOP
                        # before: a file starting at their CRA cannot show them.
                        leading = codec == "hevc" and \
                            first_slice_type(codec, data) in HEVC_OPEN_KEYFRAMES
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
                size = packet.size
                self._write(seg.file.add_video, packet, dts, frame_ticks)
                seg.offsets.observe(arrival_ns, dts_ns)
                prev_dts, prev_dts_ns, prev_arrival_ns, have_prev = dts, dts_ns, arrival_ns, True
                prev_size = size
                end_ns = dts_ns + frame_ticks * tb_num * 1_000_000_000 // tb_den
                if sound is not None:
                    if sound.waiting:
                        sound.catch_up(seg, end_ns)
                    if sound.retiring is not None \
                            and end_ns - sound.retiring_end_ns > LATE_SOUND_NS:
                        self._close_retired(sound, current_open=True)
                recorded = True
                status.frames_recorded += 1
                status.bytes_recorded += size
                status.last_arrival_ns = arrival_ns
        except SourceError as exc:
            self._close_retired(sound, current_open=seg is not None)
            if seg is not None:
                # A failing disk leaves the file to salvage; a failing camera, a whole file.
                if exc.cause in STORAGE_CAUSES:
                    self._abort_and_salvage(seg)
                else:
                    self._close(seg)
            raise
        except (av.FFmpegError, OSError) as exc:
            self._close_all(seg, sound)
            raise classify_read_error(exc) from exc
        except BaseException:  # a bug: the files written so far are still catalogued
            self._close_all(seg, sound)
            raise
        finally:
            self.live.reset()
        self._close_all(seg, sound)
        if not self._stop.is_set():
            raise SourceError(GapCause.STREAM_ENDED, "the camera ended the stream")

    def _retire(self, seg: _Open, sound: _Sound, end_ns: int) -> None:
        """Keep the segment just cut open for its late sound (LATE_SOUND_NS)."""
        self._close_retired(sound, current_open=True)
        sound.retiring, sound.retiring_end_ns = seg, end_ns
        self.writing = True

    def _close_retired(self, sound: _Sound | None, *, current_open: bool) -> None:
        if sound is None or sound.retiring is None:
            return
        seg, sound.retiring = sound.retiring, None
        try:
            self._close(seg)  # first: its row comes before the next segment's
        finally:
            self.writing = current_open or bool(self._held)

    def _close_all(self, seg: _Open | None, sound: _Sound | None) -> None:
        try:
            self._close_retired(sound, current_open=seg is not None)
        finally:
            if seg is not None:
                self._close(seg)

    @staticmethod
    def _unsettled(settling: int | None) -> int:
        """A timestamp jump: the first starts settling; another before the stream has
        run a whole GOP cleanly means the client's timestamps will not settle (FFmpeg
        gives a B-frame camera's frames dts = pts after a jump back, each taken for a new
        jump: 22 segments of 2 frames in 36 s, issue 20), so the session starts over and
        the client rebuilds them."""
        if settling is not None:
            raise SourceError(GapCause.TIMESTAMP_JUMP,
                              "timestamps did not settle after a jump; reconnecting to "
                              "rebuild them")
        return 0

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
              continuous: bool, cut_gap: tuple[GapCause, str] | None) -> _Open:
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
        opened = _Open(file, volume_id, dts_ns, units, continuous, cut_gap)
        # The status's `behind_ms` reads these: the segments' soonest reads on one
        # unbroken camera clock (a new session or a jump of the clock starts afresh).
        last = self._offsets
        if not (continuous and opened.same_clock):
            self._floors.clear()
        elif last is not None and last.min_offset_ns is not None:
            self._floors.append((last.last_arrival_ns, last.min_offset_ns))
        self._offsets = opened.offsets
        return opened

    def _close(self, seg: _Open) -> None:
        """Finish the file, then commit it (kuzet.storage.commit says in which order)."""
        try:
            self._finish(seg)
        finally:
            self.writing = bool(self._held)

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
        if seg.offsets.arrived_in_burst:
            self._held.append((seg, closed))
            return
        own = seg.offsets.offset_ns
        # a later segment's offset is worth nothing across a jump of the camera's clock
        self._commit_held(own if seg.same_clock else None)
        self._commit(seg, closed, own)

    def _commit_held(self, later: int | None) -> None:
        """Catalog the segments held for arriving in a burst, each placed by the best
        offset of the stream after it."""
        held, self._held = self._held, []
        offsets = placed_offsets([(seg.offsets.offset_ns, seg.same_clock) for seg, _ in held],
                                 later)
        for (seg, closed), offset in zip(held, offsets, strict=True):
            try:
                self._commit(seg, closed, offset)
            except Exception:  # the others still go; this `.part` is recovered at start
                log.exception("camera %s: cataloguing %s failed; recovered at the next "
                              "start", self.source.name, seg.file.part_path.name)

    def _commit(self, seg: _Open, closed: ClosedSegment, offset_ns: int) -> None:
        start_ns = segment_start_ns(seg.first_dts_ns + offset_ns, self.prev_end_ns,
                                    seg.continuous)
        cut = None
        if seg.cut_gap is not None and self.prev_end_ns is not None:
            cause, detail = seg.cut_gap
            cut = CutGap(self.prev_end_ns, cause.value, detail)
        self.prev_end_ns = start_ns + closed.media_duration_ns
        try:
            self._unstored.append(Waiting(seg.volume_id, seg.file.part_path, closed,
                                          start_ns, cut))
        except OSError as exc:  # the journal's disk: the file is catalogued at next start
            log.error("camera %s: %s cannot wait for the catalog (%s); it is catalogued "
                      "at the next start", self.source.name, seg.file.part_path.name, exc)
        self._store()

    def _store(self) -> None:
        """Catalog the closed segments in their order. While the catalog cannot be
        reached (a PostgreSQL restart, a failover to its replica) they wait, their files
        durable, and go with the next segment's commit: recording never stops for it, and
        a stop leaves them as `.part` files that the next start catalogs. Standing by
        for a camera, they wait for the grant; then those that start before the holder's
        last segment ends go (the holder has that footage)."""
        if not self.granted:
            return
        if self._standing_by:
            try:
                last = self.catalog.last_segment(self.source.id)
            except UNREACHABLE:
                return
            held_to = last.end_ns if last is not None else None
            self._discard(sum(1 for u in self._unstored
                              if held_to is not None and u.start_ns < held_to),
                          "recorded by the camera's earlier node")
            self._standing_by = False
        while (u := self._unstored.first()) is not None:
            try:
                commit_segment(self.catalog, u.volume_id, self.source.id,
                               self.source.name, u.part_path, u.closed, u.start_ns,
                               cut=u.cut, fence=self._fence)
            except Fenced as exc:
                if not exc.lost:  # the lease is ours; only this file overlaps: kept aside
                    quarantine(self.catalog.volume_path(u.volume_id), u.part_path,
                               f"commit refused: {exc}")
                    self._unstored.pop()
                    continue
                for later in self._unstored:  # and every one after it: another node's now
                    self._lost_lease(later.volume_id, later.part_path, exc)
                self._unstored.clear()
                return
            except UNREACHABLE as exc:
                if self._catalog_lost is None:
                    self._catalog_lost = self.clock_ns()
                    log.warning("camera %s: the catalog is unreachable (%s); segments wait "
                                "for it", self.source.name, type(exc.orig).__name__)
                self.status.last_error = (f"the catalog is unreachable: {len(self._unstored)} "
                                          "segments recorded, waiting to be catalogued")
                return
            except Exception:  # this one is recovered at start; the others still go
                log.exception("camera %s: cataloguing %s failed; recovered at the next "
                              "start", self.source.name, u.part_path.name)
            else:
                self.status.segments_closed += 1
            self._unstored.pop()
        if self._catalog_lost is not None:
            log.warning("camera %s: the catalog is back after %.1f s; every segment "
                        "catalogued", self.source.name,
                        (self.clock_ns() - self._catalog_lost) / 1e9)
            self._catalog_lost = None
            self.status.last_error = None
        if self._gap_waiting is not None and not self.fenced:
            start, cause, detail = self._gap_waiting
            self._gap_waiting = None
            self._open_gap(start, cause, detail)

    def _discard(self, count: int, why: str) -> None:
        """Delete the first `count` files waiting for rows: recorded beside the camera's
        holder, which has the same footage in its files and rows."""
        for u in self._unstored.drop(count):
            u.part_path.unlink(missing_ok=True)
        if count:
            log.info("camera %s: %d files recorded while standing by left out (%s)",
                     self.source.name, count, why)

    def _open_gap(self, start: int, cause: str, detail: str) -> None:
        """The camera's outage as a gap, once the segments before it are catalogued (a
        gap opened before them would be closed by them, and the outage lost); none while
        standing by (the camera's timeline is its holder's)."""
        if not self.granted:
            return
        if self._unstored:
            self._gap_waiting = (start, cause, detail)
            return
        try:
            self.catalog.open_gap(self.source.id, start, cause, detail)
        except UNREACHABLE:
            self._gap_waiting = (start, cause, detail)

    def _lost_lease(self, volume_id: int, part_path: Path, exc: Fenced) -> None:
        """Another node has taken the camera (this one was paused or cut off past its
        lease): the file is kept aside, never in the timeline, and recording stops here
        without a gap (the camera's timeline is the other node's now)."""
        self.fenced = True
        self._stop.set()
        quarantine(self.catalog.volume_path(volume_id), part_path, f"commit refused: {exc}")

    def _abort_and_salvage(self, seg: _Open) -> None:
        try:
            self._salvage(seg)
        finally:
            self.writing = bool(self._held)

    def _salvage(self, seg: _Open) -> None:
        seg.file.abort()
        self._commit_held(None)  # whole files, before the one cut short
        if not self.granted:  # standing by: the holder has this footage whole
            seg.file.part_path.unlink(missing_ok=True)
            return
        try:
            row = commit_salvaged(self.catalog, seg.volume_id, self.source.id, self.source.name,
                                  seg.file.part_path, self.prev_end_ns, self._fence)
        except Fenced as exc:
            if exc.lost:
                self._lost_lease(seg.volume_id, seg.file.part_path, exc)
            else:
                quarantine(self.catalog.volume_path(seg.volume_id), seg.file.part_path,
                           f"commit refused: {exc}")
            return
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
        self._store()
        if not self.fenced:  # the camera's timeline is another node's now: no gap of ours
            self._open_gap(start, exc.cause.value, str(exc))
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
        # the camera's clock, as the current session's last reports say (issue 22); none
        # between sessions or on FFmpeg's client, which reads no reports
        video = (self._reports or {}).get("video")
        said = self._clock_said
        if video is None:
            st.clock_offset_ms = None
        else:
            if video != self._clock_last:
                self._clock_last = video
                said.append(video[0] - video[2])
            # A report's arrival can only be dated late (a batch read when the thread got
            # the CPU), so its offset errs low: the highest of the last few is the nearest.
            st.clock_offset_ms = round(max(said) / 1e6) if said else None
        st.clock_source = "rtcp" if st.clock_offset_ms is not None else None
        if st.clock_offset_ms is None and self.onvif_clock_ms is not None:
            st.clock_offset_ms, st.clock_source = self.onvif_clock_ms, "onvif"
        # The recorder's lag (issue 22): the last frame against the frames read soonest
        # after their timestamps in the last LAG_FLOOR_NS of segments, from what each
        # segment keeps to place itself (no cost per frame). Not the session's soonest:
        # a camera's clock 20 ppm slow would read as 1.7 s of lag a day. A thread that
        # wrote the fields half-way errs by one frame.
        o = self._offsets
        if o is None or o.min_offset_ns is None or st.state is not State.RECORDING:
            st.behind_ms = None
        else:
            since = o.last_arrival_ns - LAG_FLOOR_NS
            floor = min([f for at, f in list(self._floors) if at >= since]
                        + [o.min_offset_ns])
            st.behind_ms = round((o.last_arrival_ns - o.last_media_ns - floor) / 1e6)
        return st
