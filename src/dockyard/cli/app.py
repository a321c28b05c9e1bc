"""The root Typer application of the ``dockyard`` command: every topic module installs its
commands here (``<topic>:<command>`` and ``<topic> <command>``), plus ``version``.

``dockyard.main`` adds the server-side commands (``server``, ``migrate``) to this same app.
"""

from __future__ import annotations

import contextlib

import typer

from dockyard import API_VERSION, __version__
from dockyard.cli import (
    apps,
    auth,
    autoscale,
    buildpacks,
    builds,
    certs,
    config,
    deploy,
    domains,
    healthchecks,
    keys,
    keyvalue,
    limits,
    logs,
    output,
    perms,
    ps,
    releases,
    settings,
    tls,
    users,
    whitelist,
)
from dockyard.cli.context import JsonOpt, current_profile
from dockyard.cli.topic import guarded
from dockyard.client import ClientError, ProfileError

# ``run`` and ``logs`` join the apps topic, ``deploy`` the builds topic, when their module
# is imported.
assert logs.__name__ and deploy.__name__

TOPICS = (
    auth.topic,
    apps.topic,
    builds.topic,
    buildpacks.topic,
    releases.topic,
    config.topic,
    limits.topic,
    healthchecks.topic,
    keyvalue.tags,
    keyvalue.registry,
    ps.topic,
    autoscale.autoscale,
    domains.topic,
    certs.topic,
    tls.topic,
    settings.topic,
    settings.maintenance,
    settings.routing,
    whitelist.topic,
    autoscale.labels,
    keys.topic,
    perms.topic,
    users.topic,
)

app = typer.Typer(
    name="dockyard",
    help=(
        "Dockyard: a self-hosted, Heroku-style application platform.\n\n"
        "Commands are `topic:command` (dockyard apps:create) or `topic command` "
        "(dockyard apps create); `dockyard <topic>` alone lists. App commands take "
        "-a/--app, or use the app of the git remote named 'dockyard'. Read commands "
        "take --json for scripts.\n\n"
        "Start with: dockyard register <controller URL>, dockyard keys:add, "
        "dockyard apps:create, then git push dockyard main (or dockyard deploy), "
        "dockyard open."
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

for _topic in TOPICS:
    _topic.install(app)


@app.command("version", rich_help_panel="Other")
@guarded
def version(json: JsonOpt = False) -> None:
    """Print the client version, and the controller's when one is configured."""
    info: dict[str, object] = {"client": __version__, "api": API_VERSION}
    controller = None
    with contextlib.suppress(ProfileError):
        controller = current_profile().controller
    if controller:
        from dockyard.client.api import DockyardClient

        try:
            with DockyardClient(controller, timeout=5.0) as client:
                server = client.probe()
            info["controller"] = server
        except ClientError as exc:
            info["controller"] = {"url": controller, "error": exc.message}
    if json:
        output.print_json(info)
        return
    output.message(f"dockyard {__version__} (API {API_VERSION})")
    server_info = info.get("controller")
    if isinstance(server_info, dict):
        if "error" in server_info:
            output.message(f"controller {server_info['url']}: {server_info['error']}")
        else:
            output.message(
                f"controller {server_info['url']}: dockyard "
                f"{server_info.get('platform_version') or '?'} (API {server_info['api_version']})"
            )
