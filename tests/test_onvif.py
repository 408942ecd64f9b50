"""ONVIF for real cameras (issue 22 item 6), against tests/peers/onvif_device.py: a camera
that validates every request it receives and every answer it sends against the ONVIF
WSDL/XSD shipped with onvif-zeep-async (each test's camera must end with nothing invalid).
Discovery, device information, profiles and stream URIs, the clock and NTP; the cameras
that refuse ONVIF each refused in words; nothing fetched from the network; `kuzet
equipment onvif --add` adding a recorded camera with its passport, `--set-ntp` pointing
it at the campus's time servers; and `kuzet serve` reading a camera's clock over ONVIF
where no RTCP sender report tells it."""

from __future__ import annotations

import ipaddress
import json
import socket
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import Kuzet, stop, wait_for
from kuzet.equipment import onvif, onvifclock, wsdiscovery
from kuzet.errors import KuzetError

sys.path.insert(0, str(Path(__file__).parent / "peers"))
from onvif_device import D, NotValid, OnvifDevice, contract

PASSWORD = "p@ss:w/rd %é"  # every character a URL's userinfo must escape
ENCODED = "p%40ss%3Aw%2Frd%20%25%C3%A9"
STREAM = "rtsp://127.0.0.1:8554/Streaming/Channels/{}?transportmode=unicast"


@pytest.fixture
def camera() -> Iterator[OnvifDevice]:
    with OnvifDevice(password=PASSWORD, clock_offset_s=2.5) as device:
        yield device
    assert device.invalid == [], "a message the ONVIF WSDL/XSD does not allow"


def at(device: OnvifDevice, password: str | None = PASSWORD, user: str | None = "admin",
       timeout_s: float = 2.0) -> onvif.Target:
    return onvif.target(device.address, user, password, timeout_s)


def test_the_device_holds_messages_to_the_wsdl() -> None:
    """The test camera's own checks bite: an answer missing what onvif.xsd requires, a
    request that is no operation's or sent with another soapAction."""
    c = contract()
    with pytest.raises(NotValid, match="GetDeviceInformationResponse"):
        c.check(D.GetDeviceInformationResponse(D.Manufacturer("only this")))
    envelope = (b'<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body>'
                b'<tds:GetDeviceInformation xmlns:tds="http://www.onvif.org/ver10/device/wsdl"/>'
                b"</e:Body></e:Envelope>")
    action = 'application/soap+xml; action="http://www.onvif.org/ver10/device/wsdl/{}"'
    op, _, security = c.request("/onvif/device_service",
                                action.format("GetDeviceInformation"), envelope)
    assert (op.name, security) == ("GetDeviceInformation", None)
    with pytest.raises(NotValid, match="soapAction"):
        c.request("/onvif/device_service", action.format("GetHostname"), envelope)
    with pytest.raises(NotValid, match="not the device service"):
        c.request("/onvif/media_service", action.format("GetDeviceInformation"), envelope)
    with pytest.raises(NotValid, match="no operation's input"):
        c.request("/onvif/device_service", action.format("X"),
                  envelope.replace(b"GetDeviceInformation", b"GetNothing"))


def test_discovery_finds_the_device_and_passes_over_the_rest(camera: OnvifDevice) -> None:
    camera.noise = True  # a datagram that is not XML, and an answer to another probe
    found = onvif.discover(0.5, ("127.0.0.1", camera.discovery_port))
    assert [f.address for f in found] == [camera.endpoint]
    assert found[0].xaddrs == (f"http://{camera.address}/onvif/device_service",)
    assert (found[0].scope("name"), found[0].scope("hardware"), found[0].scope("location")) \
        == ("Kuzet Test Dome", "KTC-2000", "Main gate")
    # what discovery found is an address `target` takes
    assert onvif.target(found[0].xaddrs[0]).device_url == found[0].xaddrs[0]


def test_a_probe_match_is_parsed_with_no_dtd() -> None:
    bomb = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">'
            b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><x>&b;</x>')
    assert wsdiscovery.matches(bomb, "urn:uuid:1") == []
    assert wsdiscovery.matches(b"\xff\xfe", "urn:uuid:1") == []
    assert wsdiscovery.matches(wsdiscovery.probe("urn:uuid:1"), "urn:uuid:1") == []


def test_device_information_profiles_and_stream_uris(camera: OnvifDevice) -> None:
    found = onvif.survey(at(camera), with_clock=False)
    assert found.info == onvif.DeviceInfo(
        manufacturer="Kuzet Test Cameras", model="KTC-2000 Dome",
        firmware="V5.7.3 build 260101", serial="KTC2000-0042", hardware_id="R1.2",
        mac="00:1a:2b:3c:4d:5e", ip="127.0.0.1")
    assert found.info.passport() == {
        "manufacturer": "Kuzet Test Cameras", "model": "KTC-2000 Dome",
        "firmware": "V5.7.3 build 260101", "serial": "KTC2000-0042",
        "mac": "00:1a:2b:3c:4d:5e", "ip": "127.0.0.1"}
    odd = onvif.DeviceInfo("M" * 200, "model", "fw", "S-1", "", mac="not a mac", ip="?")
    assert odd.passport() == {"manufacturer": "M" * 128, "model": "model", "firmware": "fw",
                              "serial": "S-1", "mac": None, "ip": None}
    s = found.streams
    assert [(p.token, p.width, p.height, p.fps, p.bitrate_kbps, p.encoding)
            for p in s.profiles] == [("prof_720", 1280, 720, 25.0, 2048, "H264"),
                                     ("prof_main", 1920, 1080, 25.0, 4096, "H264"),
                                     ("prof_sub", 640, 360, 15.0, 512, "H264")]
    assert s.sub is not None
    assert (s.main.profile.token, s.sub.profile.token) == ("prof_main", "prof_sub")
    assert (s.main.uri, s.sub.uri) == (STREAM.format(101), STREAM.format(102))
    # the URL recorded from carries the credentials, percent-encoded, and shows them masked
    assert s.main.url.reveal() == STREAM.format(101).replace("//", f"//admin:{ENCODED}@")
    assert unquote(urlsplit(s.main.url.reveal()).password or "") == PASSWORD
    assert str(s.main.url) == STREAM.format(101).replace("//", "//admin:***@")
    assert PASSWORD not in repr(found)
    assert ENCODED not in repr(found)
    assert PASSWORD not in repr(at(camera))
    assert camera.refused == []
    assert {"GetDeviceInformation", "GetNetworkInterfaces", "GetServices", "GetProfiles",
            "GetStreamUri"} <= set(camera.asked)
    # the small facade, as the brief names it
    assert onvif.device_info("127.0.0.1", camera.port, "admin", PASSWORD) == found.info


def test_a_camera_without_getservices_is_read_through_getcapabilities(
        camera: OnvifDevice) -> None:
    camera.get_services = False
    got = onvif.streams("127.0.0.1", camera.port, "admin", PASSWORD)
    assert got.main.uri == STREAM.format(101)
    assert "GetCapabilities" in camera.asked


def test_the_host_asked_is_the_host_used_whatever_the_camera_names(
        camera: OnvifDevice) -> None:
    """A camera behind NAT, or a rogue device, naming another host for its media service
    and its streams: the credentials' digest and the password-bearing stream URL still go
    to the host asked, never to the one named."""
    camera.named_host = "203.0.113.9"
    got = onvif.streams("127.0.0.1", camera.port, "admin", PASSWORD)
    assert got.main.uri == STREAM.format(101)
    assert urlsplit(got.main.url.reveal()).hostname == "127.0.0.1"
    assert "GetStreamUri" in camera.asked  # the media service reached, on the host asked


def test_one_profile_is_the_main_stream_and_no_sub() -> None:
    def p(token: str, w: int, h: int) -> onvif.Profile:
        return onvif.Profile(token, token, "H264", w, h, None, None)

    assert onvif.choose([p("a", 1920, 1080), p("b", 1920, 1080)]) == (p("a", 1920, 1080), None)
    assert onvif.choose([p("audio", 0, 0), p("v", 640, 480)]) == (p("v", 640, 480), None)
    with pytest.raises(ValueError, match="no video"):
        onvif.choose([p("audio", 0, 0)])
    assert onvif.with_credentials("rtsp://old:x@h/s", None, None).reveal() == "rtsp://h/s"
    assert onvif.with_credentials("rtsp://h/s", "u", "").reveal() == "rtsp://u:@h/s"


def refusal(t: onvif.Target, work: str = "device_info") -> onvif.OnvifError:
    port = urlsplit(t.device_url).port or 80
    with pytest.raises(onvif.OnvifError) as caught:  # noqa: PT012 (one call, of two)
        if work == "device_info":
            onvif.survey(t, with_clock=False)
        else:
            onvif.clock(t.host, port, t.user, t.password, t.timeout_s)
    assert isinstance(caught.value, KuzetError)
    return caught.value


def test_a_wrong_password_is_refused_in_words(camera: OnvifDevice) -> None:
    said = refusal(at(camera, "wrong"))
    assert said.why == "credentials"
    assert str(said) == (f"{camera.address}: the camera refused the user name or password "
                         "(ter:NotAuthorized)")
    assert camera.refused == ["GetDeviceInformation: wrong user or password"]
    # its clock answers all the same, before authentication (ONVIF's PRE_AUTH)
    assert abs(onvif.clock("127.0.0.1", camera.port, "admin", "wrong").offset_ns
               - 2_500_000_000) < 100_000_000


@pytest.mark.parametrize(("mode", "why", "said"), [
    ("http401", "credentials", "the camera refused the user name or password (HTTP 401)"),
    ("html", "not_onvif", "not an ONVIF camera (HTTP 200, text/html)"),
    ("404", "not_onvif", "not an ONVIF camera (HTTP 404, text/plain)"),
])
def test_a_camera_that_does_not_speak_onvif_is_refused_in_words(mode: str, why: str,
                                                                said: str) -> None:
    with OnvifDevice(mode=mode) as device:
        for work in ("device_info", "clock"):
            refused = refusal(at(device), work)
            assert (refused.why, str(refused)) == (why, f"{device.address}: {said}")


def test_a_silent_camera_a_closed_port_and_another_protocol_are_refused_in_words(
        closed_port: int) -> None:
    with OnvifDevice(mode="silent") as device:
        started = time.monotonic()
        refused = refusal(at(device, timeout_s=0.3))
        assert time.monotonic() - started < 5  # the timeout ends the wait, not the library's
        assert str(refused) == f"{device.address}: no ONVIF answer within 0.3 s"
    port = closed_port  # held bound, never listening: refused, and nobody else's meanwhile
    refused = refusal(onvif.target(f"127.0.0.1:{port}", timeout_s=1))
    assert str(refused) == f"127.0.0.1:{port}: cannot connect to the camera (Connection refused)"
    with socket.socket() as server:  # an SSH server, say: it speaks first, and not HTTP
        server.bind(("127.0.0.1", 0))
        server.listen()

        def speak() -> None:
            conn, _ = server.accept()
            with conn:
                conn.sendall(b"SSH-2.0-OpenSSH_9.2\r\n")
                time.sleep(0.2)

        threading.Thread(target=speak, daemon=True).start()
        refused = refusal(onvif.target(f"127.0.0.1:{server.getsockname()[1]}", timeout_s=1))
        assert refused.why == "not_onvif", refused


def test_a_bad_address_is_refused() -> None:
    for bad in ("http://cam:99999/", "ftp://cam/", "cam:0", "user@cam", ""):
        with pytest.raises(KuzetError, match="not a camera's address"):
            onvif.target(bad)
    assert onvif.target("[fd00::7]:8080").device_url == "http://[fd00::7]:8080/onvif/device_service"
    assert onvif.target("cam.campus").device_url == "http://cam.campus/onvif/device_service"


def test_the_cameras_clock_offset_is_measured_within_100_ms(camera: OnvifDevice) -> None:
    """The test camera's clock is 2.5 s ahead and says whole seconds only."""
    started = time.monotonic()
    got = onvif.clock("127.0.0.1", camera.port, "admin", PASSWORD)
    assert time.monotonic() - started < onvif.CLOCK_BUDGET_S + 5
    assert abs(got.offset_ns - 2_500_000_000) < 100_000_000, got
    assert got.error_ns < 100_000_000, got
    assert abs(got.offset_ns - 2_500_000_000) <= got.error_ns + 5_000_000, got
    assert got.set_by == "Manual"
    assert abs(got.camera_s - (time.time() + 2.5)) < 3


def test_the_camera_is_pointed_at_the_campus_ntp_servers(camera: OnvifDevice) -> None:
    onvif.set_ntp("127.0.0.1", camera.port, "admin", PASSWORD,
                  ["ntp.campus.example", "10.0.0.1", "fd00::1"])
    assert camera.ntp == [{"Type": "DNS", "DNSname": "ntp.campus.example"},
                          {"Type": "IPv4", "IPv4Address": "10.0.0.1"},
                          {"Type": "IPv6", "IPv6Address": "fd00::1"}]
    assert camera.date_time_type == "NTP"


@st.composite
def _clocks(draw: st.DrawFn) -> tuple[int, int, int, int]:
    return (draw(st.integers(-10**12, 10**12)), draw(st.integers(100_000, 30_000_000)),
            draw(st.integers(10**18, 2 * 10**18)), draw(st.integers(0, 3_000_000)))


@given(_clocks())
def test_the_clocks_bounds_hold_the_offset_and_settle_within_a_second(
        case: tuple[int, int, int, int]) -> None:
    """A simulated camera (whole seconds, truncated) asked as `onvifclock` says, with a
    round trip and a timer that wakes late: the bounds always hold the true offset, and
    settle within a step and two round trips, in about a second."""
    offset, rtt, start, late = case
    step = 50_000_000
    answers: list[onvifclock.Answer] = []

    def ask(sent: int) -> int:
        camera_s = (sent + rtt // 3 + offset) // onvifclock.SECOND_NS
        answers.append(onvifclock.Answer(sent, sent + rtt, camera_s))
        return sent + rtt

    now = ask(start)
    while not onvifclock.settled(answers, step) and len(answers) < 60:
        now = ask(max(now, onvifclock.next_ask_ns(onvifclock.bounds(answers), now, step) + late))
    b = onvifclock.bounds(answers)
    assert b.low_ns <= offset < b.high_ns
    assert abs(b.offset_ns - offset) <= b.error_ns
    assert b.error_ns <= (step + 2 * rtt + onvifclock.SLACK_NS) // 2 + 1
    assert now - start < 1_300_000_000 + 20 * rtt


def test_a_clock_set_while_read_is_said() -> None:
    a = onvifclock.Answer(0, 1_000_000, 100)
    b = onvifclock.Answer(2_000_000, 3_000_000, 105)  # five seconds later, 2 ms on
    with pytest.raises(onvifclock.ClockMoved):
        onvifclock.bounds([a, b])


_WATCHED: list[tuple[str, Any]] | None = None


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if _WATCHED is not None and event in ("socket.connect", "socket.sendto"):
        _WATCHED.append((event, args[1]))
    elif _WATCHED is not None and event == "socket.getaddrinfo":
        _WATCHED.append((event, (args[0], args[1])))


def _loopback(address: Any) -> bool:
    host: object = address[0] if isinstance(address, tuple) else address
    if isinstance(host, bytes):
        host = host.decode()
    if not isinstance(host, str):
        return False
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def test_nothing_is_fetched_from_the_network(camera: OnvifDevice, tmp_path: Path) -> None:
    """The WSDL/XSD (and the W3C xml.xsd and SOAP envelope they import) are read from the
    package: with its documents loaded afresh, a whole survey, NTP and discovery open no
    socket but to the camera on loopback. And the client's schema loader refuses an
    http:// import outright, opening nothing."""
    global _WATCHED
    from onvif.settings import DEFAULT_SETTINGS
    from onvif.transport import ASYNC_TRANSPORT
    from zeep.wsdl import Document

    client = onvif._client()
    sys.addaudithook(_audit)  # for the rest of this process; idle unless watching
    client._DOCUMENT_CACHE.clear()
    remote = tmp_path / "remote.wsdl"
    remote.write_text(
        '<wsdl:definitions xmlns:wsdl="http://schemas.xmlsoap.org/wsdl/" '
        'xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:kuzet:test">'
        '<wsdl:types><xs:schema targetNamespace="urn:kuzet:test">'
        '<xs:import namespace="urn:remote" schemaLocation="http://192.0.2.7/remote.xsd"/>'
        "</xs:schema></wsdl:types></wsdl:definitions>")
    _WATCHED = []
    try:
        onvif.survey(at(camera), with_clock=False)  # set_ntp reads the clock
        onvif.set_ntp("127.0.0.1", camera.port, "admin", PASSWORD, ["10.0.0.1"])
        onvif.discover(0.3, ("127.0.0.1", camera.discovery_port))
        with pytest.raises(RuntimeError, match=r"192\.0\.2\.7"):
            Document(str(remote), ASYNC_TRANSPORT, settings=DEFAULT_SETTINGS)
        seen = list(_WATCHED)
    finally:
        _WATCHED = None
    assert ("socket.connect", ("127.0.0.1", camera.port)) in seen
    assert [s for s in seen if not _loopback(s[1])] == []


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Kuzet]:
    k = Kuzet(tmp_path / "home", tmp_path / "cache")
    k.home.mkdir()
    yield k
    k.close()


def test_kuzet_equipment_onvif_adds_a_recorded_camera_with_its_passport(
        camera: OnvifDevice, home: Kuzet, tmp_path: Path) -> None:
    secret = tmp_path / "camera.pw"
    secret.write_text(PASSWORD + "\n")
    out = home.run("equipment", "onvif", camera.address, "--user", "admin",
                   "--password-file", str(secret), "--add", "gate", "--zone", "entrance",
                   "--json")
    said = json.loads(out.stdout)
    assert said["main"] == {"profile": "prof_main", "uri": STREAM.format(101),
                            "url": STREAM.format(101).replace("//", "//admin:***@")}
    assert said["sub"]["profile"] == "prof_sub"
    assert abs(said["clock"]["offset_ms"] - 2500) < 100
    assert said["added"]["name"] == "gate"
    item = home.json("equipment", "show", "gate")
    assert {k: item[k] for k in ("kind", "state", "model", "manufacturer", "serial", "firmware",
                                 "mac", "ip")} == {
        "kind": "camera", "state": "in_service", "model": "KTC-2000 Dome",
        "manufacturer": "Kuzet Test Cameras", "serial": "KTC2000-0042",
        "firmware": "V5.7.3 build 260101", "mac": "00:1a:2b:3c:4d:5e", "ip": "127.0.0.1"}
    listed = home.json("camera", "list")
    assert [(c["name"], c["zone"], c["url"], c["sub_url"]) for c in listed] == [
        ("gate", "entrance", STREAM.format(101).replace("//", "//admin:***@"),
         STREAM.format(102).replace("//", "//admin:***@"))]
    recorded = home.catalog().cameras()[0]
    assert unquote(urlsplit(recorded.main_url).password or "") == PASSWORD
    # its clock is read there by `kuzet serve` from now on (the URL without credentials)
    assert listed[0]["onvif_url"] == f"http://{camera.address}/onvif/device_service"
    actions = {e["action"]: e for e in home.json("audit", "list")}
    assert {"camera.add", "equipment.change", "camera.onvif"} <= set(actions)
    everything = out.stdout + out.stderr + json.dumps(list(actions.values()))
    assert PASSWORD not in everything
    assert ENCODED not in everything

    # for people, the password from the environment; a second camera of the same serial
    home.env["KUZET_ONVIF_PASSWORD"] = PASSWORD
    text = home.run("equipment", "onvif", camera.address, "--user", "admin").stdout
    assert "KTC-2000 Dome, serial KTC2000-0042" in text
    assert f"main: {STREAM.format(101).replace('//', '//admin:***@')}" in text
    assert "[main]" in text
    assert "[sub]" in text
    assert "clock: " in text
    assert PASSWORD not in text
    refused = home.run("equipment", "onvif", camera.address, "--user", "admin", "--add",
                       "gate2", "--zone", "entrance", check=False)
    assert refused.returncode == 2
    assert "serial 'KTC2000-0042' is already gate's, nothing added" in refused.stderr
    assert [c["name"] for c in home.json("camera", "list")] == ["gate"]


def test_kuzet_equipment_onvif_refusals_and_discover(camera: OnvifDevice,
                                                     home: Kuzet) -> None:
    def refused(*args: str) -> str:
        out = home.run(*args, check=False)
        assert out.returncode == 2, (out.stdout, out.stderr)
        assert "Traceback" not in out.stderr
        return out.stderr

    home.env["KUZET_ONVIF_PASSWORD"] = "wrong"
    assert "the camera refused the user name or password (ter:NotAuthorized)" in refused(
        "equipment", "onvif", camera.address, "--user", "admin", "--add", "gate", "--zone",
        "entrance")
    del home.env["KUZET_ONVIF_PASSWORD"]
    assert "KUZET_ONVIF_PASSWORD" in refused("equipment", "onvif", camera.address,
                                             "--user", "admin")
    asked = len(camera.asked)
    assert "no installation zone" in refused("equipment", "onvif", camera.address, "--add",
                                             "gate")
    assert len(camera.asked) == asked  # refused before the camera was asked anything
    assert home.json("camera", "list") == []

    found = home.json("equipment", "discover", "--to",
                      f"127.0.0.1:{camera.discovery_port}", "--timeout", "0.3")
    assert [(f["address"], f["xaddrs"], f["name"]) for f in found] == [
        (camera.endpoint, [f"http://{camera.address}/onvif/device_service"], "Kuzet Test Dome")]
    assert "--to" in refused("equipment", "discover", "--to", "cam:99999")


def test_the_camera_is_pointed_at_the_campus_time_servers_from_the_command_line(
        camera: OnvifDevice, home: Kuzet) -> None:
    """UE-10-22 3.4.1: `kuzet equipment onvif --set-ntp` sets the camera's clock to follow
    the campus's time servers, audited `camera.ntp`; a name that is no host is refused
    before the camera is asked."""
    home.run("init")
    home.env["KUZET_ONVIF_PASSWORD"] = PASSWORD
    said = home.json("equipment", "onvif", camera.address, "--user", "admin",
                     "--set-ntp", "ntp1.campus.example", "--set-ntp", "10.0.0.1")
    assert said["ntp_set"] == ["ntp1.campus.example", "10.0.0.1"]
    assert camera.ntp == [{"Type": "DNS", "DNSname": "ntp1.campus.example"},
                          {"Type": "IPv4", "IPv4Address": "10.0.0.1"}]
    assert camera.date_time_type == "NTP"
    (entry,) = [e for e in home.json("audit", "list") if e["action"] == "camera.ntp"]
    assert entry["subject"] == camera.address
    assert entry["detail"]["servers"] == ["ntp1.campus.example", "10.0.0.1"]
    asked = len(camera.asked)
    out = home.run("equipment", "onvif", camera.address, "--user", "admin",
                   "--set-ntp", "ntp/evil", check=False)
    assert out.returncode == 2
    assert "a time server's host name or address" in out.stderr
    assert len(camera.asked) == asked


def test_kuzet_serve_reads_a_cameras_clock_over_onvif_where_rtcp_does_not_tell_it(
        kuzet: Kuzet) -> None:
    """UE-10-22 3.4.1 (issue 22): a camera that sends no RTCP sender reports (as FFmpeg's
    client reads none) has its clock read over ONVIF, with its own RTSP credentials: the
    status says the offset and its source, a clock 2.5 s ahead is a `camera_clock`
    warning, and `kuzet camera onvif --off` ends the reading, clearing the warning; both
    changes audited `camera.onvif`."""
    with OnvifDevice(password="camera-pw", clock_offset_s=2.5) as device:  # noqa: S106
        _, port = kuzet.sim("--no-sender-reports", "--auth", "digest", "--user", "admin",
                            "--password", "camera-pw")
        kuzet.run("camera", "add", "gate",
                  f"rtsp://admin:camera-pw@127.0.0.1:{port}/cam01/main", "--zone", "entrance")
        out = kuzet.run("camera", "onvif", "gate", device.address).stdout
        assert f"read over ONVIF at http://{device.address}/onvif/device_service" in out
        kuzet.env["KUZET_ONVIF_CLOCK_POLL_S"] = "2"
        serve = kuzet.serve()

        def clock() -> dict[str, Any] | None:
            st = kuzet.status().get("gate") or {}
            return st if st.get("clock_source") == "onvif" else None

        st = wait_for(clock, 60, 0.5, what="the camera's clock read over ONVIF")
        assert st["state"] == "recording"
        assert abs(st["clock_offset_ms"] - 2500) < 150, st

        def warned() -> list[dict[str, Any]]:
            return [a for a in kuzet.json("alarms") if a["kind"] == "camera_clock"]

        (alarm,) = wait_for(warned, 30, 0.5, what="the camera_clock warning")
        assert alarm["subject"] == "gate"
        assert "ms ahead of this server's (more than 1000 ms)" in alarm["message"]
        assert "+2." in kuzet.run("camera", "onvif", "gate").stdout  # "clock: +2.5.. s"
        kuzet.run("camera", "onvif", "gate", "--off")
        wait_for(lambda: not warned(), 30, 0.5, what="the warning cleared")
        assert kuzet.status()["gate"]["clock_offset_ms"] is None
        stop(serve, timeout=10)
    assert device.invalid == []
    changes = [e["detail"] for e in kuzet.json("audit", "list")
               if e["action"] == "camera.onvif"]
    url = f"http://{device.address}/onvif/device_service"
    assert [(c["onvif_url"], c["before"]) for c in changes] == [(url, None), (None, url)]
