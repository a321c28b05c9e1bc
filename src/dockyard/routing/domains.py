"""An app's custom domains: list, add (normalised, unique across all apps, never under the
platform domain) and remove. Permission is checked by the caller's ``load_app``."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from dockyard.apps.service import AppAccess
from dockyard.core.errors import Invalid, NotFound
from dockyard.db.paging import page_rows
from dockyard.routing.hostnames import lookup_form, normalise_domain, platform_reserved
from dockyard.routing.models import Domain
from dockyard.routing.publish import publish
from dockyard.scheduler.base import Scheduler

DOMAIN_TAKEN = "Domain is already in use by another application"
NO_DOMAIN = "No Domain matches the given query."


def reserved_message(platform_domain: str) -> str:
    return f"{platform_domain} and its subdomains are reserved for the platform's app URLs."


async def list_domains(
    *, session: AsyncSession, access: AppAccess, limit: int, offset: int
) -> tuple[int, list[Domain]]:
    stmt = select(Domain).where(Domain.app_uuid == access.app.uuid).order_by(Domain.domain)
    return await page_rows(session, stmt, limit=limit, offset=offset)


async def add_domain(
    *,
    session: AsyncSession,
    scheduler: Scheduler,
    access: AppAccess,
    actor: str,
    domain: str,
    platform_domain: str,
) -> Domain:
    name = normalise_domain(domain)
    if platform_reserved(name, platform_domain):
        raise Invalid(reserved_message(platform_domain), field="domain")
    if await session.scalar(select(Domain.uuid).where(Domain.domain == name)) is not None:
        raise Invalid(DOMAIN_TAKEN, field="domain")
    row = Domain(app_uuid=access.app.uuid, owner=actor, domain=name)
    session.add(row)
    try:
        await session.commit()
    except IntegrityError:  # a concurrent request took it first
        await session.rollback()
        raise Invalid(DOMAIN_TAKEN, field="domain") from None
    await scheduler.log_event(access.app.id, "dockyard", f"{actor} added domain {name}")
    await publish(
        session=session, scheduler=scheduler, app=access.app, platform_domain=platform_domain
    )
    return row


async def remove_domain(
    *,
    session: AsyncSession,
    scheduler: Scheduler,
    access: AppAccess,
    actor: str,
    domain: str,
    platform_domain: str,
) -> None:
    """Delete the domain; its certificate, if any, stays."""
    name = lookup_form(domain)
    row = None
    if name is not None:
        row = await session.scalar(
            select(Domain).where(Domain.app_uuid == access.app.uuid, Domain.domain == name)
        )
    if row is None:
        raise NotFound(NO_DOMAIN)
    await session.delete(row)
    await session.commit()
    await scheduler.log_event(access.app.id, "dockyard", f"{actor} removed domain {row.domain}")
    await publish(
        session=session, scheduler=scheduler, app=access.app, platform_domain=platform_domain
    )
