"""TLS for the router: one ``SSLContext`` per certificate, picked during the handshake from
the SNI name (the certificate attached to that exact domain first, then to the most specific
wildcard covering it), and a self-signed default for names with no certificate.

``ssl`` loads certificates only from files, so each pair is written to a 0600 file in the
router's own 0700 directory, loaded, and deleted at once: no key stays on disk, and none is
ever readable by app processes. Contexts are cached by the pair, so a route update that
does not change a certificate costs nothing.
"""

from __future__ import annotations

import datetime
import hashlib
import os
import ssl
import tempfile
from collections.abc import Mapping
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from dockyard.router.table import Certificate, parents

ALPN = ["http/1.1"]


def _context(directory: Path, chain: bytes, key: bytes) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_alpn_protocols(ALPN)
    fd, path = tempfile.mkstemp(dir=directory, prefix=".pair-", suffix=".pem")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(key.rstrip(b"\n") + b"\n" + chain)
        ctx.load_cert_chain(path)
    finally:
        os.unlink(path)
    return ctx


def self_signed(names: list[str]) -> tuple[bytes, bytes]:
    """A throwaway certificate for hostnames nobody attached a certificate to."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


class Certificates:
    def __init__(self, directory: Path, default_names: list[str]) -> None:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(directory, 0o700)
        self.directory = directory
        chain, key = self_signed(default_names)
        self.default = _context(directory, chain, key)
        self.default.sni_callback = self._pick
        self._by_host: dict[str, ssl.SSLContext] = {}
        self._cache: dict[str, ssl.SSLContext] = {}

    @property
    def server_context(self) -> ssl.SSLContext:
        """The context the listener uses; its SNI callback switches to the right one."""
        return self.default

    def update(self, attached: Mapping[str, Certificate]) -> None:
        """Replace the host -> certificate map. Blocking (loads certificates)."""
        cache: dict[str, ssl.SSLContext] = {}
        by_host: dict[str, ssl.SSLContext] = {}
        for host, cert in attached.items():
            digest = hashlib.sha256((cert.certificate + "\0" + cert.key).encode()).hexdigest()
            ctx = cache.get(digest) or self._cache.get(digest)
            if ctx is None:
                try:
                    ctx = _context(self.directory, cert.certificate.encode(), cert.key.encode())
                except (ssl.SSLError, OSError, ValueError):
                    continue  # the controller checked the pair; a bad one is skipped, not fatal
            cache[digest] = ctx
            by_host[host] = ctx
        self._cache, self._by_host = cache, by_host

    def context_for(self, server_name: str | None) -> ssl.SSLContext:
        if server_name:
            name = server_name.lower().rstrip(".")
            ctx = self._by_host.get(name)
            if ctx is not None:
                return ctx
            for wildcard in parents(name):
                ctx = self._by_host.get(wildcard)
                if ctx is not None:
                    return ctx
        return self.default

    def _pick(
        self, sslobj: ssl.SSLObject | ssl.SSLSocket, server_name: str | None, _: ssl.SSLContext
    ) -> None:
        ctx = self.context_for(server_name)
        if ctx is not self.default:
            sslobj.context = ctx
