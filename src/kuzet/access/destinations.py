"""Where Kuzet itself sends (clause 3.5.3): the webhook endpoint and the MQTT broker lie on
the LAN, the same networks the console answers (`allowed_networks`), unless one is the
external endpoint the settings name (`external_endpoint`: the police or operational
centre's, clause 3.2.11), which may lie anywhere, is audited at each start of
`kuzet serve` and never receives a picture.

Checked twice. When the settings load: an address written in the URL, or a name that
resolves then (a name that does not resolve yet is left to the connection). And at every
connection, on the very addresses the socket is then opened to (`connect`,
`checked_address`): a LAN name that DNS later moves outside is refused, not followed,
and there is no second lookup between the check and the connection for DNS to change.

The decision is `access.lan.outside`, pure; this module adds the lookup and the socket.
"""

from __future__ import annotations

import contextlib
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from kuzet.access.lan import Address, Network, outside, parse_address
from kuzet.errors import Denied

DEFAULT_PORTS = {"http": 80, "https": 443, "mqtt": 1883}


class OutsideLan(Denied, ValueError):
    """A destination outside the LAN. Also a ValueError, so that the settings report it
    as a bad setting when they load."""


def origin(url: str) -> tuple[str, str, int]:
    """Scheme, host (lower case, no trailing dot) and port (the scheme's default when
    none is written): what says where a URL connects, whatever its path or password."""
    u = urlsplit(url)
    scheme = u.scheme.lower()
    return scheme, (u.hostname or "").rstrip("."), u.port or DEFAULT_PORTS.get(scheme, 0)


@dataclass(frozen=True)
class Destination:
    setting: str  # the setting that names it (webhook_url, mqtt_url), for messages
    host: str
    port: int
    networks: tuple[Network, ...]
    external: bool  # the endpoint `external_endpoint` names: anywhere, never a picture

    @classmethod
    def of(cls, setting: str, url: str, networks: list[Network],
           external_endpoint: str | None) -> Destination:
        _, host, port = where = origin(url)
        external = external_endpoint is not None and origin(external_endpoint) == where
        return cls(setting, host, port, tuple(networks), external)

    @classmethod
    def on_lan(cls, setting: str, host: str, port: int, networks: list[Network]
               ) -> Destination:
        """A peer Kuzet asks that is never the external endpoint (a UPS's upsd, a time
        server, an ONVIF camera): on the LAN, always."""
        return cls(setting, host, port, tuple(networks), False)

    def check(self, addresses: list[Address]) -> None:
        """Refuse (`OutsideLan`) when any of `addresses` lies outside the LAN."""
        if self.external:
            return
        if bad := outside(addresses, list(self.networks)):
            shown = ", ".join(map(str, bad))
            if shown == self.host:
                raise OutsideLan("refused: {setting} names {host}, outside the LAN "
                                 "(allowed_networks); only external_endpoint may lie outside "
                                 "(UE-10-22 3.5.3)", setting=self.setting, host=self.host)
            raise OutsideLan("refused: {setting} names {host} (at {shown}), outside the LAN "
                             "(allowed_networks); only external_endpoint may lie outside "
                             "(UE-10-22 3.5.3)", setting=self.setting, host=self.host,
                             shown=shown)

    def check_at_load(self) -> None:
        """The check the settings make: an address as written, or a name as it resolves
        now; a name that does not resolve yet waits for the first connection."""
        literal = parse_address(self.host)
        if literal is not None:
            self.check([literal])
            return
        try:
            addresses = self.resolve()
        except OSError:
            return
        self.check(addresses)

    def resolve(self) -> list[Address]:
        """Every address the host's name gives now (OSError when it gives none)."""
        found: list[Address] = []
        for *_, sockaddr in socket.getaddrinfo(self.host, self.port, type=socket.SOCK_STREAM):
            a = parse_address(str(sockaddr[0]))
            if a is not None and a not in found:
                found.append(a)
        if not found:
            raise OSError(f"{self.host} has no IP address")
        return found

    def checked_address(self) -> str:
        """One address of the host that passed the check just now, for a client that
        connects to an address itself (the MQTT client)."""
        addresses = self.resolve()
        self.check(addresses)
        return str(addresses[0])

    def connect(self, timeout_s: float) -> socket.socket:
        """A TCP connection to the host, opened only to addresses checked just now."""
        addresses = self.resolve()
        self.check(addresses)
        for a in addresses[:-1]:
            with contextlib.suppress(OSError):
                return socket.create_connection((str(a), self.port), timeout_s)
        return socket.create_connection((str(addresses[-1]), self.port), timeout_s)
