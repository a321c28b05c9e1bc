"""Config: read the current config, and change it (which makes and deploys a release)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from dockyard.apps.models import App
from dockyard.core.errors import Conflict
from dockyard.releases import config_rules, engine
from dockyard.releases.models import Config, Release
from dockyard.releases.summary import config_summary
from dockyard.scheduler.base import Scheduler


async def current_config(session: AsyncSession, app: App) -> Config:
    release = await engine.current_release(session, app)
    config = await session.get(Config, release.config_uuid)
    assert config is not None
    return config


async def set_config(
    *,
    session: AsyncSession,
    scheduler: Scheduler,
    app: App,
    actor: str,
    changes: dict[str, Any],
) -> tuple[Config, Release]:
    """Merge ``changes`` (``{field: {key: value-or-None}}``) into the current config, write
    a release and deploy it. 409 when nothing changes; 422 when unsetting an absent key."""
    validated = {
        f: config_rules.validate(f, changes[f]) for f in config_rules.FIELDS if f in changes
    }
    previous = await current_config(session, app)
    old = engine.config_fields(previous)
    new = config_rules.apply_changes(old, validated)
    if new == old:
        raise Conflict(f"{actor} changed nothing - release stopped")
    config = Config(
        app_uuid=app.uuid,
        owner=actor,
        values=new["values"],
        memory=new["memory"],
        cpu=new["cpu"],
        tags=new["tags"],
        registry_info=new["registry"],
        healthcheck=new["healthcheck"],
    )
    session.add(config)
    await session.flush()
    current = await engine.current_release(session, app)
    release = await engine.new_release(
        session=session,
        app=app,
        owner=actor,
        summary=config_summary(actor, old, new),
        config=config,
        build_uuid=current.build_uuid,
    )
    await engine.deploy(session=session, scheduler=scheduler, app=app, release=release)
    return config, release
