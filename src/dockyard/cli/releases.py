"""Releases: releases:list (newest first) and releases:info <version>.
(releases:rollback comes with the deploy machinery.)"""

from __future__ import annotations

from typing import Annotated

import typer

from dockyard.cli import output
from dockyard.cli.context import AppOpt, JsonOpt, app_name, session
from dockyard.cli.topic import Topic

topic = Topic("releases", "List and inspect an app's releases.", panel="Releases", default="list")


@topic.command("list")
def list_releases(
    app: AppOpt = None,
    limit: Annotated[
        int | None,
        typer.Option("--limit", "-l", min=1, help="Show at most this many (newest first)."),
    ] = None,
    json: JsonOpt = False,
) -> None:
    """List an app's releases, newest first."""
    app_id = app_name(app)
    with session() as client:
        releases = client.releases(app_id, limit=limit)
    if json:
        output.print_json(releases)
        return
    output.table(
        ["VERSION", "CREATED", "SUMMARY"],
        [
            (f"v{r['version']}", r["created"], r["summary"] + (" (failed)" if r["failed"] else ""))
            for r in releases
        ],
        title=f"{app_id} Releases",
    )


@topic.command("info")
def info(
    version: Annotated[str, typer.Argument(help="The version: v3 or 3.")],
    app: AppOpt = None,
    json: JsonOpt = False,
) -> None:
    """Show one release of an app."""
    app_id = app_name(app)
    with session() as client:
        release = client.release(app_id, version)
    if json:
        output.print_json(release)
        return
    output.details(
        [
            ("version", f"v{release['version']}"),
            ("owner", release["owner"]),
            ("summary", release["summary"]),
            ("failed", release["failed"]),
            ("build", release["build"]),
            ("config", release["config"]),
            ("created", release["created"]),
            ("updated", release["updated"]),
            ("uuid", release["uuid"]),
        ],
        title=f"{app_id} Release v{release['version']}",
    )
