"""``dockyard deploy [DIR]`` (also ``builds:deploy``): pack the directory (see
``dockyard.cli.pack``), upload it with a progress bar (on a terminal only), print the
build's output as it arrives, then the new release and the app's URL. ``--json`` prints
only the final result.
"""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)

from dockyard.cli import output
from dockyard.cli.apps import app_url
from dockyard.cli.builds import topic
from dockyard.cli.context import AppOpt, JsonOpt, app_name, session
from dockyard.cli.pack import Packed, human_size, pack
from dockyard.client import ClientError
from dockyard.client.models import SourceEvent

if TYPE_CHECKING:
    from dockyard.client.api import DockyardClient


class UploadBar:
    """A transient progress bar of an upload on stderr, on a terminal only. ``update`` is
    the client's ``on_progress``. Once everything is sent the bar goes away, or, with
    ``then``, turns into a spinner with that text until ``close()``."""

    def __init__(self, total: int, *, then: str | None = None) -> None:
        self.total = total
        self.then = then
        self._progress: Progress | None = None
        out = output.err_console()
        if out.is_terminal:
            self._progress = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(),
                DownloadColumn(),
                TransferSpeedColumn(),
                TimeElapsedColumn(),
                console=out,
                transient=True,
            )
            self._task = self._progress.add_task("Uploading", total=total)
            self._progress.start()

    def update(self, sent: int) -> None:
        if self._progress is None:
            return
        self._progress.update(self._task, completed=sent)
        if sent >= self.total:
            if self.then:
                self._progress.update(self._task, description=self.then)
            else:
                self.close()

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def __enter__(self) -> UploadBar:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def upload(client: DockyardClient, app_id: str, packed: Packed, *, quiet: bool) -> SourceEvent:
    """Upload ``packed`` and return the result (the stream's last object); the build's
    output is printed as it comes, unless ``quiet``."""
    then = "Building and deploying..." if quiet else None
    result: SourceEvent | None = None
    with packed.path.open("rb") as body, UploadBar(packed.size, then=then) as bar:
        events = client.upload_source(
            app_id, body, packed.size, sha=packed.sha, on_progress=bar.update
        )
        for event in events:  # the result is the last one
            if "build" in event or "error" in event:
                result = event
            elif "log" in event and not quiet:
                bar.close()
                typer.echo(str(event["log"]))
    if result is None:  # upload_source raises first
        raise ClientError(0, "The controller sent no result.")
    return result


@topic.command("deploy", top_level=True)
def deploy(
    directory: Annotated[
        str, typer.Argument(help="The app's directory.", metavar="DIR", show_default=True)
    ] = ".",
    app: AppOpt = None,
    json: JsonOpt = False,
) -> None:
    """Upload a directory, build it on the controller and deploy it as a new release.

    In a git repository this sends what git would commit now: tracked files as they are
    (uncommitted changes included) and untracked files that are not ignored; the commit id
    goes along. Elsewhere it sends every file but those .gitignore and .dockyardignore
    exclude."""
    app_id = app_name(app)
    timer = output.Timer()
    with session() as client:
        packed = pack(directory)
        try:
            if not json:
                size = human_size(packed.size)
                output.message(
                    f"Uploading {directory} ({packed.files} files, {size}) to {app_id}..."
                )
            result = upload(client, app_id, packed, quiet=json)
        finally:
            packed.remove()
        if json:
            output.print_json(result)
        if "error" in result:
            output.fail(str(result["error"]))
        if json:
            return
        app_data = client.app(app_id)
    build = result["build"]
    source = build["sha"][:7] if build.get("sha") else build["uuid"]
    release = f" as v{result['release']['version']}" if result.get("release") else ""
    output.success(f"Deployed {source} to {app_id}{release} in {timer}.")
    if app_data.get("url"):
        output.message(f"URL: {app_url(app_data)}")
