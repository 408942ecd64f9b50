"""Shared fixtures: real processes (`kuzet sim`, `kuzet serve`, gst-rtsp-server), real ffprobe."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from kuzet.catalog.db import make_engine, migrate
from kuzet.catalog.store import Catalog
from kuzet.credentials import SecretUrl
from kuzet.ingest.ffmpeg_source import PyavSource, open_source
from kuzet.ingest.source import Source
from kuzet.rtsp.clip import ClipSpec, load_clip

ROOT = Path(__file__).resolve().parents[1]

# The same examples on every run: a property test that failed once must fail again, and a
# green run must stay green (a new example is a new test, added on purpose).
settings.register_profile("kuzet", derandomize=True, database=None, deadline=None)
settings.load_profile("kuzet")
PEERS = Path(__file__).parent / "peers"
SMALL_MAIN = ClipSpec(640, 360, 1_000_000)
SMALL_SUB = ClipSpec(320, 180, 300_000)
SIM_SIZE_ARGS = ["--main-size", "640x360", "--main-kbps", "1000",
                 "--sub-size", "320x180", "--sub-kbps", "300"]
FPS = 25
FRAME_NS = 40_000_000


def wait_for(predicate: Callable[[], Any], timeout: float, interval: float = 0.2,
             what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


# Under CI every test must run: a skip there (a peer missing, not root) is a failure.
CI = os.environ.get("CI") == "true"
_skipped: list[str] = []


def pytest_sessionstart(session: pytest.Session) -> None:
    """Fail at once, naming the missing peer, rather than test by test minutes later."""
    if hasattr(session.config, "workerinput"):
        return  # a worker of pytest-xdist: the controller looked already
    if os.environ.get("KUZET_SKIP_PREFLIGHT") == "1" and not CI:
        return  # a developer running pure tests on a machine without the peers
    from preflight import missing

    problems = missing(need_root=CI)
    if problems:
        raise pytest.UsageError("the suite's peers are not all here:\n  "
                                + "\n  ".join(problems)
                                + "\n(bash scripts/test.sh installs the Debian packages)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The end-to-end tests (`slow`: 10-45 s each) first, the rest after in their order:
    the workers then end on short tests together instead of one of them finishing a long
    one alone (a run's last half minute, with three workers)."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped:
        _skipped.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if CI and _skipped and exitstatus == 0:
        print(f"\nCI=true and {len(_skipped)} test(s) skipped: {', '.join(_skipped[:10])}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashes() -> Iterator[None]:
    """The in-process tests hash passwords at argon2id's smallest cost.

    The library's recommended cost (kept by `kuzet serve` and every `kuzet` command these
    tests start as processes) spends about 0.11 s per hash here; some two hundred tests
    make accounts and log in several times each, which came to minutes of the suite's
    ten. The hashes stay argon2id and are checked the same way; what is tested is which
    password opens what, not the cost. `test_units.py` checks the production cost.
    """
    from argon2 import PasswordHasher

    from kuzet.access import passwords

    production = passwords._hasher
    passwords._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    yield
    passwords._hasher = production


@pytest.fixture(scope="session")
def clip_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Encode the simulator's small clips once per test run: in a folder every worker of
    the run shares (the parent of each worker's own temporary folder), each clip renamed
    into place whole by whichever encodes it (three workers each encoding every clip had
    cost the suite as much as a test or two)."""
    cache = tmp_path_factory.getbasetemp().parent / "clips" / "sim"
    for spec in (SMALL_MAIN, SMALL_SUB, ClipSpec(320, 180, 500_000)):
        load_clip(spec, cache)
    return cache.parent


# `kuzet` commands that keep running (and own signal handlers and logging) get a process.
OWN_PROCESS = {"serve", "sim", "demo"}


def _in_process(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`kuzet ARGS` run by Typer's test runner in this process with `env` as its whole
    environment, answered as `subprocess.run` would: exit status, stdout, stderr (an
    unexpected exception's traceback in stderr, status 1, as the interpreter prints it).
    What the command changes in the process is put back: the environment, the umask it
    sets, the root logger; the engines it connected are disposed, closing their connections.
    """
    import logging
    import traceback

    from sqlalchemy import Engine, event
    from typer.testing import CliRunner

    from kuzet.cli.main import app

    opened: set[Engine] = set()

    def note(conn: Any) -> None:
        opened.add(conn.engine)

    # A login shell's umask: the command must make what it makes private itself.
    saved_env, umask = dict(os.environ), os.umask(0o022)
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    # No handler: warnings reach stderr through the last-resort handler, as in a process.
    root.handlers[:] = []
    os.environ.clear()
    os.environ.update(env)
    event.listen(Engine, "engine_connect", note)
    try:
        result = CliRunner().invoke(app, args, prog_name="kuzet")
    finally:
        event.remove(Engine, "engine_connect", note)
        for engine in opened:  # a process's exit would have closed their connections
            engine.dispose()
        os.environ.clear()
        os.environ.update(saved_env)
        os.umask(umask)
        root.handlers[:] = handlers
        root.setLevel(level)
    stderr, status = result.stderr, result.exit_code
    exc = result.exception
    if exc is not None and not isinstance(exc, SystemExit):
        stderr += "".join(traceback.format_exception(exc))
        status = 1
    return subprocess.CompletedProcess(["kuzet", *args], status, result.stdout, stderr)


class Kuzet:
    """One data home, and the `kuzet` command run against it (in this process, or as a
    separate one for the commands that stay running)."""

    def __init__(self, home: Path, clip_cache: Path, **settings: str) -> None:
        self.home = home
        self.env = {**os.environ, "KUZET_HOME": str(home), "KUZET_CACHE_DIR": str(clip_cache),
                    "KUZET_SEGMENT_S": "2", "KUZET_BACKOFF_MAX_S": "2",
                    "KUZET_HTTPS_PORT": "0", "KUZET_HTTP_REDIRECT_PORT": "0",
                    # the suite's own load (4 workers on 2 cores), the host's memory,
                    # sensors and md arrays are not what a test's server is judged on:
                    # none of their alarms among those it asserts
                    "KUZET_SERVER_LOAD_ALARM": "1000", "KUZET_SERVER_MEMORY_ALARM_PERCENT": "0",
                    "KUZET_SERVER_HOT_ALARM_C": "150", "KUZET_MDSTAT": str(home / "no-md"),
                    "KUZET_VOLUME_WRITE_PROBE_MB": "1",  # each serve's probe: light
                    "PYTHONUNBUFFERED": "1"}
        for key, value in settings.items():
            self.env[f"KUZET_{key.upper()}"] = value
        self.procs: list[subprocess.Popen[bytes]] = []
        self._catalog: Catalog | None = None

    @property
    def volume(self) -> Path:
        return Path(self.env.get("KUZET_MEDIA_DIR") or self.home / "media")

    def run(self, *args: str, check: bool = True,
            timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """`kuzet ARGS` against this home: in this process, as the installed command's
        entry point runs it (a new interpreter's imports cost 1.1-1.4 s a call, some 230
        calls a suite), or as its own process for the commands that stay running."""
        if args and args[0] in OWN_PROCESS:
            proc = subprocess.run([sys.executable, "-m", "kuzet", *args], env=self.env,
                                  capture_output=True, text=True, timeout=timeout)
        else:
            proc = _in_process(list(args), self.env)
        if check and proc.returncode != 0:
            raise AssertionError(f"kuzet {' '.join(args)} exited {proc.returncode}:\n"
                                 f"{proc.stdout}\n{proc.stderr}")
        return proc

    def json(self, *args: str) -> Any:
        return json.loads(self.run(*args, "--json").stdout)

    def spawn(self, *args: str, log_name: str) -> subprocess.Popen[bytes]:
        with (self.home / f"{log_name}.log").open("ab") as log:
            proc = subprocess.Popen([sys.executable, "-m", "kuzet", *args], env=self.env,
                                    stdout=log, stderr=subprocess.STDOUT,
                                    start_new_session=True)
        self.procs.append(proc)
        return proc

    def sim(self, *extra: str, port: int = 0,
            cameras: int = 1) -> tuple[subprocess.Popen[bytes], int]:
        """Start `kuzet sim`; return it and the port it reports listening on: any free one,
        unless `port` names one (a simulator started again after an outage)."""
        name = f"sim{len(self.procs)}"
        report = self.home / f"{name}.port"
        proc = self.spawn("sim", "--cameras", str(cameras), "--port", str(port),
                          "--port-file", str(report), *SIM_SIZE_ARGS, *extra, log_name=name)
        wait_for(lambda: report.exists() or proc.poll() is not None, 60, what="simulator")
        assert proc.poll() is None, self.log(name)
        return proc, int(report.read_text())

    def serve(self) -> subprocess.Popen[bytes]:
        (self.home / "run" / "status.json").unlink(missing_ok=True)
        return self.spawn("serve", log_name="serve")

    def log(self, name: str) -> str:
        path = self.home / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def catalog(self) -> Catalog:
        if self._catalog is None:
            url = self.env.get("KUZET_DATABASE_URL") or f"sqlite:///{self.home / 'catalog.db'}"
            engine = make_engine(url)
            migrate(engine)
            self._catalog = Catalog(engine)
        return self._catalog

    def status(self) -> dict[str, dict[str, Any]]:
        path = self.home / "run" / "status.json"
        if not path.exists():
            return {}
        try:
            doc = json.loads(path.read_text())
        except json.JSONDecodeError:
            return {}
        return {c["camera"]: c for c in doc["cameras"]}

    def close(self) -> None:
        if self._catalog is not None:
            self._catalog.engine.dispose()
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)


@pytest.fixture
def fresh(tmp_path: Path, clip_cache: Path) -> Iterator[Kuzet]:
    """A data home where `kuzet init` has not run yet."""
    k = Kuzet(tmp_path / "home", clip_cache)
    k.home.mkdir()
    yield k
    k.close()


@pytest.fixture
def kuzet(fresh: Kuzet) -> Kuzet:
    """A data home after `kuzet init`."""
    fresh.run("init")
    return fresh


def mount_tmpfs(path: Path, size: str) -> Path:
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs volume needs root (CI runs as root)")
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                   check=True)
    return path


def unmount(path: Path) -> None:
    subprocess.run(["umount", "-l", str(path)], check=False)


def stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM, timeout: float = 15) -> float:
    """Send `sig`, wait for the exit; return the seconds it took."""
    t0 = time.monotonic()
    os.kill(proc.pid, sig)
    proc.wait(timeout)
    return time.monotonic() - t0


def ffmpegs_client(url: SecretUrl, *, transport: str, stall_s: float, audio: bool = False,
                   tls_fingerprint: str | None = None) -> Source:
    """A supervisor's opener that reads every camera with FFmpeg's RTSP client, the
    fallback Kuzet's own hands cameras back to: for tests of what that client reads. It
    cannot hold a camera to a certificate pin (kuzet.ingest.choice), so none is given."""
    assert tls_fingerprint is None
    return PyavSource(open_source(url, transport=transport, stall_s=stall_s, audio=audio))


def ffprobe(path: Path) -> dict[str, Any]:
    """Decode every frame of a file with ffprobe; fail on any error it reports."""
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-count_frames", "-show_entries",
         "stream=codec_type,codec_name,width,height,nb_read_frames,duration:format=duration",
         "-of", "json", str(path)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, f"ffprobe {path}: {out.stderr}"
    assert not out.stderr.strip(), f"ffprobe {path}: {out.stderr}"
    return dict(json.loads(out.stdout))


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port bound but never listening: connecting is refused, and while it is held no
    server can take it and no client can be handed it as its own port (a TCP self-connect
    once made a camera look like an RTSP server in CI)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        yield int(s.getsockname()[1])


@pytest.fixture(scope="session")
def gst_server() -> Iterator[int]:
    """GStreamer's RTSP server (an independent implementation), on Debian's python3."""
    python = shutil.which("python3", path="/usr/bin") or "/usr/bin/python3"
    proc = subprocess.Popen([python, str(PEERS / "gst_rtsp_server.py")],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    assert proc.stdout is not None
    line = proc.stdout.readline().decode()
    assert line.startswith("ready "), f"gst-rtsp-server did not start: {line}"
    yield int(line.split()[1])
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(10)
    proc.stdout.close()


PG_ADMIN = os.environ.get("KUZET_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


@contextlib.contextmanager
def pg_database(prefix: str, template: str | None = None) -> Iterator[tuple[str, str]]:
    """A PostgreSQL database of its own (a copy of `template` when given): its name and
    URL; dropped afterwards."""
    import uuid

    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    copy = f' TEMPLATE "{template}"' if template else ""
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"{copy}')
    base = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
    try:
        yield name, f"{base}/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for one test, dropped afterwards."""
    with pg_database("kuzet_test") as (_, url):
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database with no catalog in it yet, on each engine: for the tests of what an
    upgrade from an older revision does."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'catalog.db'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture(scope="session")
def migrated_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """A catalog migrated to the newest revision once per test process, on each database,
    for the tests' catalogs to copy: a SQLite file, and a PostgreSQL database that
    `CREATE DATABASE … TEMPLATE` copies in ~0.1 s where migrating one took ~0.8 s (118
    PostgreSQL tests set up in 105 s). What the migrations themselves do, the catalog
    tests check on databases of their own (`pg_url`, a fresh file)."""
    sqlite = tmp_path_factory.mktemp("template") / "catalog.db"
    engine = make_engine(f"sqlite:///{sqlite}")
    migrate(engine)
    with engine.connect() as conn:  # the whole catalog in the one file that is copied
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    with pg_database("kuzet_template") as (name, url):
        engine = make_engine(url)
        migrate(engine)
        engine.dispose()  # a template copies only while nobody is connected to it
        yield sqlite, name


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path,
                 migrated_templates: tuple[Path, str]) -> Iterator[str]:
    """A test's own catalog, already at the newest revision, on each database."""
    sqlite, template = migrated_templates
    if request.param == "sqlite":
        shutil.copyfile(sqlite, tmp_path / "catalog.db")
        yield f"sqlite:///{tmp_path / 'catalog.db'}"
        return
    with pg_database("kuzet_test", template) as (_, url):
        yield url


# A browser, UI or model test runs on SQLite only: what it tests is above the catalog, whose
# PostgreSQL path the catalog, retention, volume, pressure, integrity, API and one
# end-to-end recording test cover (each PostgreSQL variant of a browser test cost 5-13 s).
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


class Storage:
    """A catalog with its default volume, and the storage services over it, in-process."""

    def __init__(self, url: str, home: Path, **settings: Any) -> None:
        from kuzet.audit.log import AuditLog
        from kuzet.catalog.alarms import Alarms
        from kuzet.config import Settings
        from kuzet.governance.holds import Holds
        from kuzet.server import kept_beside
        from kuzet.storage.sweeper import Sweeper
        from kuzet.storage.volumes import Volumes

        # No floor on the default volume (the test machine's own disk) unless a test asks.
        settings = {"volume_floor_bytes": 0, "volume_floor_percent": 0, **settings}
        self.settings = Settings(home=home, database_url=url, **settings)
        engine = make_engine(url)
        migrate(engine)
        self.catalog = Catalog(engine)
        self.alarms = Alarms(self.catalog.session)
        self.audit = AuditLog(self.catalog.session)
        self.volumes = Volumes(self.catalog, self.settings, self.alarms)
        self.volumes.ensure_default()
        self.holds = Holds(self.catalog, self.settings.hold_decision_window_days)
        self.sweeper = Sweeper(self.catalog, self.volumes, self.holds, self.alarms, self.settings,
                               beside=kept_beside(self.settings, self.catalog))
        # What must finish with the catalog before it closes (a World's refusal writer):
        # a thread still writing when the test's database is dropped leaves a connection
        # for the garbage collector to find in some later test.
        self.closers: list[Callable[[], object]] = []

    @property
    def default_volume_id(self) -> int:
        return self.catalog.volumes()[0].id

    def seed(self, camera: str, start_ns: int, count: int, *, seg_s: int = 60,
             size: int = 1000, volume_id: int | None = None) -> list[Any]:
        """Segments with real files of `size` random bytes, one after another."""
        import hashlib

        from kuzet.catalog.paths import segment_relpath
        from kuzet.catalog.store import NewSegment
        from kuzet.catalog.streams import Stream
        from kuzet.errors import NotFound

        try:
            cam = self.catalog.camera(camera)
        except NotFound:
            cam = self.catalog.add_camera(camera, "rtsp://10.0.0.2/s", zone="corridor")
        vol = volume_id if volume_id is not None else self.default_volume_id
        rows = []
        for i in range(count):
            start = start_ns + i * seg_s * 10**9
            data = os.urandom(size)
            path = self.catalog.volume_path(vol) / segment_relpath(camera, start)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            path.chmod(0o444)
            rows.append(self.catalog.add_segment(NewSegment(
                camera_id=cam.id, stream=Stream.MAIN, volume_id=vol, start_ns=start,
                end_ns=start + seg_s * 10**9, frames=seg_s * FPS, size_bytes=size,
                codec="h264", width=1920, height=1080, audio_codec=None,
                params_json='{"codec": "h264"}', keyframes_ns=[k * 10**9 for k in range(seg_s)],
                sha256=hashlib.sha256(data).digest())))
        return rows

    def files(self, volume_id: int | None = None) -> set[str]:
        root = self.catalog.volume_path(volume_id or self.default_volume_id)
        return {str(p.relative_to(root)) for p in root.rglob("*.mp4")
                if p.relative_to(root).parts[0] != ".quarantine"}

    def rows(self, volume_id: int | None = None) -> set[str]:
        from sqlalchemy import select

        from kuzet.catalog.models import Segment

        with self.catalog.session() as s:
            segs = list(s.scalars(select(Segment).where(
                Segment.volume_id == (volume_id or self.default_volume_id))))
        return {self.catalog.relpath(seg) for seg in segs}

    def close(self) -> None:
        for close in self.closers:
            close()
        self.catalog.engine.dispose()


@pytest.fixture
def storage(database_url: str, tmp_path: Path) -> Iterator[Storage]:
    st = Storage(database_url, tmp_path / "home")
    yield st
    st.close()


@pytest.fixture
def site() -> Iterator[str]:
    """A site name of its own for a test's MQTT topics (kuzet/<site>/…), cleaned after."""
    from mqtt_peer import clear_retained

    name = f"test-{os.getpid()}-{time.monotonic_ns() % 10**9}"
    yield name
    clear_retained(name)


HOST_ADDR, NS_ADDR = "198.51.100.1", "198.51.100.2"  # TEST-NET-2: public, never routed


@pytest.fixture
def public_netns() -> Iterator[str]:
    """A network namespace whose only address is public, wired to this host by veth."""
    tag = f"kz{os.getpid() % 100000}"
    ns, host_if, ns_if = tag, f"{tag}h", f"{tag}n"
    steps = [["ip", "netns", "add", ns],
             ["ip", "link", "add", host_if, "type", "veth", "peer", "name", ns_if],
             ["ip", "link", "set", ns_if, "netns", ns],
             ["ip", "addr", "add", f"{HOST_ADDR}/24", "dev", host_if],
             ["ip", "link", "set", host_if, "up"],
             ["ip", "netns", "exec", ns, "ip", "addr", "add", f"{NS_ADDR}/24", "dev", ns_if],
             ["ip", "netns", "exec", ns, "ip", "link", "set", ns_if, "up"]]
    try:
        for step in steps:
            subprocess.run(step, check=True, capture_output=True)
        yield ns
    finally:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        subprocess.run(["ip", "link", "del", host_if], capture_output=True)
