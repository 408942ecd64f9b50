"""Kuzet's declared extension points: the detectors it can open and the notifiers that
tell other systems what happens (clause 3.2.11), registered by name in one place.

Before this module `kuzet serve` chose MQTT and webhooks with if/else in the command and
`open_detector` chose a detector with if/elif, so every new kind meant editing the
wiring. Now each kind's module offers a factory, and the assembly (`kuzet.builtins`)
hands Kuzet's own to `Hooks` exactly as an addition would (datasette's `hookspecs`, whose
own features are plugins too, is the model). `Server` builds whatever the registry
yields and knows no kind by name.

This module sits beneath what plugs into it: it imports nothing from detection or the
integrations. A detector factory takes the model files the settings name and returns a
detector (what that is, `analytics.detector.Detector`, is the registry's type parameter),
or raises `DetectorError` saying why it cannot. A notifier factory takes the settings and
an `EgressAlarm` and returns a `Notifier`, or None when the settings it needs are absent:
each notifier decides for itself whether it is configured. A notifier hears `Message`s,
only the kinds it declares; it must never block nor raise (a broker that is down costs a
queue, never a frame). Where it sends is checked against the LAN at every connection
(`access.destinations`, clause 3.5.3); a refusal there is the alarm's, never a crash.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

if TYPE_CHECKING:
    from kuzet.config import Settings

DetectorT = TypeVar("DetectorT")
DetectorT_co = TypeVar("DetectorT_co", covariant=True)


@dataclass(frozen=True)
class CameraStatuses:
    """Every camera's status as `run/status.json` has it, offered once a second."""

    cameras: list[dict[str, Any]]
    at_ns: int


@dataclass(frozen=True)
class DetectionEvent:
    """An event detection has stored: what may be said of it anywhere (no picture), and
    its picture for the notifiers allowed to send it (clause 3.5.1)."""

    said: dict[str, Any]
    picture: bytes | None


@dataclass(frozen=True)
class TamperChange:
    """A camera's active tamper conditions after one was raised or cleared."""

    camera: str
    active: list[str]
    at_ns: int


@dataclass(frozen=True)
class AuditCheckpoint:
    """A signed checkpoint of the audit log's head, as its file line has it."""

    doc: dict[str, Any]


@dataclass(frozen=True)
class AlarmChange:
    """An alarm raised (new or worse) or cleared (issue 22: the equipment's health):
    `kuzet.catalog.alarms.Change` as the notifiers hear it. `subject` names the register
    item where the alarm is about one (`/equipment/<subject>` in the console)."""

    kind: str
    subject: str
    severity: str
    message: str
    raised: bool
    at_ns: int


Message = CameraStatuses | DetectionEvent | TamperChange | AuditCheckpoint | AlarmChange
Notify = Callable[[Message], None]


class Notifier(Protocol):
    @property
    def hears(self) -> frozenset[type[Message]]:
        """The kinds of message it wants; others are never handed to it."""
        ...

    @property
    def shown(self) -> str | None:
        """What `kuzet serve` tells the operator once it is started, if anything."""
        ...

    def start(self) -> None: ...

    def notify(self, message: Message) -> None: ...

    def stop(self) -> None: ...


class EgressAlarm(Protocol):
    """How a notifier calls a person when it refused to send outside the LAN (clause
    3.5.3): `raise_` with the refusal, `clear` once it sends again; the subject is the
    setting that names the destination. `kuzet serve` hands one that writes the catalog's
    `non_lan_egress` alarm."""

    def raise_(self, subject: str, message: str) -> None: ...

    def clear(self, subject: str) -> None: ...


class DetectorFactory(Protocol[DetectorT_co]):
    def __call__(self, cache: Path, model: Path | None, labels: Path | None
                 ) -> DetectorT_co: ...


NotifierFactory = Callable[["Settings", EgressAlarm], Notifier | None]


class Hooks(Generic[DetectorT]):
    """Factories by name, in the order registered (the order notifiers are built in)."""

    def __init__(self) -> None:
        self.detectors: dict[str, DetectorFactory[DetectorT]] = {}
        self.notifiers: dict[str, NotifierFactory] = {}

    def detector(self, name: str, factory: DetectorFactory[DetectorT]) -> None:
        if name in self.detectors:
            raise ValueError(f"a detector named {name!r} is registered already")
        self.detectors[name] = factory

    def notifier(self, name: str, factory: NotifierFactory) -> None:
        if name in self.notifiers:
            raise ValueError(f"a notifier named {name!r} is registered already")
        self.notifiers[name] = factory

    def build_notifiers(self, settings: Settings, alarm: EgressAlarm) -> list[Notifier]:
        """The notifiers whose settings are present, not yet started."""
        return [n for factory in self.notifiers.values()
                if (n := factory(settings, alarm)) is not None]

