"""What the HTTP layer talks to, built once per app: one object per subsystem.

The handlers see `WebSettings`, the dozen settings the API reads, not all of them; the
volumes and holds are the server's, the same objects the recorder's sweeper uses.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kuzet.access.accounts import Accounts
from kuzet.access.grants import Grants
from kuzet.access.policy import AddressThrottle
from kuzet.access.roles import Roles
from kuzet.access.secretbox import SecretBox, key_path
from kuzet.access.sessions import Sessions
from kuzet.analytics.store import DetectionStore
from kuzet.audit.log import AuditLog
from kuzet.catalog.alarms import Alarms
from kuzet.catalog.models import Camera
from kuzet.catalog.store import Catalog
from kuzet.catalog.streams import Stream
from kuzet.cluster.live_relay import LiveRelays
from kuzet.config import Settings
from kuzet.console.layouts import Layouts
from kuzet.console.marks import Bookmarks
from kuzet.console.timeline_read import Timelines
from kuzet.equipment.register import Register
from kuzet.export.execute import Exports
from kuzet.governance.acts import Acts
from kuzet.governance.board import Board
from kuzet.governance.holds import Holds
from kuzet.governance.protocols import Protocols
from kuzet.governance.transfers import Transfers
from kuzet.governance.viewings import Viewings
from kuzet.notice.editions import Editions
from kuzet.notice.people import People
from kuzet.notice.places import Places
from kuzet.recorder.fanout import LiveHub
from kuzet.restream.centres import Centres
from kuzet.restream.journal import Journal
from kuzet.restream.service import Restream
from kuzet.storage.footage import Footage
from kuzet.storage.volumes import Volumes
from kuzet.web.refusal_log import RefusalLog

CAMERA_CACHE_S = 1.0
StatusSource = Callable[[], dict[str, dict[str, Any]]]  # camera name -> status JSON
# (camera name, stream) -> that stream's fan-out, if recorded or relayed here
LiveSource = Callable[[str, Stream], LiveHub | None]


def _nothing_live(name: str, stream: Stream) -> LiveHub | None:
    return None


def _no_parts() -> dict[str, Any]:
    return {}


class ViewSlots:
    """Open live and archive views per account, capped: a runaway page (or a thousand
    tabs) cannot make one account hold the server's sockets and muxers. Used from the
    API's event loop only."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.open: Counter[str] = Counter()

    def take(self, user: str) -> bool:
        if self.open[user] >= self.limit:
            return False
        self.open[user] += 1
        return True

    def give_back(self, user: str) -> None:
        self.open[user] -= 1
        if self.open[user] <= 0:
            del self.open[user]


@dataclass(frozen=True)
class WebSettings:
    """What the API and its handlers read of the settings."""

    home: Path  # resolved: the key sealing second factors, exports and the audit anchor
    display_timezone: str
    document_font: Path
    organisation: str
    max_views_per_user: int
    max_body_bytes: int
    upload_max_bytes: int
    allowed_networks: tuple[str, ...]
    trusted_proxies: tuple[str, ...]
    screen_lock_s: int
    buildings: tuple[str, ...] = ()
    check_interval_days: dict[str, int] = field(default_factory=dict)
    retention_days: int = 30  # the installation's default, which the public notice says
    sign_check_days: int = 90
    notice_contact: str = ""
    lease_ttl_s: float = 10.0  # a recording node silent this long is down (issue 25)

    @classmethod
    def of(cls, s: Settings) -> WebSettings:
        return cls(s.home.resolve(), s.display_timezone, s.document_font, s.organisation,
                   s.max_views_per_user, s.max_body_bytes, s.upload_max_bytes,
                   tuple(s.allowed_networks), tuple(s.trusted_proxies), s.screen_lock_s,
                   tuple(s.buildings), dict(s.check_interval_days), s.retention_days,
                   s.sign_check_days, s.notice_contact, s.lease_ttl_s)


@dataclass
class Services:
    settings: WebSettings
    catalog: Catalog
    status: StatusSource
    clock: Callable[[], int]
    alarms: Alarms  # the server's one, shared with the recorder and detection
    detection: DetectionStore  # detection's own: its events wake the alert sockets at once
    volumes: Volumes  # the server's, shared with the recorder
    holds: Holds  # the server's, shared with the recorder's sweeper
    live: LiveSource = _nothing_live
    # the recorder's other status parts (detection, ups, time, server), read now
    parts: Callable[[], dict[str, Any]] = _no_parts
    accounts: Accounts = field(init=False)
    roles: Roles = field(init=False)
    grants: Grants = field(init=False)
    sessions: Sessions = field(init=False)
    audit: AuditLog = field(init=False)
    refusals: RefusalLog = field(init=False)
    bookmarks: Bookmarks = field(init=False)
    layouts: Layouts = field(init=False)
    views: ViewSlots = field(init=False)
    protocols: Protocols = field(init=False)
    board: Board = field(init=False)
    acts: Acts = field(init=False)
    viewings: Viewings = field(init=False)
    transfers: Transfers = field(init=False)
    exports: Exports = field(init=False)
    throttle: AddressThrottle = field(init=False, default_factory=AddressThrottle)
    timelines: Timelines = field(init=False)  # the archive bar's answers, kept
    equipment: Register = field(init=False)
    editions: Editions = field(init=False)  # the regulation's, and who acknowledged them
    places: Places = field(init=False)  # places under the cameras and their signs
    people: People = field(init=False)  # meetings, staff and students' acquaintance
    centres: Centres = field(init=False)  # the centres that receive live video (3.2.11)
    restream_journal: Journal = field(init=False)  # their sessions and refusals
    restream: Restream | None = None  # the server toward them, where `kuzet serve` runs it
    # segments' bytes here or on the recording node that wrote them (issue 25)
    footage: Footage = field(init=False)
    # live video of the cameras other nodes record, on a node of a cluster (issue 25)
    relays: LiveRelays | None = None
    _cameras: tuple[float, dict[str, Camera]] = field(init=False, default=(-1e9, {}))

    def __post_init__(self) -> None:
        session = self.catalog.session
        self.accounts = Accounts(session, SecretBox(key_path(self.settings.home)))
        self.roles = Roles(session)
        self.grants = Grants(session)
        self.sessions = Sessions(session)
        self.audit = AuditLog(session)
        self.refusals = RefusalLog(self.audit, self.alarms, self.clock)
        self.bookmarks = Bookmarks(session)
        self.layouts = Layouts(session)
        self.views = ViewSlots(self.settings.max_views_per_user)
        self.footage = Footage(self.catalog)
        self.timelines = Timelines(self.catalog, self.holds.window_ns, footage=self.footage)
        self.protocols = Protocols(session, self.settings.display_timezone)
        self.board = Board(session)
        self.acts = Acts(session, self.settings.display_timezone)
        self.viewings = Viewings(session, self.settings.display_timezone)
        self.transfers = Transfers(session, self.settings.display_timezone, self.holds)
        self.equipment = Register(session, self.settings.buildings, self.clock)
        self.editions = Editions(session, self.settings.display_timezone)
        self.places = Places(session, self.settings.buildings, self.clock,
                             self.settings.display_timezone)
        self.people = People(session, self.clock, self.settings.display_timezone)
        self.centres = Centres(session, SecretBox(key_path(self.settings.home)),
                               self.settings.display_timezone, self.clock)
        self.restream_journal = Journal(session, self.alarms)  # the server's own time
        self.exports = Exports(self.transfers, self.catalog, self.audit, self.settings.home,
                               self.settings.organisation, self.footage)

    def cameras(self) -> dict[str, Camera]:
        """Every camera by name, removed ones included, read at most once a second.

        Every status and timeline request names a camera; the table changes when an
        administrator adds or removes one, so a second's delay costs nobody anything.
        """
        loaded, cams = self._cameras
        now = time.monotonic()
        if not 0 <= now - loaded < CAMERA_CACHE_S:
            cams = {c.name: c for c in self.catalog.cameras(include_removed=True)}
            self._cameras = (now, cams)
        return cams

    def cameras_changed(self) -> None:
        self._cameras = (-1e9, {})
