"""The pure rules of ``dockyard.daemons``: the restart backoff and how a death is told."""

from __future__ import annotations

import os
import signal

from dockyard.daemons import backoff, command_line, describe_exit, started


def test_a_helper_that_ran_well_is_restarted_at_once() -> None:
    assert backoff(0) == 0


def test_a_helper_that_keeps_dying_waits_longer_each_time_up_to_30_s() -> None:
    assert [backoff(n) for n in range(1, 9)] == [0.5, 1, 2, 4, 8, 16, 30, 30]


def test_a_death_is_told_by_its_signal_or_status() -> None:
    assert describe_exit(-signal.SIGKILL) == "was killed by SIGKILL"
    assert describe_exit(3) == "exited with status 3"
    assert "unknown" in describe_exit(None)


def test_a_process_is_named_by_its_pid_and_start_time() -> None:
    assert started(os.getpid()) is not None
    assert started(os.getpid()) == started(os.getpid())
    assert command_line(os.getpid()) is not None
    assert started(2**22 + 1) is None and command_line(2**22 + 1) is None
