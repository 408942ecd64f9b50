"""The `kuzet` command."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from kuzet import filemodes
from kuzet.audit.actions import AuditAction
from kuzet.cli.common import (
    JsonOpt,
    audited,
    audited_read,
    fail,
    instant,
    local_actor,
    open_catalog,
    open_volumes,
    read_settings,
)
from kuzet.config import CONFIG_FILE_NAME, Settings
from kuzet.credentials import SecretUrl
from kuzet.errors import KuzetError
from kuzet.ingest.errors import SourceError, check_url
from kuzet.regulation import ZONE_CLAUSES, ZONE_LIST, Zone, check_retention_days, check_zone
from kuzet.timefmt import display_instant, format_instant

if TYPE_CHECKING:  # the catalog's modules are imported where used (kuzet.cli.common)
    from kuzet.catalog.models import Camera
    from kuzet.catalog.store import Catalog

app = typer.Typer(help="Kuzet video management system (UE-10-22).", no_args_is_help=True,
                  add_completion=False)
camera_app = typer.Typer(help="Cameras: add, list, remove, retention, zone, audio, "
                         "certificate.",
                         no_args_is_help=True)
recordings_app = typer.Typer(help="Recorded segments and gaps.", no_args_is_help=True)
app.add_typer(camera_app, name="camera")
app.add_typer(recordings_app, name="recordings")


@app.callback()
def _private() -> None:
    """Whatever a command makes (catalog, WAL, media, exports, keys, run files) is the
    service user's alone (docs/design/access.md, "Secrets at rest and file modes"): set
    here, where both `kuzet` (the installed script) and `python -m kuzet` pass."""
    os.umask(filemodes.UMASK)

# Where the demo's cameras hang, so the console's tree has branches to show; camera i
# shows the simulator's scene i (rtsp.clip.SCENES: entrance, lobby, corridor, ...).
DEMO_PLACES = (("Main building", "1", Zone.ENTRANCE), ("Main building", "1", Zone.LOBBY),
               ("Main building", "2", Zone.CORRIDOR),
               ("Dormitory 1", "1", Zone.DORMITORY_ENTRANCE),
               ("Dormitory 1", "3", Zone.DORMITORY_FLOOR),
               ("Sports hall", "1", Zone.SPORTS_LEISURE))


@app.command()
def init() -> None:
    """Create the data home, the catalog, the first media volume and a config file."""
    settings = read_settings()
    settings.home.mkdir(parents=True, exist_ok=True)
    catalog = open_catalog(settings)
    open_volumes(settings, catalog).ensure_default()
    config = settings.home / CONFIG_FILE_NAME
    if not config.exists():
        config.write_text("# Kuzet settings; see docs/ref/configuration.md\n"
                          "# segment_s = 60\n# rtsp_transport = \"tcp\"\n"
                          "# retention_days = 30   # at most 30 (clause 3.3 of UE-10-22)\n")
    first = _first_run(settings, catalog)
    _make_private(settings, catalog, depth=None)
    typer.echo(f"initialised {settings.home.resolve()} (catalog {settings.catalog_url})")
    if first:
        typer.echo(f"first login: user admin, one-time password {first} (change it at first "
                   "login). It sets the system up (cameras, accounts) and sees no video until "
                   "the rector approves its administrator role with the order's number and "
                   "date; the rector's account: kuzet user add NAME --role rector")


def _make_private(settings: Settings, catalog: Catalog, depth: int | None) -> None:
    """The home, catalog, keys, exports and volumes narrowed to the service user, `depth`
    levels deep, and second-factor secrets stored in clear sealed: what an older
    installation needs once, and cheap to repeat (docs/design/access.md)."""
    from kuzet.access.accounts import Accounts
    from kuzet.access.secretbox import SecretBox, key_path

    filemodes.tighten(filemodes.private_places(settings, _volume_paths(catalog)), depth)
    box = SecretBox(key_path(settings.home.resolve()))
    if sealed := Accounts(catalog.session, box).seal_clear_totp_secrets():
        typer.echo(f"sealed {sealed} second-factor secrets that were stored in clear",
                   err=True)


def _volume_paths(catalog: Catalog) -> list[Path]:
    return [Path(v.path) for v in catalog.volumes()]


def _first_run(settings: Settings, catalog: Catalog) -> str | None:
    """A TLS certificate and, on an empty system, the first account (`cli.users`); returns
    its one-time password when one was made."""
    from kuzet.access.tls import make_self_signed

    if settings.tls_cert is None and make_self_signed(settings.cert_path, settings.key_path):
        typer.echo(f"made a self-signed TLS certificate: {settings.cert_path}")
    return _users.first_administrator(catalog)


@app.command()
def serve(node: Annotated[str | None, typer.Option(
        help="Record as this node of a cluster on a shared PostgreSQL catalog (the `node` "
             "setting); docs/guide/cluster.md.")] = None) -> None:
    """Record every camera 24/7 until SIGTERM or Ctrl-C."""
    raise typer.Exit(_serve(read_settings(**({"node": node} if node else {}))))


def _serve(settings: Settings, banner: str = "") -> int:
    from kuzet.recorder.service import AlreadyRunning
    from kuzet.server import Server

    logging.basicConfig(level=settings.log_level,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    catalog = open_catalog(settings)
    _make_private(settings, catalog, depth=1)
    server = Server(settings, catalog, _say)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    try:
        server.start()
    except (AlreadyRunning, KuzetError) as exc:  # another recorder here, or of this node
        raise fail(str(exc)) from exc
    if banner:
        typer.echo(banner)
    return server.run_until(stop)


def _say(line: str) -> None:
    typer.echo(line, err=True)


@app.command()
def demo(
    cameras: Annotated[int, typer.Option(min=1, max=64, help="Simulated cameras.")] = 4,
    port: Annotated[int, typer.Option(min=1, max=65535, help="Simulator RTSP port.")] = 8554,
) -> None:
    """Start simulated cameras and record them: the whole recorder in one command, each
    camera a scene of its own, a person walking through cam01 every minute and an
    intrusion rule that raises an alarm on them."""
    import socket
    import subprocess
    import time

    from kuzet.analytics import demo as demo_detection
    from kuzet.analytics.detector import DetectorError, open_detector
    from kuzet.analytics.store import DetectionStore
    from kuzet.builtins import builtin
    from kuzet.rtsp.clip import PERSON_PHOTO
    from kuzet.rtsp.sim import camera_name

    settings = read_settings()
    if "api_host" not in settings.model_fields_set:
        # A demo is tried on the machine it runs on: the console on the loopback only, as
        # the README says (KUZET_API_HOST=0.0.0.0 shows it to the LAN, which
        # allowed_networks then gates as in production); the plain-HTTP port's redirect
        # goes there too.
        settings = settings.model_copy(update={
            "api_host": "127.0.0.1", "public_name": settings.public_name or "127.0.0.1"})
    if "detect_fps" not in settings.model_fields_set:
        # Two pictures a second per camera, not five: with 4 cameras the demo's server
        # took 24 % of a core at 5 and 14 % at 2 (15 % before it had a rule), and the
        # person, walking 36 px a second, raises one alarm at the same instant.
        settings = settings.model_copy(update={"detect_fps": 2.0})
    settings.home.mkdir(parents=True, exist_ok=True)
    catalog = open_catalog(settings)
    walker = camera_name(0)
    typer.echo(f"Starting the camera simulator (its first start encodes each camera's "
               f"picture, about {8 * cameras} s)...")
    # This interpreter on arguments of its own making: nothing untrusted in the command.
    # 720p main streams: each camera's clip is encoded on the first start, and 1080p
    # would take twice as long for a picture a wall's tile shows no better.
    sim_proc = subprocess.Popen([sys.executable, "-m", "kuzet", "sim",  # noqa: S603
                                 "--cameras", str(cameras), "--port", str(port), "--scenes",
                                 "--main-size", "1280x720", "--main-kbps", "2000",
                                 "--person", str(PERSON_PHOTO), "--person-on", walker],
                                env={**os.environ, "KUZET_HOME": str(settings.home)})
    try:
        # Meanwhile the person model is converted once (cached; about 7 s), so that the
        # first walk past the entrance already finds the detector ready.
        try:
            open_detector(builtin().detectors, settings.detector, settings.cache_path,
                          settings.detector_model, settings.detector_labels)
        except DetectorError as exc:
            typer.echo(f"detection cannot run, so no alarm will be raised: {exc}", err=True)
        deadline = time.monotonic() + 120 + 30 * cameras
        while True:
            if sim_proc.poll() is not None:
                raise fail(f"the simulator exited (is port {port} taken? try --port)")
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if time.monotonic() > deadline:
                raise fail("the simulator did not start in time")
            time.sleep(0.5)
        known = {c.name for c in catalog.cameras(include_removed=True)}
        store = DetectionStore(catalog.session, settings.display_timezone)
        for i in range(cameras):
            name = camera_name(i)
            if name not in known:
                building, floor, zone = DEMO_PLACES[i % len(DEMO_PLACES)]
                cam = catalog.add_camera(name, f"rtsp://127.0.0.1:{port}/{name}/main",
                                         sub_url=f"rtsp://127.0.0.1:{port}/{name}/sub",
                                         zone=zone, building=building, floor=floor,
                                         location="demo")
                demo_detection.set_up(store, local_actor(), cam.id, name, name == walker,
                                      time.time_ns())
        first = _first_run(settings, catalog)
        rector = _users.demo_rector(catalog)
        login = (f"  first login: user admin, one-time password {first} (sets the system "
                 "up; no video until the rector approves its administrator role)" if first else
                 "  log in as admin (password from the first run; while it has no "
                 "second factor, the rector resets it: POST /api/users/admin/password-reset)")
        https = f"https://127.0.0.1:{settings.https_port}"
        banner = "\n".join([
            "",
            f"Kuzet console: {https}/  (video wall: {https}/wall; API: "
            f"{https}/api/openapi.json)",
            login,
            *([f"  the rector: user rector, one-time password {rector} (live view and "
               "archive with a second factor; approves the administrator in Approvals "
               "with the order's number and date)"] if rector else []),
            f"  (the certificate is self-signed: trust {settings.cert_path}, or use curl -k)",
            f"  every minute, from :20 to :40, a person walks past {walker}'s entrance: "
            f"its rule \"{demo_detection.DEMO_RULE['name']}\" raises an alarm on the wall "
            "of whoever sees live video (the rector, once the second factor is set)",
            "Kuzet demo is recording. Open in VLC or ffplay (live from the simulator):",
            *(f"  rtsp://127.0.0.1:{port}/{camera_name(i)}/main" for i in range(cameras)),
            f"Recordings are written to {settings.volume}",
            "In another terminal (same folder):",
            "  .venv/bin/kuzet camera list              # status of each camera",
            f"  .venv/bin/kuzet recordings list {walker}   # segments in the catalog",
            "  .venv/bin/kuzet verify                   # rehash files against the catalog",
            "  .venv/bin/kuzet volume list              # disks, free space, floors",
            "  .venv/bin/kuzet alarms                   # what needs a person",
            "Stop with Ctrl-C.",
            "",
        ])
        code = _serve(settings, banner)
    finally:
        sim_proc.terminate()
        sim_proc.wait(10)
    raise typer.Exit(code)


@app.command()
def sim(
    cameras: Annotated[int, typer.Option(min=1, max=256, help="Number of cameras.")] = 4,
    port: Annotated[int, typer.Option(min=0, max=65535, help=(
        "RTSP port; 0: any free one (see --port-file)."))] = 8554,
    port_file: Annotated[Path | None, typer.Option(help=(
        "Once listening, write the port here (one line; the file appears whole)."))] = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    main_size: Annotated[str, typer.Option(help="Main stream WIDTHxHEIGHT.")] = "1920x1080",
    main_kbps: Annotated[int, typer.Option(min=100, max=50_000)] = 4000,
    sub_size: Annotated[str, typer.Option(help="Sub stream WIDTHxHEIGHT.")] = "640x360",
    sub_kbps: Annotated[int, typer.Option(min=50, max=10_000)] = 512,
    auth: Annotated[str, typer.Option(help="none, basic or digest")] = "none",
    user: Annotated[str, typer.Option()] = "admin",
    password: Annotated[str, typer.Option()] = "",
    resize_every: Annotated[int, typer.Option(help="Test fault: halve the main stream's "
                                              "resolution every N s (0: never).")] = 0,
    ts_jump_every: Annotated[int, typer.Option(help="Test fault: RTP timestamps jump back "
                                               "30 s every N s (0: never).")] = 0,
    stats_file: Annotated[Path | None, typer.Option(help="Write frames sent here on exit.")]
    = None,
    person: Annotated[Path | None, typer.Option(help=(
        "A photograph of a person who walks across every camera's picture from second "
        ":20 to :40 of each minute, instead of the moving box."))] = None,
    stagger: Annotated[bool, typer.Option(help=(
        "Spread the cameras over the minute: camera i's picture (and its clock overlay) "
        "runs i*60/N seconds ahead, so a --person walks through them at different "
        "times."))] = False,
    stamp: Annotated[bool, typer.Option(help=(
        "Send each main-stream frame after an SEI message holding its send time (UTC "
        "ns), to measure latency from the camera to the browser (bench/live.py)."))]
    = False,
    spread: Annotated[bool, typer.Option(help=(
        "Send each frame's RTP packets spread evenly over its 40 ms, in several writes, "
        "as a camera's encoder and network card do, instead of in one write when the "
        "frame is due (bench/recording.py --spread)."))] = False,
    bframes: Annotated[int, typer.Option(min=0, max=3, help=(
        "B-frames between reference frames in the main stream (libx264 bf, fixed "
        "pattern), sent in decoding order with presentation-time RTP timestamps, as "
        "cameras send them."))] = 0,
    audio: Annotated[str, typer.Option(help=(
        "A sound track on the main stream (trackID=1; a beep each second): none, aac "
        "(AAC-LC 16 kHz mono, RFC 3640), pcma, pcmu (G.711, 20-ms packets) or opus."))]
    = "none",
    loss_every: Annotated[int, typer.Option(min=0, help=(
        "Test fault: every N s (half a second into the second) drop a burst of "
        "--loss-packets consecutive main-stream video packets (their sequence numbers "
        "used: the receiver sees a gap)."))] = 0,
    loss_packets: Annotated[int, typer.Option(min=0, help="Packets in each loss burst.")]
    = 5,
    reorder_every: Annotated[int, typer.Option(min=0, help=(
        "Test fault: send every Nth main-stream video packet after its successor."))] = 0,
    duplicate_every: Annotated[int, typer.Option(min=0, help=(
        "Test fault: send every Nth main-stream video packet twice."))] = 0,
    freeze_every: Annotated[int, typer.Option(min=0, help=(
        "Test fault: every N s the main stream's encoder freezes for --freeze-for s (no "
        "media packets; RTSP and RTCP go on), then sends the frames it held back in one "
        "catch-up burst."))] = 0,
    freeze_for: Annotated[int, typer.Option(min=0, help="Seconds each freeze lasts.")] = 2,
    scenes: Annotated[bool, typer.Option(help=(
        "Each camera its own picture: its name drawn large over a scene of its own "
        "(entrance, lobby, corridor, ...), so that they are told apart on a wall; each "
        "camera's clips are encoded on the first start (about 7 s a camera at 720p)."))]
    = False,
    person_on: Annotated[list[str] | None, typer.Option(metavar="CAMERA", help=(
        "The camera (cam01, ...) the --person walks through; repeat for more (default: "
        "every camera)."))] = None,
    clock_offset_ms: Annotated[int, typer.Option(min=-86_400_000, max=86_400_000, help=(
        "The cameras' own clock runs this many ms ahead of this machine's (negative: "
        "behind), as their RTCP sender reports say: a camera whose time is off."))] = 0,
    sender_reports: Annotated[bool, typer.Option(help=(
        "Send RTCP sender reports (--no-sender-reports: cameras whose clock only ONVIF "
        "tells)."))] = True,
) -> None:
    """Serve simulated cameras over RTSP (H.264, wall-clock seconds overlay, moving box)."""
    from kuzet.rtsp.clip import AUDIO_FORMATS, ClipSpec, load_person
    from kuzet.rtsp.server import AuthConfig, NetworkFaults
    from kuzet.rtsp.sim import SimOptions, camera_name, serve

    def size(text: str) -> tuple[int, int]:
        try:
            w, h = (int(x) for x in text.lower().split("x"))
        except ValueError as exc:
            raise fail(f"size {text!r} is not WIDTHxHEIGHT") from exc
        if not (16 <= w <= 7680 and 16 <= h <= 4320) or w % 2 or h % 2:
            raise fail(f"size {text!r}: even numbers between 16x16 and 7680x4320")
        return w, h

    if auth not in ("none", "basic", "digest"):
        raise fail("--auth must be none, basic or digest")
    if auth != "none" and not password:
        raise fail("--auth needs --password")
    if person is not None:
        try:
            load_person(person, 16)
        except (OSError, ValueError) as exc:
            raise fail(f"--person: {exc}") from exc
    names = [camera_name(i) for i in range(cameras)]
    if person_on and person is None:
        raise fail("--person-on needs --person (the photograph that walks)")
    if unknown := sorted(set(person_on or ()) - set(names)):
        raise fail(f"--person-on {', '.join(unknown)}: no such camera ({names[0]} to "
                   f"{names[-1]})")
    if audio != "none" and audio not in AUDIO_FORMATS:
        raise fail(f"--audio must be one of none, {', '.join(AUDIO_FORMATS)}")
    if freeze_every and not 0 < freeze_for < freeze_every:
        raise fail("--freeze-for must be at least 1 and less than --freeze-every")
    faults = NetworkFaults(loss_every_s=loss_every, loss_packets=loss_packets if loss_every
                           else 0, reorder_every=reorder_every,
                           duplicate_every=duplicate_every, freeze_every_s=freeze_every,
                           freeze_for_s=freeze_for if freeze_every else 0)
    opts = SimOptions(
        cameras=cameras, host=host, port=port,
        main=ClipSpec(*size(main_size), main_kbps * 1000, person, bframes),
        sub=ClipSpec(*size(sub_size), sub_kbps * 1000, person),
        auth=AuthConfig(auth, user, password) if auth != "none" else None,
        resize_every_s=resize_every, ts_jump_every_s=ts_jump_every, stats_file=stats_file,
        port_file=port_file, stagger=stagger, stamp=stamp, spread=spread,
        audio="" if audio == "none" else audio, faults=faults, scenes=scenes,
        person_on=frozenset(person_on or ()), clock_offset_ms=clock_offset_ms,
        sender_reports=sender_reports)
    settings = read_settings()
    try:
        asyncio.run(serve(opts, settings.cache_path / "sim"))
    except OSError as exc:
        raise fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc


@app.command()
def verify(camera: Annotated[str | None, typer.Argument()] = None) -> None:
    """Rehash segment files against the catalog and check each camera's hash chain."""
    from kuzet.cluster.remote import Remote
    from kuzet.storage.verify import verify_camera

    settings = read_settings()
    catalog = open_catalog(settings)
    volumes = open_volumes(settings, catalog)
    # on a node: whether the node holding a file is up (it rehashes its own files)
    node_up = Remote(catalog, None, settings.lease_ttl_s).up if settings.node else None
    try:
        names = [camera] if camera else [c.name for c in catalog.cameras(include_removed=True)]
        bad = False
        for name in names:
            count = len(catalog.segments(catalog.camera(name).id))
            problem = next(verify_camera(catalog, volumes, name, node_up), None)
            if problem is None:
                typer.echo(f"{name}: {count} segments OK")
            else:
                bad = True
                typer.echo(f"{name}: FIRST BAD SEGMENT {problem.path}: {problem.reason}")
    except KuzetError as exc:
        raise fail(str(exc)) from exc
    _warn_unzoned(catalog)
    _warn_unplaced(catalog)
    _warn_open_paths(settings, catalog)
    _warn_roles(catalog)
    raise typer.Exit(1 if bad else 0)


def _warn_roles(catalog: Catalog) -> None:
    """What an older Kuzet let the command line decide about roles, as `kuzet serve` will
    find it (`access.reconcile`): a warning each, nothing changed here."""
    from kuzet.access.reconcile import findings

    for line in findings(catalog.session).lines():
        typer.echo(f"WARNING: {line}")


def _warn_unzoned(catalog: Catalog) -> None:
    """A line for each camera recorded outside the regulation's list of installation zones
    (a row from before the list was closed), until someone sets its zone. A warning, as
    open paths are: the exit status stays what the footage's check says."""
    for cam in catalog.unzoned():
        typer.echo(f"WARNING: camera {cam.name} has "
                   + (f"zone {cam.zone!r}, which" if cam.zone else "no zone, and")
                   + " is not an installation zone of UE-10-22 3.3.9-3.3.17; set one with "
                   f"`kuzet camera zone {cam.name} ZONE` ({ZONE_LIST})")


def _warn_unplaced(catalog: Catalog) -> None:
    """Once the register of places is kept, a line for each camera that covers none of
    its places: nobody can say a warning sign stands before it (UE-10-22 3.4.5)."""
    found, places = _places.findings(catalog)
    if not places:
        return
    for f in found:
        if f.finding == "unplaced":
            typer.echo(f"WARNING: camera {f.cameras[0]} covers no place of the register, so "
                       "no warning sign is known to stand before it (UE-10-22 3.4.5); add it "
                       "to its place in the console (Places and signs)")


def _warn_open_paths(settings: Settings, catalog: Catalog) -> None:
    """A line for each file or folder in the home, catalog, keys, exports or volumes that
    other local users may read or enter. A warning only: the exit status stays what the
    footage's check says."""
    for f in filemodes.exposed(filemodes.private_places(settings, _volume_paths(catalog))):
        typer.echo(f"WARNING: {f.path} has mode {f.mode:04o}: readable by other local users "
                   f"(want {'0700' if f.is_dir else '0600 or 0400'}; `kuzet init` narrows "
                   "it)")


@camera_app.command("add")
def camera_add(
    name: str,
    url: Annotated[str, typer.Argument(help="rtsp://[user:password@]host[:port]/path")],
    sub_url: Annotated[str | None, typer.Option(help="The camera's low-resolution stream.")]
    = None,
    zone: Annotated[str | None, typer.Option(help=(
        f"Installation zone (required; UE-10-22 3.3.9-3.3.17), one of: {ZONE_LIST}."))]
    = None,
    location: Annotated[str | None, typer.Option(help="Where exactly (room, door).")] = None,
    building: Annotated[str | None, typer.Option(help="Building (the console's tree).")]
    = None,
    floor: Annotated[str | None, typer.Option(help="Floor (the console's tree).")] = None,
    transport: Annotated[str | None, typer.Option(help="tcp or udp (default: settings).")]
    = None,
    retention_days: Annotated[int | None, typer.Option(
        help="Keep recordings this many days (at most 30; default: settings).")] = None,
    tls_fingerprint: Annotated[str | None, typer.Option(help=(
        "rtsps:// only: the SHA-256 the camera's TLS certificate must have (OpenSSL's "
        "AB:CD:... or plain hex); another is refused. See `kuzet camera certificate`."))]
    = None,
) -> None:
    """Add a camera in one of the regulation's installation zones; a running `kuzet serve`
    starts recording its video (no sound: see `kuzet camera audio`) within seconds."""
    if transport is not None and transport not in ("tcp", "udp"):
        raise fail("--transport must be tcp or udp")
    from kuzet.catalog.store import check_tls_fingerprint

    catalog = open_catalog(read_settings())
    main = SecretUrl(url)
    try:
        check_url(main)
        if sub_url:
            check_url(SecretUrl(sub_url))
        if retention_days is not None:
            check_retention_days(retention_days)
        zone = check_zone(zone)
        if tls_fingerprint is not None:
            tls_fingerprint = check_tls_fingerprint(url, tls_fingerprint)
        catalog.add_camera(name, url, sub_url=sub_url, zone=zone, location=location,
                           building=building, floor=floor, transport=transport,
                           retention_days=retention_days, tls_fingerprint=tls_fingerprint,
                           audit=audited(AuditAction.CAMERA_ADD, name, url=main.shown,
                                          zone=zone, location=location, building=building,
                                          floor=floor, retention_days=retention_days,
                                          tls_fingerprint=tls_fingerprint))
    except (KuzetError, SourceError) as exc:
        raise fail(str(exc)) from exc
    typer.echo(f"added camera {name} ({main})")


@camera_app.command("list")
def camera_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Cameras with their live status (from a running `kuzet serve`; "not recording"
    while none runs)."""
    settings = read_settings()
    catalog = open_catalog(settings)
    running, statuses = _statuses(settings)
    rows: list[dict[str, Any]] = []
    for cam in catalog.cameras():
        st = statuses.get(cam.name, {})
        rows.append({"name": cam.name, "url": SecretUrl(cam.main_url).shown,
                     "sub_url": SecretUrl(cam.sub_url).shown if cam.sub_url else None,
                     "zone": cam.zone, "zone_clause": ZONE_CLAUSES.get(cam.zone or ""),
                     "location": cam.location, "building": cam.building, "floor": cam.floor,
                     "retention_days": cam.retention_days or settings.retention_days,
                     "audio": _audio_order(cam),
                     # a stopped server's last figures are not shown as now (issue 20)
                     "state": st.get("state", "unknown" if running else "not recording"),
                     "last_error": st.get("last_error"),
                     "fps": st.get("fps"), "bitrate_bps": st.get("bitrate_bps"),
                     "packets_lost": st.get("packets_lost"),
                     "tls_fingerprint": cam.tls_fingerprint,
                     "certificate_sha256": st.get("certificate_sha256"),
                     "clock_offset_ms": st.get("clock_offset_ms"),
                     "clock_source": st.get("clock_source"), "onvif_url": cam.onvif_url})
    if as_json:
        typer.echo(json.dumps(rows, indent=1))
        return
    for r in rows:
        fps = f"{r['fps']:.1f} fps" if isinstance(r["fps"], float) else ""
        err = f"  ({r['last_error']})" if r["last_error"] else ""
        if r["packets_lost"]:  # the network loses this camera's packets (issue 20)
            err += f"  [{r['packets_lost']} RTP packets lost]"
        if r["url"].lower().startswith("rtsps:"):
            err += f"  [{_pin_state(r['tls_fingerprint'], r['certificate_sha256'])}]"
        zone = r["zone"] if r["zone_clause"] else f"NO ZONE ({r['zone'] or 'none'})"
        sound = ("video only" if r["audio"] is None else
                 f"sound: order {r['audio']['order_no']} of {r['audio']['order_date']}")
        typer.echo(f"{r['name']:<16} {r['state']:<13} {fps:<9} {zone:<20} {sound:<12} "
                   f"{r['url']}{err}")


def _statuses(settings: Settings) -> tuple[bool, dict[str, dict[str, Any]]]:
    """Whether a `kuzet serve` records into this home now, and then each camera's status
    by name as its status file says (a stopped server's last words are not shown)."""
    from kuzet.recorder.service import recording_now, status_path

    running = recording_now(settings)
    if not (running and status_path(settings).exists()):
        return running, {}
    doc = json.loads(status_path(settings).read_text())
    return running, {c["camera"]: c for c in doc["cameras"]}


def _pin_state(pin: str | None, seen: str | None) -> str:
    """An rtsps:// camera's certificate pin against what it presented, in a few words."""
    if pin is None:
        return "certificate not pinned"
    if seen is not None and seen != pin:
        return "certificate pinned; the camera presents another"
    return "certificate pinned"


def _audio_order(cam: Camera) -> dict[str, str] | None:
    """The rector's order a camera's sound is kept on (3.1.2); None: video only."""
    if cam.audio_order_no is None or cam.audio_order_date is None:
        return None
    return {"order_no": cam.audio_order_no, "order_date": cam.audio_order_date}


@camera_app.command("remove")
def camera_remove(name: str) -> None:
    """Stop recording a camera. Its recordings are kept until retention removes them."""
    catalog = open_catalog(read_settings())
    try:
        catalog.remove_camera(name, audit=audited(AuditAction.CAMERA_REMOVE, name))
    except KuzetError as exc:
        raise fail(str(exc)) from exc
    typer.echo(f"removed camera {name}; its recordings are kept")


@camera_app.command("retention")
def camera_retention(
    name: str,
    days: Annotated[str, typer.Argument(help="Days (1-30), or 'default' for the setting.")],
) -> None:
    """Set how long a camera's recordings are kept (at most 30 days, clause 3.3)."""
    if days != "default" and not days.isdigit():
        raise fail(f"retention {days!r}: give a number of days (1-30) or 'default'")
    catalog = open_catalog(read_settings())
    try:
        catalog.set_retention(name, None if days == "default"
                              else check_retention_days(int(days)),
                              audit=audited(AuditAction.CAMERA_RETENTION, name, days=days))
    except KuzetError as exc:
        raise fail(str(exc)) from exc
    typer.echo(f"camera {name}: retention {days}{'' if days == 'default' else ' days'}")


@camera_app.command("zone")
def camera_zone(
    name: str,
    zone: Annotated[str, typer.Argument(help=f"UE-10-22 3.3.9-3.3.17: one of {ZONE_LIST}.")],
) -> None:
    """Put a camera in one of the regulation's installation zones (a camera added before
    the list was closed waits for this: `kuzet verify` lists it)."""
    catalog = open_catalog(read_settings())
    try:
        zone = check_zone(zone)
        before = catalog.camera(name).zone
        catalog.set_zone(name, zone, audit=audited(AuditAction.CAMERA_ZONE, name, zone=zone,
                                                   before=before))
    except KuzetError as exc:
        raise fail(str(exc)) from exc
    typer.echo(f"camera {name}: zone {zone} (UE-10-22 {ZONE_CLAUSES[zone]})")


@camera_app.command("audio")
def camera_audio(
    name: str,
    off: Annotated[bool, typer.Option("--off", help="Record video only from now on.")]
    = False,
    order: Annotated[str | None, typer.Option(help=(
        "Refused here: the rector records the order in the console."))] = None,
    date: Annotated[str | None, typer.Option(help="Refused here, as --order.")] = None,
) -> None:
    """Show whether a camera's sound is kept, or stop keeping it (--off). Keeping sound
    rests on the rector's order (UE-10-22 3.1.2), which the rector records in the console
    with their own account; the command line, run by whoever holds a shell, cannot."""
    catalog = open_catalog(read_settings())
    if order is not None or date is not None:
        reason = ("refused: keeping a camera's sound from the command line (UE-10-22 3.1.2, "
                  "4.1): the rector records the order in the console (PUT "
                  f"/api/cameras/{name}/audio)")
        from kuzet.audit.log import AuditLog

        AuditLog(catalog.session).act(local_actor(), AuditAction.CAMERA_AUDIO, name,
                                      outcome="refused", reason=reason, keep=True,
                                      order_no=order, order_date=date)
        raise fail(reason)
    try:
        cam = catalog.camera(name)
        if off and cam.audio_order_no is not None:
            catalog.set_audio(name, None, audit=audited(
                AuditAction.CAMERA_AUDIO, name, keep=False, order_no=cam.audio_order_no,
                order_date=cam.audio_order_date))
            cam = catalog.camera(name)
    except KuzetError as exc:
        raise fail(str(exc)) from exc
    kept = _audio_order(cam)
    typer.echo(f"camera {name}: " + ("video only, no sound" if kept is None else
                                     f"sound kept on the rector's order {kept['order_no']} of "
                                     f"{kept['order_date']}"))


@camera_app.command("certificate")
def camera_certificate(
    name: str,
    sha256: Annotated[str | None, typer.Argument(help=(
        "Pin this SHA-256 (OpenSSL's AB:CD:... or plain hex)."))] = None,
    off: Annotated[bool, typer.Option("--off", help="Remove the pin: any certificate.")]
    = False,
    seen: Annotated[bool, typer.Option("--seen", help=(
        "Pin the certificate the running `kuzet serve` saw the camera present."))] = False,
) -> None:
    """Show an rtsps:// camera's certificate pin and the certificate the running server
    last saw it present; pin one (SHA256, or --seen) or remove the pin (--off). A pinned
    camera presenting another certificate is not recorded (auth_failed): a device swapped
    in at its address is not taken for the camera. A running `kuzet serve` follows a
    change within seconds."""
    if sum((sha256 is not None, off, seen)) > 1:
        raise fail("give one of SHA256, --seen or --off")
    from kuzet.catalog.store import NOT_TLS, check_tls_fingerprint, speaks_tls

    settings = read_settings()
    catalog = open_catalog(settings)
    running, statuses = _statuses(settings)
    presented = statuses.get(name, {}).get("certificate_sha256")
    try:
        cam = catalog.camera(name)
        if cam.removed_ns is not None:
            raise fail(f"no camera named {name!r}")
        if not speaks_tls(cam.main_url):
            if sha256 is not None or seen:
                raise fail(NOT_TLS)
            typer.echo(f"camera {name}: rtsp://, not over TLS: no certificate to pin")
            return
        pin: str | None = sha256
        if seen:
            if not presented:
                raise fail(f"no certificate seen for camera {name}: "
                           + ("it has not opened a TLS session yet"
                              if running else "no `kuzet serve` is recording now"))
            pin = presented
        if pin is not None:
            pin = check_tls_fingerprint(cam.main_url, pin)
        if (pin is not None or off) and pin != cam.tls_fingerprint:  # else nothing to log
            catalog.set_tls_fingerprint(name, pin, audit=audited(
                AuditAction.CAMERA_CERTIFICATE, name, pin=pin, before=cam.tls_fingerprint))
            cam = catalog.camera(name)
    except KuzetError as exc:
        raise fail(str(exc)) from exc
    typer.echo(f"camera {name}: " + (f"certificate pinned, sha256 {cam.tls_fingerprint}"
                                     if cam.tls_fingerprint else
                                     "certificate not pinned (any is recorded, and logged)"))
    if presented:
        same = "" if cam.tls_fingerprint in (None, presented) else " (NOT the pinned one)"
        typer.echo(f"seen: sha256 {presented}{same}")
    else:
        typer.echo("seen: none" + ("" if running else " (no `kuzet serve` is recording now)"))


@camera_app.command("onvif")
def camera_onvif(
    name: str,
    address: Annotated[str | None, typer.Argument(help=(
        "The camera's ONVIF device service: host, host:port or its URL (as `kuzet "
        "equipment discover` lists it)."))] = None,
    off: Annotated[bool, typer.Option("--off", help="Read its clock over ONVIF no more.")]
    = False,
) -> None:
    """Where `kuzet serve` reads a camera's clock over ONVIF (every onvif_clock_poll_s),
    with the camera's own RTSP credentials: its status, `camera list` and the camera_clock
    alarm use it where no RTCP sender report tells the clock. Without ADDRESS: the address
    and the last reading. Only on the LAN (3.5.3). Audited `camera.onvif`."""
    if address is not None and off:
        raise fail("give ADDRESS or --off, not both")
    from kuzet.cli.onvif import on_lan
    from kuzet.equipment.onvif import target

    settings = read_settings()
    catalog = open_catalog(settings)
    try:
        cam = catalog.camera(name)
        if cam.removed_ns is not None:
            raise fail(f"no camera named {name!r}")
        url: str | None = None
        if address is not None:
            url = target(address).device_url
            on_lan(url)
        if (address is not None or off) and url != cam.onvif_url:
            catalog.set_onvif(name, url, audit=audited(
                AuditAction.CAMERA_ONVIF, name, onvif_url=url, before=cam.onvif_url))
            cam = catalog.camera(name)
    except KuzetError as exc:
        raise fail(str(exc)) from exc
    if cam.onvif_url is None:
        typer.echo(f"camera {name}: its clock is not read over ONVIF")
        return
    typer.echo(f"camera {name}: its clock is read over ONVIF at {cam.onvif_url}")
    running, statuses = _statuses(settings)
    st = statuses.get(name, {})
    if st.get("clock_offset_ms") is not None:
        source = ("its RTCP sender reports" if st.get("clock_source") == "rtcp"
                  else "ONVIF")
        typer.echo(f"clock: {st['clock_offset_ms'] / 1000:+.3f} s against this server's "
                   f"(from {source})")
    else:
        typer.echo("clock: not known yet" + ("" if running else
                                              " (no `kuzet serve` is recording now)"))


FromOpt = Annotated[str | None, typer.Option("--from", help="ISO 8601 with offset.")]
ToOpt = Annotated[str | None, typer.Option("--to", help="ISO 8601 with offset.")]


def _camera_range(camera: str, start: str | None,
                  end: str | None) -> tuple[Catalog, int, int | None, int | None]:
    """The catalog, the camera's id and the parsed range, or a clear error."""
    catalog = open_catalog(read_settings())
    try:
        cam = catalog.camera(camera)
    except KuzetError as exc:
        raise fail(str(exc)) from exc
    return catalog, cam.id, instant(start), instant(end)


@recordings_app.command("list")
def recordings_list(camera: str, start: FromOpt = None, end: ToOpt = None,
                    as_json: JsonOpt = False) -> None:
    """Segments of a camera overlapping [--from, --to) (the reading is audited)."""
    catalog, cam_id, start_ns, end_ns = _camera_range(camera, start, end)
    from sqlalchemy import select

    from kuzet.catalog import keyindex
    from kuzet.catalog.models import StreamParams

    segs = catalog.segments(cam_id, start_ns, end_ns)
    volumes = {v.id: v for v in catalog.volumes(include_removed=True)}
    with catalog.session() as session:
        params = {p.id: p for p in session.scalars(select(StreamParams))}
    rows = []
    for s in segs:
        p = params[s.params_id]
        vol = volumes[s.volume_id]
        rows.append({
            "start": format_instant(s.start_ns), "end": format_instant(s.end_ns),
            "start_ns": s.start_ns, "end_ns": s.end_ns, "frames": s.frames, "bytes": s.size_bytes,
            "codec": p.codec, "width": p.width, "height": p.height,
            "audio": p.audio_codec, "volume": vol.name, "path": catalog.relpath(s),
            "available": vol.missing_since_ns is None, "sha256": s.sha256.hex(),
            "prev_link": s.prev_link.hex() if s.prev_link else None,
            "keyframes_ns": keyindex.decode(s.keyframes), "salvaged": s.salvaged})
    audited_read(catalog, AuditAction.RECORDINGS_READ, camera, range=[start, end],
                 count=len(rows))
    if as_json:
        typer.echo(json.dumps(rows, indent=1))
        return
    zone = read_settings().display_timezone
    for s, r in zip(segs, rows, strict=True):
        typer.echo(f"{display_instant(s.start_ns, zone, fraction=True)}  "
                   f"{display_instant(s.end_ns, zone, fraction=True)}  {r['frames']:>6} frames  "
                   f"{r['bytes']:>10} B  "
                   f"{r['width']}x{r['height']} {r['codec']}  {r['volume']}:{r['path']}"
                   f"{'' if r['available'] else '  (unavailable: volume missing)'}")


@recordings_app.command("gaps")
def recordings_gaps(camera: str, start: FromOpt = None, end: ToOpt = None,
                    as_json: JsonOpt = False) -> None:
    """Gaps (time not recorded, with cause) of a camera overlapping [--from, --to)."""
    catalog, cam_id, start_ns, end_ns = _camera_range(camera, start, end)
    gaps = catalog.gaps(cam_id, start_ns, end_ns)
    rows = [{"id": g.id, "start": format_instant(g.start_ns),
             "end": format_instant(g.end_ns) if g.end_ns is not None else None,
             "start_ns": g.start_ns, "end_ns": g.end_ns, "cause": g.cause, "detail": g.detail}
            for g in gaps]
    if as_json:
        typer.echo(json.dumps(rows, indent=1))
        return
    zone = read_settings().display_timezone
    for g in gaps:
        until = "open" if g.end_ns is None else display_instant(g.end_ns, zone)
        typer.echo(f"{display_instant(g.start_ns, zone)}  {until:<25}  {g.cause:<16} "
                   f"{g.detail or ''}")


from kuzet.cli import analytics as _analytics  # noqa: E402
from kuzet.cli import centres as _centres  # noqa: E402
from kuzet.cli import editions as _editions  # noqa: E402
from kuzet.cli import equipment as _equipment  # noqa: E402
from kuzet.cli import export as _export  # noqa: E402
from kuzet.cli import nodes as _nodes  # noqa: E402
from kuzet.cli import places as _places  # noqa: E402
from kuzet.cli import storage as _storage  # noqa: E402  (registers hold, volume, ...)
from kuzet.cli import users as _users  # noqa: E402

_storage.register(app)
_users.register(app)
_export.register(app)
_analytics.register(app)
_equipment.register(app)
_editions.register(app)
_centres.register(app)
_places.register(app)
_nodes.register(app, camera_app)


def main() -> None:
    app(prog_name="kuzet")


if __name__ == "__main__":
    main()
