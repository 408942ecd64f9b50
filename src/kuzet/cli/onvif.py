"""`kuzet equipment onvif` and `kuzet equipment discover` (issue 22 item 6): a real camera
read over ONVIF from the server's command line, and added for recording from what it says.

The commands' options are declared in `kuzet.cli.equipment`; their work is here, so that
importing the command line loads no SOAP client. A camera is added exactly as `kuzet
camera add` adds one (the same function: its checks, its `camera.add` audit entry with the
URLs masked); its passport is then written through the register as `kuzet equipment set`
writes one, audited `equipment.change`. The password is read from a file or the
environment, never from the command line (where `ps` shows it), and shown nowhere.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from kuzet.cli.common import fail
from kuzet.errors import KuzetError

if TYPE_CHECKING:
    from kuzet.equipment.onvif import Stream, Survey, Target

PASSWORD_ENV = "KUZET_ONVIF_PASSWORD"  # noqa: S105 (the variable's name)


def password_of(user: str | None, password_file: Path | None) -> str | None:
    """The password: the first line of `password_file`, else $KUZET_ONVIF_PASSWORD."""
    if password_file is not None:
        try:
            text = password_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise fail(f"cannot read {password_file}: "
                       f"{getattr(exc, 'strerror', None) or exc}") from exc
        password: str | None = text.splitlines()[0] if text else ""
    else:
        password = os.environ.get(PASSWORD_ENV)
    if user and password is None:
        raise fail(f"--user {user}: give the password in --password-file or {PASSWORD_ENV}")
    if password is not None and not user:
        raise fail("a password without --user: give the camera's user name")
    return password


def _stream(s: Stream | None) -> dict[str, Any] | None:
    if s is None:
        return None
    return {"profile": s.profile.token, "uri": s.uri, "url": s.url.shown}


def on_lan(url: str) -> None:
    """A camera is asked only on the LAN (UE-10-22 3.5.3): never send its credentials'
    digest to an address outside `allowed_networks`."""
    from urllib.parse import urlsplit

    from kuzet.access.destinations import Destination
    from kuzet.cli.common import read_settings

    parts = urlsplit(url)
    Destination.on_lan("the camera's address", parts.hostname or "", parts.port or 80,
                       read_settings().lan).check_at_load()


def _report(address: str, found: Survey) -> dict[str, Any]:
    info, clock = found.info, found.clock
    return {
        "address": address,
        "device": {"manufacturer": info.manufacturer, "model": info.model,
                   "firmware": info.firmware, "serial": info.serial,
                   "hardware_id": info.hardware_id, "mac": info.mac, "ip": info.ip},
        "profiles": [{"token": p.token, "name": p.name, "encoding": p.encoding,
                      "width": p.width, "height": p.height, "fps": p.fps,
                      "bitrate_kbps": p.bitrate_kbps} for p in found.streams.profiles],
        "main": _stream(found.streams.main), "sub": _stream(found.streams.sub),
        "clock": None if clock is None else {
            "camera_utc": dt.datetime.fromtimestamp(clock.camera_s, dt.UTC)
            .isoformat().replace("+00:00", "Z"),
            "offset_ms": round(clock.offset_ns / 1e6, 1),
            "error_ms": round(clock.error_ns / 1e6, 1),
            "round_trip_ms": round(clock.round_trip_ns / 1e6, 1), "set_by": clock.set_by},
    }


def _lines(r: dict[str, Any]) -> list[str]:
    d, c = r["device"], r["clock"]
    out = [f"{r['address']}: {d['manufacturer']} {d['model']}, serial {d['serial'] or '-'}, "
           f"firmware {d['firmware'] or '-'}, hardware {d['hardware_id'] or '-'}, "
           f"MAC {d['mac'] or '-'}, IP {d['ip'] or '-'}", "profiles:"]
    picked = {r["main"]["profile"]: "main", (r["sub"] or {}).get("profile"): "sub"}
    for p in r["profiles"]:
        fps = f"{p['fps']:g} fps" if p["fps"] is not None else "-"
        rate = f"{p['bitrate_kbps']} kbit/s" if p["bitrate_kbps"] is not None else "-"
        mark = f"  [{picked[p['token']]}]" if p["token"] in picked else ""
        size = f"{p['width']}x{p['height']}"
        out.append(f"  {p['token']:<16} {p['name']:<16} {p['encoding'] or '-':<6} "
                   f"{size:<10} {fps:<8} {rate:<12}{mark}".rstrip())
    out.append(f"main: {r['main']['url']}")
    out.append(f"sub:  {r['sub']['url'] if r['sub'] else '- (one picture size only)'}")
    if c is not None:
        set_by = {"NTP": "by NTP", "Manual": "by hand"}.get(c["set_by"] or "", "-")
        out.append(f"clock: {c['camera_utc']} on the camera, {c['offset_ms'] / 1000:+.3f} s "
                   f"against this server's (± {c['error_ms'] / 1000:.3f} s), set {set_by}")
    return out


def read_camera(address: str, user: str | None, password_file: Path | None,
                add: str | None, zone: str | None, timeout_s: float, as_json: bool,
                ntp: list[str] | None = None) -> None:
    """`kuzet equipment onvif`."""
    from kuzet.equipment import onvif

    password = password_of(user, password_file)
    if add is not None:
        from kuzet.regulation import check_zone

        try:
            check_zone(zone)  # refused before the camera is asked anything
        except KuzetError as exc:
            raise fail(str(exc)) from exc
    try:
        t = onvif.target(address, user, password, timeout_s)
        on_lan(t.device_url)
        if ntp:
            _set_ntp(t, ntp)
        found = onvif.survey(t)
    except KuzetError as exc:
        raise fail(str(exc)) from exc
    report = _report(t.address, found)
    if ntp:
        report["ntp_set"] = ntp
    if add is not None:
        report["added"] = _add(add, zone, found, as_json, t.device_url)
    if as_json:
        typer.echo(json.dumps(report, indent=1, ensure_ascii=False))
    else:
        for line in _lines(report):
            typer.echo(line)


def _set_ntp(t: Target, servers: list[str]) -> None:
    """Point the camera at the campus's time servers (3.4.1), audited `camera.ntp`
    (written once the camera took it: a refusal changed nothing)."""
    from kuzet.audit.actions import AuditAction
    from kuzet.audit.log import AuditLog
    from kuzet.cli.common import local_actor, open_catalog, read_settings
    from kuzet.equipment import onvif

    for server in servers:
        if not server or any(c in server for c in " /@?#") or len(server) > 253:
            raise fail(f"--set-ntp {server!r}: a time server's host name or address")
    onvif.set_ntp_at(t, servers)
    AuditLog(open_catalog(read_settings()).session).act(
        local_actor(), AuditAction.CAMERA_NTP, t.address, servers=servers)


def _add(name: str, zone: str | None, found: Survey, as_json: bool,
         device_url: str) -> dict[str, Any]:
    """The camera added for recording with its main and sub stream, then its passport and
    its ONVIF address (where `kuzet serve` reads its clock); what `camera add` says goes
    to stderr under --json, which stdout holds alone."""
    import contextlib
    import sys

    from kuzet.audit.actions import AuditAction
    from kuzet.cli.common import audited, local_actor
    from kuzet.cli.equipment import _audit, _passport, _register
    from kuzet.cli.main import camera_add

    reg, settings, _catalog = _register()
    try:  # the passport is checked before the camera is added, not after
        passport = _passport(found.info.passport(), settings)
    except KuzetError as exc:
        raise fail(f"{name}: the camera's passport is refused, nothing added: {exc}") from exc
    serial = passport.values.get("serial")
    other = next((v.name for v in reg.items() if serial and v.values.get("serial") == serial),
                 None)
    if other is not None:
        raise fail(f"{name}: serial {serial!r} is already {other}'s, nothing added")
    sub = found.streams.sub
    with contextlib.redirect_stdout(sys.stderr) if as_json else contextlib.nullcontext():
        camera_add(name, found.streams.main.url.reveal(),
                   sub_url=sub.url.reveal() if sub else None, zone=zone, location=None,
                   building=None, floor=None, transport=None, retention_days=None,
                   tls_fingerprint=None)
    try:
        _catalog.set_onvif(name, device_url, audit=audited(
            AuditAction.CAMERA_ONVIF, name, onvif_url=device_url, before=None))
        item = reg.update(name, passport, by=local_actor().name,
                          audit=_audit(AuditAction.EQUIPMENT_CHANGE, via="onvif"))
    except KuzetError as exc:
        raise fail(f"{name} is recorded, but its passport was not written: {exc}") from exc
    written = {k: item.values.get(k) for k in passport.values}
    typer.echo(f"{name}: passport " + ", ".join(f"{k} {v}" for k, v in written.items() if v),
               err=as_json)
    return {"name": name, "passport": written}


def discover(timeout_s: float, to: str | None, as_json: bool) -> None:
    """`kuzet equipment discover`."""
    from kuzet.cli.common import emit
    from kuzet.endpoints import host_port
    from kuzet.equipment.wsdiscovery import PORT, discover

    target = None
    if to is not None:
        try:
            target = host_port(to, PORT)
        except ValueError as exc:
            raise fail(f"--to: {exc}") from exc
    try:
        found = discover(timeout_s, target)
    except KuzetError as exc:
        raise fail(str(exc)) from exc
    rows = [{"address": f.address, "xaddrs": list(f.xaddrs), "name": f.scope("name"),
             "hardware": f.scope("hardware"), "location": f.scope("location"),
             "scopes": list(f.scopes)} for f in found]
    if not rows and not as_json:  # silence would read as a command that did nothing
        typer.echo(f"no ONVIF camera answered within {timeout_s:g} s")
        return
    emit(rows, as_json, lambda r: (
        f"{' '.join(r['xaddrs'])}  {r['name'] or '-'} ({r['hardware'] or '-'}; "
        f"{r['location'] or '-'})  {r['address']}"))
