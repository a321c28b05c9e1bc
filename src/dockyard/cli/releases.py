"""Releases: releases:list (newest first), releases:info VERSION, and releases:rollback
[VERSION] (also ``dockyard rollback``), which deploys a copy of an older release's build
and config as a new release, under a spinner."""

from __future__ import annotations

from typing import Annotated

import typer

from dockyard.cli import output
from dockyard.cli.context import AppOpt, JsonOpt, app_name, session
from dockyard.cli.topic import Topic
from dockyard.client import ProfileError

topic = Topic(
    "releases", "List, inspect and roll back an app's releases.", panel="Releases", default="list"
)


def parse_version(text: str) -> int:
    """``v3`` or ``3`` -> 3."""
    digits = text.strip().lower().removeprefix("v")
    if not digits.isascii() or not digits.isdigit():
        raise ProfileError(f"{text!r} is not a release version (v3 or 3).")
    return int(digits)


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


@topic.command("rollback", aliases=("rollback",))
def rollback(
    version: Annotated[
        str | None,
        typer.Argument(
            help="The version to go back to: v3 or 3. Default: the previous good release.",
            show_default=False,
        ),
    ] = None,
    app: AppOpt = None,
) -> None:
    """Roll an app back: deploy an older release's build and config as a new release."""
    app_id = app_name(app)
    target = None if version is None else parse_version(version)
    with session() as client:
        with output.spinner(f"Rolling back {app_id}...") as timer:
            new = client.rollback(app_id, target)
        summary = client.release(app_id, new)["summary"]
    output.success(f"{summary}: deployed v{new} in {timer}.")
