"""JSON forms of the scheduler dataclasses, for the agent's socket protocol and the files it
keeps on disk (pod specs, app records). Explicit functions rather than a generic codec: the
probe actions are a tagged union, and a field added to a dataclass should be a visible change
here too."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dockyard.scheduler.base import (
    Cpu,
    DeploySpec,
    Exec,
    HttpGet,
    Memory,
    PodState,
    PodStatus,
    Probe,
    ProcessSpec,
    ReleaseSpec,
    RouteSpec,
    RunResult,
    RunSpec,
    TcpSocket,
    TLSCertificate,
)


def _dt(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _parse_dt(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def probe_to_dict(probe: Probe | None) -> dict[str, Any] | None:
    if probe is None:
        return None
    a = probe.action
    action: dict[str, Any]
    if isinstance(a, HttpGet):
        action = {
            "kind": "httpGet",
            "path": a.path,
            "port": a.port,
            "host": a.host,
            "scheme": a.scheme,
            "headers": [list(h) for h in a.headers],
        }
    elif isinstance(a, TcpSocket):
        action = {"kind": "tcpSocket", "port": a.port, "host": a.host}
    else:
        action = {"kind": "exec", "command": list(a.command)}
    return {
        "action": action,
        "initial_delay": probe.initial_delay,
        "period": probe.period,
        "timeout": probe.timeout,
        "success_threshold": probe.success_threshold,
        "failure_threshold": probe.failure_threshold,
    }


def probe_from_dict(data: dict[str, Any] | None) -> Probe | None:
    if data is None:
        return None
    a = data["action"]
    action: HttpGet | TcpSocket | Exec
    if a["kind"] == "httpGet":
        action = HttpGet(
            path=a["path"],
            port=a["port"],
            host=a["host"],
            scheme=a["scheme"],
            headers=tuple((h[0], h[1]) for h in a["headers"]),
        )
    elif a["kind"] == "tcpSocket":
        action = TcpSocket(port=a["port"], host=a["host"])
    else:
        action = Exec(command=tuple(a["command"]))
    return Probe(
        action=action,
        initial_delay=data["initial_delay"],
        period=data["period"],
        timeout=data["timeout"],
        success_threshold=data["success_threshold"],
        failure_threshold=data["failure_threshold"],
    )


def _limit(value: Memory | Cpu | None) -> dict[str, Any] | None:
    return None if value is None else {"limit": value.limit, "request": value.request}


def process_to_dict(p: ProcessSpec) -> dict[str, Any]:
    return {
        "type": p.type,
        "command": p.command,
        "readiness": probe_to_dict(p.readiness),
        "liveness": probe_to_dict(p.liveness),
        "memory": _limit(p.memory),
        "cpu": _limit(p.cpu),
    }


def process_from_dict(d: dict[str, Any]) -> ProcessSpec:
    return ProcessSpec(
        type=d["type"],
        command=d["command"],
        readiness=probe_from_dict(d["readiness"]),
        liveness=probe_from_dict(d["liveness"]),
        memory=Memory(**d["memory"]) if d["memory"] else None,
        cpu=Cpu(**d["cpu"]) if d["cpu"] else None,
    )


def release_to_dict(r: ReleaseSpec) -> dict[str, Any]:
    return {
        "app": r.app,
        "version": r.version,
        "processes": {k: process_to_dict(v) for k, v in r.processes.items()},
        "env": dict(r.env),
        "source_dir": r.source_dir,
        "image": r.image,
        "summary": r.summary,
        "created": _dt(r.created),
        "sha": r.sha,
        "tags": dict(r.tags),
        "grace_period": r.grace_period,
        "uid": r.uid,
    }


def release_from_dict(d: dict[str, Any]) -> ReleaseSpec:
    return ReleaseSpec(
        app=d["app"],
        version=d["version"],
        processes={k: process_from_dict(v) for k, v in d["processes"].items()},
        env=d["env"],
        source_dir=d["source_dir"],
        image=d["image"],
        summary=d["summary"],
        created=_parse_dt(d["created"]),
        sha=d["sha"],
        tags=d["tags"],
        grace_period=d["grace_period"],
        uid=d.get("uid"),  # absent from the records of agents before per-app uids
    )


def deploy_to_dict(s: DeploySpec) -> dict[str, Any]:
    return {"release": release_to_dict(s.release), "structure": dict(s.structure)}


def deploy_from_dict(d: dict[str, Any]) -> DeploySpec:
    return DeploySpec(release=release_from_dict(d["release"]), structure=d["structure"])


def run_to_dict(s: RunSpec) -> dict[str, Any]:
    return {"release": release_to_dict(s.release), "command": s.command, "timeout": s.timeout}


def run_from_dict(d: dict[str, Any]) -> RunSpec:
    return RunSpec(
        release=release_from_dict(d["release"]), command=d["command"], timeout=d["timeout"]
    )


def result_to_dict(r: RunResult) -> dict[str, Any]:
    return {
        "exit_code": r.exit_code,
        "output": r.output,
        "truncated": r.truncated,
        "timed_out": r.timed_out,
    }


def result_from_dict(d: dict[str, Any]) -> RunResult:
    return RunResult(**d)


def status_to_dict(s: PodStatus) -> dict[str, Any]:
    return {
        "name": s.name,
        "type": s.type,
        "release": s.release,
        "state": str(s.state),
        "started": s.started.isoformat(),
        "restarts": s.restarts,
        "port": s.port,
        "message": s.message,
    }


def status_from_dict(d: dict[str, Any]) -> PodStatus:
    return PodStatus(
        name=d["name"],
        type=d["type"],
        release=d["release"],
        state=PodState(d["state"]),
        started=datetime.fromisoformat(d["started"]),
        restarts=d["restarts"],
        port=d["port"],
        message=d["message"],
    )


def route_to_dict(r: RouteSpec) -> dict[str, Any]:
    return {
        "app": r.app,
        "hosts": list(r.hosts),
        "certificates": [
            {"name": c.name, "certificate": c.certificate, "key": c.key, "hosts": list(c.hosts)}
            for c in r.certificates
        ],
        "https_enforced": r.https_enforced,
        "maintenance": r.maintenance,
        "routable": r.routable,
        "whitelist": list(r.whitelist),
    }


def route_from_dict(d: dict[str, Any]) -> RouteSpec:
    return RouteSpec(
        app=d["app"],
        hosts=tuple(d["hosts"]),
        certificates=tuple(
            TLSCertificate(
                name=c["name"], certificate=c["certificate"], key=c["key"], hosts=tuple(c["hosts"])
            )
            for c in d["certificates"]
        ),
        https_enforced=d["https_enforced"],
        maintenance=d["maintenance"],
        routable=d["routable"],
        whitelist=tuple(d["whitelist"]),
    )
