"""An app's TLS switch: tls:info, tls:enable and tls:disable. Enabled, plain HTTP requests
to the app are redirected to HTTPS (attach a certificate to its domains with certs:attach).
"""

from __future__ import annotations

from dockyard.cli import output
from dockyard.cli.context import AppOpt, JsonOpt, app_name, session
from dockyard.cli.topic import Topic

topic = Topic("tls", "Enforce HTTPS for an app.", panel="Routing", default="info")


def _state(enforced: bool) -> str:
    return "enforced" if enforced else "not enforced"


@topic.command("info")
def info(app: AppOpt = None, json: JsonOpt = False) -> None:
    """Show whether HTTPS is enforced for an app."""
    app_id = app_name(app)
    with session() as client:
        tls = client.tls(app_id)
    if json:
        output.print_json(tls)
        return
    output.heading(f"{app_id} TLS")
    output.message(f"HTTPS {_state(tls['https_enforced'])}.")


def _switch(app: str | None, enforced: bool) -> None:
    app_id = app_name(app)
    with session() as client:
        client.set_tls(app_id, enforced)
    output.success(f"HTTPS is now {_state(enforced)} for {app_id}.")


@topic.command("enable")
def enable(app: AppOpt = None) -> None:
    """Enforce HTTPS: redirect plain HTTP requests to HTTPS."""
    _switch(app, True)


@topic.command("disable")
def disable(app: AppOpt = None) -> None:
    """Stop enforcing HTTPS: serve plain HTTP requests too."""
    _switch(app, False)
