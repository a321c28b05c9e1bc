"""``parse_public_key``: the pure SSH public key rules, without a server."""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from dockyard.accounts.sshkeys import parse_public_key
from dockyard.core.errors import Invalid
from tests.accounts.test_keys import dsa_openssh, mpint, openssh, ssh_key, ssh_string

PREFIX = "Key is not a valid SSH public key: "


def blob_of(line: str) -> bytes:
    return base64.b64decode(line.split()[1])


def rejected(text: str) -> str:
    with pytest.raises(Invalid) as info:
        parse_public_key(text)
    err = info.value
    assert err.status == 400
    assert err.field == "public"
    assert err.message.startswith(PREFIX)
    assert err.body() == {"public": [err.message]}
    return err.message


@pytest.mark.parametrize(
    ("kind", "type_word", "bits"),
    [
        ("rsa", "ssh-rsa", 2048),
        ("ed25519", "ssh-ed25519", 256),
        ("p256", "ecdsa-sha2-nistp256", 256),
        ("p384", "ecdsa-sha2-nistp384", 384),
    ],
)
def test_parses_real_keys(kind: str, type_word: str, bits: int) -> None:
    line = ssh_key(kind)
    key = parse_public_key(f"{line} me@host")
    assert key.type == type_word
    assert key.bits == bits
    assert key.blob == blob_of(line)
    assert key.comment == "me@host"
    assert key.openssh == f"{line} me@host"


def test_p521() -> None:
    line = openssh(ec.generate_private_key(ec.SECP521R1()).public_key())
    key = parse_public_key(line)
    assert key.type == "ecdsa-sha2-nistp521"
    assert key.bits == 521
    assert key.comment == ""
    assert key.openssh == line


def test_fingerprints() -> None:
    line = ssh_key("rsa")
    key = parse_public_key(line)
    md5 = hashlib.md5(blob_of(line)).hexdigest()
    assert key.fingerprint_md5 == ":".join(md5[i : i + 2] for i in range(0, 32, 2))
    assert key.fingerprint_md5 == key.fingerprint_md5.lower()
    assert key.fingerprint_md5.count(":") == 15
    sha = base64.b64encode(hashlib.sha256(blob_of(line)).digest()).decode()
    assert key.fingerprint_sha256 == "SHA256:" + sha.rstrip("=")
    assert not key.fingerprint_sha256.endswith("=")


def test_fingerprint_ignores_comment_and_whitespace() -> None:
    line = ssh_key("ed25519")
    a = parse_public_key(line)
    b = parse_public_key(f"\n  {line}\t a comment with  spaces \n")
    assert a.fingerprint_md5 == b.fingerprint_md5
    assert a.fingerprint_sha256 == b.fingerprint_sha256
    assert b.comment == "a comment with  spaces"
    assert b.openssh == f"{line} a comment with  spaces"


def test_distinct_keys_have_distinct_fingerprints() -> None:
    a = parse_public_key(ssh_key("ed25519"))
    b = parse_public_key(ssh_key("ed25519", 1))
    assert a.fingerprint_md5 != b.fingerprint_md5
    assert a.fingerprint_sha256 != b.fingerprint_sha256


def test_rejects_dsa() -> None:
    assert "ssh-dss" in rejected(dsa_openssh())


def test_rejects_unknown_type_word() -> None:
    message = rejected("ssh-foo " + ssh_key("ed25519").split()[1])
    assert "not supported" in message


def test_rejects_garbage_base64() -> None:
    assert "base64" in rejected("ssh-rsa not*base64!!")
    assert "base64" in rejected("ssh-ed25519 AAAAC3N")  # bad padding


@pytest.mark.parametrize(
    ("type_word", "kind"),
    [
        ("ssh-ed25519", "rsa"),
        ("ssh-rsa", "ed25519"),
        ("ecdsa-sha2-nistp256", "rsa"),
        ("ecdsa-sha2-nistp384", "p256"),
        ("ecdsa-sha2-nistp256", "p384"),
        ("ssh-rsa", "p256"),
    ],
)
def test_rejects_type_word_not_matching_blob(type_word: str, kind: str) -> None:
    rejected(f"{type_word} {ssh_key(kind).split()[1]}")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "ssh-rsa",
        "AAAAC3NzaC1lZDI1NTE5AAAAI",
        "ssh-rsa " + base64.b64encode(b"hello").decode(),
        "ssh-ed25519 " + base64.b64encode(b"\x00\x00\x00\x0bssh-ed25519\x00\x00\x00\x01x").decode(),
    ],
)
def test_rejects_malformed(text: str) -> None:
    rejected(text)


def test_rejects_truncated_and_extended_blob() -> None:
    blob = blob_of(ssh_key("rsa"))
    rejected("ssh-rsa " + base64.b64encode(blob[:-10]).decode())
    rejected("ssh-rsa " + base64.b64encode(blob + b"\x00\x00\x00\x01x").decode())


def test_rejects_small_rsa() -> None:
    # cryptography will not generate one, so encode a 512-bit modulus by hand.
    n = (1 << 511) | 0xB5
    blob = ssh_string(b"ssh-rsa") + mpint(65537) + mpint(n)
    small = f"ssh-rsa {base64.b64encode(blob).decode()}"
    assert "1024" in rejected(small)


def test_accepts_1024_bit_rsa() -> None:
    line = openssh(rsa.generate_private_key(65537, 1024).public_key())
    assert parse_public_key(line).bits == 1024


def test_ed25519_blob_is_exact() -> None:
    pub = ed25519.Ed25519PrivateKey.generate().public_key()
    line = openssh(pub)
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    raw = pub.public_bytes(Encoding.Raw, PublicFormat.Raw)
    assert parse_public_key(line).blob.endswith(raw)


@pytest.mark.parametrize("sep", ["\n", "\r\n", "\r", "\x00", "\x1b", "\x7f"])
def test_rejects_control_characters_in_comment(sep: str) -> None:
    # Two keys pasted at once, or a comment smuggling a second authorized_keys line.
    line = ssh_key("ed25519")
    rejected(f"{line} me@host{sep}{ssh_key('p256')}")
    rejected(f"{line} me{sep}host")


def test_tab_in_comment_is_kept() -> None:
    line = ssh_key("ed25519")
    assert parse_public_key(f"{line} me\thost").comment == "me\thost"
