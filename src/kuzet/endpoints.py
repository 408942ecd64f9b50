"""Where Kuzet asks a peer on the campus's network (a UPS's upsd, a time server), written
`host`, `host:port` or `[v6]:port`, and a UPS as NUT's own clients write it,
`upsname@host[:port]`. Pure, importing nothing of Kuzet's, so that the settings check
them at load and the watches that connect read them the same way."""

from __future__ import annotations

import re
from dataclasses import dataclass

# A name in the register (kuzet.equipment.fields.check_name) and NUT's name of a UPS: what
# may go into a settings key and into upsd's `LIST VAR` line.
ITEM_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def host_port(text: str, default_port: int) -> tuple[str, int]:
    """`host`, `host:port` or `[v6]:port`, or ValueError."""
    host, port = text, default_port
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        if rest.startswith(":"):
            port = int(rest[1:])
        elif rest:
            raise ValueError(f"{text!r}: after ']' comes ':port' or nothing")
    elif text.count(":") == 1:
        host, p = text.split(":")
        port = int(p)
    if not host or not 0 < port < 65536:
        raise ValueError(f"a host or host:port with a port from 1 to 65535, not {text!r}")
    return host, port


@dataclass(frozen=True)
class UpsAddress:
    ups: str
    host: str
    port: int

    @classmethod
    def parse(cls, text: str, default_port: int = 3493) -> UpsAddress:
        ups, at, rest = text.partition("@")
        if not at or not ups or not rest:
            raise ValueError(f"a UPS is named upsname@host[:port], not {text!r}")
        host, port = host_port(rest, default_port)
        return cls(ups, host, port)

    def __str__(self) -> str:
        return f"{self.ups}@{self.host}:{self.port}"
