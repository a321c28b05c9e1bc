"""Pod names (pure)."""

from __future__ import annotations

import re

from dockyard.scheduler.local.names import pod_name, pod_type, run_name, template_hash

GO_CLI_SHAPE = re.compile(r"^[a-z0-9-]+-[a-z0-9-]+-\d+-[a-z0-9]{5}$")


def test_pod_names_have_the_kubernetes_shape() -> None:
    name = pod_name("bar3", "web", 7)
    assert GO_CLI_SHAPE.match(name)
    assert name.startswith(f"bar3-web-{template_hash('bar3', 'web', 7)}-")
    assert pod_type(name, "bar3") == "web"
    assert len({pod_name("bar3", "web", 7) for _ in range(50)}) > 45  # random suffixes


def test_digits_are_stable_per_release() -> None:
    assert template_hash("a", "web", 1) == template_hash("a", "web", 1)
    assert template_hash("a", "web", 1) != template_hash("a", "web", 2)
    assert template_hash("a", "web", 1).isdigit()


def test_hyphenated_apps_and_types() -> None:
    name = pod_name("my-app", "celery-beat", 2)
    assert pod_type(name, "my-app") == "celery-beat"
    assert pod_type(name, "other") is None
    assert pod_type("my-app-web", "my-app") is None


def test_run_names() -> None:
    assert pod_type(run_name("bar3"), "bar3") == "run"
