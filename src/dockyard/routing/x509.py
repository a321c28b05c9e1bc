"""Pure X.509 handling for certificates: parse a PEM chain and a private key, check they
belong together, and describe the certificate the way the reference API shows it
(SHA-256 fingerprint as uppercase colon-separated hex, OpenSSL-style ``/C=US/.../CN=x``
names, DNS subject alternative names, validity as naive UTC datetimes).

Everything raises ``Invalid`` with a field (``certificate`` or ``key``) and a message a
user can act on; nothing here touches the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes
from cryptography.x509.oid import NameOID

from dockyard.core.errors import Invalid

MAX_CHAIN = 10
BAD_CERT = "Could not load certificate: the data is not a PEM-encoded X.509 certificate."
BAD_KEY = "Could not load private key: the data is not a PEM-encoded private key."
ENCRYPTED_KEY = "The private key is encrypted; upload it without a passphrase."
MISMATCH = "The private key does not match the certificate."

# OpenSSL's short names, as ``openssl x509 -subject`` prints them.
_SHORT_NAMES = {
    NameOID.COUNTRY_NAME: "C",
    NameOID.STATE_OR_PROVINCE_NAME: "ST",
    NameOID.LOCALITY_NAME: "L",
    NameOID.ORGANIZATION_NAME: "O",
    NameOID.ORGANIZATIONAL_UNIT_NAME: "OU",
    NameOID.COMMON_NAME: "CN",
    NameOID.EMAIL_ADDRESS: "emailAddress",
    NameOID.SERIAL_NUMBER: "serialNumber",
    NameOID.STREET_ADDRESS: "street",
    NameOID.DOMAIN_COMPONENT: "DC",
    NameOID.USER_ID: "UID",
    NameOID.SURNAME: "SN",
    NameOID.GIVEN_NAME: "GN",
    NameOID.TITLE: "title",
    NameOID.POSTAL_CODE: "postalCode",
    NameOID.BUSINESS_CATEGORY: "businessCategory",
    NameOID.JURISDICTION_COUNTRY_NAME: "jurisdictionC",
    NameOID.JURISDICTION_STATE_OR_PROVINCE_NAME: "jurisdictionST",
    NameOID.JURISDICTION_LOCALITY_NAME: "jurisdictionL",
    NameOID.PSEUDONYM: "pseudonym",
    NameOID.GENERATION_QUALIFIER: "generationQualifier",
    NameOID.DN_QUALIFIER: "dnQualifier",
    NameOID.ORGANIZATION_IDENTIFIER: "organizationIdentifier",
}


@dataclass(frozen=True)
class ParsedCertificate:
    pem: str  # the leaf, then the rest of the chain, re-encoded
    common_name: str
    fingerprint: str
    san: tuple[str, ...]
    starts: datetime
    expires: datetime
    issuer: str
    subject: str
    public_key: bytes  # DER SubjectPublicKeyInfo of the leaf


@dataclass(frozen=True)
class ParsedKey:
    pem: str  # unencrypted PKCS#8
    public_key: bytes  # DER SubjectPublicKeyInfo


def _public_der(key: PublicKeyTypes) -> bytes:
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _text(value: str | bytes) -> str:
    return value if isinstance(value, str) else value.hex()


def format_name(name: x509.Name) -> str:
    """``/C=US/ST=CA/L=San Francisco/O=Acme/CN=example.com``: RDNs in encoded order,
    multi-valued RDNs joined with ``+``, unknown attributes by dotted OID."""
    parts = []
    for rdn in name.rdns:
        parts.append(
            "+".join(
                f"{_SHORT_NAMES.get(attr.oid, attr.oid.dotted_string)}={_text(attr.value)}"
                for attr in rdn
            )
        )
    return "".join(f"/{part}" for part in parts)


def format_fingerprint(digest: bytes) -> str:
    return ":".join(f"{byte:02X}" for byte in digest)


def _naive_utc(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(tzinfo=None)


def _dns_names(cert: x509.Certificate) -> tuple[str, ...]:
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return ()
    return tuple(ext.value.get_values_for_type(x509.DNSName))


def _common_name(name: x509.Name) -> str:
    found = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    return _text(found[0].value) if found else ""


def parse_certificate(text: str, *, now: datetime | None = None) -> ParsedCertificate:
    """The leaf certificate of a PEM chain, described; ``Invalid`` (field ``certificate``)
    for anything that is not a PEM certificate, a chain that is too long, or a leaf that
    has already expired."""
    try:
        chain = x509.load_pem_x509_certificates(text.encode("utf-8"))
    except (ValueError, UnicodeEncodeError):
        raise Invalid(BAD_CERT, field="certificate") from None
    if len(chain) > MAX_CHAIN:
        raise Invalid(
            f"A certificate chain may hold at most {MAX_CHAIN} certificates.", field="certificate"
        )
    leaf = chain[0]
    try:
        parsed = ParsedCertificate(
            pem="".join(c.public_bytes(serialization.Encoding.PEM).decode() for c in chain),
            common_name=_common_name(leaf.subject),
            fingerprint=format_fingerprint(leaf.fingerprint(hashes.SHA256())),
            san=_dns_names(leaf),
            starts=_naive_utc(leaf.not_valid_before_utc),
            expires=_naive_utc(leaf.not_valid_after_utc),
            issuer=format_name(leaf.issuer),
            subject=format_name(leaf.subject),
            public_key=_public_der(leaf.public_key()),
        )
    except (ValueError, UnsupportedAlgorithm):  # malformed extensions or key inside
        raise Invalid(BAD_CERT, field="certificate") from None
    now = now or datetime.now(UTC).replace(tzinfo=None)
    if parsed.expires < now:
        raise Invalid(
            f"The certificate expired on {parsed.expires:%Y-%m-%dT%H:%M:%SZ}.",
            field="certificate",
        )
    return parsed


def parse_private_key(text: str) -> ParsedKey:
    """An unencrypted PEM private key (PKCS#1, SEC1 or PKCS#8), re-encoded as PKCS#8."""
    try:
        key: PrivateKeyTypes = serialization.load_pem_private_key(
            text.encode("utf-8"), password=None
        )
    except TypeError:  # "Password was not given but private key is encrypted"
        raise Invalid(ENCRYPTED_KEY, field="key") from None
    except (ValueError, UnsupportedAlgorithm, UnicodeEncodeError):
        raise Invalid(BAD_KEY, field="key") from None
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")
    return ParsedKey(pem=pem, public_key=_public_der(key.public_key()))


def check_pair(cert: ParsedCertificate, key: ParsedKey) -> None:
    """The key must be the private half of the leaf certificate's public key."""
    if cert.public_key != key.public_key:
        raise Invalid(MISMATCH, field="key")
