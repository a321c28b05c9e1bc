"""Two topics over a plain key/value field of an app's config, built by one factory:
``tags`` (node selectors: which nodes an app's pods may run on) and ``registry`` (the
credentials to pull a private image). Each has list, set KEY=VALUE... and unset KEY...;
a change is a new release, deployed under a spinner. The controller never sends a registry
password back: it shows as ``********``."""

# No ``from __future__ import annotations``: the generated commands' annotations use the
# factory's arguments, so they must be evaluated where they are written.
from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar

import typer

from dockyard.cli import args, output
from dockyard.cli.config import deployed
from dockyard.cli.context import AppOpt, JsonOpt, app_name, session
from dockyard.cli.topic import Topic

Field = Literal["tags", "registry"]
F = TypeVar("F", bound=Callable[..., Any])


def _doc(text: str) -> Callable[[F], F]:
    """Give a generated command its help text (before ``topic.command`` wraps it)."""

    def decorator(func: F) -> F:
        func.__doc__ = text
        return func

    return decorator


def make_topic(field: Field, noun: str, title: str, help_text: str, example: str) -> Topic:
    topic = Topic(field, help_text, panel="Config", default="list")

    def show(app_id: str, data: dict[str, str]) -> None:
        output.mapping(
            data,
            title=f"{app_id} {title}",
            empty=f"{app_id} has no {noun}. Set some with `dockyard {field}:set {example}`.",
        )

    @topic.command("list")
    @_doc(f"List an app's {noun} (--json: one object of KEY: VALUE).")
    def list_values(app: AppOpt = None, json: JsonOpt = False) -> None:
        app_id = app_name(app)
        with session() as client:
            data = client.config(app_id)[field]
        if json:
            output.print_json(data)
        else:
            show(app_id, data)

    @topic.command("set")
    @_doc(f"Set {noun} of an app, and restart it.\n\nExample: {field}:set {example}")
    def set_values(
        pairs: Annotated[
            list[str], typer.Argument(help=f"KEY=VALUE pairs, e.g. {example}.", show_default=False)
        ],
        app: AppOpt = None,
    ) -> None:
        changes = args.pairs(pairs)
        app_id = app_name(app)
        with session() as client:
            with output.spinner(f"Setting {field} of {app_id}...") as timer:
                config = client.set_config(app_id, **{field: changes})
            deployed(client, f"Set {', '.join(changes)} in {field}", timer)
        show(app_id, config[field])

    @topic.command("unset")
    @_doc(f"Remove {noun} of an app, and restart it.")
    def unset_values(
        keys: Annotated[list[str], typer.Argument(help="The keys to remove.", show_default=False)],
        app: AppOpt = None,
    ) -> None:
        changes = args.unset(keys)
        app_id = app_name(app)
        with session() as client:
            with output.spinner(f"Unsetting {field} of {app_id}...") as timer:
                config = client.set_config(app_id, **{field: changes})
            deployed(client, f"Removed {', '.join(changes)} from {field}", timer)
        show(app_id, config[field])

    return topic


tags = make_topic(
    "tags",
    "tags",
    "Tags",
    "Tag an app: its pods run only on nodes with these labels (Kubernetes scheduler).",
    "environ=prod",
)
registry = make_topic(
    "registry",
    "registry credentials",
    "Registry",
    "Credentials for pulling an app's image from a private registry.",
    "username=me password=secret",
)
