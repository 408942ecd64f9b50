"""Prometheus's scrape (issue 22 item 5; UE-10-22 3.4.3): who may read it, that
prometheus-client's own parser reads it, and that the Grafana dashboard in docs asks only
for figures Kuzet gives. The figures of a running server (a camera recording, a UPS on
battery, a volume written) are checked in tests/test_ups.py."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from api_world import CAM, World
from kuzet.catalog.alarms import Severity
from kuzet.timefmt import parse_instant

NOW = parse_instant("2026-11-02T06:00:00Z")
DASHBOARD = Path(__file__).parent.parent / "docs" / "grafana" / "kuzet.json"


def test_the_scrape_needs_health_read_and_parses(storage: Any) -> None:
    """3.4.3: the IT office's figures need health.read; a guard is refused."""
    world = World(storage, NOW)
    guard = world.login(world.user("guard", "guard"))
    it = world.login(world.user("it", "it_support"))
    assert world.client().get("/api/metrics").status_code == 401
    r = guard.get("/api/metrics")
    assert r.status_code == 403
    assert "health.read" in r.json()["detail"]
    world.svc.alarms.raise_("disk_pressure", "default", Severity.WARNING, "low", now_ns=NOW)
    r = it.get("/api/metrics")
    assert r.status_code == 200
    families = {f.name: f for f in text_string_to_metric_families(r.text)}
    states = {s.labels["state"]: s.value for s in families["kuzet_camera_state"].samples
              if s.labels["camera"] == CAM}
    assert states["unknown"] == 1.0  # no recorder in this world
    assert sum(states.values()) == 1.0
    (alarm,) = families["kuzet_alarms_open"].samples
    assert alarm.labels == {"kind": "disk_pressure", "severity": "warning"}
    assert alarm.value == 1.0
    assert "rtsp://" not in r.text  # equipment figures only


def test_the_grafana_dashboard_asks_only_for_what_kuzet_gives(storage: Any) -> None:
    world = World(storage, NOW)
    text = world.login(world.user("it", "it_support")).get("/api/metrics").text
    given = set(re.findall(r"^# TYPE (\S+) ", text, re.M))
    given |= {f"{name}_total" for name in given}  # a counter's samples
    board = json.loads(DASHBOARD.read_text())
    asked = {m for p in board["panels"] for t in p["targets"]
             for m in re.findall(r"\bkuzet_[a-z0-9_]+", t["expr"])}
    assert len(asked) >= 12
    assert asked <= given, asked - given
