"""Power (UE-10-22 3.3.4; issue 22): a UPS read through Network UPS Tools' real upsd with
the dummy-ups driver, its alarms raised and cleared as it goes on battery, low and back,
each opening and closing a fault in the register; and, on the UPS powering the server, a
low battery closing every segment with a `power` gap before the power goes."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import Kuzet, stop, wait_for
from kuzet.catalog.alarms import Alarms
from kuzet.endpoints import UpsAddress
from kuzet.equipment.fields import Kind, Passport
from kuzet.equipment.power import UpsWatch
from kuzet.equipment.register import Register
from kuzet.equipment.ups import UpsError, decide, parse_list_var, read_ups
from test_recording import segment_count

sys.path.insert(0, str(Path(__file__).parent / "peers"))
from nut import DummyUps


@pytest.fixture
def ups(tmp_path: Path) -> Iterator[DummyUps]:
    u = DummyUps(tmp_path / "nut")
    u.start()
    yield u
    u.close()


def test_upsd_answers_are_read_and_refusals_said() -> None:
    said = ('BEGIN LIST VAR campus\nVAR campus ups.status "OB LB"\n'
            'VAR campus battery.charge "9"\nVAR campus device.model "Smart \\"UPS\\""\n'
            'END LIST VAR campus\n')
    v = parse_list_var("campus", said)
    assert v["ups.status"] == "OB LB"
    assert v["device.model"] == 'Smart "UPS"'
    with pytest.raises(UpsError, match="DATA-STALE"):
        parse_list_var("campus", "ERR DATA-STALE\n")
    assert [c.kind for c in decide("u", UpsError("upsd: UNKNOWN-UPS"))] == ["ups_unreachable"]
    assert UpsAddress.parse("ups@[::1]:3500") == UpsAddress("ups", "::1", 3500)
    assert UpsAddress.parse("ups@nut.campus") == UpsAddress("ups", "nut.campus", 3493)
    for bad in ("ups", "@host", "ups@host:0"):
        with pytest.raises(ValueError, match=r"upsname@host|a port from 1 to 65535"):
            UpsAddress.parse(bad)


def test_a_ups_on_battery_low_and_back_raises_and_clears_its_alarms(
        storage: Any, ups: DummyUps) -> None:
    """3.3.4: each UPS condition an alarm, raised and cleared, each a fault in its log."""
    alarms = Alarms(storage.catalog.session)
    register = Register(storage.catalog.session)
    register.add(Kind.UPS, "ups-main", Passport({}), by="it")
    alarms.listen(register.on_alarm)
    told: list[str | None] = []
    watch = UpsWatch({"ups-main": UpsAddress.parse(ups.address)}, alarms, "ups-main",
                     told.append)

    def kinds() -> list[str]:
        watch.poll()
        return sorted(a.kind for a in alarms.list() if a.subject == "ups-main")

    assert kinds() == []
    assert told == [None]
    assert read_ups(UpsAddress.parse(ups.address)).charge == 100
    ups.set("OB DISCHRG", charge=84, runtime=1500)
    wait_for(lambda: kinds() == ["ups_on_battery"], 10, what="the on-battery alarm")
    (alarm,) = alarms.list()
    assert alarm.severity == "warning"
    assert "84 % charge, 25 min left" in alarm.message
    assert register.item("ups-main").state == "faulty"  # the alarm opened a fault
    ups.set("OB DISCHRG LB", charge=9, runtime=90)
    wait_for(lambda: kinds() == ["ups_low_battery", "ups_on_battery"], 10,
             what="the low-battery alarm")
    assert told[-1] is not None
    assert "low battery" in told[-1]
    ups.set("OL CHRG RB", charge=15, runtime=200)
    wait_for(lambda: kinds() == ["ups_replace_battery"], 10, what="back on line")
    assert told[-1] is None
    ups.stop_upsd()
    assert kinds() == ["ups_replace_battery", "ups_unreachable"]
    assert "Connection refused" in next(a.message for a in alarms.list()
                                        if a.kind == "ups_unreachable")
    ups.start_upsd()
    ups.set("OL", charge=100, runtime=1800)
    wait_for(lambda: kinds() == [], 10, what="every alarm cleared")
    log = register.history("ups-main")
    faults = [e for e in log if e.kind == "fault"]
    assert len(faults) == 4
    assert not any(e.open for e in faults)
    assert register.item("ups-main").state == "in_service"


def test_a_low_battery_closes_every_segment_with_a_power_gap(
        kuzet: Kuzet, ups: DummyUps) -> None:
    """3.3.4, 3.3 (24/7): the server's UPS low: every segment closed, a `power` gap until
    it is back on line, then recording again."""
    _, port = kuzet.sim()
    kuzet.run("camera", "add", "door", f"rtsp://127.0.0.1:{port}/cam01/main", "--zone", "corridor")
    kuzet.env["KUZET_UPS"] = json.dumps({"ups-srv": ups.address})
    kuzet.env["KUZET_SERVER_UPS"] = "ups-srv"
    kuzet.env["KUZET_UPS_POLL_S"] = "0.5"
    serve = kuzet.serve()
    wait_for(lambda: segment_count(kuzet, "door") >= 2, 40, what="two segments")
    token = _it_token(kuzet)
    figures = _metrics(kuzet, token)
    assert figures["kuzet_camera_fps"][(("camera", "door"),)] > 5
    assert 0 <= figures["kuzet_camera_lag_seconds"][(("camera", "door"),)] < 5
    assert figures["kuzet_volume_write_bytes_per_second"][(("volume", "default"),)] > 0
    ups.set("OB DISCHRG LB", charge=8, runtime=60)
    t_low = time.time_ns()

    def power_gap() -> list[dict[str, Any]]:
        return [g for g in kuzet.json("recordings", "gaps", "door") if g["cause"] == "power"]

    (gap,) = wait_for(power_gap, 20, 0.5, what="the power gap")
    assert gap["end_ns"] is None
    assert "low battery" in (gap["detail"] or "")
    catalog = kuzet.catalog()
    last = catalog.last_segment(catalog.camera("door").id)
    assert last is not None
    assert last.end_ns == gap["start_ns"]
    assert gap["start_ns"] >= t_low - 3 * 10**9
    kinds = {a["kind"] for a in kuzet.json("alarms")}
    assert {"ups_on_battery", "ups_low_battery"} <= kinds
    # issue 22 item 5: the same, as Prometheus scrapes it with IT support's token
    said = wait_for(lambda: _metrics(kuzet, token).get("kuzet_ups_low_battery"), 10,
                    what="the UPS's figures")
    assert said == {(("ups", "ups-srv"),): 1.0}
    figures = _metrics(kuzet, token)
    assert figures["kuzet_ups_charge_percent"] == {(("ups", "ups-srv"),): 8.0}
    assert figures["kuzet_camera_gap_open"] == {(("camera", "door"),): 1.0}
    assert figures["kuzet_camera_state"][("camera", "door"), ("state", "recording")] == 0.0
    assert figures["kuzet_alarms_open"][("kind", "ups_low_battery"),
                                        ("severity", "critical")] == 1.0
    assert figures["kuzet_volume_present"] == {(("volume", "default"),): 1.0}
    n = segment_count(kuzet, "door")
    ups.set("OL CHRG", charge=20, runtime=400)
    t_back = time.time_ns()
    wait_for(lambda: segment_count(kuzet, "door") > n, 40, what="recording again")
    (gap,) = power_gap()
    assert gap["end_ns"] is not None
    assert gap["end_ns"] >= t_back - 10**9
    stop(serve, timeout=10)


def _it_token(kuzet: Kuzet) -> str:
    """An API token with `health.read` made by an IT support account, as an IT office
    makes one for its Prometheus."""
    import httpx

    one_time = kuzet.run("user", "add", "it", "--role", "it_support").stdout.split(
        "one-time password ")[1].split()[0]
    api = wait_for(lambda: _api(kuzet), 60, what="api.json")
    with httpx.Client(base_url=api, verify=False) as c:  # noqa: S501 (its own cert, loopback)
        r = c.post("/api/auth/login", json={"username": "it", "password": one_time})
        assert r.status_code == 200, r.text
        c.headers["X-CSRF-Token"] = r.json()["csrf"]
        assert c.post("/api/auth/password", json={"old_password": one_time,
                                                  "new_password": "steppe wind at the post"}
                      ).is_success
        r = c.post("/api/tokens", json={"name": "prometheus", "perms": ["health.read"]})
        assert r.status_code == 201, r.text
        token = str(r.json()["token"])
        assert c.get("/api/metrics", headers={"authorization": "Bearer nothing"}
                     ).status_code == 401
    return token


def _api(kuzet: Kuzet) -> str | None:
    path = kuzet.home / "run" / "api.json"
    return str(json.loads(path.read_text())["https"]) if path.exists() else None


def _metrics(kuzet: Kuzet, token: str) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    """/api/metrics read with prometheus-client's own parser: name -> labels -> value."""
    import httpx
    from prometheus_client.parser import text_string_to_metric_families

    api = _api(kuzet)
    assert api is not None
    r = httpx.get(f"{api}/api/metrics", headers={"authorization": f"Bearer {token}"},
                  verify=False)  # noqa: S501
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    out: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(r.text):
        for sample in family.samples:
            out.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return out
