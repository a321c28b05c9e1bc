"""The Python interpreters on this host that the python buildpack may choose from.

The controller only lists candidate files: ``DOCKYARD_PYTHONS``, every ``python3.N`` on the
controller's PATH and in the usual install places, and pyenv's versions. The buildpack
itself, running as the build user, starts each one once to learn its version, so an
interpreter that user may not run (one under root's private home, say) is never offered.
"""

from __future__ import annotations

import glob
import os
import re

_NAME = re.compile(r"/python3(\.\d+)?$")
_PLACES = ("/usr/local/bin", "/usr/bin", "/opt/python*/bin", "/opt/python/*/bin")


def candidate_pythons(extra: str = "") -> list[str]:
    found = [p for p in extra.split(":") if p.strip()]
    dirs = [d for d in os.environ.get("PATH", "").split(":") if d]
    for place in _PLACES:
        dirs.extend(sorted(glob.glob(place)))
    pyenv = os.environ.get("PYENV_ROOT") or os.path.expanduser("~/.pyenv")
    dirs.extend(sorted(glob.glob(os.path.join(pyenv, "versions", "*", "bin"))))
    for directory in dirs:
        names = glob.glob(os.path.join(directory, "python3*"))
        found.extend(sorted(p for p in names if _NAME.search(p)))
    unique: list[str] = []
    seen: set[str] = set()
    for path in found:
        real = os.path.realpath(path)
        if real not in seen and os.path.isfile(real) and ".venv" not in real.split(os.sep):
            seen.add(real)
            unique.append(path)
    return unique
