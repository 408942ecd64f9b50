"""`kuzet equipment` (issue 22, items 1 and 2): the register's passport, links, checks,
faults and repairs, and its CSV round trip from the server's command line, each refusal a
clear message and never a traceback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import Kuzet


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Kuzet]:
    """A data home without `kuzet init`: the register needs only the catalog, which each
    command migrates, and no simulator clip."""
    k = Kuzet(tmp_path / "home", tmp_path / "cache")
    k.home.mkdir()
    yield k
    k.close()


def refused(k: Kuzet, *args: str) -> str:
    out = k.run(*args, check=False)
    assert out.returncode == 2, (out.stdout, out.stderr)
    assert "Traceback" not in out.stderr
    return out.stderr


def test_a_ups_a_switch_and_a_camera_linked_checked_and_repaired(home: Kuzet) -> None:
    """3.3.4, 3.3.6, 3.4.3 on the server's command line: a UPS, a switch on it and a camera
    on the switch's port; a failed check opens a fault, a repair closes it."""
    home.run("camera", "add", "cam", "rtsp://u:pw@10.0.0.7/s", "--zone", "corridor")
    home.run("equipment", "add", "ups", "ups1", "--serial", "U-1", "--model", "Back-UPS 1500",
             "--building", "Main", "--installed", "2020-01-15")
    home.run("equipment", "add", "switch", "sw1", "--serial", "S-1", "--power", "ups1",
             "--mac", "AA-BB-CC-00-11-22", "--ip", "10.0.0.2")
    said = home.run("equipment", "set", "cam", "--serial", "C-1", "--uplink", "sw1",
                    "--uplink-port", "7", "--power", "ups1", "--building", "Main",
                    "--floor", "2", "--room", "lobby").stdout
    assert "serial: - -> C-1" in said
    assert "uplink: - -> sw1" in said

    cam = home.json("equipment", "show", "cam")
    assert {k: cam[k] for k in ("kind", "state", "serial", "uplink", "uplink_port", "power",
                                "building", "floor", "room")} == {
        "kind": "camera", "state": "in_service", "serial": "C-1", "uplink": "sw1",
        "uplink_port": "7", "power": "ups1", "building": "Main", "floor": "2",
        "room": "lobby"}
    assert [e["kind"] for e in cam["log"]] == ["change"]
    # one record, not two lists: the camera's place is the catalog's own
    assert home.json("camera", "list")[0]["location"] == "lobby"
    assert home.json("equipment", "show", "ups1")["linked"] == ["cam", "sw1"]
    assert home.json("equipment", "show", "sw1")["mac"] == "aa:bb:cc:00:11:22"
    assert [r["name"] for r in home.json("equipment", "list", "--kind", "ups")] == ["ups1"]
    assert "ups1" in home.run("equipment", "list").stdout

    assert "serial 'C-1' is already cam's" in refused(
        home, "equipment", "add", "ups", "ups2", "--serial", "C-1")
    assert "uplink: 'ups1' is a ups" in refused(home, "equipment", "set", "cam",
                                                 "--uplink", "ups1")
    assert "kuzet camera add" in refused(home, "equipment", "add", "camera", "cam9")
    assert "no item named 'nosuch'" in refused(home, "equipment", "show", "nosuch")
    home.env["KUZET_BUILDINGS"] = '["Main", "Dormitory 1"]'
    assert "unknown building 'Annex'" in refused(
        home, "equipment", "add", "monitor", "post1", "--building", "Annex")
    assert [r["name"] for r in home.json("equipment", "list")] == ["cam", "ups1", "sw1"]

    said = home.run("equipment", "log", "cam", "check", "picture dark", "--outcome",
                    "fault").stdout
    assert "faulty" in said
    fault = next(e for e in home.json("equipment", "show", "cam")["log"]
                 if e["kind"] == "fault")
    assert fault["open"]
    assert f"fault {fault['id']} open" in said
    assert "a repair says which fault it closes" in refused(
        home, "equipment", "log", "cam", "repair", "cleaned")
    home.run("equipment", "log", "cam", "repair", "lens cleaned", "--closes",
             str(fault["id"]))
    cam = home.json("equipment", "show", "cam")
    assert cam["state"] == "in_service"
    assert not any(e["open"] for e in cam["log"])
    acts = {e["action"]: e for e in reversed(home.json("audit", "list"))}
    assert acts["equipment.log"]["detail"]["outcome"] == "allowed"
    assert acts["equipment.log"]["actor"].startswith("local:")
    assert {"equipment.add", "equipment.change"} <= set(acts)

    due = home.json("equipment", "due")
    assert [(d["name"], d["overdue"]) for d in due] == [("ups1", True)]


def test_export_imports_back_unchanged_and_a_bad_row_imports_nothing(home: Kuzet,
                                                                     tmp_path: Path) -> None:
    home.run("camera", "add", "cam", "rtsp://u:pw@10.0.0.7/s", "--zone", "corridor")
    home.run("equipment", "add", "ups", "ups1", "--serial", "U-1")
    home.run("equipment", "set", "cam", "--serial", "C-1", "--power", "ups1")
    sheet = tmp_path / "register.csv"
    home.run("equipment", "export", str(sheet))
    assert "pw" not in sheet.read_text()
    assert home.run("equipment", "export").stdout == sheet.read_text()
    assert home.run("equipment", "import", str(sheet)).stdout.strip() == \
        "imported: 0 added, 0 changed"

    bad = tmp_path / "bad.csv"
    bad.write_text("kind,name,serial,power,url,zone\n"
                   "camera,cam2,C-2,ups1,rtsp://u:secret@10.0.0.8/s,corridor\n"
                   "ups,ups2,U-1,,,\n")
    stderr = refused(home, "equipment", "import", str(bad))
    assert "line 3 (ups2): serial 'U-1' is already ups1's" in stderr
    assert "nothing imported" in stderr
    assert [r["name"] for r in home.json("equipment", "list")] == ["cam", "ups1"]

    said = home.run("equipment", "import", str(bad), "--good-rows")
    assert said.stdout.strip() == "imported: 1 added, 0 changed (1 bad row(s) left out)"
    assert "line 3 (ups2)" in said.stderr
    assert home.json("equipment", "show", "cam2")["power"] == "ups1"
    added = [e for e in home.json("audit", "list", "--action", "camera.add")
             if e["subject"] == "cam2"]
    assert added[0]["detail"]["url"] == "rtsp://u:***@10.0.0.8/s"
    assert "secret" not in json.dumps(added)
    assert home.json("camera", "list")[1]["name"] == "cam2"  # recorded, as `camera add`

    passport = tmp_path / "passport.pdf"
    assert "wrote the passport" in home.run("equipment", "passport", str(passport),
                                            "--lang", "kk").stdout
    from pypdf import PdfReader

    text = "".join(p.extract_text() for p in PdfReader(passport).pages)
    assert "cam2" in text
    assert "U-1" in text
