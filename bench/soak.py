"""Soak benchmark: a real ``dockyard server`` (SQLite, local scheduler, 2 API workers) under
mixed load for a while (10 minutes by default), with a few deployed web apps of 2 pods.

- API readers (2 threads, one request after another): ``GET /v2/apps``, ``/v2/apps/<id>``,
  its pods, config and releases, on a random app;
- an API writer (1 thread, one change after another, round the apps): ``config:set`` (a new
  release and a rolling deploy), a scale of web between 2 and 3, a deploy of a new build;
- router load (2 threads, keep-alive): ``GET /`` of a random app through the edge router.

It prints the answers by request kind (count, 2xx, 4xx, 5xx, transport errors, p50, p99),
API and router apart; a 5xx or a transport error is an error (target 0). And the RSS of every
server process (the server, each API worker, the node agent, the edge router, the git SSH
endpoint) after a warm-up and at the end, with the growth (target under 10%).

    python bench/soak.py [--minutes 10] [--apps 3]
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import re
import shutil
import statistics
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import httpx
from common import DockyardServer, rss_mb, web_app_source

READS = ("GET /v2/apps", "GET app", "GET pods", "GET config", "GET releases")


def page_text(body: str) -> str:
    """An error answer's text without its HTML (the router's pages: the <p>)."""
    found = re.search(r"<p>(.*?)</p>", body, re.S)
    return (found.group(1) if found else body).strip()[:120]


class Tally:
    """Answers and latencies by (plane, kind), shared by the load threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latency: defaultdict[tuple[str, str], list[float]] = defaultdict(list)
        self.answers: defaultdict[tuple[str, str], Counter[str]] = defaultdict(Counter)
        self.errors: defaultdict[str, Counter[str]] = defaultdict(Counter)  # 5xx, transport
        self.writing = "nothing"  # the writer's current change, shown beside each error

    def timed(
        self, plane: str, kind: str, client: httpx.Client, method: str, url: str, **kwargs: Any
    ) -> None:
        t0 = time.perf_counter()
        error = ""
        try:
            r = client.request(method, url, **kwargs)
            answer = f"{r.status_code // 100}xx"
            if r.status_code >= 500:
                error = f"{r.status_code} {page_text(r.text)}"
        except httpx.HTTPError as exc:
            answer = error = f"{type(exc).__name__} {exc}"[:80]
        elapsed = time.perf_counter() - t0
        with self.lock:
            self.latency[plane, kind].append(elapsed)
            self.answers[plane, kind][answer] += 1
            if error:
                self.errors[plane][f"{kind} (writer: {self.writing}): {error}"] += 1

    def report(self) -> None:
        print(
            f"{'plane':<7}{'request':<16}{'count':>8}{'2xx':>8}{'4xx':>6}{'5xx':>6}"
            f"{'other':>7}{'p50 ms':>9}{'p99 ms':>9}"
        )
        for (plane, kind), samples in sorted(self.latency.items()):
            answers = self.answers[plane, kind]
            other = sum(n for a, n in answers.items() if a not in ("2xx", "4xx", "5xx"))
            ordered = sorted(samples)
            p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
            print(
                f"{plane:<7}{kind:<16}{len(samples):>8}{answers['2xx']:>8}{answers['4xx']:>6}"
                f"{answers['5xx']:>6}{other:>7}{statistics.median(ordered) * 1000:>9.1f}"
                f"{p99 * 1000:>9.1f}"
            )


def read_loop(c: httpx.Client, apps: list[str], tally: Tally, stop: threading.Event) -> None:
    paths = {
        "GET /v2/apps": "/v2/apps",
        "GET app": "/v2/apps/{}",
        "GET pods": "/v2/apps/{}/pods",
        "GET config": "/v2/apps/{}/config",
        "GET releases": "/v2/apps/{}/releases",
    }
    while not stop.is_set():
        kind = random.choice(READS)
        path = paths[kind].format(random.choice(apps))
        tally.timed("api", kind, c, "GET", path)


def write_loop(
    c: httpx.Client, apps: list[str], src: Path, tally: Tally, stop: threading.Event
) -> None:
    web = dict.fromkeys(apps, 2)
    for n in itertools.count():
        if stop.is_set():
            return
        app = apps[n % len(apps)]
        op = n // len(apps) % 3
        tally.writing = ("config:set", "scale", "deploy")[op]
        if op == 0:
            values = {"values": {"SOAK_COUNTER": str(n)}}
            tally.timed("api", "config:set", c, "POST", f"/v2/apps/{app}/config", json=values)
        elif op == 1:
            web[app] = 5 - web[app]  # 2 <-> 3
            scale = {"web": web[app]}
            tally.timed("api", "scale", c, "POST", f"/v2/apps/{app}/scale", json=scale)
        else:
            build = {"image": str(src)}
            tally.timed("api", "deploy", c, "POST", f"/v2/apps/{app}/builds", json=build)


def router_loop(url: str, apps: list[str], tally: Tally, stop: threading.Event) -> None:
    with httpx.Client(timeout=10) as client:
        while not stop.is_set():
            host = {"Host": f"{random.choice(apps)}.dockyard.localhost"}
            tally.timed("router", "GET /", client, "GET", url, headers=host)


def memory(server: DockyardServer) -> dict[str, float]:
    """RSS in MB of every server process, by role (and pid)."""
    return {f"{role} (pid {pid})": rss_mb(pid) for role, pid in server.processes()}


def sample_memory(
    server: DockyardServer, every: float, samples: list[dict[str, float]], stop: threading.Event
) -> None:
    """``memory()`` every ``every`` seconds until stopped: the trend beside start and end."""
    while not stop.wait(every):
        samples.append(memory(server))


def wait_routed(url: str, app: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            r = httpx.get(url, headers={"Host": f"{app}.dockyard.localhost"}, timeout=2)
            if r.status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{app} is not served through the router")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--apps", type=int, default=3)
    args = parser.parse_args()
    seconds = args.minutes * 60
    warmup = min(60.0, seconds / 4)
    tmp, src = web_app_source("dockyard-bench-soak-")
    server = DockyardServer(env={"DOCKYARD_LOCAL_SOURCE_ROOTS": str(src)})
    routed = f"http://127.0.0.1:{server.router_http}/"
    apps = [f"soak-{i}" for i in range(args.apps)]
    try:
        server.wait()
        with server.login() as c:
            for app in apps:
                c.post("/v2/apps", json={"id": app}).raise_for_status()
                c.post(f"/v2/apps/{app}/builds", json={"image": str(src)}).raise_for_status()
                c.post(f"/v2/apps/{app}/scale", json={"web": 2}).raise_for_status()
                wait_routed(routed, app)
            tally, stop = Tally(), threading.Event()
            trend: list[dict[str, float]] = []
            threads = [
                threading.Thread(target=read_loop, args=(c, apps, tally, stop)),
                threading.Thread(target=read_loop, args=(c, apps, tally, stop)),
                threading.Thread(target=write_loop, args=(c, apps, src, tally, stop)),
                threading.Thread(target=router_loop, args=(routed, apps, tally, stop)),
                threading.Thread(target=router_loop, args=(routed, apps, tally, stop)),
                threading.Thread(target=sample_memory, args=(server, seconds / 10, trend, stop)),
            ]
            for thread in threads:
                thread.start()
            time.sleep(warmup)
            before = memory(server)
            time.sleep(seconds - warmup)
            after = memory(server)
            stop.set()
            for thread in threads:
                thread.join()

        print(
            f"dockyard soak benchmark: {os.cpu_count()} CPUs, {args.minutes:g} min, "
            f"{len(apps)} apps of 2-3 web pods, RSS after a {warmup:.0f} s warm-up"
        )
        tally.report()
        for plane in ("api", "router"):
            errors = tally.errors[plane]
            verdict = "met" if not errors else "MISSED"
            print(f"{plane} errors (5xx, transport): {sum(errors.values())}   target 0: {verdict}")
            for error, n in errors.most_common():
                print(f"  {n:>5} x {error}")
        print(f"{'process':<28}{'start MB':>10}{'end MB':>10}{'growth':>9}")
        for name in sorted(before.keys() | after.keys()):
            start, end = before.get(name), after.get(name)
            if start is None or end is None:
                print(f"{name:<28}{start or 0:>10.1f}{end or 0:>10.1f}  (started or gone)")
                continue
            growth = 100 * (end - start) / start
            verdict = "" if growth < 10 else "  over the 10% target"
            print(f"{name:<28}{start:>10.1f}{end:>10.1f}{growth:>8.1f}%{verdict}")
        print(f"RSS (MB) after each {seconds / 10:.0f} s of load:")
        for name in sorted(after):
            print(f"  {name:<26}" + " ".join(f"{t.get(name, 0):5.1f}" for t in trend))
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
