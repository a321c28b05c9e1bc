"""Pure parsing of config values into scheduler dataclasses: memory and CPU limits, and the
Kubernetes-style healthcheck probes. Shared by every backend and by config validation, so the
messages are the ones the API answers (``Invalid`` with a field).

Healthcheck keys are process types, plus ``web/cmd`` (the Deis controller's key, sent by its
CLI when no type is given): it means the ``web`` process, or ``cmd`` for an image run with
its default command. A probe given under the type's own name wins over ``web/cmd``."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from dockyard.core.errors import Invalid
from dockyard.scheduler.base import Cpu, Exec, HttpGet, Memory, Probe, ProcessSpec, TcpSocket

MEMORY_MESSAGE = (
    "Memory limit format: <number><unit> or <number><unit>/<number><unit>, "
    "where unit = B, K, M or G"
)
CPU_MESSAGE = "CPU limit format: <value> or <value>/<value>, where value must be a numeric"
HEALTHCHECK_KEYS_MESSAGE = "Healthcheck keys must be either livenessProbe or readinessProbe"
PROBE_KINDS = ("livenessProbe", "readinessProbe")
DEFAULT_WEB_PORT = 5000
WEB_CMD = "web/cmd"
WEB_CMD_TYPES = ("web", "cmd")

# At most 15 integer digits: beyond, int() refuses the text or the number is absurd.
_MEMORY_RE = re.compile(r"^([0-9]{1,15})([bkmg]|[kmg]b)$", re.IGNORECASE)
_CPU_RE = re.compile(r"^([0-9]{1,15}(?:\.[0-9]+)?|\.[0-9]+)(m?)$")
_UNITS = {"b": 1, "k": 1024, "m": 1024**2, "g": 1024**3}
_TIMING = {
    "initialDelaySeconds": ("initial_delay", 0),
    "periodSeconds": ("period", 1),
    "timeoutSeconds": ("timeout", 1),
    "successThreshold": ("success_threshold", 1),
    "failureThreshold": ("failure_threshold", 1),
}


def _memory_bytes(text: str) -> int:
    m = _MEMORY_RE.match(text.strip())
    if not m:
        raise Invalid(MEMORY_MESSAGE, field="memory")
    return int(m.group(1)) * _UNITS[m.group(2)[0].lower()]


def parse_memory(value: str) -> Memory:
    """``512M`` or ``256M/1G`` (request/limit) into bytes."""
    parts = str(value).split("/")
    if len(parts) == 1:
        return Memory(limit=_memory_bytes(parts[0]))
    if len(parts) == 2:
        return Memory(request=_memory_bytes(parts[0]), limit=_memory_bytes(parts[1]))
    raise Invalid(MEMORY_MESSAGE, field="memory")


def _millicores(text: str) -> int:
    m = _CPU_RE.match(text.strip())
    if not m:
        raise Invalid(CPU_MESSAGE, field="cpu")
    number = float(m.group(1))
    millis = number if m.group(2) else number * 1000
    if millis < 1:
        raise Invalid(CPU_MESSAGE, field="cpu")
    return round(millis)


def parse_cpu(value: str | int | float) -> Cpu:
    """``500m``, ``1``, ``0.5`` or ``250m/1`` (request/limit) into millicores."""
    parts = str(value).split("/")
    if len(parts) == 1:
        return Cpu(limit=_millicores(parts[0]))
    if len(parts) == 2:
        return Cpu(request=_millicores(parts[0]), limit=_millicores(parts[1]))
    raise Invalid(CPU_MESSAGE, field="cpu")


def _port(value: Any, kind: str) -> int | str:
    if isinstance(value, bool) or value is None or value == "":
        raise Invalid(f"{kind} port is required", field="healthcheck")
    if isinstance(value, int):
        if not 1 <= value <= 65535:
            raise Invalid(f"{kind} port must be in 1-65535", field="healthcheck")
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit():
        if len(value) > 5 or not 1 <= int(value) <= 65535:
            raise Invalid(f"{kind} port must be in 1-65535", field="healthcheck")
        return int(value)
    if isinstance(value, str):
        return value
    raise Invalid(f"{kind} port must be a number or a name", field="healthcheck")


def parse_probe(data: Mapping[str, Any], *, liveness: bool = False) -> Probe:
    """One Kubernetes probe dict (``httpGet``, ``tcpSocket`` or ``exec`` plus timings)."""
    if not isinstance(data, Mapping):
        raise Invalid("A probe must be an object", field="healthcheck")
    actions = [k for k in ("httpGet", "tcpSocket", "exec") if k in data]
    if len(actions) != 1:
        raise Invalid(
            "A probe needs exactly one of httpGet, tcpSocket or exec", field="healthcheck"
        )
    raw = data[actions[0]]
    if not isinstance(raw, Mapping):
        raise Invalid(f"{actions[0]} must be an object", field="healthcheck")
    action: HttpGet | TcpSocket | Exec
    if actions[0] == "httpGet":
        headers = tuple(
            (str(h.get("name", "")), str(h.get("value", "")))
            for h in raw.get("httpHeaders") or ()
            if isinstance(h, Mapping)
        )
        scheme = str(raw.get("scheme", "HTTP")).upper()
        if scheme not in ("HTTP", "HTTPS"):
            raise Invalid("httpGet scheme must be HTTP or HTTPS", field="healthcheck")
        action = HttpGet(
            path=str(raw.get("path") or "/"),
            port=_port(raw.get("port"), "httpGet"),
            host=str(raw.get("host") or ""),
            scheme=scheme,
            headers=headers,
        )
    elif actions[0] == "tcpSocket":
        action = TcpSocket(
            port=_port(raw.get("port"), "tcpSocket"), host=str(raw.get("host") or "")
        )
    else:
        command = raw.get("command")
        if (
            not isinstance(command, list)
            or not command
            or not all(isinstance(c, str) for c in command)
        ):
            raise Invalid("exec command must be a non-empty list of strings", field="healthcheck")
        action = Exec(command=tuple(command))
    timings: dict[str, int] = {}
    for key, (attr, minimum) in _TIMING.items():
        if key not in data:
            continue
        value = data[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise Invalid(f"{key} must be an integer of at least {minimum}", field="healthcheck")
        timings[attr] = value
    if liveness and timings.get("success_threshold", 1) != 1:
        raise Invalid("livenessProbe successThreshold can only be 1", field="healthcheck")
    return Probe(action=action, **timings)


def web_port(env: Mapping[str, str | None]) -> int:
    """The port web processes are configured to listen on: the config's ``PORT``, else 5000
    (as in Deis). The Kubernetes scheduler's containers and Service, the services list and
    the legacy healthcheck probes all use this one rule."""
    value = env.get("PORT") or ""
    if value.isascii() and value.isdigit() and len(value) <= 5:
        return int(value)
    return DEFAULT_WEB_PORT


def parse_healthcheck(data: Mapping[str, Any]) -> dict[str, dict[str, Probe]]:
    """``{"web": {"readinessProbe": {...}}}`` into probes per key (type or ``web/cmd``) and
    kind."""
    result: dict[str, dict[str, Probe]] = {}
    for ptype, probes in data.items():
        if probes is None:
            continue
        if not isinstance(probes, Mapping):
            raise Invalid(HEALTHCHECK_KEYS_MESSAGE, field="healthcheck")
        parsed: dict[str, Probe] = {}
        for kind, probe in probes.items():
            if kind not in PROBE_KINDS:
                raise Invalid(HEALTHCHECK_KEYS_MESSAGE, field="healthcheck")
            if probe is not None:
                parsed[kind] = parse_probe(probe, liveness=kind == "livenessProbe")
        result[ptype] = parsed
    return result


def probes_for(ptype: str, probes: Mapping[str, Mapping[str, Probe]]) -> dict[str, Probe]:
    """The probes of one process type per kind: its own, else those under ``web/cmd`` for
    ``web`` and ``cmd``."""
    found = dict(probes.get(WEB_CMD, {})) if ptype in WEB_CMD_TYPES else {}
    found.update(probes.get(ptype, {}))
    return found


def build_processes(
    procfile: Mapping[str, str],
    *,
    memory: Mapping[str, str] | None = None,
    cpu: Mapping[str, str] | None = None,
    healthcheck: Mapping[str, Any] | None = None,
) -> dict[str, ProcessSpec]:
    """The ``processes`` of a ``ReleaseSpec`` from a build's procfile and a config."""
    parsed = parse_healthcheck(healthcheck or {})
    memory = memory or {}
    cpu = cpu or {}
    processes = {}
    for ptype, command in procfile.items():
        probes = probes_for(ptype, parsed)
        processes[ptype] = ProcessSpec(
            type=ptype,
            command=command,
            readiness=probes.get("readinessProbe"),
            liveness=probes.get("livenessProbe"),
            memory=parse_memory(memory[ptype]) if memory.get(ptype) else None,
            cpu=parse_cpu(cpu[ptype]) if cpu.get(ptype) else None,
        )
    return processes
