"""Certificate and key parsing, name formatting and fingerprints (pure rules)."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509 as cx509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import NameOID

from dockyard.core.errors import Invalid
from dockyard.routing import x509
from tests.routing import pki

FINGERPRINT = re.compile(r"^([0-9A-F]{2}:){31}[0-9A-F]{2}$")


def test_full_subject_in_openssl_form() -> None:
    key = pki.ec_key()
    subject = pki.name(*pki.FULL_SUBJECT)
    cert = pki.make_cert(key, subject=subject)
    parsed = x509.parse_certificate(pki.cert_pem(cert))
    assert parsed.subject == pki.FULL_SUBJECT_TEXT
    assert parsed.issuer == pki.FULL_SUBJECT_TEXT
    assert parsed.common_name == "bar.com"


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
def test_subject_matches_openssl_compat_output() -> None:
    key = pki.ec_key()
    cert = pki.make_cert(key, subject=pki.name(*pki.FULL_SUBJECT))
    out = subprocess.run(
        ["openssl", "x509", "-noout", "-subject", "-nameopt", "compat"],
        input=pki.cert_pem(cert),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert out == "subject=" + x509.parse_certificate(pki.cert_pem(cert)).subject


def test_format_name_orders_and_joins() -> None:
    multi = cx509.Name(
        [
            cx509.RelativeDistinguishedName([cx509.NameAttribute(NameOID.COUNTRY_NAME, "DE")]),
            cx509.RelativeDistinguishedName(
                [
                    cx509.NameAttribute(NameOID.ORGANIZATION_NAME, "Acme"),
                    cx509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Ops"),
                ]
            ),
            cx509.RelativeDistinguishedName(
                [cx509.NameAttribute(cx509.ObjectIdentifier("1.2.3.4"), "x")]
            ),
        ]
    )
    text = x509.format_name(multi)
    assert text.startswith("/C=DE/")
    assert "O=Acme" in text and "OU=Ops" in text and "+" in text
    assert text.endswith("/1.2.3.4=x")
    assert x509.format_name(cx509.Name([])) == ""


def test_fingerprint_sha256_uppercase_colons() -> None:
    key = pki.ec_key()
    cert = pki.make_cert(key)
    parsed = x509.parse_certificate(pki.cert_pem(cert))
    assert FINGERPRINT.match(parsed.fingerprint)
    assert parsed.fingerprint == pki.sha256_colons(cert)
    assert x509.format_fingerprint(b"\x0a\xff") == "0A:FF"


def test_wildcard_with_sans_and_validity() -> None:
    key = pki.ec_key()
    starts = datetime(2024, 1, 15, 23, 57, 57, tzinfo=UTC)
    cert = pki.make_cert(
        key,
        cn="*.example.com",
        sans=["*.example.com", "example.com"],
        starts=starts,
        days=3650,
    )
    parsed = x509.parse_certificate(pki.cert_pem(cert))
    assert parsed.common_name == "*.example.com"
    assert parsed.san == ("*.example.com", "example.com")
    assert parsed.starts == datetime(2024, 1, 15, 23, 57, 57)
    assert parsed.expires == datetime(2024, 1, 15, 23, 57, 57) + timedelta(days=3650)
    assert parsed.subject == "/CN=*.example.com"


def test_no_common_name_no_sans() -> None:
    key = pki.ec_key()
    parsed = x509.parse_certificate(pki.cert_pem(pki.make_cert(key, cn=None)))
    assert parsed.common_name == ""
    assert parsed.san == ()
    assert parsed.subject == ""


def test_chain_keeps_every_certificate_leaf_first() -> None:
    ca_key, leaf_key = pki.ec_key(), pki.ec_key()
    ca = pki.make_cert(ca_key, cn="Test CA")
    leaf = pki.make_cert(leaf_key, cn="www.example.com", issuer=(ca.subject, ca_key))
    parsed = x509.parse_certificate(pki.cert_pem(leaf, ca))
    assert parsed.subject == "/CN=www.example.com"
    assert parsed.issuer == "/CN=Test CA"
    assert parsed.pem.count("BEGIN CERTIFICATE") == 2
    assert parsed.pem.startswith(pki.cert_pem(leaf))
    x509.check_pair(parsed, x509.parse_private_key(pki.key_pem(leaf_key)))


@pytest.mark.parametrize(
    "garbage",
    [
        "",
        "not a certificate",
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
        "\udcff",
    ],
)
def test_garbage_certificate(garbage: str) -> None:
    with pytest.raises(Invalid) as caught:
        x509.parse_certificate(garbage)
    assert caught.value.body() == {"certificate": [x509.BAD_CERT]}


def test_private_key_is_not_a_certificate() -> None:
    with pytest.raises(Invalid) as caught:
        x509.parse_certificate(pki.key_pem(pki.ec_key()))
    assert caught.value.field == "certificate"


def test_expired_certificate() -> None:
    key = pki.ec_key()
    old = datetime.now(UTC) - timedelta(days=30)
    cert = pki.make_cert(key, starts=old, days=10)
    with pytest.raises(Invalid) as caught:
        x509.parse_certificate(pki.cert_pem(cert))
    assert caught.value.field == "certificate"
    assert caught.value.message.startswith("The certificate expired on ")


def test_too_long_chain() -> None:
    key = pki.ec_key()
    cert = pki.make_cert(key)
    with pytest.raises(Invalid):
        x509.parse_certificate(pki.cert_pem(*[cert] * (x509.MAX_CHAIN + 1)))


@pytest.mark.parametrize(
    "fmt",
    [serialization.PrivateFormat.TraditionalOpenSSL, serialization.PrivateFormat.PKCS8],
)
def test_keys_rsa_and_ec_in_either_format(fmt: serialization.PrivateFormat) -> None:
    for key in (pki.rsa_key(), pki.ec_key()):
        parsed = x509.parse_private_key(pki.key_pem(key, fmt))
        assert parsed.pem.startswith("-----BEGIN PRIVATE KEY-----")
        cert = x509.parse_certificate(pki.cert_pem(pki.make_cert(key)))
        x509.check_pair(cert, parsed)


@pytest.mark.parametrize(
    "garbage",
    ["", "garbage", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"],
)
def test_garbage_key(garbage: str) -> None:
    with pytest.raises(Invalid) as caught:
        x509.parse_private_key(garbage)
    assert caught.value.body() == {"key": [x509.BAD_KEY]}


def test_certificate_is_not_a_key() -> None:
    with pytest.raises(Invalid) as caught:
        x509.parse_private_key(pki.cert_pem(pki.make_cert(pki.ec_key())))
    assert caught.value.body() == {"key": [x509.BAD_KEY]}


def test_encrypted_key() -> None:
    pem = pki.key_pem(pki.ec_key(), serialization.PrivateFormat.PKCS8, password=b"secret")
    with pytest.raises(Invalid) as caught:
        x509.parse_private_key(pem)
    assert caught.value.body() == {"key": [x509.ENCRYPTED_KEY]}


def test_mismatched_key() -> None:
    cert = x509.parse_certificate(pki.cert_pem(pki.make_cert(pki.rsa_key(0))))
    for other in (pki.rsa_key(1), pki.ec_key()):
        with pytest.raises(Invalid) as caught:
            x509.check_pair(cert, x509.parse_private_key(pki.key_pem(other)))
        assert caught.value.body() == {"key": [x509.MISMATCH]}
