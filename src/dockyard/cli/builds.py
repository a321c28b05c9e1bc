"""Builds: builds:list, builds:log UUID (a build's output) and builds:create IMAGE (also
``dockyard pull``, as in Deis), which deploys the build as a new release under a spinner.
``dockyard deploy`` (uploading a directory) joins this topic from ``dockyard.cli.deploy``.

On the local scheduler IMAGE is a directory or a .tar/.tar.gz archive on the controller's
host, under its ``DOCKYARD_LOCAL_SOURCE_ROOTS``; a relative path that exists here (``.``) is
sent as an absolute one, for the common case of a controller on this machine. Anything
else (``registry/name:tag``) goes to the controller as it is. The Procfile comes from
``--procfile`` (a file, or ``"web: cmd"`` text), else from the source itself.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dockyard.cli import output
from dockyard.cli.apps import app_url
from dockyard.cli.context import AppOpt, JsonOpt, app_name, session
from dockyard.cli.topic import Topic
from dockyard.client import ProfileError
from dockyard.client.models import Build

topic = Topic("builds", "Deploy and list an app's builds.", panel="Builds", default="list")


def parse_procfile(text: str) -> dict[str, str]:
    """``type: command`` lines (blank lines and ``#`` comments skipped)."""
    procfile: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        ptype, sep, command = line.partition(":")
        if not sep or not ptype.strip():
            raise ProfileError(f"Procfile line {number} is not 'type: command': {line}")
        procfile[ptype.strip()] = command.strip()
    if not procfile:
        raise ProfileError("The Procfile has no process types.")
    return procfile


def _procfile(value: str | None) -> dict[str, str] | None:
    if value is None:
        return None
    path = Path(value).expanduser()
    if "\n" not in value and path.is_file():
        try:
            return parse_procfile(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise ProfileError(f"Cannot read {path}: {exc}") from None
    return parse_procfile(value.replace("\\n", "\n"))


def resolve_image(image: str) -> str:
    """A path that exists here is sent absolute; anything else as given."""
    if "://" in image or image.startswith("/"):
        return image
    path = Path(image).expanduser()
    if image.startswith(("~", ".")) or path.exists():
        return str(path.resolve())
    return image


def _source(build: Build) -> str:
    return build["sha"][:7] if build.get("sha") else build["image"]


@topic.command("list")
def list_builds(
    app: AppOpt = None,
    limit: Annotated[
        int | None, typer.Option("--limit", "-l", min=1, help="Show at most this many.")
    ] = None,
    json: JsonOpt = False,
) -> None:
    """List an app's builds, newest first."""
    app_id = app_name(app)
    with session() as client:
        builds = client.builds(app_id, limit=limit)
    if json:
        output.print_json(builds)
        return
    output.table(
        ["UUID", "CREATED", "SOURCE", "STATUS", "BUILDPACK", "PROCESS TYPES"],
        [
            (
                b["uuid"],
                b["created"],
                _source(b),
                b.get("status") or "succeeded",
                b.get("buildpack") or None,
                sorted(b["procfile"]),
            )
            for b in builds
        ],
        title=f"{app_id} Builds",
        empty=f"{app_id} has no builds yet. Deploy with `git push dockyard main` or "
        "`dockyard deploy`.",
    )


@topic.command("log")
def log(
    build: Annotated[str, typer.Argument(help="The build's UUID (see builds:list).")],
    app: AppOpt = None,
) -> None:
    """Print the output of a build (of a source uploaded by `dockyard deploy`)."""
    app_id = app_name(app)
    with session() as client:
        text = client.build_log(app_id, build)
    if text:
        typer.echo(text, nl=not text.endswith("\n"))


@topic.command("create", aliases=("pull",))
def create(
    image: Annotated[
        str,
        typer.Argument(
            help="The source: on the local scheduler a directory or .tar.gz on the "
            "controller's host (e.g. `.`); otherwise a container image."
        ),
    ],
    app: AppOpt = None,
    procfile: Annotated[
        str | None,
        typer.Option(
            "--procfile",
            "-p",
            help='A Procfile path, or its text ("web: python app.py"). '
            "Default: the source's own Procfile.",
            show_default=False,
        ),
    ] = None,
    sha: Annotated[str, typer.Option("--sha", help="The source's commit id, if any.")] = "",
    json: JsonOpt = False,
) -> None:
    """Build a source and deploy it as a new release of the app."""
    app_id = app_name(app)
    source = resolve_image(image)
    parsed = _procfile(procfile)
    with session() as client:
        with output.spinner(f"Building and deploying {source} to {app_id}...") as timer:
            build = client.create_build(app_id, source, procfile=parsed, sha=sha)
        if json:
            output.print_json(build)
            return
        release = f" as v{client.last_release}" if client.last_release else ""
        output.success(f"Deployed {_source(build)} to {app_id}{release} in {timer}.")
        app_data = client.app(app_id)
    types = ", ".join(sorted(build["procfile"])) or "the image's default command"
    scale = " ".join(f"{k}={v}" for k, v in sorted(app_data["structure"].items())) or "nothing"
    output.message(f"Process types: {types}. Running: {scale}.")
    if app_data.get("url"):
        output.message(f"URL: {app_url(app_data)}")
