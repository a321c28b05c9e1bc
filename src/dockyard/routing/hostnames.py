"""Pure rules for domain names: normalisation and validation, and the platform's own names.

A domain is lowercased, one trailing dot is stripped, a leading ``*.`` marks a wildcard and
every other label is converted to its IDNA (ASCII) form with UTS #46 non-transitional
mapping, the form browsers send in the ``Host`` header (``bücher.de`` becomes
``xn--bcher-kva.de``). The result is what is stored and what the router matches.
"""

from __future__ import annotations

import re

import idna

from dockyard.core.errors import Invalid

FIELD = "domain"
DOMAIN_MAX = 253
LABEL_RE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\Z")

BLANK = "This field may not be blank."
WILDCARD_ONLY = "Hostname can't only be a wildcard"
NOT_VALID = "Hostname does not look valid."
TOO_LONG = f"Hostname must be {DOMAIN_MAX} characters or less."


def _invalid(message: str = NOT_VALID) -> Invalid:
    return Invalid(message, field=FIELD)


def to_ace(label: str) -> str:
    """One label in its ASCII form, checked against the hostname label rule."""
    if label.isascii():
        if label.startswith("xn--"):
            try:  # an A-label must decode to a valid U-label
                idna.decode(label)
            except idna.IDNAError:
                raise _invalid() from None
    else:
        try:
            label = idna.encode(label, uts46=True, transitional=False).decode("ascii")
        except idna.IDNAError:
            raise _invalid() from None
    if not LABEL_RE.match(label):
        raise _invalid()
    return label


def normalise_domain(value: str) -> str:
    """The stored form of ``value`` or ``Invalid`` (field ``domain``) with the reference
    controller's messages."""
    value = value.strip().lower()
    if value.endswith("."):
        value = value[:-1]
    if not value:
        raise _invalid(BLANK)
    if value == "*":
        raise _invalid(WILDCARD_ONLY)
    labels = value.split(".")
    wildcard = labels[0] == "*"
    if wildcard:
        labels = labels[1:]
        if len(labels) < 2:  # "*.com" would claim a whole top-level domain
            raise _invalid()
    ace = [to_ace(label) for label in labels]
    if ace[-1].isdigit():  # RFC 3696: a top-level label is never all digits
        raise _invalid()
    result = ".".join(["*", *ace] if wildcard else ace)
    if len(result) > DOMAIN_MAX:
        raise _invalid(TOO_LONG)
    return result


def lookup_form(value: str) -> str | None:
    """The stored form to look ``value`` up by, or None when it cannot be a stored domain."""
    try:
        return normalise_domain(value)
    except Invalid:
        return None


def platform_reserved(domain: str, platform_domain: str) -> bool:
    """Whether ``domain`` is the platform domain or under it: those names route to apps
    by their id (``<app>.<platform_domain>``), so no app may claim them as custom domains."""
    if not platform_domain:
        return False
    bare = domain[2:] if domain.startswith("*.") else domain
    return bare == platform_domain or bare.endswith("." + platform_domain)
