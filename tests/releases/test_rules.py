"""The pure rules of the release engine: config validation and merging, release summaries,
Procfile parsing, the structure after a build, and scale requests."""

from __future__ import annotations

from typing import Any

import pytest

from dockyard.apps.processes import POD_NAME_RE, parse_structure
from dockyard.core.errors import Invalid, Unprocessable
from dockyard.releases import config_rules
from dockyard.releases.builds import initial_structure
from dockyard.releases.procfile import EMPTY_COMMAND, check_procfile, parse_procfile
from dockyard.releases.summary import build_summary, config_summary

EMPTY: dict[str, dict[str, Any]] = {f: {} for f in config_rules.FIELDS}


def fields(**given: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {**EMPTY, **given}


# --- config_rules.validate ------------------------------------------------------------------


@pytest.mark.parametrize("key", ["A", "a", "_", "_A1", "GREETING", "lower_case", "X9_Y", "A" * 200])
def test_valid_config_keys(key: str) -> None:
    assert config_rules.validate("values", {key: "v"}) == {key: "v"}


@pytest.mark.parametrize("key", ["1A", "", "A-B", "A.B", "A B", "ÄB", "$A", "A=B", "9"])
def test_invalid_config_keys(key: str) -> None:
    with pytest.raises(Invalid) as info:
        config_rules.validate("values", {key: "v"})
    assert info.value.message == config_rules.CONFIG_KEY_MESSAGE
    assert info.value.field == "values"


@pytest.mark.parametrize(
    ("value", "stored"),
    [("x", "x"), (1, "1"), (1.5, "1.5"), (True, "true"), (False, "false"), ("", ""), (None, None)],
)
def test_values_are_stored_as_strings(value: Any, stored: str | None) -> None:
    assert config_rules.validate("values", {"A": value}) == {"A": stored}


@pytest.mark.parametrize("value", [[1], {"a": 1}, object()])
def test_values_must_be_scalars(value: Any) -> None:
    with pytest.raises(Invalid, match="A: value must be a string or a number"):
        config_rules.validate("values", {"A": value})


def test_value_length_limit() -> None:
    text = "x" * config_rules.MAX_VALUE
    assert config_rules.validate("values", {"A": text}) == {"A": text}
    with pytest.raises(Invalid, match="longer than"):
        config_rules.validate("values", {"A": text + "x"})


@pytest.mark.parametrize("port", ["1", "80", "65535", 8080])
def test_port_ok(port: Any) -> None:
    assert config_rules.validate("values", {"PORT": port}) == {"PORT": str(port)}


@pytest.mark.parametrize("port", ["0", "65536", "abc", "-1", "8O", " 80", "1e3", 0, 70000, 1.0])
def test_port_invalid(port: Any) -> None:
    with pytest.raises(Invalid) as info:
        config_rules.validate("values", {"PORT": port})
    assert info.value.message == "PORT needs to be a numeric value between 1 and 65535"


def test_port_can_be_unset() -> None:
    assert config_rules.validate("values", {"PORT": None}) == {"PORT": None}


@pytest.mark.parametrize("value", ["512M", "1G", "100K", "64B", "1gb", "256m/1G", "1KB", " 2G "])
def test_memory_ok(value: Any) -> None:
    (stored,) = config_rules.validate("memory", {"web": value}).values()
    assert stored == str(value).strip()


@pytest.mark.parametrize(
    "value", ["12X", "512", "M", "1.5G", "1G/", "/1G", "1G/2G/3G", "1T", True, 1024]
)
def test_memory_invalid(value: Any) -> None:
    with pytest.raises(Invalid) as info:
        config_rules.validate("memory", {"web": value})
    assert info.value.message.startswith("Memory limit format: <number><unit>")
    assert info.value.field == "memory"


@pytest.mark.parametrize("value", ["500m", "1", "0.5", ".5", "2", "250m/1", 3, 1.5])
def test_cpu_ok(value: Any) -> None:
    assert config_rules.validate("cpu", {"web": value}) == {"web": str(value)}


@pytest.mark.parametrize("value", ["abc", "0", "0m", "-1", "1mm", "m", "0.0001", "1/2/3", ""])
def test_cpu_invalid(value: Any) -> None:
    with pytest.raises(Invalid) as info:
        config_rules.validate("cpu", {"web": value})
    assert info.value.message == (
        "CPU limit format: <value> or <value>/<value>, where value must be a numeric"
    )


@pytest.mark.parametrize("ptype", ["Web", "web_1", "-web", "web-", "we--b", ""])
def test_limit_process_types(ptype: str) -> None:
    with pytest.raises(Invalid) as info:
        config_rules.validate("memory", {ptype: "1G"})
    assert info.value.message == config_rules.PROCTYPE_MESSAGE


def test_limits_accept_hyphenated_types_and_unset() -> None:
    assert config_rules.validate("cpu", {"web-2": "1", "worker": None}) == {
        "web-2": "1",
        "worker": None,
    }


@pytest.mark.parametrize("key", ["env", "a.b/c", "A_1", "x-y"])
def test_tags_ok(key: str) -> None:
    assert config_rules.validate("tags", {key: 1}) == {key: "1"}


@pytest.mark.parametrize("key", ["", "-a", "a b", "a:b", "x" * 254])
def test_tags_invalid(key: str) -> None:
    with pytest.raises(Invalid, match="is not a valid tags key"):
        config_rules.validate("tags", {key: "1"})


def test_healthcheck_ok_and_unset() -> None:
    probe = {"readinessProbe": {"httpGet": {"path": "/", "port": 8000}, "periodSeconds": 2}}
    assert config_rules.validate("healthcheck", {"web": probe, "worker": None}) == {
        "web": probe,
        "worker": None,
    }


@pytest.mark.parametrize(
    ("checks", "expected"),
    [
        ({"web": {"startupProbe": {}}}, "Healthcheck keys must be either livenessProbe or "),
        ({"web": ["readinessProbe"]}, "Healthcheck keys must be either livenessProbe or "),
        (
            {"web": {"livenessProbe": {"tcpSocket": {"port": 1}, "successThreshold": 2}}},
            "livenessProbe successThreshold can only be 1",
        ),
        ({"web": {"readinessProbe": {"httpGet": {}}}}, "httpGet port is required"),
        ({"web": {"readinessProbe": {"httpGet": {"port": 0}}}}, "httpGet port must be in"),
        ({"web": {"readinessProbe": {"httpGet": {"port": 1.5}}}}, "httpGet port must be a"),
        (
            {"web": {"readinessProbe": {"httpGet": {"port": 1, "scheme": "FTP"}}}},
            "httpGet scheme must be HTTP or HTTPS",
        ),
        (
            {"web": {"readinessProbe": {"httpGet": {"port": 1}, "exec": {"command": ["a"]}}}},
            "A probe needs exactly one of httpGet, tcpSocket or exec",
        ),
        ({"web": {"readinessProbe": {"exec": {"command": []}}}}, "exec command must be"),
        ({"web": {"readinessProbe": "tcp"}}, "A probe must be an object"),
        (
            {"web": {"readinessProbe": {"tcpSocket": {"port": 1}, "timeoutSeconds": 0}}},
            "timeoutSeconds must be an integer of at least 1",
        ),
        (
            {"web": {"readinessProbe": {"tcpSocket": {"port": 1}, "failureThreshold": True}}},
            "failureThreshold must be an integer of at least 1",
        ),
        ({"Web": {"readinessProbe": {"tcpSocket": {"port": 1}}}}, "Process types can only"),
    ],
)
def test_healthcheck_invalid(checks: dict[str, Any], expected: str) -> None:
    with pytest.raises(Invalid) as info:
        config_rules.validate("healthcheck", checks)
    assert info.value.message.startswith(expected)
    assert info.value.field == "healthcheck"


@pytest.mark.parametrize("field", config_rules.FIELDS)
def test_fields_must_be_objects(field: str) -> None:
    for bad in ("A=1", ["A"], 1):
        with pytest.raises(Invalid, match=f"{field} must be an object"):
            config_rules.validate(field, bad)


def test_unknown_field() -> None:
    with pytest.raises(Invalid, match="Unknown config field"):
        config_rules.validate("secrets", {})


# --- config_rules.merge ---------------------------------------------------------------------


def test_merge_sets_changes_and_unsets() -> None:
    previous = {"A": "1", "B": "2"}
    merged = config_rules.merge("values", previous, {"A": "one", "B": None, "C": "3"})
    assert merged == {"A": "one", "C": "3"}
    assert previous == {"A": "1", "B": "2"}  # the input is not modified


def test_merge_unset_of_missing_key_is_422() -> None:
    with pytest.raises(Unprocessable) as info:
        config_rules.merge("memory", {"web": "1G"}, {"worker": None})
    assert info.value.message == "worker does not exist under memory"
    assert info.value.status == 422


def test_merge_of_nothing() -> None:
    assert config_rules.merge("values", {"A": "1"}, {}) == {"A": "1"}


# --- summaries ------------------------------------------------------------------------------


def test_config_summary_values() -> None:
    old = fields(values={"A": "1", "B": "2", "C": "3"})
    new = fields(values={"A": "1", "B": "two", "D": "4", "E": "5"})
    assert config_summary("alice", old, new) == "alice added D, E, changed B, deleted C"


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (fields(), fields(values={"A": "1"}), "alice added A"),
        (fields(values={"A": "1"}), fields(values={"A": "2"}), "alice changed A"),
        (fields(values={"A": "1"}), fields(), "alice deleted A"),
        (fields(), fields(memory={"web": "1G"}), "alice changed limits for memory"),
        (
            fields(),
            fields(memory={"web": "1G"}, cpu={"web": "1"}),
            "alice changed limits for memory, cpu",
        ),
        (
            fields(),
            fields(values={"A": "1"}, memory={"web": "1G"}),
            "alice added A and changed limits for memory",
        ),
        (fields(), fields(tags={"env": "prod"}), "alice added tag env"),
        (
            fields(tags={"a": "1", "b": "1"}),
            fields(tags={"a": "2", "c": "1"}),
            "alice added tag c, changed tag a, deleted tag b",
        ),
        (fields(), fields(registry={"username": "u"}), "alice changed registry info"),
        (
            fields(),
            fields(healthcheck={"web": {}, "worker": {}}),
            "alice added healthcheck info for proc type web and "
            "added healthcheck info for proc type worker",
        ),
        (
            fields(healthcheck={"web": {"a": 1}}),
            fields(healthcheck={"web": {"a": 2}}),
            "alice changed healthcheck info for proc type web",
        ),
        (
            fields(values={"A": "1"}, healthcheck={"web": {}}),
            fields(
                values={"B": "1"},
                cpu={"web": "1"},
                tags={"t": "1"},
                registry={"u": "1"},
            ),
            "alice added B, deleted A and changed limits for cpu and added tag t and "
            "changed registry info and deleted healthcheck info for proc type web",
        ),
        (fields(values={"A": "1"}), fields(values={"A": "1"}), "alice changed nothing"),
    ],
)
def test_config_summary(
    old: dict[str, dict[str, Any]], new: dict[str, dict[str, Any]], expected: str
) -> None:
    assert config_summary("alice", old, new) == expected


def test_config_summary_never_glues_parts() -> None:
    """The reference concatenated parts with no separator; every part here is separated."""
    text = config_summary(
        "bob", fields(), fields(values={"A": "1"}, memory={"w": "1G"}, tags={"t": "1"})
    )
    assert text == "bob added A and changed limits for memory and added tag t"


def test_config_summary_accepts_partial_mappings() -> None:
    assert config_summary("alice", {}, {"values": {"A": "1"}}) == "alice added A"


@pytest.mark.parametrize(
    ("sha", "image", "expected"),
    [
        ("5f3c2b1a9e8d7c6b", "/src/app", "alice deployed 5f3c2b1"),
        ("abc", "/src/app", "alice deployed abc"),
        (None, "/src/app", "alice deployed /src/app"),
        ("", "file:///src/app.tar.gz", "alice deployed file:///src/app.tar.gz"),
    ],
)
def test_build_summary(sha: str | None, image: str, expected: str) -> None:
    assert build_summary("alice", sha=sha, image=image) == expected


# --- procfiles ------------------------------------------------------------------------------


def test_parse_procfile() -> None:
    text = (
        "# a comment\n"
        "web: python3 web.py --port $PORT\n"
        "\n"
        "  worker:   python3 worker.py  \n"
        "clock: sh -c 'echo a: b'\r\n"
        "web-2: ./run\n"
    )
    assert parse_procfile(text) == {
        "web": "python3 web.py --port $PORT",
        "worker": "python3 worker.py",
        "clock": "sh -c 'echo a: b'",
        "web-2": "./run",
    }


def test_parse_procfile_later_line_wins() -> None:
    assert parse_procfile("web: a\nweb: b\n") == {"web": "b"}


def test_parse_empty_procfile() -> None:
    assert parse_procfile("") == {}
    assert parse_procfile("# nothing\n\n") == {}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("web:\n", EMPTY_COMMAND),
        ("web:    \n", EMPTY_COMMAND),
        ("web python3 web.py\n", "Procfile line 1 is not 'type: command'"),
        ("web: a\n\nworker b\n", "Procfile line 3 is not 'type: command'"),
        ("Web: a\n", config_rules.PROCTYPE_MESSAGE),
        ("web_1: a\n", config_rules.PROCTYPE_MESSAGE),
        (": a\n", config_rules.PROCTYPE_MESSAGE),
    ],
)
def test_parse_procfile_errors(text: str, expected: str) -> None:
    with pytest.raises(Invalid) as info:
        parse_procfile(text)
    assert info.value.message == expected
    assert info.value.field == "procfile"


def test_check_procfile() -> None:
    assert check_procfile({"web": "  run  "}) == {"web": "run"}
    assert check_procfile({}) == {}
    assert EMPTY_COMMAND == "Command can't be empty for process type"
    with pytest.raises(Invalid, match="procfile must be an object"):
        check_procfile(["web: a"])
    with pytest.raises(Invalid, match="The command for web must be a string"):
        check_procfile({"web": ["python3"]})
    with pytest.raises(Invalid) as info:
        check_procfile({"w" * 64: "a"})
    assert info.value.message == config_rules.PROCTYPE_MESSAGE
    assert check_procfile({"w" * 63: "a"}) == {"w" * 63: "a"}


# --- structure after a build ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("previous", "procfile", "expected"),
    [
        ({}, {"web": "a", "worker": "b"}, {"web": 1}),
        ({}, {"worker": "b"}, {}),
        ({}, {"cmd": ""}, {"cmd": 1}),
        ({}, {"cmd": "", "web": "a"}, {"web": 1}),
        ({}, {}, {}),
        ({"web": 3, "worker": 2}, {"web": "a", "worker": "b"}, {"web": 3, "worker": 2}),
        ({"web": 3, "worker": 2}, {"web": "a"}, {"web": 3}),
        ({"worker": 2}, {"web": "a", "worker": "b"}, {"worker": 2}),
        ({"web": 0}, {"web": "a"}, {"web": 0}),
        ({"old": 2}, {"web": "a"}, {"web": 1}),
        ({"old": 2}, {"worker": "b"}, {}),
    ],
)
def test_initial_structure(
    previous: dict[str, int], procfile: dict[str, str], expected: dict[str, int]
) -> None:
    assert initial_structure(previous, procfile) == expected


# --- scale requests -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"web": 3}, {"web": 3}),
        ({"web": 0, "worker": 2}, {"web": 0, "worker": 2}),
        ({"web": "4"}, {"web": 4}),
        ({"web": " 5 "}, {"web": 5}),
        ({"web": 1000}, {"web": 1000}),
    ],
)
def test_parse_structure(data: dict[str, Any], expected: dict[str, int]) -> None:
    assert parse_structure(data) == expected


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"web": -1},
        {"web": "abc"},
        {"web": True},
        {"web": 1.0},
        {"web": None},
        {"web": 1001},
        {"web": "-1"},
        {"web": [1]},
        {"web": "1.5"},
    ],
)
def test_parse_structure_invalid(data: dict[str, Any]) -> None:
    with pytest.raises(Invalid) as info:
        parse_structure(data)
    assert info.value.message.startswith("Invalid scaling format")
    assert info.value.status == 400


@pytest.mark.parametrize(
    ("name", "ok"),
    [
        ("myapp-web-1234567890-bcdfg", True),
        ("my-app-web-2-1234567890-x2z4q", True),
        ("myapp-web-123-abcde", True),
        ("web", False),
        ("myapp-web-abc-bcdfg", False),
        ("myapp-web-123-bcdf", False),
        ("myapp-web-123-BCDFG", False),
    ],
)
def test_pod_name_shape(name: str, ok: bool) -> None:
    assert (POD_NAME_RE.match(name) is not None) is ok
