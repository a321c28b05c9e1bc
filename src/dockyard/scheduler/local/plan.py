"""How a scale changes an app's pods (a pure rule): which (type, index) pods to start and
which pods to stop so the live pods match a release's structure. Pods of another release are
stopped; within a type the lowest indexes are kept, and free indexes are reused."""

from __future__ import annotations

from collections import defaultdict

from dockyard.scheduler.base import DeploySpec
from dockyard.scheduler.local.pods import PodConfig, PodDir

Live = list[tuple[PodDir, PodConfig]]


def plan_scale(live: Live, spec: DeploySpec) -> tuple[list[tuple[str, int]], list[PodDir]]:
    """Pods to start (type, index) and to stop so ``live`` matches the structure."""
    by_type: defaultdict[str, list[PodConfig]] = defaultdict(list)
    to_stop: list[PodDir] = []
    dirs = {c.name: pod for pod, c in live}
    for pod, c in live:
        if c.version == spec.release.version:
            by_type[c.type].append(c)
        else:
            to_stop.append(pod)
    to_start: list[tuple[str, int]] = []
    for ptype in sorted(set(by_type) | set(spec.structure)):
        want = spec.structure.get(ptype, 0)
        pods = sorted(by_type[ptype], key=lambda c: (c.index, c.created))
        to_stop += [dirs[c.name] for c in pods[want:]]
        used = {c.index for c in pods[:want]}
        free = (i for i in range(1, want + len(used) + 1) if i not in used)
        to_start += [(ptype, next(free)) for _ in range(want - len(used))]
    return to_start, to_stop
