"""Certificates addressed by common name, as the Deis v1 API does (``/v1/certs/<cn>``).

v2 names a certificate (``^[a-z0-9-]+$``); v1 knows only its common name, taken from the
certificate or given as ``common_name`` (the v1 client uploads the same pair once per
subject alternative name that way). A certificate uploaded through v1 gets a name derived
from that common name (:func:`name_for`), so one common name is one certificate, and the
common name it was uploaded for is the one it shows. A lookup by common name finds that
certificate, or else the first visible certificate (by name) whose common name it is.

As the v1 router served a certificate for the domain equal to its common name, an upload
also attaches the new certificate to that domain when it exists, has no certificate yet and
belongs to an app the uploader may change. Everything else is ``certs``'s rules.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from sqlalchemy import case, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from dockyard.accounts.models import User
from dockyard.core.errors import Conflict, Forbidden, Invalid, NotFound
from dockyard.routing import certs
from dockyard.routing.hostnames import lookup_form
from dockyard.routing.models import Certificate, Domain
from dockyard.scheduler.base import Scheduler

if TYPE_CHECKING:
    from dockyard.routing import x509

FIELD = "common_name"
COMMON_NAME_MAX = 253
COMMON_NAME_TAKEN = "Certificate with this common name already exists."
NO_COMMON_NAME = "The certificate has no common name; pass common_name."
_SLUG_MAX = 200  # leaves room for the hash within certs.NAME_MAX


def name_for(common_name: str) -> str:
    """The certificate name of a common name: a readable slug plus a hash of the exact
    common name, so two common names never share a name (``*.a.com`` and ``wildcard.a.com``
    slug alike, not hash alike)."""
    slug = re.sub(r"[^a-z0-9]+", "-", common_name.lower().replace("*", "wildcard")).strip("-")
    digest = hashlib.sha256(common_name.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return f"{slug[:_SLUG_MAX].rstrip('-') or 'cert'}-{digest}"


def covers(names: Iterable[str], hostname: str) -> bool:
    """Whether a certificate for ``names`` (its CN and DNS SANs) is valid for ``hostname``:
    an exact match, or a ``*.`` name matching exactly one more label (case-insensitive)."""
    wanted = hostname.strip().lower().rstrip(".")
    _, _, parent = wanted.partition(".")
    for name in names:
        name = name.strip().lower().rstrip(".")
        if name == wanted or (parent and "." in parent and name == f"*.{parent}"):
            return True
    return False


def check_common_name(value: str, parsed: x509.ParsedCertificate) -> str:
    value = value.strip()
    if len(value) > COMMON_NAME_MAX:
        raise Invalid(
            f"Ensure this field has no more than {COMMON_NAME_MAX} characters.", field=FIELD
        )
    if not covers((parsed.common_name, *parsed.san), value):
        raise Invalid(f"The certificate is not valid for {value}.", field=FIELD)
    return value


async def get_by_common_name(
    *, session: AsyncSession, user: User, common_name: str
) -> certs.CertView:
    derived = name_for(common_name)
    visible = [] if user.is_superuser else [Certificate.owner_id == user.id]
    name = await session.scalar(
        select(Certificate.name)
        .where(or_(Certificate.name == derived, Certificate.common_name == common_name), *visible)
        .order_by(case((Certificate.name == derived, 0), else_=1), Certificate.name)
        .limit(1)
    )
    if name is None:
        raise NotFound(certs.NO_CERT)
    return await certs.get_cert(session=session, user=user, name=name)


async def create_for_common_name(
    *,
    session: AsyncSession,
    scheduler: Scheduler,
    owner: User,
    certificate: str,
    key: str,
    common_name: str | None,
    platform_domain: str,
) -> certs.CertView:
    from dockyard.routing import x509  # cryptography loads with the first certificate

    parsed = await asyncio.to_thread(x509.parse_certificate, certificate)
    cn = check_common_name(common_name, parsed) if common_name else parsed.common_name
    if not cn:
        raise Invalid(NO_COMMON_NAME, field=FIELD)
    name = name_for(cn)
    if await session.scalar(select(Certificate.id).where(Certificate.name == name)):
        raise Invalid(COMMON_NAME_TAKEN, field=FIELD)
    view = await certs.create_cert(
        session=session, owner=owner, name=name, certificate=certificate, key=key
    )
    if view.cert.common_name != cn:
        view.cert.common_name = cn
        await session.commit()
    return await _attach_own_domain(session, scheduler, owner, view, cn, platform_domain)


async def _attach_own_domain(
    session: AsyncSession,
    scheduler: Scheduler,
    user: User,
    view: certs.CertView,
    common_name: str,
    platform_domain: str,
) -> certs.CertView:
    name = view.cert.name  # read now: a rollback below expires the row
    stored = lookup_form(common_name)
    free = stored and await session.scalar(
        select(Domain.uuid).where(Domain.domain == stored, Domain.certificate_id.is_(None))
    )
    if not free:
        return view
    try:
        return await certs.attach(
            session=session,
            scheduler=scheduler,
            user=user,
            name=name,
            domain=common_name,
            platform_domain=platform_domain,
        )
    except (Forbidden, Conflict, NotFound):  # another user's app, or taken meanwhile
        await session.rollback()
        await session.refresh(user)  # the rollback expired it; the lookup reads it
        return await certs.get_cert(session=session, user=user, name=name)


async def delete_by_common_name(
    *,
    session: AsyncSession,
    scheduler: Scheduler,
    user: User,
    common_name: str,
    platform_domain: str,
) -> None:
    view = await get_by_common_name(session=session, user=user, common_name=common_name)
    await certs.delete_cert(
        session=session,
        scheduler=scheduler,
        user=user,
        name=view.cert.name,
        platform_domain=platform_domain,
    )
