"""An in-process Kuzet API over a real catalog, with accounts of every default role and a
clock the test moves. Requests go through the real ASGI stack (LAN gate, body cap,
FastAPI) via Starlette's TestClient over https://, so Secure cookies travel."""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pyotp
from starlette.testclient import TestClient

from kuzet.access.permissions import DEFAULT_ROLES, is_privileged
from kuzet.analytics.store import DetectionStore
from kuzet.audit.log import Actor
from kuzet.catalog.alarms import Alarms
from kuzet.governance.holds import Holds
from kuzet.storage.volumes import Volumes
from kuzet.web.app import create_app
from kuzet.web.services import Services, WebSettings

PASSWORD = "correct horse battery staple"
SETUP = Actor("setup", (), "local")
# The rector's decisions are a person's, never the command line's: as the API passes one on.
APPROVER = Actor("approver", ("rector",), "127.0.0.1")
CAM = "cam1"


class Clock:
    def __init__(self, now_ns: int) -> None:
        self.now_ns = now_ns

    def __call__(self) -> int:
        return self.now_ns

    def advance(self, seconds: float) -> None:
        self.now_ns += int(seconds * 1e9)


class World:
    def __init__(self, storage: Any, now_ns: int, **settings: Any) -> None:
        from kuzet.config import Settings

        base = storage.settings.model_dump()
        base.update(settings)
        self.settings = Settings(**base)
        self.storage = storage
        self.clock = Clock(now_ns)
        session = storage.catalog.session
        detection = DetectionStore(session, self.settings.display_timezone)
        alarms = Alarms(session)
        self.svc = Services(WebSettings.of(self.settings), storage.catalog, lambda: {},
                            self.clock, alarms, detection,
                            Volumes(storage.catalog, self.settings, alarms),
                            Holds(storage.catalog, self.settings.hold_decision_window_days))
        self.app = create_app(self.svc)
        storage.closers.append(self.svc.refusals.flush)  # written before the catalog closes
        self.secrets: dict[str, str] = {}
        self.recovery: dict[str, list[str]] = {}  # the codes given at enrolment
        self.used_steps: dict[str, int] = {}
        storage.catalog.add_camera(CAM, "rtsp://10.0.0.2/s", zone="corridor")
        storage.catalog.add_camera("cam2", "rtsp://10.0.0.3/s", zone="corridor")

    def user(self, name: str, role: str | None, **assign: Any) -> str:
        self.svc.accounts.create(SETUP, name, name.title(), self.clock(), password=PASSWORD)
        if role is not None:
            source = "local"
            if role == "administrator":
                assign.setdefault("order_no", "42-P")
                assign.setdefault("order_date", "2026-09-01")
            view = self.svc.roles.request(Actor("setup", (), source), name, role,
                                          now_ns=self.clock(), **assign)
            if view.state == "pending":
                self.svc.roles.decide(APPROVER, view.id, True, self.clock())
            if is_privileged(DEFAULT_ROLES[role].perms):
                self.enrol(name)
        return name

    def enrol(self, name: str) -> None:
        uri = self.svc.accounts.totp_enrol(SETUP, name)
        secret = urllib.parse.parse_qs(urllib.parse.urlparse(uri).query)["secret"][0]
        self.secrets[name] = secret
        self.recovery[name] = self.svc.accounts.totp_confirm(SETUP, name, self.code(name),
                                                             self.clock())

    def code(self, name: str) -> str:
        """A code Kuzet has not seen yet: the earliest unused of the steps it accepts now
        (one either side of the current one); codes are single-use."""
        now_step = self.clock() // 10**9 // 30
        step = max(now_step - 1, self.used_steps.get(name, -1) + 1)
        assert step <= now_step + 1, "no unused TOTP step left: advance the clock"
        self.used_steps[name] = step
        return str(pyotp.TOTP(self.secrets[name]).generate_otp(step))

    def client(self, address: str = "127.0.0.1") -> TestClient:
        return TestClient(self.app, base_url="https://kuzet.lan", client=(address, 40000),
                          raise_server_exceptions=False)

    def login(self, name: str, address: str = "127.0.0.1") -> TestClient:
        c = self.client(address)
        body = {"username": name, "password": PASSWORD}
        if name in self.secrets:
            body["totp"] = self.code(name)
        r = c.post("/api/auth/login", json=body)
        assert r.status_code == 200, r.text
        c.headers["X-CSRF-Token"] = r.json()["csrf"]
        return c

    def grant(self, requester: TestClient, approver: TestClient, user: str,
              footage: tuple[str, str], instruction: str,
              valid: tuple[str, str] = ("2026-09-21T00:00:00Z", "2026-09-22T00:00:00Z")
              ) -> int:
        """Archive view of CAM's `footage` window for `user` through the API, requested by
        one client and approved by another, valid for `valid` (by default the whole of 21
        September 2026, the day most API tests live in)."""
        r = requester.post("/api/grants", json={
            "user": user, "perms": ["archive.view"], "cameras": [CAM],
            "footage_from": footage[0], "footage_to": footage[1],
            "valid_from": valid[0], "valid_until": valid[1], "instruction": instruction})
        assert r.status_code == 201, r.text
        assert approver.post(f"/api/grants/{r.json()['id']}/approve").status_code == 200
        if user not in self.secrets:  # archive view by grant needs a second factor too
            self.enrol(user)
        return int(r.json()["id"])

    def audit(self, action: str) -> list[Any]:
        return self.svc.audit.entries(action=action)

    @contextmanager
    def served(self) -> Iterator[str]:
        """This world's API on a real HTTPS port, for a browser; yields its address."""
        from kuzet.access.tls import make_self_signed
        from kuzet.web.server import ApiServer, Listen

        make_self_signed(self.settings.cert_path, self.settings.key_path)
        server = ApiServer(Listen.of(self.settings), self.svc)
        try:
            yield server.start()["https"]
        finally:
            server.stop()

    def browser_login(self, browser: Any, base: str, name: str, **context: Any) -> Any:
        """A new Chromium page logged in as `name` through the console's login form (with
        a TOTP code where the account has a second factor)."""
        page = browser.new_context(ignore_https_errors=True, **context).new_page()
        page.goto(f"{base}/login?lang=en")
        self.submit_login(page, name)
        try:
            page.wait_for_url(f"{base}/")
        except Exception as exc:  # say where the login stopped, not only that it did
            message = page.locator("#message").text_content(timeout=1000)
            raise AssertionError(f"login as {name} stayed at {page.url}: {message!r}") from exc
        return page

    def submit_login(self, page: Any, name: str) -> None:
        """Fill the login form `page` shows (in its language) as `name`, with a TOTP code
        where the account has a second factor, and send it."""
        page.fill("#login input[name=username]", name)
        page.fill("#login input[name=password]", PASSWORD)
        if name in self.secrets:
            page.fill("#login input[name=totp]", self.code(name))
        page.click("#login button")


CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking"]
