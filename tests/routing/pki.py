"""Certificates and keys made on the fly with ``cryptography`` for the routing tests."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from functools import cache

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.x509.oid import NameOID

FULL_SUBJECT = (
    (NameOID.COUNTRY_NAME, "US"),
    (NameOID.STATE_OR_PROVINCE_NAME, "CA"),
    (NameOID.LOCALITY_NAME, "San Francisco"),
    (NameOID.ORGANIZATION_NAME, "Drycc"),
    (NameOID.ORGANIZATIONAL_UNIT_NAME, "Engineering"),
    (NameOID.COMMON_NAME, "bar.com"),
    (NameOID.EMAIL_ADDRESS, "engineering@drycc.com"),
)
FULL_SUBJECT_TEXT = (
    "/C=US/ST=CA/L=San Francisco/O=Drycc/OU=Engineering/CN=bar.com"
    "/emailAddress=engineering@drycc.com"
)


@cache
def rsa_key(n: int = 0) -> rsa.RSAPrivateKey:
    """RSA keys are slow to make: a few, cached by index."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def name(*attrs: tuple[x509.ObjectIdentifier, str]) -> x509.Name:
    return x509.Name([x509.NameAttribute(oid, value) for oid, value in attrs])


def make_cert(
    key: CertificateIssuerPrivateKeyTypes,
    *,
    cn: str | None = "example.com",
    subject: x509.Name | None = None,
    sans: Sequence[str] = (),
    starts: datetime | None = None,
    days: int = 365,
    issuer: tuple[x509.Name, CertificateIssuerPrivateKeyTypes] | None = None,
) -> x509.Certificate:
    """Self-signed unless ``issuer`` (name, key) is given."""
    if subject is None:
        subject = name((NameOID.COMMON_NAME, cn)) if cn else x509.Name([])
    starts = starts or datetime.now(UTC) - timedelta(days=1)
    issuer_name, signer = issuer if issuer else (subject, key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())  # type: ignore[arg-type]
        .serial_number(x509.random_serial_number())
        .not_valid_before(starts)
        .not_valid_after(starts + timedelta(days=days))
    )
    if sans:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(s) for s in sans]), critical=False
        )
    return builder.sign(signer, hashes.SHA256())


def cert_pem(*certs: x509.Certificate) -> str:
    return "".join(c.public_bytes(serialization.Encoding.PEM).decode() for c in certs)


def key_pem(
    key: CertificateIssuerPrivateKeyTypes,
    fmt: serialization.PrivateFormat = serialization.PrivateFormat.TraditionalOpenSSL,
    password: bytes | None = None,
) -> str:
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    return key.private_bytes(serialization.Encoding.PEM, fmt, encryption).decode()


def sha256_colons(cert: x509.Certificate) -> str:
    hexed = cert.fingerprint(hashes.SHA256()).hex().upper()
    return ":".join(hexed[i : i + 2] for i in range(0, len(hexed), 2))


def pair(cn: str = "example.com", sans: Sequence[str] = ()) -> tuple[str, str]:
    """A fresh self-signed (certificate PEM, key PEM) pair with an EC key."""
    key = ec_key()
    return cert_pem(make_cert(key, cn=cn, sans=sans)), key_pem(key)
