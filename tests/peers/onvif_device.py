"""An ONVIF camera for the tests (issue 22 item 6), held to the ONVIF WSDL and XSD that
onvif-zeep-async ships (ONVIF 2.4.2: devicemgmt.wsdl, media.wsdl, onvif.xsd; WS-Discovery
2005/04's ws-discovery.xsd with its WS-Addressing 2004/08 schema, `addressing`).

No real ONVIF camera is reachable here, so this one is strict where a camera may be lax:

- every request's SOAP 1.2 Body must hold one element that is the input of an operation of
  the service its path is (the device service or the media service), valid against that
  WSDL's types, with the binding's soapAction as the `action` of its Content-Type;
- every answer it sends (but SOAP faults, whose SOAP 1.2 envelope schema the package
  does not ship) is validated against the same types before it goes;
- what does not validate is written in `invalid` and answered with a SOAP fault, so the
  client fails and the test that checks `invalid` is empty fails too;
- WS-Security UsernameToken with PasswordDigest = Base64(SHA-1(nonce + created +
  password)), the nonce used once, created within 5 minutes of the camera's clock;
  GetSystemDateAndTime, GetCapabilities and GetServices answer without it (ONVIF Core's
  PRE_AUTH class), the others refuse with ter:NotAuthorized (HTTP 400);
- its clock runs `clock_offset_s` ahead of this machine's, and tells whole seconds (as
  tt:Time does), truncated;
- WS-Discovery on a unicast UDP port: the Probe is validated, the ProbeMatches too.

`mode` makes it the camera that refuses ONVIF: `html` (a web page), `http401` (HTTP Digest
wanted), `404`, `silent` (accepts and never answers). Everything listens on 127.0.0.1.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import importlib.util
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from lxml import etree
from lxml.builder import ElementMaker

SPEC = importlib.util.find_spec("onvif")  # not imported: its import configures logging
assert SPEC is not None
assert SPEC.submodule_search_locations
WSDL_DIR = Path(next(iter(SPEC.submodule_search_locations))) / "wsdl"
SOAP = "http://www.w3.org/2003/05/soap-envelope"
WSDL = "http://schemas.xmlsoap.org/wsdl/"
SOAP12_BINDING = "http://schemas.xmlsoap.org/wsdl/soap12/"
XS = "http://www.w3.org/2001/XMLSchema"
TDS = "http://www.onvif.org/ver10/device/wsdl"
TRT = "http://www.onvif.org/ver10/media/wsdl"
TT = "http://www.onvif.org/ver10/schema"
TER = "http://www.onvif.org/ver10/error"
WSSE = ("http://docs.oasis-open.org/wss/2004/01/"
        "oasis-200401-wss-wssecurity-secext-1.0.xsd")
WSU = ("http://docs.oasis-open.org/wss/2004/01/"
       "oasis-200401-wss-wssecurity-utility-1.0.xsd")
DIGEST = ("http://docs.oasis-open.org/wss/2004/01/"
          "oasis-200401-wss-username-token-profile-1.0#PasswordDigest")
WSA = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
WSD = "http://schemas.xmlsoap.org/ws/2005/04/discovery"
DN = "http://www.onvif.org/ver10/network/wsdl"
PRE_AUTH = {"GetSystemDateAndTime", "GetCapabilities", "GetServices"}
PATHS = {"device": "/onvif/device_service", "media": "/onvif/media_service"}

E = ElementMaker(namespace=SOAP, nsmap={"env": SOAP, "ter": TER})
D = ElementMaker(namespace=TDS, nsmap={"tds": TDS, "tt": TT})
M = ElementMaker(namespace=TRT, nsmap={"trt": TRT, "tt": TT})
S = ElementMaker(namespace=TT, nsmap={"tt": TT})
A = ElementMaker(namespace=WSA, nsmap={"a": WSA})
W = ElementMaker(namespace=WSD, nsmap={"d": WSD, "a": WSA, "dn": DN})


class NotValid(Exception):
    """A message the WSDL or XSD does not allow."""


class _Local(etree.Resolver):  # type: ignore[misc]
    """ws-discovery.xsd imports WS-Addressing from its http:// address: the package's own
    copy is read instead, and nothing else from the network (lxml reads no URL either)."""

    def resolve(self, url: str, pubid: str, context: Any) -> Any:
        if url == WSA:
            return self.resolve_filename(str(WSDL_DIR / "addressing"), context)
        if url.startswith(("http:", "https:")):
            raise NotValid(f"the schemas reach for {url}")
        return None


def _parser() -> Any:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    parser.resolvers.add(_Local())
    return parser


@dataclass(frozen=True)
class Operation:
    service: str  # device or media
    name: str
    request: str  # the Body element's tag, {namespace}name
    response: str
    action: str


class Contract:
    """What devicemgmt.wsdl and media.wsdl allow: their types, compiled with the onvif.xsd
    they import, and their operations by the element a request's Body holds."""

    def __init__(self) -> None:
        self.schemas: dict[str, Any] = {}
        self.operations: dict[str, Operation] = {}
        for service, wsdl in (("device", "devicemgmt.wsdl"), ("media", "media.wsdl")):
            path = WSDL_DIR / wsdl
            root = etree.parse(str(path), _parser()).getroot()
            types = root.find(f"{{{WSDL}}}types/{{{XS}}}schema")
            # the embedded schema on its own, with the namespaces it inherits declared
            nsmap = {k: v for k, v in {**root.nsmap, **types.nsmap}.items() if k}
            alone = etree.Element(types.tag, attrib=dict(types.attrib), nsmap=nsmap)
            alone.extend(child.__deepcopy__(None) for child in types)
            compiled = etree.fromstring(etree.tostring(alone), _parser(), base_url=str(path))
            self.schemas[types.get("targetNamespace")] = etree.XMLSchema(compiled)
            self.operations |= _operations(root, service)
        discovery = etree.parse(str(WSDL_DIR / "ws-discovery.xsd"), _parser())
        self.schemas[WSD] = etree.XMLSchema(discovery)
        self.schemas[WSA] = etree.XMLSchema(etree.parse(str(WSDL_DIR / "addressing"),
                                                        _parser()))

    def check(self, element: Any) -> None:
        """`element` against its namespace's schema; NotValid says why."""
        tag = etree.QName(element)
        schema = self.schemas.get(tag.namespace)
        if schema is None:
            raise NotValid(f"no schema for {tag}")
        if not schema.validate(element):
            raise NotValid(f"{tag.localname}: {schema.error_log.last_error}")

    def request(self, path: str, content_type: str, body: bytes) -> tuple[Operation, Any, Any]:
        """A request's operation, Body element and Security header (or None)."""
        try:
            envelope = etree.fromstring(body, _parser())
        except etree.XMLSyntaxError as exc:
            raise NotValid(f"not XML: {exc}") from None
        if envelope.tag != f"{{{SOAP}}}Envelope":
            raise NotValid(f"not a SOAP 1.2 envelope: {envelope.tag}")
        body_el = envelope.find(f"{{{SOAP}}}Body")
        if body_el is None or len(body_el) != 1:
            raise NotValid("the Body holds no single element")
        element = body_el[0]
        op = self.operations.get(element.tag)
        if op is None:
            raise NotValid(f"{element.tag} is no operation's input")
        if PATHS[op.service] != path:
            raise NotValid(f"{op.name} sent to {path}, not the {op.service} service")
        if not content_type.startswith("application/soap+xml") \
                or f'action="{op.action}"' not in content_type:
            raise NotValid(f"{op.name}: Content-Type {content_type!r}, not its soapAction")
        self.check(element)
        return op, element, envelope.find(f"{{{SOAP}}}Header/{{{WSSE}}}Security")


def _operations(root: Any, service: str) -> dict[str, Operation]:
    tns = root.get("targetNamespace")
    messages = {}
    for m in root.iterfind(f"{{{WSDL}}}message"):
        part = m.find(f"{{{WSDL}}}part")
        prefix, _, name = part.get("element").rpartition(":")
        messages[m.get("name")] = f"{{{part.nsmap[prefix]}}}{name}"
    actions = {op.get("name"): op.find(f"{{{SOAP12_BINDING}}}operation").get("soapAction")
               for op in root.iterfind(f"{{{WSDL}}}binding/{{{WSDL}}}operation")}
    found = {}
    for op in root.iterfind(f"{{{WSDL}}}portType/{{{WSDL}}}operation"):
        name = op.get("name")
        request = messages[op.find(f"{{{WSDL}}}input").get("message").rpartition(":")[2]]
        response = messages[op.find(f"{{{WSDL}}}output").get("message").rpartition(":")[2]]
        assert etree.QName(request).namespace == tns
        found[request] = Operation(service, name, request, response, actions[name])
    return found


@cache
def contract() -> Contract:
    return Contract()


@dataclass
class VideoProfile:
    token: str
    name: str
    width: int
    height: int
    fps: int
    bitrate_kbps: int
    path: str


@dataclass
class OnvifDevice:
    user: str = "admin"
    password: str = "pw"
    clock_offset_s: float = 0.0
    manufacturer: str = "Kuzet Test Cameras"
    model: str = "KTC-2000 Dome"
    firmware: str = "V5.7.3 build 260101"
    serial: str = "KTC2000-0042"
    hardware_id: str = "R1.2"
    mac: str = "00:1a:2b:3c:4d:5e"
    ip: str = "10.20.30.40"
    get_services: bool = True  # False: GetServices answers ter:ActionNotSupported
    mode: str = "onvif"
    profiles: list[VideoProfile] = field(default_factory=lambda: [
        VideoProfile("prof_720", "Third", 1280, 720, 25, 2048, "/Streaming/Channels/103"),
        VideoProfile("prof_main", "Main", 1920, 1080, 25, 4096, "/Streaming/Channels/101"),
        VideoProfile("prof_sub", "Sub", 640, 360, 15, 512, "/Streaming/Channels/102"),
    ])
    rtsp_port: int = 8554
    asked: list[str] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    ntp: list[dict[str, str]] = field(default_factory=list)
    date_time_type: str = "Manual"
    noise: bool = False  # discovery: a datagram that is not XML, an answer to another probe
    # the host its service and stream URLs name (a camera behind NAT naming its inside
    # address, or a rogue device naming another host); None: its own
    named_host: str | None = None

    def __post_init__(self) -> None:
        self.contract = contract()
        self._nonces: set[str] = set()
        self._stop = threading.Event()
        self.http = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.http.daemon_threads = True
        self.http.device = self  # type: ignore[attr-defined]
        self.port = self.http.server_address[1]
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        self.udp.settimeout(0.05)
        self.discovery_port = self.udp.getsockname()[1]
        self.endpoint = f"urn:uuid:{uuid.uuid4()}"
        self._threads = [threading.Thread(target=self.http.serve_forever, args=(0.05,),
                                          daemon=True),
                         threading.Thread(target=self._discovery, daemon=True)]
        for t in self._threads:
            t.start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def named(self) -> str:
        """The address its service URLs name."""
        return f"{self.named_host}:{self.port}" if self.named_host else self.address

    def close(self) -> None:
        self._stop.set()
        self.http.shutdown()
        self.http.server_close()
        for t in self._threads:
            t.join(5)
        self.udp.close()

    def __enter__(self) -> OnvifDevice:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # the camera's clock

    def now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(time.time() + self.clock_offset_s, dt.UTC)

    # SOAP

    def answer(self, path: str, content_type: str, body: bytes) -> tuple[int, bytes]:
        try:
            op, request, security = self.contract.request(path, content_type, body)
        except NotValid as exc:
            self.invalid.append(f"request: {exc}")
            return _fault("Sender", "InvalidArgVal", f"not valid: {exc}")
        self.asked.append(op.name)
        if op.name not in PRE_AUTH or security is not None:
            why = self._refuse(security)
            if why is not None:
                self.refused.append(f"{op.name}: {why}")
                return _fault("Sender", "NotAuthorized", "Sender not Authorized")
        handler = getattr(self, f"_{op.name}", None)
        if handler is None or (op.name == "GetServices" and not self.get_services):
            return _fault("Receiver", "ActionNotSupported", f"{op.name} is not supported")
        response = handler(request)
        if response.tag != op.response:
            self.invalid.append(f"answer: {response.tag} is not {op.name}'s output")
        try:
            self.contract.check(response)
        except NotValid as exc:
            self.invalid.append(f"answer: {exc}")
            return _fault("Receiver", "Action", f"the camera's own answer is not valid: {exc}")
        return 200, _envelope(response)

    def _refuse(self, security: Any) -> str | None:
        """Why a request's UsernameToken is refused; None: it is this camera's user."""
        if security is None:
            return "no credentials"
        token = security.find(f"{{{WSSE}}}UsernameToken")
        if token is None:
            return "no UsernameToken"
        password = token.find(f"{{{WSSE}}}Password")
        nonce = token.findtext(f"{{{WSSE}}}Nonce")
        created = token.findtext(f"{{{WSU}}}Created")
        if password is None or password.get("Type") != DIGEST or not nonce or not created:
            return "not a password digest with nonce and created"
        when = dt.datetime.fromisoformat(created)
        if when.tzinfo is None or abs((when - self.now()).total_seconds()) > 300:
            return f"created {created} is not within 5 minutes of {self.now().isoformat()}"
        if nonce in self._nonces:
            return "nonce used before"
        self._nonces.add(nonce)
        digest = base64.b64encode(hashlib.sha1(  # noqa: S324 (WS-Security's digest is SHA-1)
            base64.b64decode(nonce) + created.encode() + self.password.encode()).digest())
        if token.findtext(f"{{{WSSE}}}Username") != self.user \
                or not hmac.compare_digest(digest, (password.text or "").encode()):
            return "wrong user or password"
        return None

    # the device service

    def _GetSystemDateAndTime(self, request: Any) -> Any:
        now = self.now()
        stamp = S.UTCDateTime(
            S.Time(S.Hour(str(now.hour)), S.Minute(str(now.minute)), S.Second(str(now.second))),
            S.Date(S.Year(str(now.year)), S.Month(str(now.month)), S.Day(str(now.day))))
        return D.GetSystemDateAndTimeResponse(D.SystemDateAndTime(
            S.DateTimeType(self.date_time_type), S.DaylightSavings("false"),
            S.TimeZone(S.TZ("UTC0")), stamp))

    def _GetServices(self, request: Any) -> Any:
        def service(ns: str, path: str) -> Any:
            return D.Service(D.Namespace(ns), D.XAddr(f"http://{self.named}{path}"),
                             D.Version(S.Major("2"), S.Minor("40")))

        return D.GetServicesResponse(service(TDS, PATHS["device"]),
                                     service(TRT, PATHS["media"]))

    def _GetCapabilities(self, request: Any) -> Any:
        return D.GetCapabilitiesResponse(D.Capabilities(S.Media(
            S.XAddr(f"http://{self.named}{PATHS['media']}"),
            S.StreamingCapabilities(S.RTPMulticast("false"), S.RTP_TCP("true"),
                                    S.RTP_RTSP_TCP("true")))))

    def _GetDeviceInformation(self, request: Any) -> Any:
        return D.GetDeviceInformationResponse(
            D.Manufacturer(self.manufacturer), D.Model(self.model),
            D.FirmwareVersion(self.firmware), D.SerialNumber(self.serial),
            D.HardwareId(self.hardware_id))

    def _GetNetworkInterfaces(self, request: Any) -> Any:
        return D.GetNetworkInterfacesResponse(D.NetworkInterfaces(
            S.Enabled("true"), S.Info(S.Name("eth0"), S.HwAddress(self.mac), S.MTU("1500")),
            S.IPv4(S.Enabled("true"), S.Config(
                S.Manual(S.Address(self.ip), S.PrefixLength("24")), S.DHCP("false"))),
            {"token": "eth0"}))

    def _SetNTP(self, request: Any) -> Any:
        self.ntp = [{etree.QName(c).localname: c.text for c in host}
                    for host in request.iterfind(f"{{{TDS}}}NTPManual")]
        return D.SetNTPResponse()

    def _SetSystemDateAndTime(self, request: Any) -> Any:
        self.date_time_type = request.findtext(f"{{{TDS}}}DateTimeType")
        return D.SetSystemDateAndTimeResponse()

    # the media service

    def _GetProfiles(self, request: Any) -> Any:
        return M.GetProfilesResponse(*(self._profile(p, "Profiles") for p in self.profiles))

    def _profile(self, p: VideoProfile, tag: str) -> Any:
        source = S.VideoSourceConfiguration(
            S.Name("source"), S.UseCount(str(len(self.profiles))), S.SourceToken("vs0"),
            S.Bounds(x="0", y="0", width="1920", height="1080"), {"token": "vsc0"})
        encoder = S.VideoEncoderConfiguration(
            S.Name(p.name), S.UseCount("1"), S.Encoding("H264"),
            S.Resolution(S.Width(str(p.width)), S.Height(str(p.height))), S.Quality("4"),
            S.RateControl(S.FrameRateLimit(str(p.fps)), S.EncodingInterval("1"),
                          S.BitrateLimit(str(p.bitrate_kbps))),
            S.H264(S.GovLength(str(2 * p.fps)), S.H264Profile("Main")),
            S.Multicast(S.Address(S.Type("IPv4"), S.IPv4Address("0.0.0.0")),  # noqa: S104
                        S.Port("0"), S.TTL("1"), S.AutoStart("false")),
            S.SessionTimeout("PT60S"), {"token": f"vec_{p.token}"})
        return getattr(M, tag)(S.Name(p.name), source, encoder, {"token": p.token, "fixed": "true"})

    def _GetStreamUri(self, request: Any) -> Any:
        token = request.findtext(f"{{{TRT}}}ProfileToken")
        setup = request.find(f"{{{TRT}}}StreamSetup")
        if setup.findtext(f"{{{TT}}}Stream") != "RTP-Unicast" \
                or setup.findtext(f"{{{TT}}}Transport/{{{TT}}}Protocol") != "RTSP":
            self.invalid.append(f"GetStreamUri asked for {etree.tostring(setup)!r}")
        p = next(p for p in self.profiles if p.token == token)
        return M.GetStreamUriResponse(M.MediaUri(
            S.Uri(f"rtsp://{self.named_host or '127.0.0.1'}:{self.rtsp_port}{p.path}"
                  "?transportmode=unicast"),
            S.InvalidAfterConnect("false"), S.InvalidAfterReboot("false"),
            S.Timeout("PT0S")))

    # WS-Discovery

    def _discovery(self) -> None:
        while not self._stop.is_set():
            try:
                data, sender = self.udp.recvfrom(65535)
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                relates = self._probe(data)
                answer = self._probe_matches(relates)
            except NotValid as exc:
                self.invalid.append(f"discovery: {exc}")
                continue
            if self.noise:
                self.udp.sendto(b"\x00not xml<", sender)
                self.udp.sendto(self._probe_matches("urn:uuid:another-probe"), sender)
            self.udp.sendto(answer, sender)

    def _probe(self, data: bytes) -> str:
        """The Probe's MessageID, once it and its headers validate."""
        try:
            envelope = etree.fromstring(data, _parser())
        except etree.XMLSyntaxError as exc:
            raise NotValid(f"probe not XML: {exc}") from None
        header = envelope.find(f"{{{SOAP}}}Header")
        body = envelope.find(f"{{{SOAP}}}Body")
        if envelope.tag != f"{{{SOAP}}}Envelope" or header is None or body is None \
                or len(body) != 1 or body[0].tag != f"{{{WSD}}}Probe":
            raise NotValid("not a SOAP 1.2 Probe")
        for h in header:
            self.contract.check(h)
        self.contract.check(body[0])
        if header.findtext(f"{{{WSA}}}Action") != f"{WSD}/Probe":
            raise NotValid("the Probe's Action")
        types = body[0].findtext(f"{{{WSD}}}Types") or ""
        prefix, _, local = types.partition(":")
        if (body[0].find(f"{{{WSD}}}Types").nsmap.get(prefix), local) \
                != (DN, "NetworkVideoTransmitter"):
            raise NotValid(f"the Probe asks for {types!r}")
        return header.findtext(f"{{{WSA}}}MessageID") or ""

    def _probe_matches(self, relates_to: str) -> bytes:
        headers = [A.MessageID(f"urn:uuid:{uuid.uuid4()}"), A.RelatesTo(relates_to),
                   A.To(f"{WSA}/role/anonymous"), A.Action(f"{WSD}/ProbeMatches"),
                   W.AppSequence(InstanceId="1", MessageNumber="1")]
        scopes = ("onvif://www.onvif.org/type/video_encoder "
                  "onvif://www.onvif.org/Profile/Streaming "
                  "onvif://www.onvif.org/name/Kuzet%20Test%20Dome "
                  f"onvif://www.onvif.org/hardware/{self.model.split()[0]} "
                  "onvif://www.onvif.org/location/Main%20gate")
        matches = W.ProbeMatches(W.ProbeMatch(
            A.EndpointReference(A.Address(self.endpoint)), W.Types("dn:NetworkVideoTransmitter"),
            W.Scopes(scopes), W.XAddrs(f"http://{self.address}{PATHS['device']}"),
            W.MetadataVersion("1")))
        for element in (*headers, matches):
            self.contract.check(element)
        envelope = E.Envelope(E.Header(*headers), E.Body(matches))
        return bytes(etree.tostring(envelope, xml_declaration=True, encoding="UTF-8"))


def _envelope(element: Any) -> bytes:
    return bytes(etree.tostring(E.Envelope(E.Body(element)), xml_declaration=True,
                                encoding="UTF-8"))


def _fault(code: str, subcode: str, reason: str) -> tuple[int, bytes]:
    """A SOAP 1.2 fault with ONVIF's subcode (ter:); HTTP 400 for the sender's, 500 for
    the receiver's."""
    fault = E.Fault(E.Code(E.Value(f"env:{code}"), E.Subcode(E.Value(f"ter:{subcode}"))),
                    E.Reason(E.Text(reason, {"{http://www.w3.org/XML/1998/namespace}lang":
                                             "en"})))
    return (400 if code == "Sender" else 500), _envelope(fault)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        # headers and body go as two writes: without this, Nagle's algorithm holds the
        # body for the client's delayed ACK, 40 ms an answer
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_POST(self) -> None:
        device: OnvifDevice = self.server.device  # type: ignore[attr-defined]
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if device.mode == "silent":
            device._stop.wait(30)
            self.close_connection = True
            return
        if device.mode == "html":
            self._send(200, "text/html", b"<!DOCTYPE html><html><body>Router login</body>")
            return
        if device.mode == "404":
            self._send(404, "text/plain", b"not found")
            return
        if device.mode == "http401":
            self._send(401, "text/html", b"<html>401 Unauthorized</html>",
                       {"WWW-Authenticate": 'Digest realm="IP Camera", nonce="abc", '
                                            'qop="auth"'})
            return
        status, answer = device.answer(self.path, self.headers.get("Content-Type", ""), body)
        self._send(status, "application/soap+xml; charset=utf-8", answer)

    def _send(self, status: int, content_type: str, body: bytes,
              headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the test reads `asked`, `refused` and `invalid`."""
