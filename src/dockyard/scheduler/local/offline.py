"""What is done to a node while no agent runs on it: the ``flock`` that keeps a second agent
off a root, and stopping every pod (``dockyard server --stop-all``)."""

from __future__ import annotations

import asyncio
import fcntl
import os
from pathlib import Path

from dockyard.core.tasks import TaskSet
from dockyard.scheduler.base import SchedulerError
from dockyard.scheduler.local.node import Node, NodeOptions


def lock_root(root: Path) -> int:
    """The ``flock`` that keeps a second agent off ``root``; its file descriptor."""
    fd = os.open(root / "agent.lock", os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise SchedulerError(f"Another agent is running on {root}") from None
    return fd


async def stop_all_pods(root: Path) -> int:
    """Stop every pod on ``root`` while no agent runs (``dockyard server --stop-all``), and
    say how many. The apps' records stay, so the next agent starts them all again."""
    if not await asyncio.to_thread(root.is_dir):
        return 0
    fd = lock_root(root)
    tasks = TaskSet("stop-all")
    try:
        node = Node(root, NodeOptions(), tasks)
        pods = [pod for app in node.app_dirs() for pod in node.pod_dirs(app)]
        await asyncio.gather(*(node.stop(pod) for pod in pods))
        return len(pods)
    finally:
        await tasks.close()
        os.close(fd)
