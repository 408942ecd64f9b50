"""Clause 3.5.3: the system is reached only over the local network, never over the Internet.

Pure decisions over addresses; the ASGI middleware in kuzet.web.lan applies them to every
HTTP request and WebSocket before routing, and `kuzet.access.destinations` to every
address Kuzet itself sends to (the webhook endpoint, the MQTT broker).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

DEFAULT_ALLOWED = ("127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16",
                   "fc00::/7", "fe80::/10")
# IPv6 transition prefixes whose addresses stand for hosts on the IPv4 Internet: Teredo
# (2001::/32, RFC 4380), 6to4 (2002::/16, RFC 3056) and NAT64's well-known prefix
# (64:ff9b::/96, RFC 6052). A packet from one of them crossed the Internet whatever the
# IPv4 address inside says, so they are never local: refused whatever the allowlist holds,
# and a list reaching into them is public space. (Python counts 2001::/23, Teredo included,
# as "private", which is how such a list got past the start-up check.) IPv4-mapped
# addresses (::ffff:a.b.c.d) are different: they are how a dual-stack socket shows an IPv4
# client, so they are judged as that IPv4 address.
TUNNELLED = tuple(ipaddress.ip_network(n) for n in ("2001::/32", "2002::/16", "64:ff9b::/96"))


def parse_networks(texts: Iterable[str]) -> list[Network]:
    nets = []
    for t in texts:
        try:
            nets.append(ipaddress.ip_network(t.strip(), strict=False))
        except ValueError as exc:
            raise ValueError(f"{t!r} is not an IP network (write e.g. 10.0.0.0/8)") from exc
    return nets


def public_networks(nets: Iterable[Network]) -> list[Network]:
    """Networks that reach beyond private, loopback and link-local space (clause 3.5.3)."""
    out = []
    for n in nets:
        first, last = n.network_address, n.broadcast_address
        if (not all(_local(a) for a in (first, last)) or n.prefixlen < _min_prefix(n)
                or any(n.version == t.version and n.overlaps(t) for t in TUNNELLED)):
            out.append(n)
    return out


def _local(a: Address) -> bool:
    if isinstance(a, ipaddress.IPv6Address) and a.ipv4_mapped is not None:
        a = a.ipv4_mapped
    return a.is_private or a.is_loopback or a.is_link_local


def _min_prefix(n: Network) -> int:
    # A network wider than the widest private block spans public space even when both of
    # its ends happen to be private (0.0.0.0/0 runs from 0.0.0.0, which is "private").
    return 8 if n.version == 4 else 7


# The widest range `campus_public_networks` may name: a campus numbered in public space
# holds at most a /8 of IPv4 (the largest ever given to a university) and a /32 of IPv6
# (a whole provider's allocation); anything wider is the Internet, not a campus.
CAMPUS_MIN_PREFIX = {4: 8, 6: 32}


def check_campus(nets: Iterable[Network]) -> None:
    """Refuse a `campus_public_networks` entry that cannot be one campus's own LAN."""
    for n in nets:
        if n.prefixlen < CAMPUS_MIN_PREFIX[n.version]:
            raise ValueError(f"refused: campus_public_networks entry {n} is wider than one "
                             f"campus (at most /{CAMPUS_MIN_PREFIX[n.version]}) "
                             "(UE-10-22 3.5.3)")
        if any(n.version == t.version and n.overlaps(t) for t in TUNNELLED):
            raise ValueError(f"refused: campus_public_networks entry {n} reaches into a "
                             "tunnelling prefix, whose clients come from the Internet "
                             "(UE-10-22 3.5.3)")


def check_allowlist(nets: Iterable[Network], campus: Iterable[Network]) -> None:
    """Refuse an allowlist reaching into public space outside the campus's own public
    ranges (`campus_public_networks`, checked by `check_campus`)."""
    own = list(campus)
    public = [n for n in public_networks(nets)
              if not any(n.network_address in c and n.broadcast_address in c for c in own)]
    if public:
        raise ValueError("refused: allowed_networks includes public address space "
                         f"({', '.join(map(str, public))}) that campus_public_networks does "
                         "not name as the campus's own (UE-10-22 3.5.3)")


def parse_address(text: str) -> Address | None:
    try:
        a = ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None
    if isinstance(a, ipaddress.IPv6Address) and a.ipv4_mapped is not None:
        return a.ipv4_mapped
    return a


@dataclass(frozen=True)
class ClientAddress:
    address: Address | None
    text: str  # as seen, for the audit log


def client_address(peer: str | None, headers: Mapping[str, str],
                   trusted_proxies: list[Network]) -> ClientAddress:
    """The address a request comes from.

    `X-Forwarded-For` is believed only when the peer is a trusted proxy, and then only up
    to the first hop that is not a trusted proxy itself (walking from the right): a client
    can write anything at the left of that header.
    """
    addr = parse_address(peer) if peer else None
    if addr is None:
        return ClientAddress(None, peer or "unknown")
    forwarded = headers.get("x-forwarded-for")
    if not forwarded or not _within(addr, trusted_proxies):
        return ClientAddress(addr, str(addr))
    hops = [h.strip() for h in forwarded.split(",") if h.strip()]
    for hop in reversed(hops):
        hop_addr = parse_address(hop)
        if hop_addr is None:
            return ClientAddress(None, hop[:64])
        if not _within(hop_addr, trusted_proxies):
            return ClientAddress(hop_addr, str(hop_addr))
        addr = hop_addr
    return ClientAddress(addr, str(addr))


def _within(a: Address, nets: Iterable[Network]) -> bool:
    return any(a.version == n.version and a in n for n in nets)


def allowed(client: ClientAddress, nets: list[Network]) -> bool:
    a = client.address
    return a is not None and not _within(a, TUNNELLED) and _within(a, nets)


def outside(addresses: Iterable[Address], nets: list[Network]) -> list[Address]:
    """The addresses a connection may not go to: outside `nets`, or tunnelled (3.5.3)."""
    return [a for a in addresses if not allowed(ClientAddress(a, str(a)), nets)]
