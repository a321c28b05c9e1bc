"""The app log store: line format, rotation by size, reading the last lines from the end."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

from dockyard.scheduler.local.logs import LogStore, format_lines


def test_line_format() -> None:
    when = datetime(2026, 1, 1, tzinfo=UTC)
    assert format_lines("bar3", "web.1", "hello\nworld\n", when) == [
        "2026-01-01T00:00:00Z bar3[web.1]: hello",
        "2026-01-01T00:00:00Z bar3[web.1]: world",
    ]
    assert format_lines("bar3", "web.1", "", when) == ["2026-01-01T00:00:00Z bar3[web.1]: "]


def test_tail(tmp_path: Path) -> None:
    store = LogStore(tmp_path)
    assert store.tail("app", 10) == ""
    store.append("app", [f"line {i}" for i in range(1, 6)])
    assert store.tail("app", 2) == "line 4\nline 5\n"
    assert store.tail("app", 100).splitlines() == [f"line {i}" for i in range(1, 6)]
    assert store.tail("app", 0) == ""


def test_rotation_keeps_a_bounded_amount(tmp_path: Path) -> None:
    store = LogStore(tmp_path, max_bytes=1000, backups=2)
    for i in range(1000):
        store.append("app", [f"line {i:04d} " + "x" * 40])
    files = sorted(p.name for p in tmp_path.glob("app.log*"))
    assert {"app.log.1", "app.log.2"} <= set(files) <= {"app.log", "app.log.1", "app.log.2"}
    assert sum(p.stat().st_size for p in tmp_path.glob("app.log*")) <= 3 * 1100
    lines = store.tail("app", 10_000).splitlines()
    # Continuous across the rotated files, oldest first, ending with the newest line.
    numbers = [int(line.split()[1]) for line in lines]
    assert numbers == list(range(numbers[0], 1000))
    assert len(numbers) >= 2 * (1000 // 52)  # at least the two full backups


def test_tail_is_fast_on_a_long_log(tmp_path: Path) -> None:
    store = LogStore(tmp_path, max_bytes=1 << 40)
    chunk = "".join(f"2026-01-01T00:00:00Z app[web.1]: line {i}\n" for i in range(100_000))
    with open(store.path("app"), "w") as f:
        for _ in range(20):  # ~100 MB
            f.write(chunk)
    started = time.perf_counter()
    tail = store.tail("app", 100)
    assert time.perf_counter() - started < 0.05
    assert tail.splitlines()[-1].endswith("line 99999") and len(tail.splitlines()) == 100


def test_delete(tmp_path: Path) -> None:
    store = LogStore(tmp_path)
    store.write("app", "dockyard", "hello")
    store.write("other", "dockyard", "hello")
    store.delete("app")
    assert store.tail("app", 10) == ""
    assert "hello" in store.tail("other", 10)
    assert not list(tmp_path.glob("*app.*"))
