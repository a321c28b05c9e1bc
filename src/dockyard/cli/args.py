"""Parsing the arguments that several topics share: ``KEY=VALUE`` pairs (``config:set``,
``tags:set``, ``limits:set``, ``ps:scale``...) and lists of keys. A malformed argument is a
usage error (exit code 2) that names the argument."""

from __future__ import annotations

from collections.abc import Iterable

import typer


def pairs(items: Iterable[str], *, what: str = "KEY") -> dict[str, str]:
    """``["A=1", "B=x=y"]`` -> ``{"A": "1", "B": "x=y"}``; the last of a repeated key wins."""
    result: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise typer.BadParameter(f"{item!r} is not {what}=VALUE.")
        result[key.strip()] = value
    if not result:
        raise typer.BadParameter(f"Give at least one {what}=VALUE.")
    return result


def counts(items: Iterable[str]) -> dict[str, int]:
    """``["web=3", "worker=1"]`` -> ``{"web": 3, "worker": 1}``."""
    result: dict[str, int] = {}
    for key, value in pairs(items, what="TYPE").items():
        text = value.strip()
        if not text.isascii() or not text.isdigit():
            raise typer.BadParameter(f"{key}={value}: the number of processes must be 0 or more.")
        result[key] = int(text)
    return result


def unset(keys: Iterable[str]) -> dict[str, None]:
    """Keys to unset, as the ``{"KEY": null}`` the controller expects."""
    result = {k.strip(): None for k in keys if k.strip()}
    if not result:
        raise typer.BadParameter("Give at least one key.")
    return result
