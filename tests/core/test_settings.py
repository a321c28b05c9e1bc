"""Settings rules that need no server: the default data dir, what app users can reach, and
the app URL's domain."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from dockyard.core.settings import Settings, default_data_dir, unreachable_by_others


def test_default_data_dir_for_root_and_others(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    assert default_data_dir() == Path("/var/lib/dockyard")
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    monkeypatch.setenv("HOME", "/home/alice")
    assert default_data_dir() == Path("/home/alice/.local/share/dockyard")


@pytest.fixture
def open_tmp() -> Iterator[Path]:
    """A directory others can traverse (pytest's own temporary directories are 0700)."""
    path = Path(tempfile.mkdtemp(prefix="dy-open-", dir="/tmp"))
    os.chmod(path, 0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_unreachable_by_others(open_tmp: Path) -> None:
    tmp_path = open_tmp
    open_dir = tmp_path / "open" / "builds"
    open_dir.mkdir(parents=True)
    for d in (tmp_path, tmp_path / "open", open_dir):
        os.chmod(d, 0o711)
    assert unreachable_by_others(open_dir) is None
    os.chmod(tmp_path / "open", 0o700)
    assert unreachable_by_others(open_dir) == tmp_path / "open"
    assert unreachable_by_others(tmp_path / "missing") == tmp_path / "missing"


def test_ensure_dirs_makes_traversable_parents(open_tmp: Path) -> None:
    tmp_path = open_tmp
    old = os.umask(0o077)  # as dockyard server runs
    try:
        settings = Settings(data_dir=tmp_path / "a" / "b" / "data")
        settings.ensure_dirs()
    finally:
        os.umask(old)
    assert (tmp_path / "a").stat().st_mode & 0o777 == 0o755
    assert (tmp_path / "a" / "b").stat().st_mode & 0o777 == 0o755
    assert (tmp_path / "a" / "b" / "data").stat().st_mode & 0o777 == 0o711
    assert unreachable_by_others(settings.data_dir / "builds") is None


def test_app_domain_shows_the_router_port() -> None:
    assert Settings(platform_domain="example.test").app_domain == "example.test:8080"
    assert Settings(platform_domain="example.test", router_http_port=80).app_domain == (
        "example.test"
    )
    kube = Settings(platform_domain="example.test", scheduler="kubernetes")
    assert kube.app_domain == "example.test"
