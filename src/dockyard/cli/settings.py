"""An app's settings, with the Deis CLI's names: maintenance:info|on|off (the router
answers 503 while on), routing:info|enable|disable (whether the app is reachable through
the router at all), and ``dockyard settings`` to show every setting at once: maintenance,
routing, HTTPS, the whitelist, autoscale rules and labels. The whitelist, autoscale and
labels have their own topics."""

from __future__ import annotations

from typing import Any

from dockyard.cli import output
from dockyard.cli.context import AppOpt, JsonOpt, app_name, session
from dockyard.cli.topic import Topic
from dockyard.client.models import AppSettings

topic = Topic("settings", "Show all of an app's settings.", panel="Routing", default="list")
maintenance = Topic(
    "maintenance", "Put an app in maintenance mode.", panel="Routing", default="info"
)
routing = Topic(
    "routing", "Make an app reachable through the router, or not.", panel="Routing", default="info"
)


def _on(value: bool) -> str:
    return "on" if value else "off"


def autoscale_text(rules: dict[str, Any]) -> str:
    return (
        ", ".join(
            f"{t}: {r['min']}-{r['max']} at {r['cpu_percent']}% CPU"
            for t, r in sorted(rules.items())
        )
        or "-"
    )


@topic.command("list")
def list_settings(app: AppOpt = None, json: JsonOpt = False) -> None:
    """Show all of an app's settings (--json: the settings plus https_enforced)."""
    app_id = app_name(app)
    with session() as client:
        data = client.settings(app_id)
        tls = client.tls(app_id)
    if json:
        output.print_json({**data, "https_enforced": tls["https_enforced"]})
        return
    output.details(
        [
            ("maintenance", _on(data["maintenance"])),
            ("routing", "enabled" if data["routable"] else "disabled"),
            ("https enforced", tls["https_enforced"]),
            ("whitelist", data["whitelist"] or "everyone"),
            ("autoscale", autoscale_text(data["autoscale"])),
            ("labels", data["label"] or None),
        ],
        title=f"{app_id} Settings",
    )


def _get(app: str | None) -> tuple[str, AppSettings]:
    app_id = app_name(app)
    with session() as client:
        return app_id, client.settings(app_id)


@maintenance.command("info")
def maintenance_info(app: AppOpt = None, json: JsonOpt = False) -> None:
    """Show whether an app is in maintenance mode."""
    app_id, data = _get(app)
    if json:
        output.print_json({"maintenance": data["maintenance"]})
    else:
        output.message(f"Maintenance mode is {_on(data['maintenance'])} for {app_id}.")


def _maintenance(app: str | None, on: bool) -> None:
    app_id = app_name(app)
    with session() as client:
        client.change_settings(app_id, maintenance=on)
    output.success(f"Maintenance mode is now {_on(on)} for {app_id}.")


@maintenance.command("on")
def maintenance_on(app: AppOpt = None) -> None:
    """Turn maintenance mode on: the router answers 503 instead of the app."""
    _maintenance(app, True)


@maintenance.command("off")
def maintenance_off(app: AppOpt = None) -> None:
    """Turn maintenance mode off: the app serves again."""
    _maintenance(app, False)


@routing.command("info")
def routing_info(app: AppOpt = None, json: JsonOpt = False) -> None:
    """Show whether an app is reachable through the router."""
    app_id, data = _get(app)
    if json:
        output.print_json({"routable": data["routable"]})
    else:
        state = "enabled" if data["routable"] else "disabled"
        output.message(f"Routing is {state} for {app_id}.")


def _routing(app: str | None, routable: bool) -> None:
    app_id = app_name(app)
    with session() as client:
        client.change_settings(app_id, routable=routable)
    output.success(f"Routing is now {'enabled' if routable else 'disabled'} for {app_id}.")


@routing.command("enable")
def routing_enable(app: AppOpt = None) -> None:
    """Make the app reachable through the router."""
    _routing(app, True)


@routing.command("disable")
def routing_disable(app: AppOpt = None) -> None:
    """Take the app off the router (its processes keep running)."""
    _routing(app, False)
