"""Everything the CLI prints: rich tables and key/value views for people, plain JSON for
scripts (``--json``), messages, errors on stderr with a non-zero exit, and a spinner with the
elapsed time for long operations (only on a terminal, so pipes and CI logs stay clean)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text


def console() -> Console:
    # Built per call so that a redirected sys.stdout (tests, pipes) is always honoured.
    return Console(highlight=False, soft_wrap=False)


def err_console() -> Console:
    return Console(stderr=True, highlight=False)


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


def message(text: str) -> None:
    console().print(Text(text))


def success(text: str) -> None:
    console().print(Text(text, style="green"))


def warn(text: str) -> None:
    err_console().print(Text(f"Warning: {text}", style="yellow"))


def fail(text: str, code: int = 1) -> NoReturn:
    """Show an error on stderr and exit non-zero. Never a traceback."""
    err_console().print(Text(f"Error: {text}", style="bold red"))
    raise typer.Exit(code)


def _cell(value: Any) -> Text:
    if value is None:
        return Text("-", style="dim")
    if isinstance(value, bool):
        return Text("yes" if value else "no")
    if isinstance(value, Mapping):
        return Text(" ".join(f"{k}={v}" for k, v in value.items()) or "-")
    if isinstance(value, list | tuple):
        return Text(", ".join(str(v) for v in value) or "-")
    return Text(str(value))


def table(
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    title: str | None = None,
    empty: str = "Nothing to show.",
) -> None:
    rows = list(rows)
    if not rows:
        message(empty)
        return
    grid = Table(header_style="bold", box=None, pad_edge=False)
    for column in columns:
        grid.add_column(column, overflow="fold")
    for row in rows:
        grid.add_row(*(_cell(v) for v in row))
    out = console()
    if title:
        out.print(Text(f"=== {title}", style="bold"))
    out.print(grid)


def details(fields: Sequence[tuple[str, Any]], *, title: str | None = None) -> None:
    """A key/value view of one object."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column(overflow="fold")
    for key, value in fields:
        grid.add_row(Text(key), _cell(value))
    out = console()
    if title:
        out.print(Text(f"=== {title}", style="bold"))
    out.print(grid)


class Timer:
    """How long a block took; ``str()`` gives ``1.2s``."""

    def __init__(self) -> None:
        self.started = time.monotonic()
        self.stopped: float | None = None

    @property
    def elapsed(self) -> float:
        return (self.stopped or time.monotonic()) - self.started

    def __str__(self) -> str:
        return f"{self.elapsed:.1f}s"


@contextmanager
def spinner(text: str) -> Iterator[Timer]:
    """A spinner with the elapsed time while the block runs (a terminal only); the block
    gets a ``Timer`` for its closing message."""
    timer = Timer()
    out = err_console()
    try:
        if not out.is_terminal:
            yield timer
            return
        columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
        with Progress(*columns, console=out, transient=True) as progress:
            progress.add_task(text, total=None)
            yield timer
    finally:
        timer.stopped = time.monotonic()


def heading(text: str) -> None:
    console().print(Text(f"=== {text}", style="bold"))


def mapping(
    data: Mapping[str, Any],
    *,
    title: str | None = None,
    empty: str = "Nothing to show.",
    columns: tuple[str, str] = ("KEY", "VALUE"),
) -> None:
    """A two-column table of a mapping, sorted by key."""
    table(list(columns), sorted(data.items()), title=title, empty=empty)
