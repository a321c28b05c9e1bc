"""Parsing of limits and healthcheck probes (pure)."""

from __future__ import annotations

import pytest

from dockyard.core.errors import Invalid
from dockyard.scheduler.base import Cpu, Exec, HttpGet, Memory, TcpSocket
from dockyard.scheduler.parse import (
    CPU_MESSAGE,
    HEALTHCHECK_KEYS_MESSAGE,
    MEMORY_MESSAGE,
    build_processes,
    parse_cpu,
    parse_healthcheck,
    parse_memory,
)

M = 1024 * 1024


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("512M", Memory(limit=512 * M)),
        ("512m", Memory(limit=512 * M)),
        ("1G", Memory(limit=1024 * M)),
        ("1gb", Memory(limit=1024 * M)),
        ("64KB", Memory(limit=64 * 1024)),
        ("100B", Memory(limit=100)),
        ("256M/1G", Memory(request=256 * M, limit=1024 * M)),
    ],
)
def test_memory(text: str, expected: Memory) -> None:
    assert parse_memory(text) == expected


@pytest.mark.parametrize("text", ["", "512", "M", "1.5G", "12X", "1G/", "1M/2M/3M", "-1M", "1BB"])
def test_memory_rejects(text: str) -> None:
    with pytest.raises(Invalid) as info:
        parse_memory(text)
    assert info.value.message == MEMORY_MESSAGE and info.value.field == "memory"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("500m", Cpu(limit=500)),
        ("1", Cpu(limit=1000)),
        ("0.5", Cpu(limit=500)),
        ("2", Cpu(limit=2000)),
        ("250m/1", Cpu(request=250, limit=1000)),
        (1, Cpu(limit=1000)),
    ],
)
def test_cpu(text: str, expected: Cpu) -> None:
    assert parse_cpu(text) == expected


@pytest.mark.parametrize("text", ["", "m", "abc", "1c", "0", "0.0001", "1/2/3", "-1"])
def test_cpu_rejects(text: str) -> None:
    with pytest.raises(Invalid) as info:
        parse_cpu(text)
    assert info.value.message == CPU_MESSAGE


def test_healthcheck_probes() -> None:
    probes = parse_healthcheck(
        {
            "web": {
                "readinessProbe": {
                    "httpGet": {
                        "path": "/healthz",
                        "port": 5000,
                        "httpHeaders": [{"name": "X-Check", "value": "1"}],
                    },
                    "initialDelaySeconds": 2,
                    "periodSeconds": 3,
                    "timeoutSeconds": 4,
                    "successThreshold": 2,
                    "failureThreshold": 5,
                },
                "livenessProbe": {"tcpSocket": {"port": 5000}},
            },
            "worker": {"livenessProbe": {"exec": {"command": ["cat", "/tmp/ok"]}}},
        }
    )
    ready = probes["web"]["readinessProbe"]
    assert ready.action == HttpGet(path="/healthz", port=5000, headers=(("X-Check", "1"),))
    assert (ready.initial_delay, ready.period, ready.timeout) == (2, 3, 4)
    assert (ready.success_threshold, ready.failure_threshold) == (2, 5)
    live = probes["web"]["livenessProbe"]
    assert live.action == TcpSocket(port=5000)
    assert (live.period, live.timeout, live.failure_threshold) == (10, 1, 3)  # k8s defaults
    assert probes["worker"]["livenessProbe"].action == Exec(command=("cat", "/tmp/ok"))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"web": {"startupProbe": {}}}, HEALTHCHECK_KEYS_MESSAGE),
        ({"web": "nope"}, HEALTHCHECK_KEYS_MESSAGE),
        (
            {"web": {"livenessProbe": {"tcpSocket": {"port": 1}, "successThreshold": 2}}},
            "livenessProbe successThreshold can only be 1",
        ),
        ({"web": {"readinessProbe": {"httpGet": {"path": "/"}}}}, "httpGet port is required"),
        ({"web": {"readinessProbe": {}}}, "exactly one of"),
        ({"web": {"readinessProbe": {"exec": {"command": "true"}}}}, "exec command"),
        (
            {"web": {"readinessProbe": {"tcpSocket": {"port": 1}, "periodSeconds": "5"}}},
            "periodSeconds must be an integer",
        ),
        (
            {"web": {"readinessProbe": {"tcpSocket": {"port": 1}, "periodSeconds": 0}}},
            "periodSeconds must be an integer of at least 1",
        ),
        ({"web": {"readinessProbe": {"tcpSocket": {"port": 70000}}}}, "1-65535"),
    ],
)
def test_healthcheck_rejects(data: dict, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(Invalid, match=message) as info:
        parse_healthcheck(data)
    assert info.value.field == "healthcheck"


def test_build_processes() -> None:
    processes = build_processes(
        {"web": "gunicorn app", "worker": "celery"},
        memory={"web": "512M"},
        cpu={"worker": "250m"},
        healthcheck={"web": {"livenessProbe": {"tcpSocket": {"port": 5000}}}},
    )
    assert processes["web"].command == "gunicorn app"
    assert processes["web"].memory == Memory(limit=512 * M) and processes["web"].cpu is None
    assert processes["web"].liveness is not None and processes["web"].readiness is None
    assert processes["worker"].cpu == Cpu(limit=250) and processes["worker"].liveness is None
