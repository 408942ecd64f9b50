"""A data home for the API and live benchmarks: initialised, with simulated cameras and
one account made directly in the catalog (as the server's own command line would)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pyotp

ROOT = Path(__file__).resolve().parents[1]


def bench_env(home: Path, **settings: str) -> dict[str, str]:
    """The environment of a benchmark's Kuzet: its own home, any free API port, the
    simulator clips cached across runs, and `settings` as KUZET_* variables."""
    return {**os.environ, "KUZET_HOME": str(home), "KUZET_HTTPS_PORT": "0",
            "KUZET_HTTP_REDIRECT_PORT": "0",
            "KUZET_CACHE_DIR": str(ROOT / "bench" / "out" / "cache"),
            **{f"KUZET_{k.upper()}": v for k, v in settings.items()}}


def prepare(home: Path, env: dict[str, str], cameras: int, port: int, user: str,
            password: str, role: str) -> str | None:
    """Returns the account's TOTP secret when its role needs a second factor."""
    subprocess.run([sys.executable, "-m", "kuzet", "init"], env=env, check=True,
                   capture_output=True)
    for i in range(cameras):
        subprocess.run([sys.executable, "-m", "kuzet", "camera", "add", f"cam{i + 1:02d}",
                        f"rtsp://127.0.0.1:{port}/cam{i + 1:02d}/main", "--zone", "corridor"],
                       env=env, check=True,
                       capture_output=True)
    return account(f"sqlite:///{home / 'catalog.db'}", home, user, password, role)


def account(url: str, home: Path, user: str, password: str, role: str) -> str | None:
    """An account with a role, made in the catalog at `url`; returns its TOTP secret when
    the role needs a second factor (sealed with the key of the data home `home`)."""
    from kuzet.access.accounts import Accounts
    from kuzet.access.permissions import DEFAULT_ROLES, is_privileged
    from kuzet.access.roles import Roles
    from kuzet.access.secretbox import SecretBox, key_path
    from kuzet.audit.log import Actor
    from kuzet.catalog.db import make_engine
    from kuzet.catalog.store import Catalog

    catalog = Catalog(make_engine(url))
    actor, now = Actor("bench", (), "local"), time.time_ns()
    accounts = Accounts(catalog.session, SecretBox(key_path(home)))
    accounts.create(actor, user, user.title(), now, password=password)
    view = Roles(catalog.session).request(actor, user, role, now_ns=now)
    if view.state == "pending":  # an archive role waits for the rector's approval
        Roles(catalog.session).decide(Actor("rector", ("rector",), "127.0.0.1"), view.id, True,
                                      now)
    secret = None
    if is_privileged(DEFAULT_ROLES[role].perms):
        uri = accounts.totp_enrol(actor, user)
        secret = urllib.parse.parse_qs(urllib.parse.urlparse(uri).query)["secret"][0]
        accounts.totp_confirm(actor, user, pyotp.TOTP(secret).now(), now)
    catalog.engine.dispose()
    return secret


def reported(path: Path, proc: subprocess.Popen[bytes], what: str,
             timeout: float = 600) -> str:
    """The text of `path` once `proc` has written it (whole: both `kuzet sim --port-file`
    and `kuzet serve`'s run/api.json rename theirs into place); stops the bench if `proc`
    exits first or takes longer than `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None:
            raise SystemExit(f"{what} exited ({proc.returncode}) before writing {path}")
        if time.monotonic() > deadline:
            raise SystemExit(f"{what} wrote no {path} within {timeout:g} s")
        time.sleep(0.5)
    return path.read_text()


def sim_port(port_file: Path, sim: subprocess.Popen[bytes]) -> int:
    """The port `kuzet sim --port 0 --port-file <port_file>` reports listening on."""
    return int(reported(port_file, sim, "kuzet sim"))


def api_address(home: Path, serve: subprocess.Popen[bytes]) -> str:
    """The HTTPS address `kuzet serve` over `home` reports, once its API listens (with
    KUZET_HTTPS_PORT=0 on any free port, bound by the server itself)."""
    return str(json.loads(reported(home / "run" / "api.json", serve, "kuzet serve"))["https"])


@contextmanager
def running(home: Path, env: dict[str, str], cameras: int, port: int,
            sim_options: tuple[str, ...] = ()
            ) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`kuzet sim` with `cameras` on `port` (and `sim_options`) and `kuzet serve` over
    `home`; yields the API's HTTPS address once it answers, and the serve process; stops
    both."""
    sim = subprocess.Popen([sys.executable, "-m", "kuzet", "sim", "--cameras", str(cameras),
                            "--port", str(port), *sim_options], env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    serve = subprocess.Popen([sys.executable, "-m", "kuzet", "serve"], env=env,
                             stderr=subprocess.DEVNULL)
    try:
        yield api_address(home, serve), serve
    finally:
        serve.send_signal(signal.SIGTERM)
        serve.wait(30)
        sim.send_signal(signal.SIGTERM)
        sim.wait(30)
