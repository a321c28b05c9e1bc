"""Certificates: global objects owned by the user who uploaded them.

Only the owner and superusers see a certificate; to anyone else it does not exist (404,
like another user's SSH key), although names are unique across all users. Attaching needs
the certificate to be visible and the domain's app to be accessible (owner, collaborator or
superuser, 403 otherwise); a domain carries at most one certificate (409). Detaching needs
only the certificate. The private key is stored, never returned.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from dockyard.accounts.models import User
from dockyard.apps.models import App
from dockyard.apps.service import load_app
from dockyard.core.errors import Conflict, Invalid, NotFound
from dockyard.core.timefmt import utcnow
from dockyard.db.paging import page_rows
from dockyard.routing.hostnames import lookup_form
from dockyard.routing.models import Certificate, Domain
from dockyard.routing.publish import publish, publish_apps
from dockyard.scheduler.base import Scheduler

if TYPE_CHECKING:
    from dockyard.routing import x509

NAME_RE = re.compile(r"^[a-z0-9-]+\Z")
NAME_MAX = 253
NAME_MESSAGE = "Can only contain a-z (lowercase), 0-9 and hyphens"
NAME_TAKEN = "Certificate with this name already exists."
NO_CERT = "No Certificate matches the given query."
NO_DOMAIN = "No Domain matches the given query."
ALREADY_ATTACHED = "Domain already has a certificate attached to it"


@dataclass
class CertView:
    """A certificate with what its answer shows besides its own columns."""

    cert: Certificate
    owner: str
    domains: list[str] = field(default_factory=list)


def check_cert_name(value: str) -> str:
    if not value:
        raise Invalid("This field may not be blank.", field="name")
    if len(value) > NAME_MAX:
        raise Invalid(f"Ensure this field has no more than {NAME_MAX} characters.", field="name")
    if not NAME_RE.match(value):
        raise Invalid(NAME_MESSAGE, field="name")
    return value


def parse_pair(certificate: str, key: str) -> tuple[x509.ParsedCertificate, x509.ParsedKey]:
    """Blocking (RSA key checks take a while): run in a thread."""
    # cryptography (about 10 MB per process) loads with the first certificate parsed.
    from dockyard.routing import x509

    parsed_cert = x509.parse_certificate(certificate)
    parsed_key = x509.parse_private_key(key)
    x509.check_pair(parsed_cert, parsed_key)
    return parsed_cert, parsed_key


def _visible(user: User) -> list[ColumnElement[bool]]:
    """Superusers see every certificate; others their own."""
    return [] if user.is_superuser else [Certificate.owner_id == user.id]


async def _domains_of(session: AsyncSession, ids: Sequence[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {i: [] for i in ids}
    if ids:
        rows = await session.execute(
            select(Domain.certificate_id, Domain.domain)
            .where(Domain.certificate_id.in_(ids))
            .order_by(Domain.domain)
        )
        for cert_id, domain in rows:
            if cert_id is not None:
                found[cert_id].append(domain)
    return found


async def list_certs(
    *, session: AsyncSession, user: User, limit: int, offset: int
) -> tuple[int, list[CertView]]:
    stmt = (
        select(Certificate, User.username)
        .join(User, User.id == Certificate.owner_id)
        .where(*_visible(user))
        .order_by(Certificate.name)
    )
    count, rows = await page_rows(session, stmt, limit=limit, offset=offset)
    domains = await _domains_of(session, [c.id for c, _ in rows])
    return count, [CertView(c, owner, domains[c.id]) for c, owner in rows]


async def _load(session: AsyncSession, user: User, name: str) -> CertView:
    stmt = (
        select(Certificate, User.username)
        .join(User, User.id == Certificate.owner_id)
        .where(Certificate.name == name, *_visible(user))
    )
    row = (await session.execute(stmt)).first()
    if row is None:
        raise NotFound(NO_CERT)
    cert, owner = row
    return CertView(cert, owner, (await _domains_of(session, [cert.id]))[cert.id])


async def get_cert(*, session: AsyncSession, user: User, name: str) -> CertView:
    return await _load(session, user, name)


async def create_cert(
    *, session: AsyncSession, owner: User, name: str, certificate: str, key: str
) -> CertView:
    name = check_cert_name(name)
    parsed, parsed_key = await asyncio.to_thread(parse_pair, certificate, key)
    if await session.scalar(select(Certificate.id).where(Certificate.name == name)):
        raise Invalid(NAME_TAKEN, field="name")
    cert = Certificate(
        name=name,
        owner_id=owner.id,
        certificate=parsed.pem,
        key=parsed_key.pem,
        common_name=parsed.common_name,
        fingerprint=parsed.fingerprint,
        san=list(parsed.san),
        starts=parsed.starts,
        expires=parsed.expires,
        issuer=parsed.issuer,
        subject=parsed.subject,
    )
    session.add(cert)
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise Invalid(NAME_TAKEN, field="name") from None
    return CertView(cert, owner.username, [])


async def _attached_apps(session: AsyncSession, cert_id: int) -> list[str]:
    return list(
        await session.scalars(
            select(Domain.app_uuid).where(Domain.certificate_id == cert_id).distinct()
        )
    )


async def delete_cert(
    *, session: AsyncSession, scheduler: Scheduler, user: User, name: str, platform_domain: str
) -> None:
    """Domains it was attached to stay, without a certificate (``ON DELETE SET NULL``)."""
    view = await _load(session, user, name)
    apps = await _attached_apps(session, view.cert.id)
    await session.delete(view.cert)
    await session.commit()
    await publish_apps(
        session=session, scheduler=scheduler, app_uuids=apps, platform_domain=platform_domain
    )


async def _domain_app(session: AsyncSession, domain: str) -> tuple[Domain, str]:
    name = lookup_form(domain)
    row = None
    if name is not None:
        row = (
            await session.execute(
                select(Domain, App.id)
                .join(App, App.uuid == Domain.app_uuid)
                .where(Domain.domain == name)
            )
        ).first()
    if row is None:
        raise NotFound(NO_DOMAIN)
    return row[0], row[1]


async def attach(
    *,
    session: AsyncSession,
    scheduler: Scheduler,
    user: User,
    name: str,
    domain: str,
    platform_domain: str,
) -> CertView:
    view = await _load(session, user, name)
    row, app_id = await _domain_app(session, domain)
    access = await load_app(session=session, user=user, app_id=app_id)  # 403 without access
    # Conditional update: of two concurrent attaches only one finds the slot empty.
    result = await session.execute(
        update(Domain)
        .where(Domain.uuid == row.uuid, Domain.certificate_id.is_(None))
        .values(certificate_id=view.cert.id, updated=utcnow())
    )
    if _rowcount(result) != 1:
        await session.rollback()
        raise Conflict(ALREADY_ATTACHED)
    await session.commit()
    await publish(
        session=session, scheduler=scheduler, app=access.app, platform_domain=platform_domain
    )
    return await _load(session, user, name)


async def detach(
    *,
    session: AsyncSession,
    scheduler: Scheduler,
    user: User,
    name: str,
    domain: str,
    platform_domain: str,
) -> None:
    view = await _load(session, user, name)
    stored = lookup_form(domain)
    app_uuid = await session.scalar(select(Domain.app_uuid).where(Domain.domain == (stored or "")))
    result = await session.execute(
        update(Domain)
        .where(Domain.domain == (stored or ""), Domain.certificate_id == view.cert.id)
        .values(certificate_id=None, updated=utcnow())
    )
    if stored is None or _rowcount(result) != 1:
        await session.rollback()
        raise NotFound(NO_DOMAIN)
    await session.commit()
    await publish_apps(
        session=session,
        scheduler=scheduler,
        app_uuids=[app_uuid] if app_uuid else [],
        platform_domain=platform_domain,
    )


def _rowcount(result: object) -> int:
    return result.rowcount if isinstance(result, CursorResult) else -1
