"""ONVIF for real cameras (Profile S; issue 22 item 6): what a camera says of itself, so
that adding it needs only its address and credentials.

- `discover`: WS-Discovery on the LAN (`kuzet.equipment.wsdiscovery`);
- `device_info`: GetDeviceInformation (and GetNetworkInterfaces' MAC) for the register's
  passport: manufacturer, model, firmware, serial, MAC, IP;
- `streams`: the media profiles and GetStreamUri (RTP unicast over RTSP) of the main
  (largest picture) and the sub stream (smallest), each as the camera gave it and as the
  URL Kuzet records from, the credentials inserted percent-encoded in a `SecretUrl`
  (masked wherever shown, never logged);
- `clock`: GetSystemDateAndTime, the camera's clock against this server's
  (`kuzet.equipment.onvifclock`); `set_ntp`: point it at the campus's time servers.

The SOAP client is onvif-zeep-async (zeep over aiohttp), asynchronous inside; each public
function here is a small synchronous facade for the command line, one `asyncio.run`, and
every request is bounded by `timeout_s`. Its WSDL and XSD files ship inside the package and
are read from there: its schema loader refuses any `http(s)://` location and its SOAP
transport loads nothing at all, so nothing is fetched at run time
(tests/test_onvif.py opens no socket but to the camera). Authentication is WS-Security's
UsernameToken with a password digest (the password never travels); a camera that wants
HTTP Digest instead is refused as wrong credentials, with `HTTP 401` said.

A camera that refuses (wrong credentials, a SOAP fault, no answer, not ONVIF at all) is an
`OnvifError` saying which, never a traceback.
"""

from __future__ import annotations

import asyncio
import calendar
import ipaddress
import logging
import os
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit, urlunsplit

from kuzet.credentials import SecretUrl
from kuzet.equipment import onvifclock
from kuzet.equipment.fields import LIMITS, MAC
from kuzet.equipment.wsdiscovery import Found, discover
from kuzet.errors import Invalid, Unavailable

__all__ = ["Clock", "DeviceInfo", "Found", "OnvifError", "Profile", "Stream", "Streams",
           "Survey", "Target", "clock", "clock_at", "device_info", "discover", "set_ntp",
           "set_ntp_at", "streams", "survey", "target"]

TIMEOUT_S = 5.0
CLOCK_STEP_NS = 50_000_000  # the clock's resolution sought: ±25 ms and half a round trip
CLOCK_BUDGET_S = 3.0  # the clock's questions stop by then, settled or not
DEVICE_NS = "http://www.onvif.org/ver10/device/wsdl"
MEDIA_NS = "http://www.onvif.org/ver10/media/wsdl"
SERVICES = {"devicemgmt": ("devicemgmt.wsdl", f"{{{DEVICE_NS}}}DeviceBinding"),
            "media": ("media.wsdl", f"{{{MEDIA_NS}}}MediaBinding")}

BAD_ADDRESS = ("not a camera's address: {address!r} (host, host:port or "
               "http://host[:port]/onvif/device_service)")
CREDENTIALS = "{address}: the camera refused the user name or password ({how})"
NO_ANSWER = "{address}: no ONVIF answer within {seconds} s"
UNREACHABLE = "{address}: cannot connect to the camera ({reason})"
NOT_ONVIF = "{address}: not an ONVIF camera ({what})"
REFUSED = "{address}: the camera refused {operation} ({reason})"
NO_MEDIA = "{address}: the camera has no ONVIF media service"
NO_STREAM = "{address}: the camera gives no RTSP stream"
NO_UTC = "{address}: the camera does not say its time in UTC"
CLOCK_MOVED = "{address}: the camera's clock was set while it was read; try again"

T = TypeVar("T")


class OnvifError(Unavailable):
    """A camera refused ONVIF, or could not be read. `why` is one of `credentials`,
    `timeout`, `unreachable`, `not_onvif`, `fault` (the camera refused one operation)
    and `camera` (it answered, but without what was asked)."""

    def __init__(self, message: str, /, *, why: str, **values: object) -> None:
        super().__init__(message, **values)
        self.why = why


@dataclass(frozen=True)
class Target:
    """A camera's device service and the credentials to use; the password never shown."""

    device_url: str  # http://host[:port]/onvif/device_service
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout_s: float = TIMEOUT_S

    @property
    def address(self) -> str:
        """host or host:port, as messages name the camera."""
        return urlsplit(self.device_url).netloc

    @property
    def host(self) -> str:
        return urlsplit(self.device_url).hostname or ""

    @property
    def port(self) -> int:
        parts = urlsplit(self.device_url)
        return parts.port or (443 if parts.scheme == "https" else 80)


def target(address: str, user: str | None = None, password: str | None = None,
           timeout_s: float = TIMEOUT_S) -> Target:
    """A Target from `host`, `host:port`, `[v6]:port` or a device service URL (an XAddr
    WS-Discovery found)."""
    text = address.strip()
    if "://" in text:
        parts = urlsplit(text)
        try:
            parts.port  # noqa: B018 (a port out of range raises here)
        except ValueError:
            raise Invalid(BAD_ADDRESS, address=address) from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise Invalid(BAD_ADDRESS, address=address)
        return Target(urlunsplit(parts._replace(path=parts.path or "/onvif/device_service")),
                      user, password, timeout_s)
    from kuzet.endpoints import host_port

    try:
        host, port = host_port(text, 80)
    except ValueError:
        raise Invalid(BAD_ADDRESS, address=address) from None
    if any(c in host for c in "/@?#[] ") or (":" in host and not _is_ip(host)):
        raise Invalid(BAD_ADDRESS, address=address)
    shown = f"[{host}]" if ":" in host else host
    netloc = shown if port == 80 else f"{shown}:{port}"
    return Target(f"http://{netloc}/onvif/device_service", user, password, timeout_s)


@dataclass(frozen=True)
class DeviceInfo:
    manufacturer: str
    model: str
    firmware: str
    serial: str
    hardware_id: str
    mac: str | None = None  # the first enabled network interface's
    ip: str | None = None  # the address asked, or the interface's IPv4 address

    def passport(self) -> dict[str, str | None]:
        """The register's fields it fills (`kuzet.equipment.fields.check_passport` checks
        them). A camera's model, maker or firmware longer than the register keeps is cut,
        as they describe; a serial is not, as it identifies (check_passport refuses it). A
        MAC or IP that is none is left out rather than refused."""
        def cut(key: str, value: str) -> str | None:
            return value[:LIMITS[key]].strip() or None

        mac = self.mac if self.mac and MAC.fullmatch(self.mac.lower()) else None
        return {"manufacturer": cut("manufacturer", self.manufacturer),
                "model": cut("model", self.model), "firmware": cut("firmware", self.firmware),
                "serial": self.serial.strip() or None, "mac": mac,
                "ip": self.ip if self.ip and _is_ip(self.ip) else None}


@dataclass(frozen=True)
class Profile:
    """A media profile's video, as GetProfiles says it."""

    token: str
    name: str
    encoding: str | None
    width: int
    height: int
    fps: float | None
    bitrate_kbps: int | None

    @property
    def pixels(self) -> int:
        return self.width * self.height


@dataclass(frozen=True)
class Stream:
    profile: Profile
    uri: str  # as the camera gave it, less any user or password it put in
    url: SecretUrl  # the URL to record from: `uri` with the credentials inserted


@dataclass(frozen=True)
class Streams:
    profiles: tuple[Profile, ...]
    main: Stream
    sub: Stream | None  # None: the camera has one video profile, or one picture size


@dataclass(frozen=True)
class Clock:
    camera_s: int  # the camera's UTC, whole seconds, at its first answer
    offset_ns: int  # + : the camera's clock is ahead of this server's
    error_ns: int  # the offset is at most this far out
    round_trip_ns: int  # the shortest of its answers
    answers: int
    set_by: str | None  # tt:SetDateTimeType: NTP or Manual


@dataclass(frozen=True)
class Survey:
    info: DeviceInfo
    streams: Streams
    clock: Clock | None


# Pure: the camera's answers as Kuzet's.

def choose(profiles: Sequence[Profile]) -> tuple[Profile, Profile | None]:
    """The main stream (the largest picture, the camera's first of equals) and the sub
    stream (the smallest, if smaller); ValueError when no profile has video."""
    video = [p for p in profiles if p.pixels > 0]
    if not video:
        raise ValueError("no video profile")
    main = max(video, key=lambda p: p.pixels)  # max and min keep the first of equals
    sub = min(video, key=lambda p: p.pixels)
    return main, (sub if sub.pixels < main.pixels else None)


def without_credentials(uri: str) -> str:
    parts = urlsplit(uri)
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def on_host(uri: str, host: str) -> str:
    """`uri` on `host`, its scheme, port and path kept. A camera names its media service
    and its streams by URL, and may name any host: a rogue device on the LAN would have
    Kuzet send it the credentials' digest, and record from it with the password; a camera
    behind NAT names its inside address. The host asked is the one used."""
    parts = urlsplit(without_credentials(uri))
    shown = f"[{host}]" if ":" in host else host
    port = parts.port
    return urlunsplit(parts._replace(netloc=shown if port is None else f"{shown}:{port}"))


def with_credentials(uri: str, user: str | None, password: str | None) -> SecretUrl:
    """`uri` with `user:password@` (each percent-encoded: Kuzet's RTSP client decodes
    them) in place of whatever user the camera put in; without a user, as it is."""
    parts = urlsplit(without_credentials(uri))
    if not user:
        return SecretUrl(parts.geturl())
    userinfo = quote(user, safe="")
    if password is not None:
        userinfo += ":" + quote(password, safe="")
    return SecretUrl(urlunsplit(parts._replace(netloc=f"{userinfo}@{parts.netloc}")))


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _profile(p: Any) -> Profile:
    vec = getattr(p, "VideoEncoderConfiguration", None)
    res = getattr(vec, "Resolution", None)
    rate = getattr(vec, "RateControl", None)
    fps = getattr(rate, "FrameRateLimit", None)
    bitrate = getattr(rate, "BitrateLimit", None)
    return Profile(token=_text(p.token), name=_text(getattr(p, "Name", "")),
                   encoding=_text(getattr(vec, "Encoding", None)) or None,
                   width=int(getattr(res, "Width", 0) or 0),
                   height=int(getattr(res, "Height", 0) or 0),
                   fps=float(fps) if fps is not None else None,
                   bitrate_kbps=int(bitrate) if bitrate is not None else None)


def _utc_s(answer: Any) -> int | None:
    """tt:SystemDateTime's UTCDateTime as seconds since 1970; None when it gives none."""
    utc = getattr(answer, "UTCDateTime", None)
    if utc is None or utc.Date is None or utc.Time is None:
        return None
    d, t = utc.Date, utc.Time
    return calendar.timegm((int(d.Year), int(d.Month), int(d.Day), int(t.Hour),
                            int(t.Minute), int(t.Second), 0, 0, 0))


def _mac(interfaces: Any) -> tuple[str | None, str | None]:
    """The first enabled interface's MAC and IPv4 address."""
    for nic in interfaces or ():
        if getattr(nic, "Enabled", True) is False:
            continue
        mac = _text(getattr(getattr(nic, "Info", None), "HwAddress", None)) or None
        config = getattr(getattr(nic, "IPv4", None), "Config", None)
        ips = [*(getattr(config, "Manual", None) or ()),
               getattr(config, "FromDHCP", None)]
        ip = next((_text(a.Address) for a in ips if a is not None and _text(a.Address)), None)
        return mac, ip
    return None, None


def screen(address: str, status: int, content_type: str, body: bytes) -> None:
    """An HTTP answer looked at before the SOAP client reads it: a web page, a 404 or a 401
    is refused as such (OnvifError), where the client would say it could not parse it; a
    SOAP answer or fault passes."""
    kind = content_type.partition(";")[0].strip().lower()
    said = f"HTTP {status}, {kind or 'no Content-Type'}"
    if status == 401:
        raise OnvifError(CREDENTIALS, why="credentials", address=address, how="HTTP 401")
    if (kind and "xml" not in kind) or (status != 200 and b"Fault" not in body):
        raise OnvifError(NOT_ONVIF, why="not_onvif", address=address, what=said)


def _ntp_host(server: str) -> dict[str, str]:
    """A tt:NetworkHost for an NTP server's name or address."""
    try:
        version = ipaddress.ip_address(server).version
    except ValueError:
        return {"Type": "DNS", "DNSname": server}
    return ({"Type": "IPv4", "IPv4Address": server} if version == 4
            else {"Type": "IPv6", "IPv6Address": server})


# The I/O shell: one camera's services for the length of a survey.

def _client() -> Any:
    """onvif.client, imported without its `logging.basicConfig(level=INFO)` taking over
    this process's root logger (a command's stderr would fill with other libraries'
    INFO lines)."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        import onvif.client
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    return onvif.client


def _refusal(exc: BaseException, t: Target, operation: str) -> OnvifError:
    """What went wrong, in words: the client's and the transport's exceptions, each
    mapped once."""
    import aiohttp
    from zeep.exceptions import Fault, TransportError

    address = t.address
    if isinstance(exc, OnvifError):
        return exc
    if isinstance(exc, TimeoutError):
        return OnvifError(NO_ANSWER, why="timeout", address=address,
                          seconds=f"{t.timeout_s:g}")
    if isinstance(exc, Fault):
        codes = " ".join(str(c) for c in exc.subcodes or ())
        message = _text(exc.message)
        if exc.code is None and not codes:  # an HTTP error whose XML is no SOAP fault
            return OnvifError(NOT_ONVIF, why="not_onvif", address=address,
                              what=f"{operation}: {message[:100]}")
        if "NotAuthorized" in codes or "not authorized" in message.lower():
            return OnvifError(CREDENTIALS, why="credentials", address=address,
                              how="ter:NotAuthorized")
        return OnvifError(REFUSED, why="fault", address=address, operation=operation,
                          reason=(message or codes or _text(exc.code))[:200])
    if isinstance(exc, TransportError):  # an empty answer, or one that is not XML
        return OnvifError(NOT_ONVIF, why="not_onvif", address=address,
                          what=f"HTTP {exc.status_code}")
    if isinstance(exc, aiohttp.ClientConnectorError):
        code = exc.os_error.errno
        return OnvifError(UNREACHABLE, why="unreachable", address=address,
                          reason=os.strerror(code) if code else str(exc.os_error))
    if isinstance(exc, OSError) and not isinstance(exc, aiohttp.ClientError):
        return OnvifError(UNREACHABLE, why="unreachable", address=address,
                          reason=exc.strerror or type(exc).__name__)
    # anything else is an answer the client could not read as the operation's
    return OnvifError(NOT_ONVIF, why="not_onvif", address=address,
                      what=f"{operation}: {type(exc).__name__}")


class _Camera:
    """One camera's device and media services, opened as first used, closed on exit."""

    def __init__(self, t: Target) -> None:
        self.t = t
        self.services: dict[str, Any] = {}
        self.media_url: str | None = None

    async def __aenter__(self) -> _Camera:
        return self

    async def __aexit__(self, *exc: object) -> None:
        for service in self.services.values():
            await service.close()

    async def _service(self, name: str) -> Any:
        if name not in self.services:
            client = _client()
            wsdl, binding = SERVICES[name]
            url = self.t.device_url if name == "devicemgmt" else await self._media_url()
            service = client.ONVIFService(
                url, self.t.user, self.t.password, str(Path(client.__file__).parent / "wsdl"
                                                        / wsdl),
                no_cache=True, binding_name=binding, binding_key=(name, None),
                read_timeout=max(1, round(self.t.timeout_s)))
            self.services[name] = service  # closed on exit even if setup fails
            self._screened(service.transport)
            await service.setup()
        return self.services[name]

    def _screened(self, transport: Any) -> None:
        """Every answer `screen`ed before the client parses it."""
        post_xml = transport.post_xml

        async def screened(address: str, envelope: Any, headers: dict[str, str]) -> Any:
            response = await post_xml(address, envelope, headers)
            screen(self.t.address, response.status_code,
                   response.headers.get("Content-Type", ""), response.content)
            return response

        transport.post_xml = screened

    async def call(self, service: str, operation: str, params: dict[str, Any] | None = None,
                   *, authless: bool = False) -> Any:
        """One operation, within the target's timeout; OnvifError on any refusal."""
        try:
            svc = await self._service(service)
            name = operation if self.t.user and not authless else f"authless_{operation}"
            return await asyncio.wait_for(getattr(svc, name)(params), self.t.timeout_s)
        except Exception as exc:
            raise _refusal(exc, self.t, operation) from None

    async def _media_url(self) -> str:
        """The media service's URL: GetServices, or GetCapabilities where the camera
        refuses that (Profile S cameras before GetServices)."""
        if self.media_url is None:
            try:
                found = await self.call("devicemgmt", "GetServices", {"IncludeCapability": False})
                urls = [_text(s.XAddr) for s in found or () if _text(s.Namespace) == MEDIA_NS]
            except OnvifError as exc:
                if exc.why != "fault":
                    raise
                caps = await self.call("devicemgmt", "GetCapabilities", {"Category": "Media"})
                urls = [_text(getattr(getattr(caps, "Media", None), "XAddr", None))]
            urls = [u for u in urls if u]
            if not urls:
                raise OnvifError(NO_MEDIA, why="camera", address=self.t.address)
            self.media_url = on_host(urls[0], self.t.host)
        return self.media_url

    async def device_info(self) -> DeviceInfo:
        got = await self.call("devicemgmt", "GetDeviceInformation")
        try:
            mac, ip = _mac(await self.call("devicemgmt", "GetNetworkInterfaces"))
        except OnvifError as exc:  # a camera that keeps its interfaces to itself
            if exc.why != "fault":
                raise
            mac, ip = None, None
        return DeviceInfo(manufacturer=_text(got.Manufacturer), model=_text(got.Model),
                          firmware=_text(got.FirmwareVersion), serial=_text(got.SerialNumber),
                          hardware_id=_text(got.HardwareId), mac=mac,
                          ip=self.t.host if _is_ip(self.t.host) else ip)

    async def streams(self) -> Streams:
        profiles = tuple(_profile(p) for p in await self.call("media", "GetProfiles") or ())
        try:
            main, sub = choose(profiles)
        except ValueError:
            raise OnvifError(NO_STREAM, why="camera", address=self.t.address) from None
        return Streams(profiles, await self._stream(main),
                       await self._stream(sub) if sub is not None else None)

    async def _stream(self, profile: Profile) -> Stream:
        got = await self.call("media", "GetStreamUri", {
            "StreamSetup": {"Stream": "RTP-Unicast", "Transport": {"Protocol": "RTSP"}},
            "ProfileToken": profile.token})
        uri = _text(getattr(got, "Uri", None))
        if not uri:
            raise OnvifError(NO_STREAM, why="camera", address=self.t.address)
        uri = on_host(uri, self.t.host)
        return Stream(profile, uri, with_credentials(uri, self.t.user, self.t.password))

    async def _time(self) -> tuple[Any, bool]:
        """GetSystemDateAndTime, which ONVIF answers before authentication (a camera's
        clock far off would refuse the digest's timestamp); with the credentials where the
        camera wants them all the same. Its answer, and whether they were needed."""
        try:
            return await self.call("devicemgmt", "GetSystemDateAndTime", authless=True), False
        except OnvifError as exc:
            if not self.t.user or exc.why not in ("credentials", "fault"):
                raise
            return await self.call("devicemgmt", "GetSystemDateAndTime"), True

    async def clock(self) -> Clock:
        """The camera's clock: questions timed by `onvifclock.next_ask_ns` until the
        offset is settled, or CLOCK_BUDGET_S has gone by."""
        first, authed = await self._time()
        answers: list[onvifclock.Answer] = []

        async def ask() -> None:
            sent = time.time_ns()
            answer = await self.call("devicemgmt", "GetSystemDateAndTime", authless=not authed)
            received = time.time_ns()
            camera_s = _utc_s(answer)
            if camera_s is None:
                raise OnvifError(NO_UTC, why="camera", address=self.t.address)
            answers.append(onvifclock.Answer(sent, received, camera_s))

        await ask()  # the first, asked again: its round trip had the client's start in it
        deadline = time.monotonic() + CLOCK_BUDGET_S
        try:
            while not onvifclock.settled(answers, CLOCK_STEP_NS) and len(answers) < 60 \
                    and time.monotonic() < deadline:
                at_ns = onvifclock.next_ask_ns(onvifclock.bounds(answers), time.time_ns(),
                                               CLOCK_STEP_NS)
                await asyncio.sleep(max(0, at_ns - time.time_ns()) / 1e9)
                await ask()
            b = onvifclock.bounds(answers)
        except onvifclock.ClockMoved:
            raise OnvifError(CLOCK_MOVED, why="camera", address=self.t.address) from None
        return Clock(camera_s=answers[0].camera_s, offset_ns=b.offset_ns, error_ns=b.error_ns,
                     round_trip_ns=min(a.round_trip_ns for a in answers),
                     answers=len(answers),
                     set_by=_text(getattr(first, "DateTimeType", None)) or None)

    async def set_ntp(self, servers: Sequence[str]) -> None:
        """SetNTP to `servers`, then SetSystemDateAndTime to NTP, keeping the camera's
        time zone and daylight saving as they are."""
        now, _ = await self._time()
        await self.call("devicemgmt", "SetNTP", {
            "FromDHCP": False, "NTPManual": [_ntp_host(s) for s in servers]})
        setting: dict[str, Any] = {"DateTimeType": "NTP",
                                   "DaylightSavings": bool(getattr(now, "DaylightSavings",
                                                                   False))}
        zone = getattr(getattr(now, "TimeZone", None), "TZ", None)
        if zone:
            setting["TimeZone"] = {"TZ": _text(zone)}
        await self.call("devicemgmt", "SetSystemDateAndTime", setting)


def _run(t: Target, work: Callable[[_Camera], Awaitable[T]]) -> T:
    async def main() -> T:
        async with _Camera(t) as camera:
            return await work(camera)

    return asyncio.run(main())


# The synchronous facade.

def survey(t: Target, *, with_clock: bool = True) -> Survey:
    """Device information, streams and (unless not wanted) the clock, in one session."""
    async def work(c: _Camera) -> Survey:
        return Survey(await c.device_info(), await c.streams(),
                      await c.clock() if with_clock else None)

    return _run(t, work)


def _at(host: str, port: int, user: str | None, password: str | None,
        timeout_s: float) -> Target:
    return target(f"[{host}]:{port}" if ":" in host else f"{host}:{port}", user, password,
                  timeout_s)


def device_info(host: str, port: int = 80, user: str | None = None,
                password: str | None = None, timeout_s: float = TIMEOUT_S) -> DeviceInfo:
    return _run(_at(host, port, user, password, timeout_s), lambda c: c.device_info())


def streams(host: str, port: int = 80, user: str | None = None,
            password: str | None = None, timeout_s: float = TIMEOUT_S) -> Streams:
    return _run(_at(host, port, user, password, timeout_s), lambda c: c.streams())


def clock(host: str, port: int = 80, user: str | None = None,
          password: str | None = None, timeout_s: float = TIMEOUT_S) -> Clock:
    return clock_at(_at(host, port, user, password, timeout_s))


def clock_at(t: Target) -> Clock:
    return _run(t, lambda c: c.clock())


def set_ntp(host: str, port: int, user: str | None, password: str | None,
            servers: Sequence[str], timeout_s: float = TIMEOUT_S) -> None:
    """Point the camera at `servers` (names or addresses: ONVIF names no port)."""
    set_ntp_at(_at(host, port, user, password, timeout_s), servers)


def set_ntp_at(t: Target, servers: Sequence[str]) -> None:
    _run(t, lambda c: c.set_ntp(servers))
