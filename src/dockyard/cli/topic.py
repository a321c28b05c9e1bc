"""``Topic``: how a resource group becomes commands. Each command is registered as
``dockyard <topic>:<command>`` (Deis style, shown in the help grouped by topic) and as
``dockyard <topic> <command>`` (a sub-Typer, hidden from the root help to keep it short).
``dockyard <topic>`` alone runs the topic's default command (its list), as in Deis.

Every command runs inside ``guarded``: a ``ClientError`` or ``ProfileError`` becomes the
message on stderr and exit code 1, never a traceback.

A new resource group is one module: ``topic = Topic("domains", ...)``, decorate its
functions with ``@topic.command("add")``, and list the module in ``dockyard.cli.app``.
"""

from __future__ import annotations

import functools
import inspect
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar, get_type_hints

import typer
from typer.exceptions import TyperException

from dockyard.cli import output
from dockyard.client import ClientError, ProfileError

F = TypeVar("F", bound=Callable[..., Any])
DEBUG_ENV = "DOCKYARD_DEBUG"


def _client_error_text(exc: ClientError) -> str:
    if exc.status == 401:
        return f"{exc.message}\nLog in again with `dockyard login`."
    return exc.message


def guarded(func: F) -> F:
    """Turn expected failures into a message and a non-zero exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (typer.Exit, typer.Abort, TyperException):
            raise  # exits, aborted prompts and usage errors: Typer reports them
        except ClientError as exc:
            output.fail(_client_error_text(exc))
        except ProfileError as exc:
            output.fail(str(exc))
        except KeyboardInterrupt:
            output.fail("Interrupted.", code=130)
        except Exception as exc:
            if os.environ.get(DEBUG_ENV):
                raise
            output.fail(f"Unexpected {type(exc).__name__}: {exc} (set {DEBUG_ENV}=1 for details)")

    return wrapper  # type: ignore[return-value]


@dataclass
class _Command:
    name: str
    func: Callable[..., Any]
    top_level: bool
    hidden: bool
    aliases: tuple[str, ...]
    context_settings: dict[str, Any] | None = None


@dataclass
class Topic:
    """A resource group (``apps``, ``keys``...). ``default`` names the command that
    ``dockyard <topic>`` runs with no sub-command; it must take options only."""

    name: str
    help: str
    panel: str | None = None
    default: str | None = None
    commands: list[_Command] = field(default_factory=list)

    def command(
        self,
        name: str,
        *,
        top_level: bool = False,
        hidden: bool = False,
        aliases: tuple[str, ...] = (),
        passthrough: bool = False,
    ) -> Callable[[F], F]:
        """Register ``func`` as ``<topic>:<name>`` and ``<topic> <name>``. ``top_level`` also
        registers the bare ``<name>`` (shown in the help instead of ``<topic>:<name>``);
        ``aliases`` are more root-level names (for example ``scale`` for ``ps:scale``).
        ``passthrough``: options end at the first argument, so ``dockyard run ls -la``
        passes ``-la`` on to the command instead of parsing it."""
        settings = (
            {"allow_interspersed_args": False, "ignore_unknown_options": True}
            if passthrough
            else None
        )

        def decorator(func: F) -> F:
            self.commands.append(
                _Command(name, guarded(func), top_level, hidden, tuple(aliases), settings)
            )
            return func

        return decorator

    def install(self, root: typer.Typer) -> None:
        panel = self.panel or self.name.capitalize()
        group = typer.Typer(
            name=self.name,
            help=self.help,
            no_args_is_help=self.default is None,
            invoke_without_command=self.default is not None,
        )
        if self.default is not None:
            group.callback()(self._default_callback(self.default))
        for cmd in self.commands:
            settings = cmd.context_settings
            group.command(cmd.name, hidden=cmd.hidden, context_settings=settings)(cmd.func)
            root.command(
                f"{self.name}:{cmd.name}",
                rich_help_panel=panel,
                hidden=cmd.hidden or cmd.top_level,
                context_settings=settings,
            )(cmd.func)
            shortcuts = [(cmd.name, cmd.hidden)] if cmd.top_level else []
            shortcuts += [(alias, True) for alias in cmd.aliases]
            for name, hidden in shortcuts:
                root.command(name, rich_help_panel=panel, hidden=hidden, context_settings=settings)(
                    cmd.func
                )
        root.add_typer(group, name=self.name, hidden=True)

    def _default_callback(self, name: str) -> Callable[..., Any]:
        """A group callback with the default command's options: it runs that command
        when no sub-command follows (``dockyard apps`` = ``dockyard apps:list``)."""
        target = next(c.func for c in self.commands if c.name == name)
        original = inspect.unwrap(target)
        hints = get_type_hints(original, include_extras=True)
        signature = inspect.signature(original, eval_str=True)

        def callback(ctx: typer.Context, **kwargs: Any) -> None:
            if ctx.invoked_subcommand is None:
                target(**kwargs)

        ctx_param = inspect.Parameter(
            "ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context
        )
        params = [
            p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in signature.parameters.values()
        ]
        callback.__signature__ = signature.replace(  # type: ignore[attr-defined]
            parameters=[ctx_param, *params], return_annotation=None
        )
        callback.__annotations__ = {
            "ctx": typer.Context,
            **{k: v for k, v in hints.items() if k != "return"},
        }
        callback.__doc__ = self.help
        return callback
