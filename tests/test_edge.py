"""The HTTP edge (issue 16): refusals from outside the LAN tallied per address and minute
and written off the event loop, HSTS on HTTPS answers, a redirect that ignores `Host`, a
chunked body over the cap, and IPv6 tunnel addresses that are never local."""

from __future__ import annotations

import json
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event

from api_world import PASSWORD, World
from conftest import wait_for
from kuzet.access.lan import (
    DEFAULT_ALLOWED,
    ClientAddress,
    allowed,
    parse_address,
    parse_networks,
    public_networks,
)
from kuzet.access.refusals import MINUTE_NS, OTHERS, RefusalTally
from kuzet.timefmt import parse_instant

NOW = parse_instant("2026-09-21T14:00:00Z")
OUTSIDER = "203.0.113.5"  # TEST-NET-3: public, never routed
TEREDO = "2001:0:4136:e378:8000:63bf:3fff:fdd2"


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """SQLite only: the edge of the HTTP server (gate, headers, redirect, body cap); the
    catalog's PostgreSQL path is tested where it matters."""
    return f"sqlite:///{tmp_path / 'catalog.db'}"


def refusals_from(world: World, source: str) -> list[dict[str, Any]]:
    return [json.loads(e.detail) for e in world.audit("access.refused")
            if json.loads(e.detail)["source"] == source]


@contextmanager
def audit_writers(engine: Any) -> Iterator[list[str]]:
    """Names of the threads that insert audit entries while inside."""
    names: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO AUDIT_LOG"):
            names.append(threading.current_thread().name)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        yield names
    finally:
        event.remove(engine, "before_cursor_execute", seen)


def test_off_lan_flood_is_counted_not_written_per_request(storage: Any) -> None:
    world = World(storage, NOW)
    outsider = world.client(OUTSIDER)
    with audit_writers(storage.catalog.engine) as writers:
        for i in range(200):
            assert outsider.get(f"/api/cameras?n={i}").status_code == 403
        assert world.svc.refusals.flush()
    entries = refusals_from(world, OUTSIDER)
    assert [(e["count"], e["first"]) for e in entries] == [(1, True), (199, False)]
    assert {e["minute"] for e in entries} == {"2026-09-21T14:00:00.000000000Z"}
    assert [a.subject for a in world.svc.alarms.list() if a.kind == "non_lan_access"] == [
        OUTSIDER]
    # written by the log's own thread, never on the event loop that answered the requests
    assert writers
    assert set(writers) == {"refusal-log"}


def test_a_later_refusal_closes_the_minute(storage: Any) -> None:
    world = World(storage, NOW)
    outsider = world.client(OUTSIDER)
    for _ in range(3):
        assert outsider.get("/api/cameras").status_code == 403
    world.clock.advance(61)
    assert outsider.post("/api/auth/login", json={}).status_code == 403
    wait_for(lambda: len(refusals_from(world, OUTSIDER)) == 3, 10,
             what="the closed minute's tally and the new minute's first")
    entries = refusals_from(world, OUTSIDER)
    assert [(e["count"], e["first"], e["minute"][11:16]) for e in entries] == [
        (1, True, "14:00"), (2, False, "14:00"), (1, True, "14:01")]
    assert world.svc.refusals.flush()
    assert len(refusals_from(world, OUTSIDER)) == 3  # nothing more was counted


def test_stopping_the_server_writes_what_was_only_counted(storage: Any) -> None:
    """Both ports refuse through one log; `kuzet serve` stopping closes the minute."""
    world = World(storage, NOW, https_port=0, http_redirect_port=0,
                  allowed_networks=["10.0.0.0/8"])  # so this machine is outside
    with world.served() as base, _https(world) as c:
        for _ in range(3):
            assert c.get(base + "/login").status_code == 403
        for _ in range(2):
            assert httpx.get(_urls(world)["http"] + "/login").status_code == 403
    assert [(e["count"], e["first"]) for e in refusals_from(world, "127.0.0.1")] == [
        (1, True), (4, False)]


def test_the_tally_is_bounded_under_a_flood_from_many_addresses() -> None:
    tally = RefusalTally(max_sources=3, max_pending=100)
    for i in range(1000):
        tally.refused(f"203.0.113.{i % 250}", "/x", "http", NOW + i)
    first = tally.take()
    assert [(r.source, r.count, r.first) for r in first] == [
        ("203.0.113.0", 1, True), ("203.0.113.1", 1, True), ("203.0.113.2", 1, True),
        (OTHERS, 1, True)]
    assert tally.close(NOW + MINUTE_NS - 1) is False  # still the same minute
    assert tally.close(NOW + MINUTE_NS)
    later = tally.take()
    assert sum(r.count for r in first + later) == 1000
    assert [r.source for r in later] == ["203.0.113.0", "203.0.113.1", "203.0.113.2", OTHERS]
    assert tally.closes_at_ns is None
    assert tally.pending == 0


def test_records_nobody_took_are_folded_not_lost() -> None:
    tally = RefusalTally(max_sources=1000, max_pending=2)
    for i in range(10):
        tally.refused(f"10.9.0.{i}", "/x", "websocket", NOW)
    out = tally.take()
    assert [(r.source, r.count, r.first) for r in out] == [
        ("10.9.0.0", 1, True), ("10.9.0.1", 1, True), (OTHERS, 8, False)]


def test_teredo_and_6to4_are_never_local() -> None:
    everything = parse_networks(["::/0", "2001::/23", "2002::/16", "0.0.0.0/0"])
    for text in (TEREDO, "2001::1", "2002:a00:1::1", "2002:c000:204::1", "64:ff9b::a00:1"):
        a = parse_address(text)
        assert not allowed(ClientAddress(a, text), everything), text
    # The 10.0.0.1 inside 2002:a00:1:: does not make it a LAN client; a mapped address is
    # how a dual-stack socket shows an IPv4 client, so it is judged as that client.
    mapped = parse_address("::ffff:10.0.0.1")
    assert str(mapped) == "10.0.0.1"
    assert allowed(ClientAddress(mapped, "10.0.0.1"), parse_networks(DEFAULT_ALLOWED))
    # Python calls 2001::/23 (Teredo included) "private"; an allowlist holding it is public
    for net in ("2001::/32", "2001::/23", "2001:0:4136::/48", "2002:a00::/24", "64:ff9b::/96"):
        assert public_networks(parse_networks([net])), net
    assert not public_networks(parse_networks(DEFAULT_ALLOWED))


def test_a_teredo_client_is_refused_whatever_the_allowlist(storage: Any) -> None:
    from pydantic import ValidationError

    from kuzet.config import Settings

    with pytest.raises(ValidationError, match=r"3\.5\.3"):
        Settings(home=storage.settings.home, allowed_networks=[*DEFAULT_ALLOWED, "2001::/32"])
    # nor can the campus's own public ranges name it (`allowed` refuses it anyway: above)
    with pytest.raises(ValidationError, match=r"tunnelling prefix.*3\.5\.3"):
        Settings(home=storage.settings.home, allowed_networks=[*DEFAULT_ALLOWED, "2001::/32"],
                 campus_public_networks=["2001::/32"])
    world = World(storage, NOW)
    world.user("guard", "guard")
    r = world.client(TEREDO).post("/api/auth/login",
                                  json={"username": "guard", "password": PASSWORD})
    assert r.status_code == 403
    assert "3.5.3" in r.json()["detail"]
    assert world.svc.refusals.flush()
    assert [e["count"] for e in refusals_from(world, TEREDO)] == [1]


def test_hsts_on_every_https_answer_never_on_the_redirect(storage: Any) -> None:
    world = World(storage, NOW, https_port=0, http_redirect_port=0)
    hsts = "max-age=31536000"
    assert world.client().get("/login").headers["strict-transport-security"] == hsts
    refused = world.client(OUTSIDER).get("/login")  # the LAN gate's own 403
    assert refused.status_code == 403
    assert refused.headers["strict-transport-security"] == hsts
    with world.served() as base, _https(world) as c:
        for path in ("/login", "/api/auth/me", "/static/nothing-here"):
            r = c.get(base + path)
            assert r.headers.get("strict-transport-security") == hsts, (path, r.status_code)
        redirect = httpx.get(_urls(world)["http"] + "/login", follow_redirects=False)
        assert redirect.status_code == 308
        assert "strict-transport-security" not in redirect.headers


def test_the_redirect_names_the_server_not_the_host_header(storage: Any) -> None:
    world = World(storage, NOW, https_port=0, http_redirect_port=0,
                  public_name="kuzet.campus.test")
    with world.served() as base:
        port = base.rsplit(":", 1)[1]
        http = _urls(world)["http"]
        for host in ("evil.example", "evil.example:443", "kuzet.campus.test@evil.example"):
            r = httpx.get(http + "/archive/cam1?at=1%0d%0aX:%20y", follow_redirects=False,
                          headers={"Host": host})
            assert r.status_code == 308
            assert r.headers["location"] == (f"https://kuzet.campus.test:{port}"
                                             "/archive/cam1?at=1%0d%0aX:%20y"), host


def test_the_redirect_defaults_to_the_host_name(storage: Any) -> None:
    """The name the generated certificate carries (kuzet.access.tls)."""
    world = World(storage, NOW, https_port=0, http_redirect_port=0)
    with world.served() as base:
        r = httpx.get(_urls(world)["http"] + "/", follow_redirects=False,
                      headers={"Host": "evil.example"})
        port = base.rsplit(":", 1)[1]
        assert r.headers["location"] == f"https://{socket.gethostname()}:{port}/"


def test_the_redirect_location() -> None:
    from kuzet.web.server import https_location

    assert https_location("fd00::5", 443, "/a%20b", "") == "https://[fd00::5]/a%20b"
    assert https_location("kuzet", 8443, "*", "x=1") == "https://kuzet:8443/*?x=1"


def test_a_chunked_body_over_the_cap_gets_413(storage: Any) -> None:
    world = World(storage, NOW, https_port=0, http_redirect_port=None, max_body_bytes=1024)
    world.user("guard", "guard")

    def chunks(body: bytes) -> Iterator[bytes]:
        for i in range(0, len(body), 300):
            yield body[i:i + 300]

    big = json.dumps({"username": "guard", "password": "x" * 2000}).encode()
    small = json.dumps({"username": "guard", "password": PASSWORD}).encode()
    with world.served() as base, _https(world) as c:
        r = c.post(base + "/api/auth/login", content=chunks(big),
                   headers={"content-type": "application/json"})
        assert r.request.headers.get("transfer-encoding") == "chunked"
        assert "content-length" not in r.request.headers
        assert r.status_code == 413, r.text
        assert "1024" in r.json()["detail"]
        # under the cap, a chunked body is read as before
        r = c.post(base + "/api/auth/login", content=chunks(small),
                   headers={"content-type": "application/json"})
        assert r.status_code == 200, r.text


def _urls(world: World) -> dict[str, str]:
    urls: dict[str, str] = json.loads((world.settings.home / "run" / "api.json").read_text())
    return urls


def _https(world: World) -> httpx.Client:
    return httpx.Client(verify=ssl.create_default_context(
        cafile=str(world.settings.cert_path)))
