"""The Deis healthcheck shapes as pure rules: the ``web/cmd`` key, the flat form, the merge
per probe kind, the legacy ``HEALTHCHECK_*`` values, the probes each process gets and the
release summaries."""

from __future__ import annotations

from typing import Any

import pytest

from dockyard.core.errors import Invalid, Unprocessable
from dockyard.releases import config_rules
from dockyard.releases.summary import config_summary
from dockyard.scheduler.base import Exec, HttpGet, Probe, TcpSocket
from dockyard.scheduler.parse import build_processes

READY = {"httpGet": {"path": "/healthz", "port": 5000}, "periodSeconds": 2}
ALIVE = {"tcpSocket": {"port": 5000}}
EXEC = {"exec": {"command": ["true"]}}


def _fields(**given: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f: dict(given.get(f, {})) for f in config_rules.FIELDS}


# --- validation -----------------------------------------------------------------------------


def test_web_cmd_is_a_key() -> None:
    checks = {"web/cmd": {"readinessProbe": READY}, "worker": {"livenessProbe": EXEC}}
    assert config_rules.validate("healthcheck", checks) == checks
    unset = {"web/cmd": {"readinessProbe": None}}
    assert config_rules.validate("healthcheck", unset) == unset
    assert config_rules.validate("healthcheck", {"web/cmd": None}) == {"web/cmd": None}


@pytest.mark.parametrize("key", ["web/worker", "cmd/web", "web/", "/cmd", "Web/cmd", "web/cmd "])
def test_other_keys_with_a_slash_are_still_refused(key: str) -> None:
    with pytest.raises(Invalid) as info:
        config_rules.validate("healthcheck", {key: {"readinessProbe": READY}})
    assert info.value.message == config_rules.PROCTYPE_MESSAGE
    assert info.value.field == "healthcheck"


def test_web_cmd_probes_are_checked_like_any_other() -> None:
    bad = {"web/cmd": {"livenessProbe": {**ALIVE, "successThreshold": 2}}}
    with pytest.raises(Invalid, match="livenessProbe successThreshold can only be 1"):
        config_rules.validate("healthcheck", bad)
    with pytest.raises(Invalid, match="Healthcheck keys must be either"):
        config_rules.validate("healthcheck", {"web/cmd": {"startupProbe": ALIVE}})


def test_flat_probes_are_wrapped_under_web_cmd() -> None:
    flat = {"livenessProbe": ALIVE, "readinessProbe": READY}
    assert config_rules.validate("healthcheck", flat) == {"web/cmd": flat}
    assert config_rules.validate("healthcheck", {"readinessProbe": None}) == {
        "web/cmd": {"readinessProbe": None}
    }
    # A flat kind next to a process type: all of it is read as probes of web/cmd, as Deis.
    with pytest.raises(Invalid, match="Healthcheck keys must be either"):
        config_rules.validate("healthcheck", {"livenessProbe": ALIVE, "web": {}})
    with pytest.raises(Invalid, match="httpGet port is required"):
        config_rules.validate("healthcheck", {"readinessProbe": {"httpGet": {"path": "/"}}})


# --- merge per kind -------------------------------------------------------------------------


def test_merge_is_per_kind() -> None:
    both = {"web/cmd": {"livenessProbe": ALIVE, "readinessProbe": READY}}
    assert config_rules.merge("healthcheck", {"web/cmd": {"readinessProbe": READY}}, {
        "web/cmd": {"livenessProbe": ALIVE}
    }) == both  # fmt: skip
    assert config_rules.merge("healthcheck", both, {"web/cmd": {"readinessProbe": None}}) == {
        "web/cmd": {"livenessProbe": ALIVE}
    }
    # The last kind gone, the key goes; null for the key removes every kind.
    only = {"web/cmd": {"livenessProbe": ALIVE}, "web": {"livenessProbe": EXEC}}
    assert config_rules.merge("healthcheck", only, {"web/cmd": {"livenessProbe": None}}) == {
        "web": {"livenessProbe": EXEC}
    }
    assert config_rules.merge("healthcheck", both, {"web/cmd": None}) == {}
    # Replacing a kind replaces that probe as a whole.
    assert config_rules.merge("healthcheck", both, {"web/cmd": {"readinessProbe": EXEC}}) == {
        "web/cmd": {"livenessProbe": ALIVE, "readinessProbe": EXEC}
    }


def test_merge_does_not_touch_its_inputs() -> None:
    previous = {"web": {"readinessProbe": READY}}
    changes = {"web": {"livenessProbe": ALIVE}}
    config_rules.merge("healthcheck", previous, changes)
    assert previous == {"web": {"readinessProbe": READY}}
    assert changes == {"web": {"livenessProbe": ALIVE}}


@pytest.mark.parametrize(
    ("previous", "changes", "message"),
    [
        ({}, {"web/cmd": None}, "web/cmd does not exist under healthcheck"),
        ({}, {"web": None}, "web does not exist under healthcheck"),
        (
            {},
            {"web/cmd": {"readinessProbe": None}},
            "web/cmd readinessProbe does not exist under healthcheck",
        ),
        (
            {"web/cmd": {"livenessProbe": ALIVE}},
            {"web/cmd": {"readinessProbe": None}},
            "web/cmd readinessProbe does not exist under healthcheck",
        ),
        (
            {"web/cmd": {"readinessProbe": READY}},
            {"web": {"readinessProbe": None}},
            "web readinessProbe does not exist under healthcheck",
        ),
    ],
)
def test_unsetting_an_absent_kind_is_422(
    previous: dict[str, Any], changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(Unprocessable) as info:
        config_rules.merge("healthcheck", previous, changes)
    assert info.value.message == message


def test_other_fields_still_merge_flat() -> None:
    assert config_rules.merge("values", {"A": "1"}, {"B": "2", "A": None}) == {"B": "2"}
    with pytest.raises(Unprocessable) as info:
        config_rules.merge("tags", {}, {"X": None})
    assert info.value.message == "X does not exist under tags"


# --- legacy HEALTHCHECK_* values ------------------------------------------------------------


def test_legacy_values_become_both_probes_under_web_cmd() -> None:
    values = {
        "HEALTHCHECK_URL": "/health",
        "HEALTHCHECK_TIMEOUT": "3",
        "HEALTHCHECK_INITIAL_DELAY": "0",
        "HEALTHCHECK_PERIOD_SECONDS": "4",
        "HEALTHCHECK_SUCCESS_THRESHOLD": "2",
        "HEALTHCHECK_FAILURE_THRESHOLD": "5",
        "OTHER": "x",
    }
    rest, healthcheck = config_rules.legacy_healthcheck(values, {})
    assert rest == {"OTHER": "x"}
    timings = {
        "timeoutSeconds": 3,
        "initialDelaySeconds": 0,
        "periodSeconds": 4,
        "failureThreshold": 5,
    }
    assert healthcheck == {
        "web/cmd": {
            "livenessProbe": {"httpGet": {"path": "/health", "port": 5000}, **timings},
            "readinessProbe": {
                "httpGet": {"path": "/health", "port": 5000},
                **timings,
                "successThreshold": 2,
            },
        }
    }
    # What it makes is a valid healthcheck.
    assert config_rules.validate("healthcheck", healthcheck) == healthcheck


def test_legacy_url_alone_uses_the_probe_defaults_and_the_port() -> None:
    rest, healthcheck = config_rules.legacy_healthcheck({"HEALTHCHECK_URL": "/"}, {})
    probe = {"httpGet": {"path": "/", "port": 5000}}
    assert rest == {}
    assert healthcheck == {"web/cmd": {"livenessProbe": probe, "readinessProbe": probe}}
    # The port is the config's PORT: posted, else stored.
    _, posted = config_rules.legacy_healthcheck({"HEALTHCHECK_URL": "/", "PORT": "8080"}, {})
    assert posted["web/cmd"]["readinessProbe"]["httpGet"]["port"] == 8080
    _, stored = config_rules.legacy_healthcheck({"HEALTHCHECK_URL": "/"}, {"PORT": "9000"})
    assert stored["web/cmd"]["livenessProbe"]["httpGet"]["port"] == 9000
    _, unset = config_rules.legacy_healthcheck(
        {"HEALTHCHECK_URL": "/", "PORT": None}, {"PORT": "9000"}
    )
    assert unset["web/cmd"]["livenessProbe"]["httpGet"]["port"] == 5000


def test_without_the_url_they_are_ordinary_values() -> None:
    values = {"HEALTHCHECK_TIMEOUT": "3", "HEALTHCHECK_URL": None, "A": "1"}
    assert config_rules.legacy_healthcheck(values, {"HEALTHCHECK_URL": "/"}) == (values, {})
    assert config_rules.legacy_healthcheck({"HEALTHCHECK_PERIOD_SECONDS": "x"}, {}) == (
        {"HEALTHCHECK_PERIOD_SECONDS": "x"},
        {},
    )


def test_stored_legacy_timings_are_used_and_unset() -> None:
    """As Deis read them from the merged config: a timing stored earlier as an env var joins
    the probes when the URL comes, and leaves the env; a posted null is an ordinary unset."""
    previous = {"HEALTHCHECK_TIMEOUT": "7", "HEALTHCHECK_PERIOD_SECONDS": "9", "A": "1"}
    values = {"HEALTHCHECK_URL": "/up", "HEALTHCHECK_PERIOD_SECONDS": None}
    rest, healthcheck = config_rules.legacy_healthcheck(values, previous)
    assert rest == {"HEALTHCHECK_TIMEOUT": None, "HEALTHCHECK_PERIOD_SECONDS": None}
    assert healthcheck["web/cmd"]["readinessProbe"] == {
        "httpGet": {"path": "/up", "port": 5000},
        "timeoutSeconds": 7,
    }


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"HEALTHCHECK_URL": "health"}, "HEALTHCHECK_URL must be a path starting with /"),
        ({"HEALTHCHECK_URL": ""}, "HEALTHCHECK_URL must be a path starting with /"),
        (
            {"HEALTHCHECK_URL": "/", "HEALTHCHECK_TIMEOUT": "abc"},
            "HEALTHCHECK_TIMEOUT must be an integer of at least 1",
        ),
        (
            {"HEALTHCHECK_URL": "/", "HEALTHCHECK_TIMEOUT": "0"},
            "HEALTHCHECK_TIMEOUT must be an integer of at least 1",
        ),
        (
            {"HEALTHCHECK_URL": "/", "HEALTHCHECK_INITIAL_DELAY": "-1"},
            "HEALTHCHECK_INITIAL_DELAY must be an integer of at least 0",
        ),
        (
            {"HEALTHCHECK_URL": "/", "HEALTHCHECK_PERIOD_SECONDS": "1.5"},
            "HEALTHCHECK_PERIOD_SECONDS must be an integer of at least 1",
        ),
        (
            {"HEALTHCHECK_URL": "/", "HEALTHCHECK_SUCCESS_THRESHOLD": "true"},
            "HEALTHCHECK_SUCCESS_THRESHOLD must be an integer of at least 1",
        ),
        (
            {"HEALTHCHECK_URL": "/", "HEALTHCHECK_FAILURE_THRESHOLD": "²"},
            "HEALTHCHECK_FAILURE_THRESHOLD must be an integer of at least 1",
        ),
        (
            {"HEALTHCHECK_URL": "/", "HEALTHCHECK_FAILURE_THRESHOLD": "9" * 30},
            "HEALTHCHECK_FAILURE_THRESHOLD must be an integer of at least 1",
        ),
    ],
)
def test_invalid_legacy_values_are_400(values: dict[str, str], message: str) -> None:
    with pytest.raises(Invalid) as info:
        config_rules.legacy_healthcheck(values, {})
    assert info.value.message == message
    assert info.value.field == "values"


def test_apply_changes() -> None:
    old = _fields(values={"A": "1"}, healthcheck={"web/cmd": {"livenessProbe": EXEC}})
    new = config_rules.apply_changes(
        old, {"values": {"HEALTHCHECK_URL": "/", "B": "2"}, "memory": {"web": "1G"}}
    )
    probe = {"httpGet": {"path": "/", "port": 5000}}
    assert new == _fields(
        values={"A": "1", "B": "2"},
        memory={"web": "1G"},
        healthcheck={"web/cmd": {"livenessProbe": probe, "readinessProbe": probe}},
    )
    assert old["healthcheck"] == {"web/cmd": {"livenessProbe": EXEC}}
    # A healthcheck posted with the legacy values is merged after them: it wins, per kind.
    new = config_rules.apply_changes(
        old,
        {
            "values": {"HEALTHCHECK_URL": "/"},
            "healthcheck": {"web/cmd": {"readinessProbe": READY}},
        },
    )
    assert new["healthcheck"] == {"web/cmd": {"livenessProbe": probe, "readinessProbe": READY}}
    assert new["values"] == {"A": "1"}


# --- the probes each process gets -----------------------------------------------------------


def test_web_cmd_probes_apply_to_web_and_cmd_only() -> None:
    processes = build_processes(
        {"web": "python web.py", "worker": "python worker.py", "cmd": ""},
        healthcheck={"web/cmd": {"readinessProbe": READY, "livenessProbe": ALIVE}},
    )
    ready = Probe(action=HttpGet(path="/healthz", port=5000), period=2)
    alive = Probe(action=TcpSocket(port=5000))
    for ptype in ("web", "cmd"):
        assert processes[ptype].readiness == ready
        assert processes[ptype].liveness == alive
    assert processes["worker"].readiness is None and processes["worker"].liveness is None


def test_a_probe_under_the_type_wins_per_kind() -> None:
    processes = build_processes(
        {"web": "python web.py"},
        healthcheck={
            "web/cmd": {"readinessProbe": READY, "livenessProbe": ALIVE},
            "web": {"readinessProbe": EXEC},
        },
    )
    assert processes["web"].readiness == Probe(action=Exec(command=("true",)))
    assert processes["web"].liveness == Probe(action=TcpSocket(port=5000))


# --- release summaries ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "summary"),
    [
        (
            {},
            {"web/cmd": {"readinessProbe": READY}},
            "alice added healthcheck info for proc type web/cmd",
        ),
        (
            {"web/cmd": {"readinessProbe": READY}},
            {"web/cmd": {"readinessProbe": READY, "livenessProbe": ALIVE}},
            "alice changed healthcheck info for proc type web/cmd",
        ),
        (
            {"web/cmd": {"readinessProbe": READY}},
            {"web": {"readinessProbe": READY}},
            "alice added healthcheck info for proc type web and "
            "deleted healthcheck info for proc type web/cmd",
        ),
    ],
)
def test_summaries_name_web_cmd(old: dict[str, Any], new: dict[str, Any], summary: str) -> None:
    assert config_summary("alice", _fields(healthcheck=old), _fields(healthcheck=new)) == summary
