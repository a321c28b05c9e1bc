"""Publishing an app's route: the ``RouteSpec`` the scheduler serves it with.

A route is derived state: the app's platform hostname (``<app>.<platform domain>``), its
custom domains with the certificates attached to them, its TLS switch and its settings
(maintenance, routable, whitelist). Every service that changes one of those calls
:func:`publish` after committing, for each app the change touches; ``dockyard server`` calls
:func:`publish_all` on start, so a route lost while the scheduler was unreachable comes back.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dockyard.apps.models import App
from dockyard.routing.models import AppSettings, AppTLS, Certificate, Domain
from dockyard.scheduler.base import RouteSpec, Scheduler, TLSCertificate


def platform_host(app_id: str, platform_domain: str) -> str:
    return f"{app_id}.{platform_domain}" if platform_domain else app_id


async def route_spec(session: AsyncSession, app: App, platform_domain: str) -> RouteSpec:
    rows = (
        await session.execute(
            select(Domain.domain, Certificate)
            .outerjoin(Certificate, Certificate.id == Domain.certificate_id)
            .where(Domain.app_uuid == app.uuid)
            .order_by(Domain.domain)
        )
    ).all()
    hosts = [platform_host(app.id, platform_domain)] + [domain for domain, _ in rows]
    attached: dict[int, tuple[Certificate, list[str]]] = {}
    for domain, cert in rows:
        if cert is not None:
            attached.setdefault(cert.id, (cert, []))[1].append(domain)
    tls = await session.scalar(select(AppTLS).where(AppTLS.app_uuid == app.uuid))
    settings = await session.scalar(select(AppSettings).where(AppSettings.app_uuid == app.uuid))
    return RouteSpec(
        app=app.id,
        hosts=tuple(hosts),
        certificates=tuple(
            TLSCertificate(
                name=cert.name, certificate=cert.certificate, key=cert.key, hosts=tuple(domains)
            )
            for cert, domains in sorted(attached.values(), key=lambda item: item[0].name)
        ),
        https_enforced=bool(tls and tls.https_enforced),
        maintenance=bool(settings and settings.maintenance),
        routable=settings.routable if settings else True,
        whitelist=tuple(settings.whitelist or ()) if settings else (),
    )


async def publish(
    *, session: AsyncSession, scheduler: Scheduler, app: App, platform_domain: str
) -> None:
    await scheduler.route(await route_spec(session, app, platform_domain))


async def publish_apps(
    *,
    session: AsyncSession,
    scheduler: Scheduler,
    app_uuids: Iterable[str],
    platform_domain: str,
) -> None:
    uuids = sorted(set(app_uuids))
    if not uuids:
        return
    for app in await session.scalars(select(App).where(App.uuid.in_(uuids)).order_by(App.id)):
        await publish(
            session=session, scheduler=scheduler, app=app, platform_domain=platform_domain
        )


async def publish_all(*, session: AsyncSession, scheduler: Scheduler, platform_domain: str) -> int:
    apps = list(await session.scalars(select(App).order_by(App.id)))
    for app in apps:
        await publish(
            session=session, scheduler=scheduler, app=app, platform_domain=platform_domain
        )
    return len(apps)
