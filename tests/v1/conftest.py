"""Fixtures of the v1 tests: the release-engine tests' sample app, per-test marker and guard
against leaked app processes (the v1 containers tests run real processes)."""

from tests.releases.conftest import marker, no_leaked_processes, source

__all__ = ["marker", "no_leaked_processes", "source"]
