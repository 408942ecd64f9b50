"""The complex's figures in Prometheus's text format (issue 22 item 5; UE-10-22 3.4.3: the
IT office watches the complex with the tools it already has).

Built at each scrape from what Kuzet holds at that moment (the recorder's statuses, the
volumes, the catalog's last minutes, the watches' last readings), on a registry of its
own: nothing is counted twice, nothing kept between scrapes, no global state. What it
says is about equipment only: no picture, no name of a person, no event's content.

Per camera: state, fps, bitrate, frames and bytes recorded, RTP packets sent and lost,
gaps in the last 24 h and whether one is open, the lag (seconds since its last frame
reached the recorder), how far behind its timestamps the recorder reads it, its clock's
offset. Per volume: total, free and floor bytes, the write rate of
the last five minutes. Per UPS: reachable, on battery, low battery, charge, runtime. This
server's clock offset against its time server. Detection's latency (a frame's arrival to
its analysis done) per camera. Open alarms by kind and severity.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from kuzet.web.services import Services

NS = 1_000_000_000
GAP_WINDOW_NS = 24 * 3600 * NS
WRITE_WINDOW_NS = 5 * 60 * NS
STATES = ("starting", "recording", "reconnecting", "failed", "storage_full", "stopped")


def exposition(svc: Services) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Complex(svc))
    return generate_latest(registry)


class _Complex(Collector):
    def __init__(self, svc: Services) -> None:
        self.svc = svc

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        svc = self.svc
        now = svc.clock()
        yield from _cameras(svc, now)
        yield from _volumes(svc, now)
        parts = svc.parts()
        yield from _ups(parts.get("ups") or {})
        yield from _time(parts.get("time"))
        yield from _detection(parts.get("detection") or [])
        alarms = GaugeMetricFamily("kuzet_alarms_open", "Open alarms.",
                                   labels=["kind", "severity"])
        counts: dict[tuple[str, str], int] = {}
        for a in svc.alarms.list():
            counts[a.kind, a.severity] = counts.get((a.kind, a.severity), 0) + 1
        for (kind, severity), n in sorted(counts.items()):
            alarms.add_metric([kind, severity], n)
        yield alarms


def _cameras(svc: Services, now: int) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
    status = svc.status()
    state = GaugeMetricFamily("kuzet_camera_state", "1 for the camera's recorder state.",
                              labels=["camera", "state"])
    fps = GaugeMetricFamily("kuzet_camera_fps", "Frames recorded per second, last seconds.",
                            labels=["camera"])
    bitrate = GaugeMetricFamily("kuzet_camera_bitrate_bps", "Bits recorded per second.",
                                labels=["camera"])
    frames = CounterMetricFamily("kuzet_camera_frames_recorded", "Frames recorded since "
                                 "the server started.", labels=["camera"])
    written = CounterMetricFamily("kuzet_camera_bytes_recorded", "Bytes recorded since the "
                                  "server started.", labels=["camera"])
    lost = CounterMetricFamily("kuzet_camera_packets_lost", "RTP packets lost on the way.",
                               labels=["camera"])
    sent = CounterMetricFamily("kuzet_camera_packets_expected", "RTP packets the camera "
                               "sent, lost or not (Kuzet's own RTSP client).",
                               labels=["camera"])
    gaps = GaugeMetricFamily("kuzet_camera_gaps_24h", "Gaps begun in the last 24 hours.",
                             labels=["camera"])
    gap_open = GaugeMetricFamily("kuzet_camera_gap_open", "1 while the camera's footage has "
                                 "a gap still open.", labels=["camera"])
    lag = GaugeMetricFamily("kuzet_camera_lag_seconds", "Seconds since the camera's last "
                            "frame reached the recorder.", labels=["camera"])
    behind = GaugeMetricFamily("kuzet_camera_behind_seconds", "How much later than its "
                               "timestamp the last frame was read, against the soonest of "
                               "the last minutes (the recorder or the network behind).",
                               labels=["camera"])
    clock = GaugeMetricFamily("kuzet_camera_clock_offset_seconds", "The camera's clock "
                              "against this server's (its RTCP sender reports, else ONVIF).",
                              labels=["camera"])
    for cam in svc.cameras().values():
        if cam.removed_ns is not None:
            continue
        st: dict[str, Any] = status.get(cam.name) or {}
        now_state = str(st.get("state", "unknown"))
        for s in (*STATES, "unknown"):
            state.add_metric([cam.name, s], 1.0 if s == now_state else 0.0)
        count, still = svc.catalog.gap_count(cam.id, now - GAP_WINDOW_NS)
        gaps.add_metric([cam.name], count)
        gap_open.add_metric([cam.name], 1.0 if still else 0.0)
        if not st:
            continue
        fps.add_metric([cam.name], float(st.get("fps") or 0))
        bitrate.add_metric([cam.name], float(st.get("bitrate_bps") or 0))
        frames.add_metric([cam.name], int(st.get("frames_recorded") or 0))
        written.add_metric([cam.name], int(st.get("bytes_recorded") or 0))
        lost.add_metric([cam.name], int(st.get("packets_lost") or 0))
        sent.add_metric([cam.name], int(st.get("packets_expected") or 0))
        if st.get("behind_ms") is not None:
            behind.add_metric([cam.name], int(st["behind_ms"]) / 1000)
        if st.get("last_arrival_ns"):
            lag.add_metric([cam.name], max(0, now - int(st["last_arrival_ns"])) / NS)
        if st.get("clock_offset_ms") is not None:
            clock.add_metric([cam.name], int(st["clock_offset_ms"]) / 1000)
    yield from (state, fps, bitrate, frames, written, lost, sent, gaps, gap_open, lag, behind,
                clock)


def _volumes(svc: Services, now: int) -> Iterator[GaugeMetricFamily]:
    total = GaugeMetricFamily("kuzet_volume_total_bytes", "A media volume's size.",
                              labels=["volume"])
    free = GaugeMetricFamily("kuzet_volume_free_bytes", "A media volume's free space.",
                             labels=["volume"])
    floor = GaugeMetricFamily("kuzet_volume_floor_bytes", "The free space a volume keeps: "
                              "below it the oldest unheld footage is shed.", labels=["volume"])
    present = GaugeMetricFamily("kuzet_volume_present", "1 while the volume is mounted.",
                                labels=["volume"])
    rate = GaugeMetricFamily("kuzet_volume_write_bytes_per_second", "Bytes of the segments "
                             "closed on the volume in the last five minutes, per second.",
                             labels=["volume"])
    written: dict[int, int] = {}
    for cam in svc.cameras().values():
        if cam.removed_ns is None:
            for _a, _b, _f, size, volume in svc.catalog.tallies(cam.id, now - WRITE_WINDOW_NS):
                written[volume] = written.get(volume, 0) + size
    for v in svc.catalog.volumes():
        is_there = svc.volumes.present(v)
        present.add_metric([v.name], 1.0 if is_there else 0.0)
        rate.add_metric([v.name], written.get(v.id, 0) / (WRITE_WINDOW_NS / NS))
        if is_there:
            u = svc.volumes.usage(v)
            total.add_metric([v.name], u.total)
            free.add_metric([v.name], u.free)
            floor.add_metric([v.name], u.floor)
    yield from (total, free, floor, present, rate)


def _ups(readings: dict[str, dict[str, Any]]) -> Iterator[GaugeMetricFamily]:
    reachable = GaugeMetricFamily("kuzet_ups_reachable", "1 while upsd answers for the UPS.",
                                  labels=["ups"])
    battery = GaugeMetricFamily("kuzet_ups_on_battery", "1 while the UPS is on battery.",
                                labels=["ups"])
    low = GaugeMetricFamily("kuzet_ups_low_battery", "1 while the UPS's battery is low.",
                            labels=["ups"])
    charge = GaugeMetricFamily("kuzet_ups_charge_percent", "Battery charge.", labels=["ups"])
    runtime = GaugeMetricFamily("kuzet_ups_runtime_seconds", "Runtime left on battery.",
                                labels=["ups"])
    for name, r in sorted(readings.items()):
        reachable.add_metric([name], 1.0 if r.get("reachable") else 0.0)
        if not r.get("reachable"):
            continue
        flags = set(r.get("status") or ())
        battery.add_metric([name], 1.0 if "OB" in flags else 0.0)
        low.add_metric([name], 1.0 if "LB" in flags else 0.0)
        if r.get("charge_percent") is not None:
            charge.add_metric([name], float(r["charge_percent"]))
        if r.get("runtime_s") is not None:
            runtime.add_metric([name], float(r["runtime_s"]))
    yield from (reachable, battery, low, charge, runtime)


def _time(reading: dict[str, Any] | None) -> Iterator[GaugeMetricFamily]:
    offset = GaugeMetricFamily("kuzet_time_offset_seconds", "The time server's clock less "
                               "this server's (positive: this server is behind).",
                               labels=["server"])
    stratum = GaugeMetricFamily("kuzet_time_stratum", "The time server's stratum.",
                                labels=["server"])
    if reading:
        offset.add_metric([reading["server"]], float(reading["offset_ms"]) / 1000)
        stratum.add_metric([reading["server"]], float(reading["stratum"]))
    yield from (offset, stratum)


def _detection(workers: list[dict[str, Any]]) -> Iterator[GaugeMetricFamily]:
    latency = GaugeMetricFamily("kuzet_detection_latency_seconds", "From a frame's arrival "
                                "at the recorder to its analysis done, the last one.",
                                labels=["camera"])
    for w in workers:
        if w.get("latency_ms") is not None:
            latency.add_metric([str(w["camera"])], int(w["latency_ms"]) / 1000)
    yield latency
