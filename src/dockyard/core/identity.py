"""Who an app's processes are: the switch from the controller (root) to the app's own user,
made in a forked child just before it runs app code (a pod, a one-off run, a probe, a build).

Each app has a uid of its own from ``DOCKYARD_APP_UID_RANGE`` (its gid is the same number)
and no ``/etc/passwd`` entry, so callers set ``HOME`` and the rest of the environment
themselves. ``drop`` limits the number of processes of that uid (``RLIMIT_NPROC``: per uid,
so a fork bomb stays inside its app), drops the supplementary groups, sets the gid, then the
uid, and sets ``no_new_privs`` so no setuid program can take the process back up. Without a
uid (the controller is not root) only ``no_new_privs`` applies: everything then runs as the
controller's user. Standard library only, as the slug builder uses it.
"""

from __future__ import annotations

import ctypes
import os
import resource

PR_SET_NO_NEW_PRIVS = 38
DEFAULT_MAX_PROCS = 512
# Looked up once, in the parent: ``drop`` runs in a child forked from a process with threads,
# where loading a library (dlopen takes the loader's lock) could hang.
_prctl = ctypes.CDLL(None, use_errno=True).prctl


def no_new_privs() -> None:
    """``prctl(PR_SET_NO_NEW_PRIVS, 1)``: execve never grants privileges again (setuid
    bits and file capabilities are ignored). Inherited by every child; cannot be undone."""
    if _prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"prctl(PR_SET_NO_NEW_PRIVS): {os.strerror(errno)}")


def drop(uid: int | None, gid: int | None, *, max_procs: int | None = None) -> None:
    """Become ``uid``:``gid`` for good (when given and we are root), with at most
    ``max_procs`` processes for that uid; always ``no_new_privs``."""
    if uid is not None and gid is not None and os.geteuid() == 0:
        if max_procs is not None:
            # Set while still root; the kernel checks it against the real uid at every fork.
            resource.setrlimit(resource.RLIMIT_NPROC, (max_procs, max_procs))
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)
    no_new_privs()


def parse_uid_range(value: str) -> tuple[int, int]:
    """``"200000-299999"`` -> (200000, 299999); raises ``ValueError`` with the reason."""
    low, sep, high = value.strip().partition("-")
    try:
        first, last = int(low), int(high)
    except ValueError:
        raise ValueError(f"{value!r} is not a uid range such as 200000-299999") from None
    if not sep or first < 1000 or last < first or last >= 2**31 - 1:
        raise ValueError(
            f"{value!r} is not a usable uid range: it must be FIRST-LAST with "
            "1000 <= FIRST <= LAST < 2147483647, clear of the host's own users"
        )
    return first, last
