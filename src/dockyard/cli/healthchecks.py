"""Health checks per process type, in the Drycc CLI's shape: healthchecks:list,
healthchecks:set liveness|readiness httpGet|tcpSocket|exec ARGS... --type web, and
healthchecks:unset liveness|readiness... --type web.

The controller merges probes per kind, so set sends the one kind it sets and unset sends
``null`` for each kind it removes (the type goes when none is left). Besides process types
there is the Deis key ``web/cmd`` (``--type web/cmd``): the web process, or ``cmd`` for an
image run with its default command; Deis clients set their probes there, and a probe set for
the type itself wins over it. A readiness probe gates a deploy; a failing liveness probe
restarts the pod. On the local scheduler a probe's port means a web pod's own ``$PORT``.
"""

from __future__ import annotations

import shlex
from enum import StrEnum
from typing import Annotated, Any

import typer

from dockyard.cli import output
from dockyard.cli.config import deployed
from dockyard.cli.context import AppOpt, JsonOpt, app_name, session
from dockyard.cli.topic import Topic
from dockyard.client import ProfileError

topic = Topic(
    "healthchecks",
    "Liveness and readiness probes of an app's process types.",
    panel="Config",
    default="list",
)

TIMINGS = {
    "initialDelaySeconds": "delay",
    "timeoutSeconds": "timeout",
    "periodSeconds": "period",
    "successThreshold": "success",
    "failureThreshold": "failure",
}


class Kind(StrEnum):
    liveness = "liveness"
    readiness = "readiness"


class Action(StrEnum):
    httpGet = "httpGet"
    tcpSocket = "tcpSocket"
    exec = "exec"


WEB_CMD = "web/cmd"
TypeOpt = Annotated[
    str,
    typer.Option(
        "--type",
        "-t",
        help="The process type the probe is for, or web/cmd (web, or an image's cmd).",
    ),
]


def _seconds(name: str, help_text: str) -> Any:
    return typer.Option(name, min=0, help=help_text, show_default=False)


def describe(probe: dict[str, Any]) -> str:
    """``HTTP GET / on port 80`` and the like."""
    if "httpGet" in probe:
        http = probe["httpGet"]
        headers = " ".join(f"{h.get('name')}:{h.get('value')}" for h in http.get("httpHeaders", []))
        text = f"HTTP GET {http.get('path') or '/'} on port {http.get('port')}"
        return f"{text} with {headers}" if headers else text
    if "tcpSocket" in probe:
        return f"TCP connect to port {probe['tcpSocket'].get('port')}"
    if "exec" in probe:
        return "exec " + shlex.join(probe["exec"].get("command", []))
    return "?"


def _timing(probe: dict[str, Any]) -> str:
    parts = [f"{short}={probe[key]}" for key, short in TIMINGS.items() if key in probe]
    return " ".join(parts) or "defaults"


def show(app_id: str, healthcheck: dict[str, dict[str, Any]]) -> None:
    rows = [
        (ptype, kind.removesuffix("Probe"), describe(probe), _timing(probe))
        for ptype, probes in sorted(healthcheck.items())
        for kind, probe in sorted(probes.items())
        if probe
    ]
    output.table(
        ["TYPE", "PROBE", "CHECK", "TIMING"],
        rows,
        title=f"{app_id} Healthchecks",
        empty=f"{app_id} has no health checks. Add one with `dockyard healthchecks:set`.",
    )


@topic.command("list")
def list_healthchecks(
    app: AppOpt = None,
    ptype: Annotated[
        str | None,
        typer.Option("--type", "-t", help="Only this process type (web and cmd: with web/cmd)."),
    ] = None,
    json: JsonOpt = False,
) -> None:
    """List an app's health checks (--json: the probes per process type)."""
    app_id = app_name(app)
    with session() as client:
        healthcheck = client.config(app_id)["healthcheck"]
    if ptype:
        # web/cmd probes apply to web and cmd too, so they show with those types.
        keys = {ptype, WEB_CMD} if ptype in ("web", "cmd") else {ptype}
        healthcheck = {k: v for k, v in healthcheck.items() if k in keys}
    if json:
        output.print_json(healthcheck)
    else:
        show(app_id, healthcheck)


def _probe(action: Action, arguments: list[str], path: str, headers: list[str]) -> dict[str, Any]:
    if action is Action.exec:
        if not arguments:
            raise typer.BadParameter("exec needs a command, e.g. `exec -- cat /tmp/ready`.")
        return {"exec": {"command": arguments}}
    if len(arguments) != 1:
        raise typer.BadParameter(f"{action} needs exactly one argument: the port.")
    port: int | str = int(arguments[0]) if arguments[0].isdigit() else arguments[0]
    if action is Action.tcpSocket:
        return {"tcpSocket": {"port": port}}
    http: dict[str, Any] = {"path": path, "port": port}
    if headers:
        pairs = [h.partition(":") for h in headers]
        if any(not sep or not name.strip() for name, sep, _ in pairs):
            raise typer.BadParameter("Headers are Name:Value.")
        http["httpHeaders"] = [{"name": n.strip(), "value": v.strip()} for n, _, v in pairs]
    return {"httpGet": http}


@topic.command("set")
def set_healthcheck(
    kind: Annotated[
        Kind, typer.Argument(help="liveness or readiness.", metavar="liveness|readiness")
    ],
    action: Annotated[
        Action,
        typer.Argument(help="httpGet, tcpSocket or exec.", metavar="httpGet|tcpSocket|exec"),
    ],
    arguments: Annotated[
        list[str],
        typer.Argument(
            help="httpGet, tcpSocket: the port. exec: the command (after --).",
            show_default=False,
            metavar="PORT|COMMAND...",
        ),
    ],
    app: AppOpt = None,
    ptype: TypeOpt = "web",
    path: Annotated[str, typer.Option("--path", help="The URL path of httpGet.")] = "/",
    headers: Annotated[
        list[str] | None, typer.Option("--header", help="An httpGet header, Name:Value.")
    ] = None,
    initial_delay: Annotated[
        int | None, _seconds("--initial-delay-timeout", "Seconds before the first probe.")
    ] = None,
    timeout: Annotated[
        int | None, _seconds("--timeout-seconds", "Seconds after which a probe fails.")
    ] = None,
    period: Annotated[int | None, _seconds("--period-seconds", "Seconds between probes.")] = None,
    success: Annotated[
        int | None, _seconds("--success-threshold", "Successes in a row to pass.")
    ] = None,
    failure: Annotated[
        int | None, _seconds("--failure-threshold", "Failures in a row to fail.")
    ] = None,
) -> None:
    """Set a liveness or readiness check of a process type, and restart it.

    Examples: `healthchecks:set readiness httpGet 8000 --path /health --type web`,
    `healthchecks:set liveness tcpSocket 8000`, or
    `healthchecks:set liveness exec --type worker -- cat /tmp/alive`.
    """
    probe = _probe(action, arguments, path, headers or [])
    timings = {
        "initialDelaySeconds": initial_delay,
        "timeoutSeconds": timeout,
        "periodSeconds": period,
        "successThreshold": success,
        "failureThreshold": failure,
    }
    probe.update({k: v for k, v in timings.items() if v is not None})
    app_id = app_name(app)
    with session() as client:
        change = {ptype: {f"{kind}Probe": probe}}
        with output.spinner(f"Applying the {kind} check to {app_id} {ptype}...") as timer:
            config = client.set_config(app_id, healthcheck=change)
        deployed(client, f"Set the {kind} check of {ptype}", timer)
    show(app_id, config["healthcheck"])


@topic.command("unset")
def unset_healthcheck(
    kinds: Annotated[
        list[Kind],
        typer.Argument(
            help="liveness and/or readiness.", show_default=False, metavar="liveness|readiness..."
        ),
    ],
    app: AppOpt = None,
    ptype: TypeOpt = "web",
) -> None:
    """Remove health checks of a process type, and restart it."""
    app_id = app_name(app)
    with session() as client:
        healthcheck = client.config(app_id)["healthcheck"]
        current = healthcheck.get(ptype) or {}
        for kind in kinds:
            if not current.get(f"{kind}Probe"):
                hint = ""
                if ptype in ("web", "cmd") and (healthcheck.get(WEB_CMD) or {}).get(f"{kind}Probe"):
                    hint = f" (it has one for {WEB_CMD}: use --type {WEB_CMD})"
                raise ProfileError(f"{app_id} has no {kind} check for {ptype}{hint}.")
        change = {ptype: {f"{kind}Probe": None for kind in kinds}}
        with output.spinner(f"Removing health checks of {app_id} {ptype}...") as timer:
            config = client.set_config(app_id, healthcheck=change)
        names = " and ".join(dict.fromkeys(str(k) for k in kinds))
        plural = "s" if " and " in names else ""
        deployed(client, f"Removed the {names} check{plural} of {ptype}", timer)
    show(app_id, config["healthcheck"])
