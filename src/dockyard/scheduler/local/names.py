"""Pod names: ``<app>-<type>-<digits>-<5 chars>``, the Kubernetes shape the Go CLI parses.

The digits are stable per (app, type, release), like a ReplicaSet's pod-template hash; the
suffix is random, from the alphabet Kubernetes uses so names never spell words.
"""

from __future__ import annotations

import re
import secrets
import zlib

SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
POD_NAME_RE = re.compile(
    r"^(?P<app>[a-z0-9-]+)-(?P<type>[a-z0-9-]+)-(?P<hash>\d+)-(?P<suffix>[a-z0-9]{5})$"
)


def template_hash(app: str, ptype: str, version: int) -> str:
    return str(zlib.crc32(f"{app}\0{ptype}\0{version}".encode()) % 10**9 + 10**9)


def pod_name(app: str, ptype: str, version: int) -> str:
    suffix = "".join(secrets.choice(SUFFIX_ALPHABET) for _ in range(5))
    return f"{app}-{ptype}-{template_hash(app, ptype, version)}-{suffix}"


def run_name(app: str) -> str:
    """One-off pods: ``<app>-run-<digits>-<5 chars>`` with a random number."""
    digits = str(secrets.randbelow(9 * 10**8) + 10**8)
    suffix = "".join(secrets.choice(SUFFIX_ALPHABET) for _ in range(5))
    return f"{app}-run-{digits}-{suffix}"


def pod_type(name: str, app: str) -> str | None:
    """The process type inside a pod name of ``app`` (types may contain hyphens)."""
    prefix = f"{app}-"
    if not name.startswith(prefix):
        return None
    m = POD_NAME_RE.match(name)
    if not m:
        return None
    rest = name[len(prefix) :].rsplit("-", 2)
    return rest[0] if len(rest) == 3 and rest[0] else None
