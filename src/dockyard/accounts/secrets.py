"""Password hashing (argon2id) and API tokens (random, stored only as SHA-256).

The argon2 cost is a setting (``DOCKYARD_ARGON2_TIME_COST``, ``DOCKYARD_ARGON2_MEMORY_KIB``);
``configure`` applies it once per process at start-up. The defaults are argon2-cffi's
(time cost 3, 64 MiB).
"""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
_dummy_hash: str | None = None


def configure(*, time_cost: int, memory_kib: int) -> None:
    global _hasher, _dummy_hash
    if (_hasher.time_cost, _hasher.memory_cost) != (time_cost, memory_kib):
        _hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)
        _dummy_hash = None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def verify_nothing(password: str) -> None:
    """Spend what a real verification costs, so unknown usernames can't be told apart by
    timing."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = _hasher.hash("dockyard-timing-equaliser")
    verify_password(_dummy_hash, password)


def new_token() -> str:
    """40 hex characters, like the reference's DRF tokens, from a CSPRNG."""
    return secrets.token_hex(20)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()
