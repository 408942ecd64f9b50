"""The cluster's own certificate authority, for the internal endpoint through which nodes
serve each other footage with mutual TLS (issue 25).

`kuzet cluster init` makes the authority once: an EC P-256 key and a self-signed CA
certificate, the certificate stored in the catalog, the key sealed with the installation's
key (`access.secretbox`, the key every node's home holds already for second factors). A
node then issues its own certificate at start, named after the node (DNS name = node
name), for both ends of a connection (serverAuth and clientAuth), and keeps it in
`<home>/cluster/` (key 0600). Nothing of this is a browser's: the console keeps its own
certificate; a browser holds no certificate this authority signed, so the endpoint refuses
it at the handshake.
"""

from __future__ import annotations

import base64
import datetime as dt
import os
import ssl
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from sqlalchemy import select

from kuzet.access.secretbox import SecretBox
from kuzet.catalog.models import ClusterCa
from kuzet.catalog.store import Catalog
from kuzet.errors import Conflict

CA_VALID_DAYS = 3650
NODE_VALID_DAYS = 825  # what browsers' rules allow a leaf; renewed at any start past half
SEALED_AS = "cluster-ca"


@dataclass(frozen=True)
class NodeTls:
    """Where a node's TLS files lie."""
    ca: Path
    cert: Path
    key: Path

    def server(self) -> ssl.SSLContext:
        """The endpoint's side: a client certificate of this authority required."""
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(self.ca))
        ctx.load_cert_chain(str(self.cert), str(self.key))
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        return ctx

    def client(self) -> ssl.SSLContext:
        """A node asking another: the other's certificate must name it."""
        ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(self.ca))
        ctx.load_cert_chain(str(self.cert), str(self.key))
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        return ctx


def _pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _sealed(box: SecretBox, key: ec.EllipticCurvePrivateKey) -> str:
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    return box.seal(base64.b32encode(der).decode().rstrip("="), SEALED_AS)


def _opened(box: SecretBox, sealed: str) -> ec.EllipticCurvePrivateKey:
    b32 = box.open(sealed, SEALED_AS)
    key = serialization.load_der_private_key(base64.b32decode(b32 + "=" * (-len(b32) % 8)),
                                             None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return key


def init(catalog: Catalog, box: SecretBox, by: str, now: dt.datetime | None = None) -> str:
    """Make the authority; its certificate's SHA-256. Refused when there is one."""
    now = now or dt.datetime.now(dt.UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Kuzet cluster CA"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Kuzet")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=CA_VALID_DAYS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False,
                                         False), critical=True)
            .sign(key, hashes.SHA256()))
    with catalog.session.begin() as s:
        if s.scalar(select(ClusterCa.id)) is not None:
            raise Conflict("the cluster's certificate authority exists already")
        s.add(ClusterCa(id=1, cert_pem=cert.public_bytes(serialization.Encoding.PEM).decode(),
                        key_sealed=_sealed(box, key), created_by=by[:64],
                        created_ns=time.time_ns()))
    return cert.fingerprint(hashes.SHA256()).hex()


def node_tls(catalog: Catalog, box: SecretBox, home: Path, node: str,
             now: dt.datetime | None = None) -> NodeTls | None:
    """This node's TLS files, issued by the authority where they are missing, another
    authority's, or past half their life; None while there is no authority."""
    with catalog.session() as s:
        row = s.scalar(select(ClusterCa))
    if row is None:
        return None
    now = now or dt.datetime.now(dt.UTC)
    folder = home / "cluster"
    tls = NodeTls(folder / "ca.pem", folder / "node.pem", folder / "node.key")
    if _current(tls, row.cert_pem, node, now):
        return tls
    ca_cert = x509.load_pem_x509_certificate(row.cert_pem.encode())
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, node)]))
            .issuer_name(ca_cert.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=NODE_VALID_DAYS))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(node)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH,
                                                  ExtendedKeyUsageOID.CLIENT_AUTH]),
                           critical=False)
            .sign(_opened(box, row.key_sealed), hashes.SHA256()))
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(tls.key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(_pem(key))
    tls.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    tls.ca.write_text(row.cert_pem)
    return tls


def _current(tls: NodeTls, ca_pem: str, node: str, now: dt.datetime) -> bool:
    try:
        if tls.ca.read_text() != ca_pem or not tls.key.exists():
            return False
        cert = x509.load_pem_x509_certificate(tls.cert.read_bytes())
    except (OSError, ValueError):
        return False
    half = cert.not_valid_before_utc + (cert.not_valid_after_utc
                                        - cert.not_valid_before_utc) / 2
    named = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return now < half and bool(named) and named[0].value == node


def peer_node(ssl_object: ssl.SSLObject | ssl.SSLSocket) -> str | None:
    """The node a verified peer certificate names (its DNS name), or None."""
    cert = ssl_object.getpeercert()
    if not cert:
        return None
    names = [pair[1] for pair in cert.get("subjectAltName", ()) if pair[0] == "DNS"]
    return str(names[0]) if names else None
