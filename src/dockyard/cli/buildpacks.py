"""Buildpacks: buildpacks:list (anyone logged in), buildpacks:add NAME PATH and
buildpacks:remove NAME (administrators). ``add`` takes a directory, packed as
``dockyard deploy`` packs one outside git, or a ``.tar.gz``/``.tgz``; either must hold
``bin/compile`` at its root, checked before the upload."""

from __future__ import annotations

import tarfile
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from dockyard.cli import output
from dockyard.cli.context import JsonOpt, session
from dockyard.cli.pack import Packed, human_size, pack
from dockyard.cli.topic import Topic
from dockyard.client import ProfileError

topic = Topic(
    "buildpacks",
    "List the buildpacks that builds use; administrators add and remove them.",
    panel="Builds",
    default="list",
)

COMPILE = "bin/compile"
ARCHIVE_SUFFIXES = (".tar.gz", ".tgz")


def archive_names(path: Path) -> set[str]:
    """The entries of a ``.tar.gz``, without a leading ``./``."""
    try:
        with tarfile.open(path, "r:gz") as tar:
            return {name.removeprefix("./") for name in tar.getnames()}
    except (OSError, tarfile.TarError, EOFError) as exc:
        raise ProfileError(f"{path} is not a readable .tar.gz: {exc}") from None


def _not_a_buildpack(path: Path, hint: str = "") -> NoReturn:
    raise ProfileError(
        f"{path} is not a buildpack: it has no {COMPILE} at its root{hint}. That script "
        "builds an app; bin/detect and bin/release are optional."
    )


@topic.command("list")
def list_buildpacks(json: JsonOpt = False) -> None:
    """List the buildpacks."""
    with session() as client:
        packs = client.buildpacks()
    if json:
        output.print_json(packs)
        return
    output.table(
        ["NAME", "OWNER", "SIZE", "CREATED"],
        [(b["name"], b["owner"], human_size(b["size"]), b["created"]) for b in packs],
        title="Buildpacks",
        empty="No buildpacks yet. An administrator adds one with `dockyard buildpacks:add`.",
    )


@topic.command("add")
def add(
    name: Annotated[str, typer.Argument(help="The buildpack's name.")],
    path: Annotated[
        Path, typer.Argument(help="A directory holding bin/compile, or a .tar.gz/.tgz of one.")
    ],
    json: JsonOpt = False,
) -> None:
    """Add a buildpack (administrators only)."""
    path = path.expanduser()
    packed: Packed | None = None
    if path.is_dir():
        if not (path / COMPILE).is_file():
            _not_a_buildpack(path)
        packed = pack(path, use_git=False)
        archive, names = packed.path, set(packed.names)
    elif path.is_file() and path.name.endswith(ARCHIVE_SUFFIXES):
        archive, names = path, archive_names(path)
    elif path.exists():
        raise ProfileError(f"{path} is neither a directory nor a .tar.gz/.tgz file.")
    else:
        raise ProfileError(f"{path} does not exist.")
    try:
        if COMPILE not in names:
            _not_a_buildpack(path, " (or .gitignore/.dockyardignore leaves it out)" * bool(packed))
        with session() as client:
            created = client.add_buildpack(name, archive)
    finally:
        if packed is not None:
            packed.remove()
    if json:
        output.print_json(created)
        return
    output.success(f"Added buildpack {created['name']} ({human_size(created['size'])}).")


@topic.command("remove")
def remove(
    name: Annotated[str, typer.Argument(help="The buildpack's name.")],
    confirm: Annotated[
        str | None,
        typer.Option("--confirm", help="The buildpack's name again, to skip the question."),
    ] = None,
) -> None:
    """Remove a buildpack (administrators only). Asks you to type its name first."""
    if confirm is None:
        err = output.err_console()
        err.print(f" !    WARNING: this removes the buildpack {name}; builds can no longer use it.")
        err.print(f" !    To proceed, type {name!r} or re-run with --confirm {name}")
        confirm = typer.prompt(">", prompt_suffix=" ")
    if confirm != name:
        raise ProfileError(f"Confirmation did not match {name}: nothing was removed.")
    with session() as client:
        client.remove_buildpack(name)
    output.success(f"Removed buildpack {name}.")
