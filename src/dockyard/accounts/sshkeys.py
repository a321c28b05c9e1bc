"""SSH public key parsing with ``cryptography`` (pure; no database).

Only ssh-rsa (2048 bits or more is not enforced: 1024 is the floor), ssh-ed25519 and the
ecdsa-sha2-nistp{256,384,521} types are accepted. The type word must agree with the key
blob. Fingerprints: MD5 as lowercase colon-separated hex (what the Deis clients show) and
SHA-256 in OpenSSH's ``SHA256:<base64>`` form.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import load_ssh_public_key

from dockyard.core.errors import Invalid

ECDSA_TYPES = {
    "ecdsa-sha2-nistp256": "secp256r1",
    "ecdsa-sha2-nistp384": "secp384r1",
    "ecdsa-sha2-nistp521": "secp521r1",
}
ALLOWED_TYPES = ("ssh-rsa", "ssh-ed25519", *ECDSA_TYPES)
MIN_RSA_BITS = 1024


@dataclass(frozen=True)
class PublicKey:
    type: str
    blob: bytes
    comment: str
    bits: int

    @property
    def openssh(self) -> str:
        text = f"{self.type} {base64.b64encode(self.blob).decode()}"
        return f"{text} {self.comment}" if self.comment else text

    @property
    def fingerprint_md5(self) -> str:
        digest = hashlib.md5(self.blob, usedforsecurity=False).hexdigest()
        return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))

    @property
    def fingerprint_sha256(self) -> str:
        digest = hashlib.sha256(self.blob).digest()
        return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


def _bad(reason: str) -> Invalid:
    return Invalid(f"Key is not a valid SSH public key: {reason}", field="public")


def parse_public_key(text: str) -> PublicKey:
    parts = text.strip().split(None, 2)
    if len(parts) < 2:
        raise _bad("expected '<type> <base64> [comment]'")
    key_type, b64 = parts[0], parts[1]
    comment = parts[2].strip() if len(parts) == 3 else ""
    # A newline in the comment would smuggle a second line into an authorized_keys file.
    if any(ord(c) < 32 or ord(c) == 127 for c in comment.replace("\t", " ")):
        raise _bad("the key must be one line without control characters")
    if key_type not in ALLOWED_TYPES:
        raise _bad(
            f"type {key_type[:40]!r} is not supported; use one of {', '.join(ALLOWED_TYPES)}"
        )
    try:
        blob = base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError):
        raise _bad("the key data is not valid base64") from None
    try:
        key = load_ssh_public_key(f"{key_type} {b64}".encode())
    except (ValueError, TypeError) as exc:
        raise _bad("the key data does not decode as a key of that type") from exc
    except Exception as exc:  # cryptography raises UnsupportedAlgorithm for odd curves
        raise _bad("the key algorithm is not supported") from exc

    if key_type == "ssh-rsa":
        if not isinstance(key, rsa.RSAPublicKey):
            raise _bad("the key data is not an RSA key")
        bits = key.key_size
        if bits < MIN_RSA_BITS:
            raise _bad(f"RSA keys must have at least {MIN_RSA_BITS} bits")
    elif key_type == "ssh-ed25519":
        if not isinstance(key, ed25519.Ed25519PublicKey):
            raise _bad("the key data is not an Ed25519 key")
        bits = 256
    else:
        if (
            not isinstance(key, ec.EllipticCurvePublicKey)
            or key.curve.name != ECDSA_TYPES[key_type]
        ):
            raise _bad("the key data does not match its ECDSA curve")
        bits = key.curve.key_size
    return PublicKey(type=key_type, blob=blob, comment=comment, bits=bits)
