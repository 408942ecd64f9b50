"""The register of external centres that receive live video (UE-10-22 3.2.11).

A police duty unit, an Operational Control Centre or another state body is entered by the
head of internal security or the administrator (`centre.prepare`) with the agreement or
the rector's order it rests on, the addresses it connects from (a few, never "any"), its
limits and days, and the cameras it asks for; Kuzet generates its credentials and shows
the password once. Nothing reaches the centre until the rector approves the request
(`centre.approve`: one step of the one approval machine, `access.approvals.CENTRES`, with
the rector's own account and second factor); a later change of its cameras is another
request, decided the same way. Disabling a centre needs nobody's approval: it ends its
sessions at once.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from kuzet.access.approvals import CENTRES, Action, ApprovalState, RequestFacts
from kuzet.access.permissions import Perm
from kuzet.access.roles import decider_of
from kuzet.access.secretbox import SecretBox
from kuzet.access.steps import Entry, take_step
from kuzet.analytics.models import Event
from kuzet.audit.actions import AuditAction
from kuzet.audit.log import Actor, append_act
from kuzet.catalog.models import Alarm, Camera
from kuzet.errors import Conflict, Denied, Invalid, NotFound, Phrase
from kuzet.governance.models import Protocol
from kuzet.notice import fields as form
from kuzet.restream.access import STREAMS, CentreAccess, Network, Table
from kuzet.restream.models import Centre, CentreRequest
from kuzet.rtsp import digest
from kuzet.timefmt import campus_day

REALM = "Kuzet restream"
KINDS = ("police", "occ", "state")  # duty unit, Operational Control Centre, other body
MAX_ADDRESSES = 256  # per network a centre connects from: a small range, never "any"
AUDITED = {Action.APPROVE: AuditAction.CENTRE_APPROVE,
           Action.REJECT: AuditAction.CENTRE_REJECT,
           Action.REVOKE: AuditAction.CENTRE_WITHDRAW}
APPROVED = CENTRES.word(ApprovalState.APPROVED)
PENDING = CENTRES.word(ApprovalState.PENDING)
TABLE_TTL_S = 0.5  # the server's table is read at most twice a second
PUSH_MAX_MINUTES = 240  # an incident push lasts at most four hours
PUSHERS = frozenset({"head_of_security"})  # push to any centre; a guard where agreed
INCIDENT_RECENT_NS = 24 * 3600 * 10**9  # a push names an incident of the last day


@dataclass(frozen=True)
class CentreFields:
    """What a centre is entered with."""

    name: str
    kind: str
    contact: str
    basis_no: str
    basis_date: str
    addresses: list[str]
    max_streams: int
    max_kbps: int
    valid_from: str
    valid_until: str
    guard_push: bool = False


@dataclass(frozen=True)
class RequestView:
    id: int
    centre_id: int
    kind: str  # register or cameras
    cameras: dict[str, str]
    reason: str | None
    state: str
    requested_by: str
    requested_ns: int
    decided_by: str | None
    decided_ns: int | None
    note: str | None
    expires_ns: int | None = None  # a push's end
    incident: str | None = None  # what a push came from
    reviewed_by: str | None = None  # the rector, after a push
    reviewed_ns: int | None = None


@dataclass(frozen=True)
class CentreView:
    id: int
    name: str
    kind: str
    contact: str
    basis_no: str
    basis_date: str
    basis_type: str | None
    addresses: list[str]
    username: str
    max_streams: int
    max_kbps: int
    valid_from: str
    valid_until: str
    guard_push: bool
    client_sha256: str | None  # the client certificate's pin, if one is required
    state: str  # pending, active, not_yet, expired, disabled, rejected
    cameras: dict[str, str]  # the approved set in force
    requests: list[RequestView]
    disabled_by: str | None
    disabled_ns: int | None


@dataclass(frozen=True)
class Created:
    centre: CentreView
    password: str  # shown once


def _seal(box: SecretBox, ha1: str, username: str) -> str:
    # the box seals Base32 secrets: HA1's 16 bytes as Base32
    return box.seal(base64.b32encode(bytes.fromhex(ha1)).decode().rstrip("="),
                    f"centre:{username}")


def _open(box: SecretBox, stored: str, username: str) -> str:
    b32 = box.open(stored, f"centre:{username}")
    return base64.b32decode(b32 + "=" * (-len(b32) % 8)).hex()


def networks(addresses: list[str]) -> tuple[Network, ...]:
    """The addresses a centre connects from, each an address or a small network."""
    found = []
    if not addresses:
        raise Invalid("clause 3.2.11: name the addresses the centre connects from")
    for text in addresses:
        try:
            net = ipaddress.ip_network(text.strip(), strict=False)
        except ValueError:
            raise Invalid("{text!r} is not an address or a network", text=text) from None
        if net.num_addresses > MAX_ADDRESSES:
            raise Invalid("clause 3.2.11: {net} spans {count} addresses; a centre connects "
                          "from a few (at most {limit} a network), never any",
                          net=str(net), count=net.num_addresses, limit=MAX_ADDRESSES)
        found.append(net)
    return tuple(found)


def _cameras_of(text: str) -> dict[str, str]:
    return {c["camera"]: c["stream"] for c in json.loads(text)}


def _request_view(r: CentreRequest) -> RequestView:
    return RequestView(r.id, r.centre_id, r.kind, _cameras_of(r.cameras), r.reason, r.state,
                       r.requested_by, r.requested_ns, r.decided_by, r.decided_ns, r.note,
                       r.expires_ns, r.incident, r.reviewed_by, r.reviewed_ns)


def _requests(s: Session, where: Any) -> list[RequestView]:
    """The requests `where` selects, newest first."""
    return [_request_view(r) for r in s.scalars(
        select(CentreRequest).where(where).order_by(CentreRequest.id.desc()))]


def in_force(requests: list[RequestView]) -> dict[str, str] | None:
    """The cameras of a centre's latest approved set (`requests`: its own, newest first);
    None until its registration is approved (a change of cameras approved never brings a
    rejected centre in). One request awaits at a time, so the newest is the last decided."""
    approved = [r for r in requests if r.state == APPROVED]
    if not any(r.kind == "register" for r in approved):
        return None
    return next(r.cameras for r in approved if r.kind != "push")


def pushed(requests: list[RequestView], now_ns: int) -> dict[str, str]:
    """The cameras a centre's incident pushes add to its set at `now_ns`."""
    found: dict[str, str] = {}
    for r in requests:
        if r.kind == "push" and r.expires_ns is not None and r.expires_ns > now_ns:
            found.update(r.cameras)
    return found


def _facts(r: CentreRequest) -> RequestFacts:
    return RequestFacts(str(r.id), CENTRES.state(r.state), r.requested_by, note=r.note)




class Centres:
    def __init__(self, session: sessionmaker[Session], box: SecretBox, zone: str,
                 clock: Callable[[], int]) -> None:
        self.session = session
        self.box = box
        self.zone = zone
        self.clock = clock
        self._lock = threading.Lock()
        self._table: tuple[float, int, Table] | None = None

    # -- the register ------------------------------------------------------------------
    def prepare(self, actor: Actor, fields: CentreFields, cameras: dict[str, str],
                reason: str | None, now_ns: int) -> Created:
        """A centre entered and its registration asked of the rector; its password made
        and returned once."""
        values = self._checked(fields)
        password = secrets.token_urlsafe(18)
        username = "centre-" + secrets.token_hex(4)
        with self.session.begin() as s:
            wanted = self._cameras(s, cameras)
            if s.scalar(select(Centre.id).where(Centre.name == values["name"])) is not None:
                raise Conflict("a centre named {name} is in the register already",
                               name=values["name"])
            c = Centre(**values, username=username,
                       ha1=_seal(self.box, digest.ha1(username, REALM, password), username),
                       created_by=actor.name, created_ns=now_ns)
            s.add(c)
            s.flush()
            r = self._ask(s, actor, c, "register", wanted, reason, now_ns)
            append_act(s, actor, AuditAction.CENTRE_REQUEST, f"centre/{c.id}", request=r.id,
                       kind="register", name=c.name, addresses=json.loads(c.addresses),
                       cameras=wanted, valid_until=c.valid_until)
            view = self._view(s, c)
        self._changed()
        return Created(view, password)

    def request_cameras(self, actor: Actor, centre_id: int, cameras: dict[str, str],
                        reason: str | None, now_ns: int) -> CentreView:
        """A change of a centre's cameras asked of the rector: the whole set wanted."""
        with self.session.begin() as s:
            c = self._row(s, centre_id)
            wanted = self._cameras(s, cameras)
            if self._in_force(s, c.id) is None:
                raise Conflict("centre {name} is not registered yet: the rector approves its "
                               "registration first", name=c.name)
            if s.scalar(select(CentreRequest.id).where(
                    CentreRequest.centre_id == c.id,
                    CentreRequest.state == PENDING)) is not None:
                raise Conflict("a request for {name} awaits the rector's decision already",
                               name=c.name)
            r = self._ask(s, actor, c, "cameras", wanted, reason, now_ns)
            append_act(s, actor, AuditAction.CENTRE_REQUEST, f"centre/{c.id}", request=r.id,
                       kind="cameras", cameras=wanted)
            return self._view(s, c)

    def _ask(self, s: Session, actor: Actor, c: Centre, kind: str, wanted: dict[str, str],
             reason: str | None, now_ns: int) -> CentreRequest:
        r = CentreRequest(centre_id=c.id, kind=kind, cameras=json.dumps(
            [{"camera": k, "stream": v} for k, v in sorted(wanted.items())]),
            reason=form.text(reason, Phrase("the reason"), 2000, required=False),
            state=PENDING, requested_by=actor.name, requested_ns=now_ns)
        s.add(r)
        s.flush()
        return r

    def approve(self, actor: Actor, request_id: int, now_ns: int) -> CentreView:
        return self._step(actor, request_id, Action.APPROVE, None, now_ns)

    def reject(self, actor: Actor, request_id: int, note: str, now_ns: int) -> CentreView:
        return self._step(actor, request_id, Action.REJECT, note.strip() or None, now_ns)

    def withdraw(self, actor: Actor, request_id: int, now_ns: int) -> CentreView:
        return self._step(actor, request_id, Action.REVOKE, None, now_ns)

    def _step(self, actor: Actor, request_id: int, action: Action, note: str | None,
              now_ns: int) -> CentreView:
        with take_step(self.session, actor) as step:
            s = step.session
            r = s.get(CentreRequest, request_id)
            if r is None:
                raise NotFound("no centre request {id}", id=request_id)
            c = self._row(s, r.centre_id)
            entry = Entry(AUDITED[action], f"centre/{c.id}",
                          {"request": r.id, "kind": r.kind, "name": c.name})
            new = step.take(CENTRES, action, _facts(r), decider_of(s, actor), now_ns, entry)
            r.state = CENTRES.word(new)
            r.decided_by, r.decided_ns, r.note = actor.name, now_ns, note
            s.flush()
            step.record(entry, cameras=_cameras_of(r.cameras), **({"note": note} if note else {}))
            view = self._view(s, c)
        self._changed()
        return view

    def disable(self, actor: Actor, centre_id: int, now_ns: int) -> CentreView:
        """A centre no longer served, at once: its sessions end (no approval: it sends
        less video, never more)."""
        with self.session.begin() as s:
            c = self._row(s, centre_id)
            if c.disabled_ns is None:
                c.disabled_by, c.disabled_ns = actor.name, now_ns
                append_act(s, actor, AuditAction.CENTRE_DISABLE, f"centre/{c.id}", name=c.name)
            view = self._view(s, c)
        self._changed()
        return view

    def attach_basis(self, actor: Actor, centre_id: int, data: bytes,
                     media_type: str) -> CentreView:
        """The signed agreement or order (checked by the caller: `web.scans`); replaced
        until the registration is approved, never after."""
        with self.session.begin() as s:
            c = self._row(s, centre_id)
            if c.basis_type is not None and self._in_force(s, c.id) is not None:
                raise Conflict("centre {name} is registered with its signed basis already",
                               name=c.name)
            c.basis_scan, c.basis_type = data, media_type
            append_act(s, actor, AuditAction.CENTRE_REQUEST, f"centre/{c.id}", kind="basis",
                       sha256=hashlib.sha256(data).hexdigest(), type=media_type,
                       bytes=len(data))
            s.flush()
            return self._view(s, c)

    def set_certificate(self, actor: Actor, centre_id: int, pem: bytes) -> CentreView:
        """The client certificate the centre must present over RTSPS from now on, besides
        its password (a PEM certificate; its SHA-256 is the pin); audited."""
        try:
            cert = x509.load_pem_x509_certificate(pem)
        except ValueError:
            raise Invalid("not a PEM certificate (-----BEGIN CERTIFICATE-----)") from None
        der = cert.public_bytes(serialization.Encoding.DER)
        digest = hashlib.sha256(der).hexdigest()
        with self.session.begin() as s:
            c = self._row(s, centre_id)
            before = c.client_sha256
            c.client_cert = cert.public_bytes(serialization.Encoding.PEM).decode()
            c.client_sha256 = digest
            append_act(s, actor, AuditAction.CENTRE_REQUEST, f"centre/{c.id}",
                       kind="certificate", sha256=digest, before=before)
            view = self._view(s, c)
        self._changed()
        return view

    def basis(self, centre_id: int) -> tuple[bytes, str]:
        with self.session() as s:
            c = self._row(s, centre_id)
            if c.basis_scan is None or c.basis_type is None:
                raise NotFound("centre {name} has no scan of its basis attached",
                               name=c.name)
            return c.basis_scan, c.basis_type

    # -- incident pushes -----------------------------------------------------------------
    def push(self, actor: Actor, centre_id: int, camera: str, stream: str, minutes: int,
             reason: str, incident: str, now_ns: int) -> CentreView:
        """An incident's camera added to a centre's live set at once, for `minutes` (at
        most four hours), from an alarm, a detection event or a protocol; the head of
        internal security's, or a guard's where the centre's agreement allows it. The
        rector reviews it afterwards."""
        with take_step(self.session, actor) as step:
            s = step.session
            c = self._row(s, centre_id)
            entry = Entry(AuditAction.CENTRE_PUSH, f"centre/{c.id}",
                          {"camera": camera, "stream": stream, "incident": incident})
            if not (PUSHERS & set(actor.roles) or c.guard_push):
                step.refuse(entry, Denied(
                    "clause 3.2.11: the agreement with {name} lets only the head of internal "
                    "security push a camera to it", name=c.name))
            if self._view(s, c).state != "active":
                raise Conflict("centre {name} receives no video now: disabled, not approved "
                               "or outside its days", name=c.name)
            if not 1 <= minutes <= PUSH_MAX_MINUTES:
                raise Invalid("a push lasts 1 to {most} minutes, not {n}",
                              most=PUSH_MAX_MINUTES, n=minutes)
            wanted = self._cameras(s, {camera: stream})
            said = form.text(reason, Phrase("the reason"), 2000)
            named = self._incident(s, incident, camera, now_ns)
            if s.scalar(select(CentreRequest.id).where(
                    CentreRequest.centre_id == c.id, CentreRequest.kind == "push",
                    CentreRequest.incident == named,
                    CentreRequest.reviewed_ns.is_(None))) is not None:
                raise Conflict("{incident} was pushed to {name} already; another push for it "
                               "waits for the rector's review", incident=named, name=c.name)
            r = CentreRequest(centre_id=c.id, kind="push", cameras=json.dumps(
                [{"camera": k, "stream": v} for k, v in wanted.items()]), reason=said,
                state=APPROVED, requested_by=actor.name, requested_ns=now_ns,
                expires_ns=now_ns + minutes * 60 * 10**9, incident=named)
            s.add(r)
            s.flush()
            step.record(entry, request=r.id, minutes=minutes, reason=said)
            view = self._view(s, c)
        self._changed()
        return view

    def end_push(self, actor: Actor, request_id: int, now_ns: int) -> CentreView:
        """A push ended before its time (the head of internal security or the rector)."""
        with self.session.begin() as s:
            r = self._push(s, request_id)
            if r.expires_ns is not None and r.expires_ns > now_ns:
                r.expires_ns = now_ns
                append_act(s, actor, AuditAction.CENTRE_PUSH_END, f"centre/{r.centre_id}",
                           request=r.id)
            view = self._view(s, self._row(s, r.centre_id))
        self._changed()
        return view

    def review(self, actor: Actor, request_id: int, now_ns: int) -> CentreView:
        """The rector's review of a push, afterwards (the rector's own account)."""
        with take_step(self.session, actor) as step:
            s = step.session
            r = self._push(s, request_id)
            entry = Entry(AuditAction.CENTRE_REVIEW, f"centre/{r.centre_id}",
                          {"request": r.id})
            if Perm.CENTRE_APPROVE not in decider_of(s, actor).perms:
                step.refuse(entry, Denied("clause 3.2.11: the rector reviews an incident "
                                          "push, with the rector's own account"))
            if r.reviewed_ns is None:
                r.reviewed_by, r.reviewed_ns = actor.name, now_ns
                step.record(entry)
            return self._view(s, self._row(s, r.centre_id))

    def pushes(self, *, unreviewed: bool = False) -> list[RequestView]:
        """Incident pushes, newest first (the rector's inbox: those not yet reviewed)."""
        q = select(CentreRequest).where(CentreRequest.kind == "push")
        if unreviewed:
            q = q.where(CentreRequest.reviewed_ns.is_(None))
        with self.session() as s:
            return [_request_view(r) for r in s.scalars(q.order_by(CentreRequest.id.desc()))]

    @staticmethod
    def _incident(s: Session, incident: str, camera: str, now_ns: int) -> str:
        """`incident` checked: an alarm, a detection event or a protocol of the last day
        about `camera` itself (a push never rests on another camera's, or an old, one)."""
        kind, _, number = incident.partition(":")
        row: object = None
        if (number.isascii() and number.isdigit() and len(number) <= 12
                and kind in ("alarm", "event", "protocol")):
            model = {"alarm": Alarm, "event": Event, "protocol": Protocol}[kind]
            row = s.get(model, int(number))
        about: str | None = None
        at: int | None = None
        if isinstance(row, Alarm):
            # a camera's alarms name it, or it and a signal ("cam01:covered"); one still
            # open is the incident going on, one cleared counts from when it was raised
            about = row.subject.split(":", 1)[0]
            at = now_ns if row.cleared_ns is None else row.raised_ns
        elif isinstance(row, Event | Protocol):
            cam = s.get(Camera, row.camera_id)
            about, at = (cam.name if cam else None), row.at_ns
        if about != camera or at is None or at < now_ns - INCIDENT_RECENT_NS:
            raise NotFound("no incident {incident!r} of camera {camera} in the last day: "
                           "alarm:N, event:N or protocol:N", incident=incident[:40],
                           camera=camera)
        return f"{kind}:{int(number)}"

    @staticmethod
    def _push(s: Session, request_id: int) -> CentreRequest:
        r = s.get(CentreRequest, request_id)
        if r is None or r.kind != "push":
            raise NotFound("no incident push {id}", id=request_id)
        return r

    # -- reading ------------------------------------------------------------------------
    def listing(self) -> list[CentreView]:
        with self.session() as s:
            return [self._view(s, c) for c in s.scalars(select(Centre).order_by(Centre.name))]

    def get(self, centre_id: int) -> CentreView:
        with self.session() as s:
            return self._view(s, self._row(s, centre_id))

    def pending(self) -> list[RequestView]:
        """Requests awaiting the rector, oldest first (the approvals inbox)."""
        with self.session() as s:
            return [_request_view(r) for r in s.scalars(select(CentreRequest).where(
                CentreRequest.state == PENDING).order_by(CentreRequest.id))]

    def table(self, now_ns: int) -> Table:
        """The register as the restream server reads it, at most twice a second (so a
        change made by another process, or a push's end, is seen within half a second)."""
        day = campus_day(now_ns, self.zone)
        with self._lock:
            cached = self._table
            if (cached is not None and cached[0] > time.monotonic()
                    and cached[1] == day.toordinal()):
                return cached[2]
        with self.session() as s:
            found = []
            requests: dict[int, list[RequestView]] = {}
            for r in _requests(s, CentreRequest.state == APPROVED):  # one read for all
                requests.setdefault(r.centre_id, []).append(r)
            for c in s.scalars(select(Centre)):
                cameras = in_force(requests.get(c.id, []))
                if cameras is None:
                    continue  # never approved: not known to the server at all
                cameras = {**pushed(requests[c.id], now_ns), **cameras}
                found.append(CentreAccess(
                    c.id, c.name, c.username, _open(self.box, c.ha1, c.username),
                    networks(json.loads(c.addresses)), cameras, c.max_streams, c.max_kbps,
                    c.disabled_ns is None and c.valid_from <= day.isoformat() <= c.valid_until,
                    c.client_sha256, c.client_cert))
        table = Table(tuple(found))
        with self._lock:
            self._table = (time.monotonic() + TABLE_TTL_S, day.toordinal(), table)
        return table

    def _changed(self) -> None:
        with self._lock:
            self._table = None

    # -- helpers ------------------------------------------------------------------------
    def _checked(self, f: CentreFields) -> dict[str, Any]:
        if f.kind not in KINDS:
            raise Invalid("kind: police, occ or state, not {kind!r}", kind=f.kind)
        nets = networks(f.addresses)
        start = form.day(f.valid_from, Phrase("the first day"))
        end = form.day(f.valid_until, Phrase("the last day"))
        if end < start:
            raise Invalid("the last day ({end}) comes before the first ({start})",
                          end=end, start=start)
        if not 1 <= f.max_streams <= 256:
            raise Invalid("maximum streams: 1 to 256, not {n}", n=f.max_streams)
        if not 64 <= f.max_kbps <= 10_000_000:
            raise Invalid("maximum bitrate: 64 to 10000000 kbit/s, not {n}", n=f.max_kbps)
        return {"name": form.text(f.name, Phrase("the name"), 120),
                "kind": f.kind,
                "contact": form.text(f.contact, Phrase("the contact"), 200),
                "basis_no": form.text(f.basis_no, Phrase("the agreement or order number"), 64),
                "basis_date": form.day(f.basis_date, Phrase("the agreement or order date")),
                "addresses": json.dumps([str(n) for n in nets]),
                "max_streams": f.max_streams, "max_kbps": f.max_kbps,
                "valid_from": start, "valid_until": end, "guard_push": f.guard_push}

    @staticmethod
    def _cameras(s: Session, cameras: dict[str, str]) -> dict[str, str]:
        """The cameras asked for, each recorded now and with a stream it has."""
        rows = {c.name: c for c in s.scalars(select(Camera).where(
            Camera.name.in_(list(cameras)), Camera.removed_ns.is_(None)))}
        for name, stream in cameras.items():
            if name not in rows:
                raise NotFound("no camera named {name!r}", name=name)
            if stream not in STREAMS:
                raise Invalid("unknown stream {label!r}: main or sub", label=stream)
            if stream == "sub" and not rows[name].sub_url:
                raise Invalid("camera {name} has no sub stream", name=name)
        return dict(sorted(cameras.items()))

    @staticmethod
    def _row(s: Session, centre_id: int) -> Centre:
        c = s.get(Centre, centre_id)
        if c is None:
            raise NotFound("no centre {id}", id=centre_id)
        return c

    @staticmethod
    def _in_force(s: Session, centre_id: int) -> dict[str, str] | None:
        return in_force(_requests(s, (CentreRequest.centre_id == centre_id)
                                  & (CentreRequest.state == APPROVED)))

    def _view(self, s: Session, c: Centre) -> CentreView:
        requests = _requests(s, CentreRequest.centre_id == c.id)
        cameras = in_force(requests)
        today = campus_day(self.clock(), self.zone).isoformat()
        if c.disabled_ns is not None:
            state = "disabled"
        elif cameras is None:
            state = "pending" if any(r.state == PENDING for r in requests) else "rejected"
        elif today < c.valid_from:
            state = "not_yet"
        elif today > c.valid_until:
            state = "expired"
        else:
            state = "active"
        return CentreView(c.id, c.name, c.kind, c.contact, c.basis_no, c.basis_date,
                          c.basis_type, json.loads(c.addresses), c.username, c.max_streams,
                          c.max_kbps, c.valid_from, c.valid_until, c.guard_push,
                          c.client_sha256, state,
                          cameras or {}, requests, c.disabled_by, c.disabled_ns)

