"""Settings: defaults, then `$KUZET_HOME/kuzet.toml`, then `KUZET_*` environment variables."""

from __future__ import annotations

import os
import re
import socket
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from kuzet.access.destinations import Destination
from kuzet.access.lan import (
    DEFAULT_ALLOWED,
    Network,
    check_allowlist,
    check_campus,
    parse_networks,
)
from kuzet.credentials import SecretUrl
from kuzet.endpoints import ITEM_NAME, UpsAddress, host_port
from kuzet.regulation import check_decision_window_days, check_retention_days

DEFAULT_HOME = Path("kuzet-data")
CONFIG_FILE_NAME = "kuzet.toml"
# Settings that changed their name, with what to write instead.
RENAMED = {
    "allow_public_networks": "allow_public_networks is gone: it let allowed_networks hold "
    "any public address space. List the public ranges that are the campus's own LAN in "
    "campus_public_networks instead (UE-10-22 3.5.3).",
    "hold_pending_days": "hold_pending_days is now hold_decision_window_days, at most 7 "
    "days: an undecided hold keeps footage no longer than 30 days plus that window "
    "(UE-10-22 3.3).",
}


def home_from_env() -> Path:
    return Path(os.environ.get("KUZET_HOME") or DEFAULT_HOME)


@dataclass(frozen=True)
class Broker:
    """The MQTT broker `mqtt_url` names, checked with the other settings
    (`integrations.mqtt` connects to it); its repr leaves the password out."""

    host: str
    port: int
    username: str | None
    password: str | None = field(repr=False)

    @property
    def shown(self) -> str:
        return f"mqtt://{self.host}:{self.port}"


def parse_broker(url: SecretUrl) -> Broker:
    u = urllib.parse.urlsplit(url.reveal())
    if u.scheme != "mqtt" or not u.hostname:
        raise ValueError("mqtt_url is mqtt://[user:password@]host[:port]")
    return Broker(u.hostname, u.port or 1883, urllib.parse.unquote(u.username or "") or None,
                  urllib.parse.unquote(u.password or "") or None)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KUZET_", extra="forbid")

    home: Path = Field(DEFAULT_HOME, description="Data home: catalog, media volume, caches.")
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL of the catalog; default SQLite at <home>/catalog.db. "
        "PostgreSQL: postgresql+psycopg://user@host/db.",
    )
    media_dir: Path | None = Field(None, description="Media volume; default <home>/media.")
    cache_dir: Path | None = Field(None, description="Cache folder (simulator clips); "
                                   "default <home>/cache.")
    segment_s: float = Field(60.0, gt=1, le=600,
                             description="Target segment length; cut at the next keyframe.")
    stall_s: float = Field(5.0, gt=0.5, le=60,
                           description="A stream with no packet for this long is stalled; "
                           "also the wait for a camera to answer while connecting.")
    backoff_max_s: float = Field(10.0, ge=0.5, le=60,
                                 description="Longest wait between reconnection attempts.")
    catalog_waiting_rows: int = Field(
        200, ge=1, le=100_000, description="Segments a camera keeps in memory while the "
        "catalog cannot be reached; the rest wait in a journal file under <home>/run.")
    rtsp_transport: Literal["tcp", "udp"] = Field(
        "tcp", description="Default RTP transport for cameras that do not set their own.")
    camera_alarm_s: float = Field(
        30.0, ge=2, le=3600, description="A camera not recording for this long raises a "
        "critical camera_offline alarm, cleared when it records again (not for a full disk, "
        "which its volume's alarm says).")
    camera_rate_low_ratio: float = Field(
        0.5, ge=0.05, le=0.95, description="A recording camera whose frame rate or bitrate "
        "stays below this fraction of its normal for camera_alarm_s raises camera_rate_low.")
    camera_rate_window_s: float = Field(
        600, ge=5, le=86400, description="A camera's normal frame rate and bitrate are "
        "averaged over this long, and judged only once it has recorded this long.")
    camera_loss_alarm_percent: float = Field(
        2.0, gt=0, le=100, description="A camera whose RTP packets are lost on the way at "
        "more than this share over camera_loss_window_s raises camera_packet_loss (the own "
        "RTSP client's count; FFmpeg's client does not say).")
    camera_loss_window_s: float = Field(
        60, ge=5, le=3600, description="The window over which a camera's packet loss is "
        "judged.")
    camera_lag_alarm_ms: int = Field(
        2000, ge=100, le=600_000, description="A camera whose frames the recorder reads "
        "this much later than their timestamps say (against its segment's soonest) for "
        "camera_alarm_s raises camera_lag: the recorder, or the network before it, falls "
        "behind.")
    sign_check_days: int = Field(
        90, ge=1, le=3660, description="Days between checks of a warning sign (UE-10-22 "
        "3.4.5): one not checked for longer is overdue in the coverage report.")
    notice_contact: str = Field(
        "", max_length=200, description="Whom people ask about surveillance, printed on "
        "every warning sign (an office, a room, a telephone); empty: the internal security "
        "service, said in each language.")
    buildings: list[str] = Field(
        [], description="The campus's buildings, as the equipment register and the camera "
        "tree name them; JSON list in the environment. Empty: any name is accepted.")
    check_interval_days: dict[str, int] = Field(
        {}, description="Days between scheduled checks by equipment kind (camera, monitor, "
        "ups, server, switch, storage, software); unsaid kinds keep their default "
        "(cameras 30, UPSes, servers and storage 90, others 180).")
    ups: dict[str, str] = Field(
        {}, description="UPSes read through Network UPS Tools: register item name -> "
        "upsname@host[:port] of its upsd (port 3493 by default); JSON object in the "
        "environment. Each raises ups_on_battery, ups_low_battery, ups_replace_battery and "
        "ups_unreachable alarms.")
    server_ups: str | None = Field(
        None, description="The UPS (a name in `ups`) powering this server: on its low battery "
        "Kuzet closes every segment with a `power` gap before the power goes, and records "
        "again once it is back on line.")
    ups_poll_s: float = Field(2.0, ge=0.5, le=60, description="Seconds between reads of "
                              "each UPS from upsd.")
    server_name: str = Field(
        default_factory=socket.gethostname, min_length=1, max_length=64,
        description="This server's name: its item in the equipment register, the subject "
        "of its own alarms (time, load, memory, temperature); the host name by default.")
    node: str | None = Field(
        None, min_length=1, max_length=32, pattern=r"^[a-z0-9][a-z0-9_-]*$",
        description="This server's name as a recording node of a cluster on one PostgreSQL "
        "catalog (`kuzet serve --node`; docs/guide/cluster.md). Unset: a single server. "
        "Refused on SQLite.")
    node_addresses: list[str] = Field(
        [], description="Addresses this node is reached at on the campus LAN, shown in the "
        "node list; JSON list in the environment.")
    node_port: int = Field(
        7443, ge=0, le=65535, description="Port of this node's internal endpoint (on "
        "`api_host`): footage of its disks for the other nodes, mutual TLS with the "
        "cluster's certificates (`kuzet cluster init`); 0: any free port.")
    node_max_cameras: int = Field(64, ge=1, le=10_000, description="Cameras this node "
                                  "accepts; automatic placement fills nodes by the share of "
                                  "it in use.")
    node_max_mbps: int = Field(1000, ge=1, le=1_000_000, description="Write bandwidth "
                               "(Mbit/s) this node accepts, shown in the node list.")
    node_building: str | None = Field(
        None, max_length=64, description="The building this node stands in: cameras of the "
        "same building (their `building`) are placed on it first.")
    lease_ttl_s: float = Field(
        10.0, ge=2, le=120, description="Seconds a camera's lease lasts unrenewed: a node "
        "silent this long loses its cameras to the others (issue 25).")
    lease_renew_s: float = Field(
        2.0, ge=0.2, le=30, description="Seconds between a node's heartbeats, in which it "
        "renews its leases, takes the cameras placed on it and hands over those moved.")
    ntp_servers: list[str] = Field(
        [], description="The campus's time servers (host or host:port) this server's clock "
        "is checked against (UE-10-22 3.4.1); JSON list in the environment. Empty: not "
        "checked.")
    time_alarm_ms: int = Field(100, ge=1, le=3_600_000, description="This server's clock "
                               "more than this far off the time servers raises time_offset.")
    time_poll_s: float = Field(64.0, ge=1, le=3600, description="Seconds between checks "
                               "of this server's clock.")
    camera_clock_alarm_ms: int = Field(
        1000, ge=10, le=3_600_000, description="A recording camera whose clock is more than "
        "this far off the server's (its RTCP sender reports; Kuzet's own RTSP client; else "
        "its ONVIF clock, `kuzet camera onvif`) raises a camera_clock warning, cleared when "
        "back within it.")
    onvif_clock_poll_s: float = Field(
        600.0, ge=0, le=86400, description="Seconds between reads of the clocks of cameras "
        "with an ONVIF address (`kuzet camera onvif`), some 20 short requests and about a "
        "second each; 0: not read.")
    disks: dict[str, str] = Field(
        {}, description="Disks whose SMART health smartctl reads: register item name -> "
        "device (/dev/sda, /dev/nvme0, /dev/disk/by-id/...); JSON object in the environment. "
        "Each raises disk_failing, disk_sectors, disk_hot and disk_unreadable alarms.")
    arrays: dict[str, str] = Field(
        {}, description="Software RAID arrays by register item: item name -> md device (md0 "
        "or /dev/md0); an array not named here is checked all the same, under its md name. "
        "Each raises raid_degraded and raid_rebuilding alarms.")
    disk_poll_s: float = Field(300.0, ge=10, le=86400, description="Seconds between reads "
                               "of the disks' SMART data and the md arrays' state.")
    disk_hot_alarm_c: int = Field(55, ge=20, le=100, description="A disk hotter than this "
                                  "(°C) raises disk_hot.")
    network_poll_s: float = Field(
        60.0, ge=0, le=3600, description="Seconds between probes of every register item with "
        "an IP address (a TCP connection, accepted or refused: the host answers); one not "
        "answering twice in a row raises item_unreachable. 0: not probed.")
    network_probe_port: int = Field(80, ge=1, le=65535, description="The TCP port the "
                                    "network probe connects to.")
    volume_write_probe_mb: int = Field(
        32, ge=0, le=1024, description="Every disk_poll_s each enabled volume is written a "
        "probe file of this many MiB (fsync'd, removed) and its rate set against what the "
        "cameras send; 0: not probed.")
    volume_write_margin: float = Field(
        3.0, ge=1, le=1e6, description="A volume writing slower than this many times what "
        "the cameras send raises volume_slow.")
    mdstat: Path = Field(Path("/proc/mdstat"), description="Where the md driver says its "
                         "arrays' state; every array in it is watched (`arrays` names "
                         "them in the register). A path that does not exist: no md driver.")
    server_poll_s: float = Field(10.0, ge=1, le=3600, description="Seconds between reads "
                                 "of this server's load, memory and temperature.")
    server_load_alarm: float = Field(
        2.0, ge=0, le=1000, description="The 1-minute load average per core above this for "
        "three polls in a row raises server_load.")
    server_memory_alarm_percent: float = Field(
        5.0, ge=0, le=100, description="Less memory available than this share raises "
        "server_memory.")
    server_hot_alarm_c: float = Field(85.0, ge=20, le=150, description="This server's "
                                      "hottest sensor above this (°C) raises server_hot.")
    shutdown_grace_s: float = Field(4.5, gt=0, le=30,
                                    description="Time given to close open segments on stop.")
    retention_days: int = Field(
        30, ge=1, description="Default retention of recordings in days; at most 30 "
        "(clause 3.3 of UE-10-22). Cameras may set less.")
    hold_decision_window_days: float = Field(
        3.0, description="How long a requested, undecided hold protects its footage "
        "while the rector decides, and how far past 30 days of age it may keep it: at least "
        "1 (the rector's reminder is daily) and at most 7 (clause 3.3 of UE-10-22; both "
        "checked by the validator, which names the clause).")
    sweep_interval_s: float = Field(60.0, gt=0, le=3600,
                                    description="Pause between retention and disk sweeps.")
    volume_floor_percent: float = Field(
        5.0, ge=0, le=50, description="Free space each volume keeps, as a share of its size "
        "(the larger of this and volume_floor_bytes, at most half the volume).")
    volume_floor_bytes: int = Field(10 * 1024**3, ge=0,
                                    description="Free space each volume keeps, in bytes.")
    integrity_sample: int = Field(200, ge=0, description="Segments re-hashed by the daily "
                                  "integrity check (0 turns it off).")
    integrity_interval_s: float = Field(86_400.0, gt=0,
                                        description="Time between integrity checks.")
    # Every interface by default: the campus LAN reaches the server on whichever it is
    # given, and the gate (allowed_networks) refuses clients outside it.
    api_host: str = Field("0.0.0.0", description="Address the HTTPS API and console "  # noqa: S104
                          "listen on; clients outside allowed_networks are refused anyway.")
    https_port: int = Field(8443, ge=0, le=65535, description="HTTPS port (0: any free "
                            "port, written to <home>/run/api.json).")
    http_redirect_port: int | None = Field(
        8080, ge=0, le=65535, description="Plain-HTTP port that only redirects to HTTPS "
        "(unset to turn off; 0: any free port).")
    public_name: str | None = Field(
        None, max_length=253,
        # a host name, or an IP address (IPv6: hex digits and colons, no brackets); no
        # port, path or anything else a URL would read differently
        pattern=r"^([A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.?|[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*)$",
        description="Host name (or address) clients reach Kuzet by: the plain-HTTP "
        "port redirects to https://<public_name>:<https_port>. Default: this machine's host "
        "name, which the generated certificate names.")
    # Clause 3.2.11: live video to the registered centres, on an address of its own (the
    # interface toward the centres' channel); off until a port is given.
    restream_host: str = Field("0.0.0.0", description="Address the restream to "  # noqa: S104
                               "external centres listens on (UE-10-22 3.2.11); only the "
                               "registered centres' addresses are served.")
    restream_port: int | None = Field(
        None, ge=0, le=65535, description="RTSP port of the restream to external centres "
        "(unset: off; 0: any free port, written to <home>/run/restream.json).")
    restream_tls_port: int | None = Field(
        None, ge=0, le=65535, description="RTSPS (RTSP over TLS, the console's certificate) "
        "port of the restream (unset: off; 0: any free port).")
    restream_flood_limit: int = Field(
        20, ge=1, le=10_000, description="Connections to the restream one address may open "
        "in 10 s; more are refused (503) and audited in aggregate.")
    tls_cert: Path | None = Field(None, description="PEM certificate; default "
                                  "<home>/tls/cert.pem, made by `kuzet init`.")
    tls_key: Path | None = Field(None, description="PEM private key; default "
                                 "<home>/tls/key.pem.")
    allowed_networks: list[str] = Field(
        list(DEFAULT_ALLOWED), description="The LAN (clause 3.5.3): client networks allowed "
        "to reach the API, and the only networks webhook_url and mqtt_url may point into; "
        "JSON list in the environment. Public ranges only inside campus_public_networks.")
    campus_public_networks: list[str] = Field(
        [], description="Public address ranges that are the campus's own LAN (a campus "
        "numbered in public IPv4 space): allowed_networks may hold public space only inside "
        "these; each at most a /8 (IPv4) or /32 (IPv6). Formerly allow_public_networks.")
    trusted_proxies: list[str] = Field(
        [], description="Reverse proxies whose X-Forwarded-For is believed.")
    max_views_per_user: int = Field(
        64, ge=1, le=1024, description="Live and archive views one account may have open "
        "at once (wall tiles, archive players, tabs); more are refused.")
    screen_lock_s: int = Field(
        300, ge=30, lt=900, description="Input-free seconds after which the console locks "
        "its screen (the wall's live video stays, nothing else until the same person's "
        "password and code); under the session's own 15-minute idle end.")
    max_body_bytes: int = Field(1_048_576, ge=1024, le=64 * 1024**2,
                                description="Largest request body the API accepts.")
    upload_max_bytes: int = Field(
        10 * 1024**2, ge=1024, le=64 * 1024**2, description="Largest scan of a transfer "
        "request's basis document (PDF, JPEG or PNG) the API accepts.")
    organisation: str = Field("University", description="The institution's name, printed "
                              "in export packages and hand-over acts.")
    detector: Literal["openvino", "onnx"] = Field(
        "openvino", description="Object detector: openvino (the bundled person model) or "
        "onnx (detector_model).")
    detector_model: Path | None = Field(None, description="ONNX model file for detector = "
                                        "onnx (YOLO v8/v11 or SSD outputs).")
    detector_labels: Path | None = Field(None, description="Class names of the ONNX model, "
                                         "one per line (line k names class k).")
    detect_threshold: float = Field(0.5, ge=0.05, le=0.99, description="Lowest score a "
                                    "detection needs to count.")
    detect_fps: float = Field(5.0, gt=0, le=25, description="Pictures a second analysed per "
                              "camera with detection rules (from its sub stream).")
    motion_width: int = Field(320, ge=64, le=1920, description="Width in pixels the "
                              "picture is scaled to for motion detection (height keeps "
                              "the aspect): wider sees smaller things, at more CPU.")
    mqtt_url: SecretUrl | None = Field(
        None, description="MQTT broker that receives camera status (and events): "
        "mqtt://[user:password@]host[:port], shown with the password masked; unset: no MQTT.")
    mqtt_site: str = Field("campus", pattern=r"^[A-Za-z0-9_-]{1,64}$", description="The "
                           "site's name in MQTT topics: kuzet/<site>/….")
    webhook_url: str | None = Field(None, description="HTTP(S) endpoint that receives each "
                                    "detection event as signed JSON; unset: none.")
    webhook_secret: SecretStr | None = Field(
        None, description="Shared secret of the webhook's HMAC-SHA256 signature (required "
        "with webhook_url); shown as stars.")
    webhook_images: bool = Field(False, description="Whether the webhook endpoint may "
                                 "receive the event's picture (JPEG, base64); never the "
                                 "external endpoint.")
    external_endpoint: SecretUrl | None = Field(
        None, description="The one endpoint outside the LAN that webhook_url or mqtt_url "
        "may name: the police or operational centre's (clause 3.2.11), matched by scheme, "
        "host and port. Audited at each start of kuzet serve (password masked); it never "
        "receives a picture.")
    document_font: Path = Field(
        Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
        description="TrueType font embedded in PDF documents; it must cover Kazakh and "
        "Russian letters (Debian: fonts-dejavu-core).")
    display_timezone: str = Field("Asia/Almaty", description="Time zone the console shows "
                                  "times and calendar days in (times are stored in UTC).")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", description="Logging level of `kuzet serve`.")

    @field_validator("display_timezone")
    @classmethod
    def _known_zone(cls, zone: str) -> str:
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {zone!r} (an IANA name such as "
                             "Asia/Almaty)") from exc
        return zone

    @field_validator("check_interval_days")
    @classmethod
    def _check_kinds(cls, days: dict[str, int]) -> dict[str, int]:
        kinds = ("camera", "monitor", "ups", "server", "switch", "storage", "software")
        for kind, n in days.items():
            if kind not in kinds:
                raise ValueError(f"unknown equipment kind {kind!r}: one of {', '.join(kinds)}")
            if not 1 <= n <= 3660:
                raise ValueError(f"{kind}: between 1 and 3660 days, not {n}")
        return days

    @field_validator("ntp_servers")
    @classmethod
    def _time_servers(cls, servers: list[str]) -> list[str]:
        for server in servers:
            host_port(server, 123)  # ValueError says what is wrong
        return servers

    @field_validator("ups")
    @classmethod
    def _nut_addresses(cls, upses: dict[str, str]) -> dict[str, str]:
        for name, address in upses.items():
            ups = UpsAddress.parse(address)  # ValueError says what is wrong
            if not ITEM_NAME.fullmatch(name) or not ITEM_NAME.fullmatch(ups.ups):
                raise ValueError(f"a UPS is named by its register item and upsd's name for it "
                                 f"(letters, digits, '.', '_', '-'): {name!r}, {address!r}")
        return upses

    @field_validator("network_poll_s")
    @classmethod
    def _probe_rate(cls, seconds: float) -> float:
        if 0 < seconds < 5:
            raise ValueError("network_poll_s: 0 (not probed) or at least 5 s")
        return seconds

    @field_validator("disks")
    @classmethod
    def _disk_devices(cls, disks: dict[str, str]) -> dict[str, str]:
        for name, device in disks.items():
            if not name or len(name) > 64:
                raise ValueError(f"a disk is named by its register item (1-64 characters): "
                                 f"{name!r}")
            if not device.startswith("/dev/"):
                raise ValueError(f"disk {name}: a device under /dev/, not {device!r}")
        return disks

    @field_validator("arrays")
    @classmethod
    def _md_arrays(cls, arrays: dict[str, str]) -> dict[str, str]:
        out = {}
        for name, device in arrays.items():
            md = device.removeprefix("/dev/")
            if not name or len(name) > 64:
                raise ValueError(f"an array is named by its register item (1-64 characters): "
                                 f"{name!r}")
            if not re.fullmatch(r"md\w+", md):
                raise ValueError(f"array {name}: an md device (md0, /dev/md0), not {device!r}")
            out[name] = md
        if len(set(out.values())) < len(out):
            raise ValueError("two register items name the same md array")
        return out

    @model_validator(mode="after")
    def _peers_on_the_lan(self) -> Settings:
        """UPSes' upsd and time servers on the LAN (3.5.3), as written or as their names
        resolve now; checked again at every connection."""
        from kuzet.access.destinations import Destination

        for address in self.ups.values():
            ups = UpsAddress.parse(address)
            Destination.on_lan("ups", ups.host, ups.port, self.lan).check_at_load()
        for server in self.ntp_servers:
            host, port = host_port(server, 123)
            Destination.on_lan("ntp_servers", host, port, self.lan).check_at_load()
        return self

    @model_validator(mode="after")
    def _server_ups_known(self) -> Settings:
        if self.server_ups is not None and self.server_ups not in self.ups:
            raise ValueError(f"server_ups {self.server_ups!r} is not one of the UPSes in `ups`")
        return self

    @model_validator(mode="after")
    def _lease_renewed_in_time(self) -> Settings:
        """A lease renewed less than three times in its life is lost to one slow turn."""
        if self.lease_renew_s * 3 > self.lease_ttl_s:
            raise ValueError(f"lease_renew_s ({self.lease_renew_s:g}) must be at most a third "
                             f"of lease_ttl_s ({self.lease_ttl_s:g})")
        # a hand-over waits up to shutdown_grace_s on the thread that renews the leases
        if self.lease_renew_s + self.shutdown_grace_s >= self.lease_ttl_s:
            raise ValueError(f"lease_renew_s + shutdown_grace_s ({self.lease_renew_s:g} + "
                             f"{self.shutdown_grace_s:g}) must be less than lease_ttl_s "
                             f"({self.lease_ttl_s:g})")
        return self

    @field_validator("mqtt_url")
    @classmethod
    def _broker(cls, url: SecretUrl | None) -> SecretUrl | None:
        if url is not None:
            parse_broker(url)
        return url

    @field_validator("retention_days")
    @classmethod
    def _clause_3_3(cls, days: int) -> int:
        return check_retention_days(days)

    @field_validator("hold_decision_window_days")
    @classmethod
    def _clause_3_3_window(cls, days: float) -> float:
        return check_decision_window_days(days)

    @model_validator(mode="before")
    @classmethod
    def _renamed_settings(cls, data: object) -> object:
        """A setting that changed its name is refused by its old name, naming the new one
        (the environment's too, which would otherwise be ignored)."""
        for old, new in RENAMED.items():
            if (isinstance(data, dict) and old in data) or f"KUZET_{old.upper()}" in os.environ:
                raise ValueError(new)
        return data

    @model_validator(mode="after")
    def _webhook_signed(self) -> Settings:
        if self.webhook_url is not None:
            if not self.webhook_url.startswith(("http://", "https://")):
                raise ValueError("webhook_url is an http:// or https:// address")
            if not self.webhook_secret or len(self.webhook_secret) < 16:
                raise ValueError("webhook_url needs webhook_secret (at least 16 characters): "
                                 "every delivery is signed")
        return self

    @model_validator(mode="after")
    def _clause_3_5_3(self) -> Settings:
        campus = parse_networks(self.campus_public_networks)
        check_campus(campus)
        check_allowlist(self.lan, campus)
        parse_networks(self.trusted_proxies)
        webhook = self.destination("webhook_url")
        found = [d for d in (webhook, self.destination("mqtt_url")) if d is not None]
        for d in found:
            d.check_at_load()
        if self.external_endpoint is not None and not any(d.external for d in found):
            raise ValueError("external_endpoint names neither webhook_url nor mqtt_url (its "
                             "scheme, host and port)")
        if self.webhook_images and webhook is not None and webhook.external:
            raise ValueError("refused: webhook_images to the external endpoint: event "
                             "pictures stay on the LAN (UE-10-22 3.5.1, 3.5.3)")
        return self

    @property
    def lan(self) -> list[Network]:
        """`allowed_networks`, parsed: the clients Kuzet answers and where it may send."""
        return parse_networks(self.allowed_networks)

    def destination(self, setting: Literal["webhook_url", "mqtt_url"]) -> Destination | None:
        """Where `setting` sends, with the LAN it must stay in; None when it is unset."""
        url = self.webhook_url if setting == "webhook_url" else (
            self.mqtt_url.reveal() if self.mqtt_url is not None else None)
        if url is None:
            return None
        external = self.external_endpoint.reveal() if self.external_endpoint else None
        return Destination.of(setting, url, self.lan, external)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = TomlConfigSettingsSource(settings_cls, toml_file=home_from_env() / CONFIG_FILE_NAME)
        return (init_settings, env_settings, toml)

    @property
    def catalog_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.home / 'catalog.db').resolve()}"

    @property
    def volume(self) -> Path:
        return (self.media_dir or self.home / "media").resolve()

    @property
    def cert_path(self) -> Path:
        return (self.tls_cert or self.home / "tls" / "cert.pem").resolve()

    @property
    def key_path(self) -> Path:
        return (self.tls_key or self.home / "tls" / "key.pem").resolve()

    @property
    def cache_path(self) -> Path:
        return (self.cache_dir or self.home / "cache").resolve()


def load_settings(**given: Any) -> Settings:
    """Settings for this process; `home` follows KUZET_HOME even when the file names another.
    `given`: what the command line sets (`kuzet serve --node`), validated as the rest."""
    return Settings(home=home_from_env(), **given)
