"""RTSP authentication checks (RFC 2617 digest and basic), as plain functions."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

_PARAM = re.compile(r'(\w+)=(?:"([^"]*)"|([^,\s]*))')


def parse_auth_params(header: str) -> dict[str, str]:
    return {m.group(1).lower(): m.group(2) if m.group(2) is not None else m.group(3)
            for m in _PARAM.finditer(header)}


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def ha1(user: str, realm: str, password: str) -> str:
    """RFC 2617's HA1: all a server needs to check a digest, in place of the password."""
    return _md5(f"{user}:{realm}:{password}")


def digest_response(user: str, realm: str, password: str, method: str, uri: str, nonce: str) -> str:
    return response_of(ha1(user, realm, password), method, uri, nonce)


def response_of(ha1: str, method: str, uri: str, nonce: str) -> str:
    """RFC 2617's response from HA1, which a server may keep instead of the password."""
    return _md5(f"{ha1}:{nonce}:{_md5(f'{method}:{uri}')}")


def digest_user(header: str | None) -> dict[str, str] | None:
    """A Digest Authorization header's parameters (the user name among them), or None."""
    if not header:
        return None
    kind, _, rest = header.partition(" ")
    return parse_auth_params(rest) if kind.lower() == "digest" else None


def check_ha1(params: dict[str, str], ha1: str, nonce: str, method: str) -> bool:
    """True when a Digest header's `params` prove knowledge of the password behind `ha1`
    for `nonce` (the one this connection was challenged with)."""
    if params.get("nonce") != nonce or "uri" not in params:
        return False
    # bytes: a response of non-ASCII text is a wrong one, not a TypeError
    return hmac.compare_digest(response_of(ha1, method, params["uri"], nonce).encode(),
                               params.get("response", "").encode())


def check_authorization(
    header: str | None,
    *,
    scheme: str,
    user: str,
    password: str,
    realm: str,
    nonce: str,
    method: str,
) -> bool:
    """True when the Authorization header proves knowledge of the password."""
    if not header:
        return False
    kind, _, rest = header.partition(" ")
    if scheme == "basic" and kind.lower() == "basic":
        try:
            decoded = base64.b64decode(rest.strip(), validate=True).decode()
        except (ValueError, UnicodeDecodeError):
            return False
        return hmac.compare_digest(decoded.encode(), f"{user}:{password}".encode())
    if scheme == "digest" and kind.lower() == "digest":
        p = parse_auth_params(rest)
        return p.get("username") == user and check_ha1(p, ha1(user, realm, password), nonce,
                                                       method)
    return False


def challenge(scheme: str, realm: str, nonce: str) -> str:
    if scheme == "basic":
        return f'Basic realm="{realm}"'
    return f'Digest realm="{realm}", nonce="{nonce}"'
