"""An app's TLS switch (``https_enforced``), its settings (maintenance, routable, whitelist,
autoscale, label) and the whitelist view of those settings.

Each app has at most one TLS row and one settings row, made on first use with the defaults
(``INSERT ... ON CONFLICT DO NOTHING``, so concurrent first uses agree on one row). Changes
lock the row first (see ``_row``), apply a pure rule from ``settings_rules``, answer 409
when nothing would change, and record an event in the app's log. ``owner`` is whoever
changed the row last (the app owner at first).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from dockyard.apps.service import AppAccess
from dockyard.core.errors import Conflict
from dockyard.routing import settings_rules as rules
from dockyard.routing.models import AppSettings, AppTLS
from dockyard.routing.publish import publish
from dockyard.scheduler.base import Scheduler, SupportsAutoscale

Row = TypeVar("Row", AppTLS, AppSettings)


async def _ensure(session: AsyncSession, model: type[Row], access: AppAccess) -> None:
    """Make the app's row with the defaults unless it exists (race-free)."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    await session.execute(
        insert(model)
        .values(app_uuid=access.app.uuid, owner=access.owner)
        .on_conflict_do_nothing(index_elements=[model.app_uuid])
    )


async def _row(
    session: AsyncSession, model: type[Row], access: AppAccess, *, lock: bool = False
) -> Row:
    """The app's row of ``model``, made with the defaults if there is none yet.

    With ``lock`` the row is held until the caller commits or rolls back, so concurrent
    read-modify-write changes serialise instead of losing updates. The open transaction is
    ended first; the insert is then the new transaction's first statement and a write, so
    SQLite takes its write lock there (waiting out the busy timeout) rather than reading a
    value another writer is about to replace; PostgreSQL locks the row with FOR UPDATE.
    """
    stmt = select(model).where(model.app_uuid == access.app.uuid)
    if lock:
        await session.commit()
        await _ensure(session, model, access)
        row = await session.scalar(stmt.with_for_update())
    else:
        row = await session.scalar(stmt)
        if row is None:
            await _ensure(session, model, access)
            row = await session.scalar(stmt)
    assert row is not None
    return row


def _state(row: AppSettings) -> rules.SettingsState:
    return rules.SettingsState(
        maintenance=row.maintenance,
        routable=row.routable,
        whitelist=tuple(row.whitelist or ()),
        autoscale=dict(row.autoscale or {}),
        label=dict(row.label or {}),
    )


def _store(row: AppSettings, state: rules.SettingsState, actor: str) -> None:
    row.owner = actor
    row.maintenance = state.maintenance
    row.routable = state.routable
    # New objects, not in-place edits: plain JSON columns only notice reassignment.
    row.whitelist = list(state.whitelist)
    row.autoscale = {k: dict(v) for k, v in state.autoscale.items()}
    row.label = dict(state.label)


async def get_tls(*, session: AsyncSession, access: AppAccess) -> AppTLS:
    row = await _row(session, AppTLS, access)
    await session.commit()
    return row


async def set_tls(
    *,
    session: AsyncSession,
    scheduler: Scheduler,
    access: AppAccess,
    actor: str,
    https_enforced: bool,
    platform_domain: str,
) -> AppTLS:
    row = await _row(session, AppTLS, access, lock=True)
    if row.https_enforced == https_enforced:
        await session.rollback()
        raise Conflict(
            f"{actor} changed nothing - https_enforced is already {str(https_enforced).lower()}"
        )
    row.https_enforced = https_enforced
    row.owner = actor
    await session.commit()
    state = "enforced" if https_enforced else "not enforced"
    await scheduler.log_event(access.app.id, "dockyard", f"{actor} set HTTPS {state}")
    await publish(
        session=session, scheduler=scheduler, app=access.app, platform_domain=platform_domain
    )
    return row


async def get_settings(*, session: AsyncSession, access: AppAccess) -> AppSettings:
    row = await _row(session, AppSettings, access)
    await session.commit()
    return row


async def _change(
    session: AsyncSession,
    scheduler: Scheduler,
    access: AppAccess,
    actor: str,
    apply: Callable[[rules.SettingsState], rules.SettingsState],
    nothing: str,
    platform_domain: str,
) -> AppSettings:
    """Lock the settings row, compute ``apply(old_state)``, store it or answer 409."""
    row = await _row(session, AppSettings, access, lock=True)
    old = _state(row)
    try:
        new = apply(old)
    except Exception:
        await session.rollback()
        raise
    if new == old:
        await session.rollback()
        raise Conflict(f"{actor} changed nothing - {nothing}")
    _store(row, new, actor)
    await session.commit()
    await scheduler.log_event(access.app.id, "dockyard", f"{actor} changed settings")
    if (old.maintenance, old.routable, old.whitelist) != (
        new.maintenance,
        new.routable,
        new.whitelist,
    ):
        await publish(
            session=session, scheduler=scheduler, app=access.app, platform_domain=platform_domain
        )
    if old.autoscale != new.autoscale:
        await apply_autoscale(scheduler, access.app.id, old.autoscale, new.autoscale)
    return row


async def apply_autoscale(
    scheduler: Scheduler,
    app: str,
    old: Mapping[str, Mapping[str, int]],
    new: Mapping[str, Mapping[str, int]],
) -> None:
    """Hand the autoscale rules to a backend that can act on them (Kubernetes: one HPA per
    process type). The local backend cannot: there the rules are stored and shown only."""
    if not isinstance(scheduler, SupportsAutoscale):
        return
    for ptype, rule in sorted(new.items()):
        if old.get(ptype) != rule:
            await scheduler.autoscale(
                app,
                ptype,
                minimum=rule["min"],
                maximum=rule["max"],
                cpu_percent=rule["cpu_percent"],
            )
    for ptype in sorted(set(old) - set(new)):
        await scheduler.remove_autoscale(app, ptype)


async def change_settings(
    *,
    session: AsyncSession,
    scheduler: Scheduler,
    access: AppAccess,
    actor: str,
    change: rules.SettingsChange,
    platform_domain: str,
) -> AppSettings:
    return await _change(
        session,
        scheduler,
        access,
        actor,
        lambda old: rules.apply_settings(old, change),
        "the settings already have these values",
        platform_domain,
    )


async def get_whitelist(*, session: AsyncSession, access: AppAccess) -> list[str]:
    return list((await get_settings(session=session, access=access)).whitelist)


async def add_addresses(
    *,
    session: AsyncSession,
    scheduler: Scheduler,
    access: AppAccess,
    actor: str,
    addresses: Any,
    platform_domain: str,
) -> list[str]:
    new = rules.parse_addresses(addresses, field="addresses")

    def apply(old: rules.SettingsState) -> rules.SettingsState:
        return replace(old, whitelist=rules.add_addresses(old.whitelist, new))

    row = await _change(
        session,
        scheduler,
        access,
        actor,
        apply,
        "the addresses are already whitelisted",
        platform_domain,
    )
    return list(row.whitelist)


async def remove_addresses(
    *,
    session: AsyncSession,
    scheduler: Scheduler,
    access: AppAccess,
    actor: str,
    addresses: Any,
    platform_domain: str,
) -> list[str]:
    gone = rules.parse_addresses(addresses, field="addresses")

    def apply(old: rules.SettingsState) -> rules.SettingsState:
        return replace(old, whitelist=rules.remove_addresses(old.whitelist, gone))

    row = await _change(
        session, scheduler, access, actor, apply, "no addresses given", platform_domain
    )
    return list(row.whitelist)
