"""CLI start-up benchmark: the median wall time of ``dockyard --help``, ``dockyard version``
(no controller configured) and ``dockyard apps:list`` (against a running server with 20
apps), beside ``python -c pass`` with the same interpreter, measured in the same run.

Each command runs as a fresh process with its own HOME (so it reads the profile a
``dockyard login`` wrote there, as a user's shell would).

    python bench/cli.py [--runs 20]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import DockyardServer

DOCKYARD = str(Path(sys.executable).with_name("dockyard"))
APPS = 20


def timed(cmd: list[str], env: dict[str, str], runs: int) -> tuple[float, float]:
    """Median and p95 wall time of ``cmd`` in milliseconds; every run must succeed."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        times.append((time.perf_counter() - started) * 1000)
        if done.returncode != 0:
            sys.exit(f"{' '.join(cmd)} failed: {done.stderr.decode(errors='replace')}")
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.95))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="dockyard-bench-home-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKYARD_")}
    env["HOME"] = str(home)
    rows: list[tuple[str, float, float]] = []
    server = DockyardServer()
    try:
        for name, cmd in (
            ("baseline: python -c pass", [sys.executable, "-c", "pass"]),
            ("dockyard --help", [DOCKYARD, "--help"]),
            ("dockyard version (no controller)", [DOCKYARD, "version"]),
        ):
            rows.append((name, *timed(cmd, env, args.runs)))
        server.wait()
        with server.login() as client:
            for i in range(APPS):
                client.post("/v2/apps", json={"id": f"bench-{i:02d}"}).raise_for_status()
        subprocess.run(
            [DOCKYARD, "login", server.url, "--username", "bench", "--password", "bench-pw"],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        rows.append(
            (f"dockyard apps:list ({APPS} apps)", *timed([DOCKYARD, "apps:list"], env, args.runs))
        )
    finally:
        server.stop()
        shutil.rmtree(home, ignore_errors=True)

    base = rows[0][1]
    print(f"{'case':<36} {'median':>9} {'p95':>9} {'over python':>12}   ({args.runs} runs)")
    for name, median, p95 in rows:
        print(f"{name:<36} {median:>7.0f}ms {p95:>7.0f}ms {median - base:>10.0f}ms")


if __name__ == "__main__":
    main()
