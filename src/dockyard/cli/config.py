"""An app's environment (config vars): config:list, config:set KEY=VALUE..., config:unset
KEY..., and the ``.env`` round trip config:pull / config:push. Every change makes a new
release and restarts the app's processes, so it runs under a spinner and reports the new
release's number.

``config:pull`` merges like the Deis CLI: values already in the local file are kept unless
``--overwrite`` (or answered yes to with ``--interactive``); keys the file lacks are added.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from dockyard.cli import args, dotenv, output
from dockyard.cli.context import AppOpt, JsonOpt, app_name, session
from dockyard.cli.topic import Topic
from dockyard.client import ProfileError

if TYPE_CHECKING:
    from dockyard.client.api import DockyardClient

topic = Topic(
    "config",
    "Manage an app's environment variables; each change deploys a new release.",
    panel="Config",
    default="list",
)

PathOpt = Annotated[Path, typer.Option("--path", "-p", help="The env file.", show_default=True)]


def show_values(app_id: str, values: dict[str, str], *, oneline: bool = False) -> None:
    if oneline:
        typer.echo(" ".join(f"{k}={dotenv.quote(v)}" for k, v in sorted(values.items())))
        return
    output.mapping(
        values,
        title=f"{app_id} Config",
        empty=f"{app_id} has no config vars. Set one with `dockyard config:set KEY=VALUE`.",
    )


def deployed(client: DockyardClient, what: str, timer: output.Timer) -> None:
    release = f" v{client.last_release}" if client.last_release else ""
    output.success(f"{what}; deployed{release} in {timer}.")


@topic.command("list")
def list_config(
    app: AppOpt = None,
    oneline: Annotated[
        bool, typer.Option("--oneline", help="Print KEY=VALUE pairs on one line.")
    ] = False,
    json: JsonOpt = False,
) -> None:
    """List an app's config vars (--json: one object of KEY: VALUE)."""
    app_id = app_name(app)
    with session() as client:
        values = client.config(app_id)["values"]
    if json:
        output.print_json(values)
    else:
        show_values(app_id, values, oneline=oneline)


@topic.command("set")
def set_config(
    pairs: Annotated[list[str], typer.Argument(help="KEY=VALUE pairs.", show_default=False)],
    app: AppOpt = None,
) -> None:
    """Set config vars and restart the app with them: config:set KEY=VALUE..."""
    values = args.pairs(pairs)
    app_id = app_name(app)
    with session() as client:
        with output.spinner(f"Setting {', '.join(values)} and restarting {app_id}...") as timer:
            config = client.set_config(app_id, values=values)
        deployed(client, f"Set {', '.join(values)}", timer)
    show_values(app_id, config["values"])


@topic.command("unset")
def unset_config(
    keys: Annotated[list[str], typer.Argument(help="The keys to remove.", show_default=False)],
    app: AppOpt = None,
) -> None:
    """Remove config vars and restart the app without them."""
    values = args.unset(keys)
    app_id = app_name(app)
    with session() as client:
        with output.spinner(f"Unsetting {', '.join(values)} and restarting {app_id}...") as timer:
            config = client.set_config(app_id, values=values)
        deployed(client, f"Unset {', '.join(values)}", timer)
    show_values(app_id, config["values"])


def _merge(
    local: dict[str, str], remote: dict[str, str], *, overwrite: bool, interactive: bool
) -> tuple[dict[str, str], list[str]]:
    """The values to write, and the local keys kept although the app has another value."""
    merged = dict(local)
    kept = []
    for key, value in sorted(remote.items()):
        replace = key not in local or local[key] == value or overwrite
        if not replace and interactive:
            replace = typer.confirm(f"{key}: replace {local[key]!r} with {value!r}?")
        if replace:
            merged[key] = value
        else:
            kept.append(key)
    return merged, kept


@topic.command("pull")
def pull(
    app: AppOpt = None,
    path: PathOpt = Path(".env"),
    overwrite: Annotated[
        bool, typer.Option("--overwrite", "-o", help="Replace values already in the file.")
    ] = False,
    interactive: Annotated[
        bool, typer.Option("--interactive", "-i", help="Ask before replacing each value.")
    ] = False,
) -> None:
    """Write an app's config vars to a .env file.

    Values already in the file are kept unless --overwrite (or --interactive); keys the
    file lacks are added; comments and other lines stay.
    """
    app_id = app_name(app)
    with session() as client:
        remote = client.config(app_id)["values"]
    if not remote:
        output.message(f"{app_id} has no config vars: nothing to pull.")
        return
    try:
        existing = path.read_text(encoding="utf-8") if path.exists() else None
        local = dotenv.parse(existing) if existing is not None else {}
    except (OSError, UnicodeDecodeError, dotenv.DotenvError) as exc:
        raise ProfileError(f"Cannot read {path}: {exc}") from None
    merged, kept = _merge(local, remote, overwrite=overwrite, interactive=interactive)
    text = dotenv.update(existing, merged) if existing is not None else dotenv.render(merged)
    try:
        dotenv.write(path, text)
    except OSError as exc:
        raise ProfileError(f"Cannot write {path}: {exc.strerror}") from None
    added = sum(1 for k in remote if k not in local)
    changed = sum(1 for k in remote if k in local and local[k] != merged[k])
    same = sum(1 for k in remote if local.get(k) == remote[k])
    output.success(
        f"Pulled the config of {app_id} into {path}: {added} added, {changed} replaced, "
        f"{same} already there."
    )
    if kept:
        output.warn(
            f"Kept the values of {', '.join(kept)} already in {path}; "
            "pass --overwrite to replace them."
        )


@topic.command("push")
def push(app: AppOpt = None, path: PathOpt = Path(".env")) -> None:
    """Set the config vars of a .env file on an app, and restart it.

    The file has KEY=value lines; `export KEY=value`, quoted values, blank lines and #
    comments are understood. Config vars not in the file are left alone.
    """
    app_id = app_name(app)
    try:
        values = dotenv.read(path)
    except FileNotFoundError:
        raise ProfileError(f"{path} does not exist. Create it, or pass --path.") from None
    except (OSError, UnicodeDecodeError, dotenv.DotenvError) as exc:
        raise ProfileError(f"Cannot read {path}: {exc}") from None
    if not values:
        raise ProfileError(f"{path} has no variables to push.")
    with session() as client:
        with output.spinner(f"Pushing {len(values)} config var(s) to {app_id}...") as timer:
            config = client.set_config(app_id, values=values)
        deployed(client, f"Pushed {', '.join(sorted(values))}", timer)
    show_values(app_id, config["values"])
