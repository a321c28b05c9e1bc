"""SSH keys for git push: keys:list, keys:add (default: the first ``~/.ssh/*.pub``) and
keys:remove."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer

from dockyard.cli import output
from dockyard.cli.context import JsonOpt, session
from dockyard.cli.topic import Topic
from dockyard.client import ProfileError

topic = Topic("keys", "Manage the SSH keys used for git push.", panel="Keys", default="list")

_ID_RE = re.compile(r"^[A-Za-z0-9@.+_:-]{1,128}$")


def _short(public: str) -> str:
    parts = public.split()
    if len(parts) < 2:
        return public
    blob = parts[1]
    return f"{parts[0]} {blob[:12]}...{blob[-12:]}" if len(blob) > 30 else f"{parts[0]} {blob}"


def default_key() -> Path:
    """The first public key in ~/.ssh, by name."""
    found = sorted((Path.home() / ".ssh").glob("*.pub"))
    if not found:
        raise ProfileError(
            "No SSH public key found in ~/.ssh. Create one with `ssh-keygen -t ed25519`, "
            "or pass the path of a .pub file."
        )
    return found[0]


def key_id_for(path: Path, public: str) -> str:
    """The key's comment (``user@host``) when it is a valid id, else the file's name."""
    comment = " ".join(public.split()[2:])
    if _ID_RE.match(comment):
        return comment
    return path.name.split(".")[0] or "key"


@topic.command("list")
def list_keys(json: JsonOpt = False) -> None:
    """List your SSH keys."""
    with session() as client:
        keys = client.keys()
    if json:
        output.print_json(keys)
        return
    output.table(
        ["ID", "FINGERPRINT (MD5)", "KEY"],
        [(k["id"], k["fingerprint"], _short(k["public"])) for k in keys],
        title="Keys",
        empty="No keys yet. Add one with `dockyard keys:add`.",
    )


@topic.command("add")
def add(
    path: Annotated[
        Path | None,
        typer.Argument(
            help="A public key file. Default: the first ~/.ssh/*.pub.", show_default=False
        ),
    ] = None,
    key_id: Annotated[
        str | None,
        typer.Option("--id", help="The key's name. Default: its comment, or the file name."),
    ] = None,
) -> None:
    """Add an SSH public key to your account."""
    path = path or default_key()
    try:
        public = path.expanduser().read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(f"Cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
    if not public:
        raise ProfileError(f"{path} is empty.")
    key_id = key_id or key_id_for(path, public)
    with session() as client, output.spinner(f"Uploading {path.name}..."):
        key = client.add_key(key_id, public)
    output.success(f"Added key {key['id']} ({key['fingerprint']}).")


@topic.command("remove")
def remove(key_id: Annotated[str, typer.Argument(help="The key's id.")]) -> None:
    """Remove one of your SSH keys."""
    with session() as client:
        client.remove_key(key_id)
    output.success(f"Removed key {key_id}.")
