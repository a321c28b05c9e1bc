"""The python buildpack's compile step: ``compile.py BUILD_DIR CACHE_DIR ENV_DIR``.

It picks an interpreter on the host (the version in ``.python-version`` or ``runtime.txt``,
else the newest it may run), makes a virtualenv at ``BUILD_DIR/.venv`` and installs
``requirements.txt`` into it, or the project itself when there is only ``pyproject.toml`` or
``setup.py``. The virtualenv is kept in the cache with a key of the interpreter and the
requirements: an unchanged key restores it without running pip at all, and pip's own cache
(also in CACHE_DIR) means a changed key downloads only what is new. Scripts in
``.venv/bin`` start their interpreter relative to themselves, so the slug may run from any
path. ``.profile.d/python.sh`` puts the virtualenv first on PATH at run time.

pip is run from the interpreter's bundled pip wheel (unpacked once into the cache) with
``--without-pip`` virtualenvs: making a virtualenv with ensurepip takes seconds, this takes
milliseconds. Runs on any Python 3.8 or newer, standard library only.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from typing import NoReturn

PROBE = r"""
import glob, os, sys
import venv
wheels = []
try:
    import ensurepip
    wheels = glob.glob(os.path.join(os.path.dirname(ensurepip.__file__), "_bundled", "pip-*.whl"))
except ImportError:
    pass
wheels = wheels or glob.glob("/usr/share/python-wheels/pip-*.whl")
print("%d.%d.%d" % sys.version_info[:3])
print(sorted(wheels)[-1] if wheels else "")
"""
VERSION_RE = re.compile(r"^3(\.\d+){1,2}$")
PIP_SETTINGS = (
    "PIP_INDEX_URL",
    "PIP_EXTRA_INDEX_URL",
    "PIP_FIND_LINKS",
    "PIP_TRUSTED_HOST",
    "PIP_NO_BINARY",
    "PIP_ONLY_BINARY",
    "PIP_PRE",
    "PIP_DEFAULT_TIMEOUT",
    "PIP_RETRIES",
)
LAUNCHER = (
    '#!/bin/sh\n\'\'\'exec\' "$(dirname -- "$(realpath -- "$0")")/python" "$0" "$@"\n\' \'\'\'\n'
)


def say(text: str) -> None:
    print(text, flush=True)


def heading(text: str) -> None:
    say("-----> " + text)


def detail(text: str) -> None:
    say("       " + text)


def fail(text: str) -> NoReturn:
    say(" !     " + text)
    sys.exit(1)


def requested(build: str) -> tuple[str | None, str | None]:
    """(version, file) the app asks for, or (None, None)."""
    for name in (".python-version", "runtime.txt"):
        path = os.path.join(build, name)
        if not os.path.isfile(path):
            continue
        with open(path, errors="replace") as f:
            lines = [ln.strip() for ln in f if ln.strip() and not ln.strip().startswith("#")]
        text = lines[0] if lines else ""
        for prefix in ("cpython-", "python-", "python"):
            if text.lower().startswith(prefix):
                text = text[len(prefix) :]
        if not VERSION_RE.match(text):
            fail("%s says %r: write a Python version such as 3.11 or 3.11.2" % (name, text))
        return text, name
    return None, None


def candidates() -> list[str]:
    found = []
    for path in os.environ.get("DOCKYARD_PYTHONS", "").split(":"):
        if path:
            found.append(path)
    for directory in os.environ.get("PATH", "").split(":"):
        names = [
            *glob.glob(os.path.join(directory, "python3.*")),
            os.path.join(directory, "python3"),
        ]
        found.extend(p for p in sorted(names) if re.search(r"/python3(\.\d+)?$", p))
    unique: list[str] = []
    seen: set[str] = set()
    for path in found:
        real = os.path.realpath(path)
        if real not in seen and os.path.isfile(real):
            seen.add(real)
            unique.append(path)
    return unique


def probe(paths: list[str], cache_file: str) -> dict[str, tuple[str, str]]:
    """{version: (path, pip wheel)} of the interpreters this user can run, remembered per
    file (path, size and mtime), so a build only starts interpreters that are new."""
    try:
        with open(cache_file) as f:
            known = json.load(f)
    except (OSError, ValueError):
        known = {}
    found: dict[str, tuple[str, str]] = {}
    for path in paths:
        try:
            st = os.stat(path)
        except OSError:
            continue
        stamp = [os.path.realpath(path), st.st_size, st.st_mtime_ns]
        entry = known.get(path)
        if not entry or entry.get("stamp") != stamp:
            try:
                done = subprocess.run(
                    [path, "-c", PROBE], capture_output=True, text=True, timeout=20, check=False
                )
            except (OSError, subprocess.SubprocessError):
                done = None
            lines = done.stdout.splitlines() if done and done.returncode == 0 else []
            entry = {"stamp": stamp, "version": lines[0] if lines else "", "wheel": ""}
            if len(lines) > 1:
                entry["wheel"] = lines[1]
            known[path] = entry
        if entry["version"]:
            found.setdefault(entry["version"], (path, entry["wheel"]))
    with open(cache_file + ".tmp", "w") as f:
        json.dump(known, f)
    os.replace(cache_file + ".tmp", cache_file)
    return found


def vkey(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split("."))


def choose(
    found: dict[str, tuple[str, str]], wanted: str | None, source: str | None
) -> tuple[str, tuple[str, str]]:
    if wanted is None:
        if not found:
            fail("No Python 3 that this build may run is installed on this host.")
        best = max(found, key=vkey)
        return best, found[best]
    parts = wanted.split(".")
    matching = [v for v in found if v.split(".")[: len(parts)] == parts]
    if not matching:
        have = ", ".join("%s (%s)" % (v, found[v][0]) for v in sorted(found, key=vkey)) or "none"
        fail(
            "Python %s (from %s) is not installed on this host. Available: %s. "
            "Ask for one of those in %s." % (wanted, source, have, source)
        )
    best = max(matching, key=vkey)
    return best, found[best]


def stream(argv: list[str], env: dict[str, str], cwd: str) -> None:
    """Run pip, its output indented as build detail; stop the build if it fails."""
    proc = subprocess.Popen(
        argv, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        detail(line.rstrip("\n"))
    if proc.wait() != 0:
        fail(
            "pip could not install the requirements (exit status %d); see above." % proc.returncode
        )


def pip_dir(wheel: str, cache: str) -> str:
    """The bundled pip wheel, unpacked once into the cache (importable, with its bytecode
    cached there too)."""
    target = os.path.join(cache, "pip", os.path.basename(wheel))
    if not os.path.isfile(os.path.join(target, ".complete")):
        shutil.rmtree(target, ignore_errors=True)
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(target)
        open(os.path.join(target, ".complete"), "w").close()
    return target


def relocatable(venv: str) -> None:
    """Scripts pip wrote start ``#!<this venv>/bin/python``; make them start the python
    beside them instead, wherever the slug ends up."""
    bindir = os.path.join(venv, "bin")
    prefix = ("#!" + os.path.join(venv, "bin", "python")).encode()
    for name in os.listdir(bindir):
        path = os.path.join(bindir, name)
        if os.path.islink(path) or not os.path.isfile(path):
            continue
        with open(path, "rb") as f:
            data = f.read()
        if not data.startswith(prefix):
            continue
        body = data.split(b"\n", 1)[1] if b"\n" in data else b""
        with open(path, "wb") as f:
            f.write(LAUNCHER.encode() + body)


def copy_tree(src: str, dst: str) -> None:
    """``cp -a`` (three times faster than copytree on a virtualenv), else copytree."""
    try:
        copied = subprocess.run(["cp", "-a", src, dst], check=False).returncode == 0
    except OSError:
        copied = False
    if not copied:
        shutil.rmtree(dst, ignore_errors=True)
        shutil.copytree(src, dst, symlinks=True)


def pip_env(env_dir: str, cache: str, pip_path: str) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", cache),
        "LANG": "C.UTF-8",
        "PIP_CACHE_DIR": os.path.join(cache, "pip-cache"),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "PIP_NO_INPUT": "1",
        "PIP_PROGRESS_BAR": "off",
        "PIP_ROOT_USER_ACTION": "ignore",
    }
    if pip_path:
        env["PYTHONPATH"] = pip_path
    for name in PIP_SETTINGS:
        path = os.path.join(env_dir, name)
        if os.path.isfile(path):
            with open(path) as f:
                env[name] = f.read().strip()
    return env


def install(
    build: str, cache: str, env_dir: str, python: str, version: str, wheel: str, mode: str
) -> None:
    venv = os.path.join(build, ".venv")
    if wheel:
        subprocess.run([python, "-m", "venv", "--without-pip", venv], check=True)
        pip_path = pip_dir(wheel, cache)
    else:
        detail("No bundled pip wheel for this interpreter; making the virtualenv with ensurepip")
        subprocess.run([python, "-m", "venv", venv], check=True)
        pip_path = ""
    env = pip_env(env_dir, cache, pip_path)
    pip = [os.path.join(venv, "bin", "python"), "-m", "pip", "install"]
    if mode == "requirements":
        heading("Installing requirements with pip")
        stream([*pip, "-r", "requirements.txt"], env, build)
    else:
        heading("Installing the project with pip")
        stream([*pip, "."], env, build)
    relocatable(venv)


def main() -> None:
    build, cache, env_dir = sys.argv[1:4]
    pycache = os.path.join(cache, "python")
    os.makedirs(pycache, exist_ok=True)
    wanted, source = requested(build)
    version, (python, wheel) = choose(
        probe(candidates(), os.path.join(pycache, "pythons.json")), wanted, source
    )
    heading("Using Python %s (%s)" % (version, python))
    mode = "requirements" if os.path.isfile(os.path.join(build, "requirements.txt")) else "project"
    digest = hashlib.sha256()
    digest.update(("%s %s %s\n" % (version, os.path.realpath(python), mode)).encode())
    for name in (
        ("requirements.txt",)
        if mode == "requirements"
        else ("pyproject.toml", "setup.py", "setup.cfg")
    ):
        path = os.path.join(build, name)
        if os.path.isfile(path):
            with open(path, "rb") as f:
                digest.update(name.encode() + b"\0" + f.read())
    key = digest.hexdigest()
    cached, key_file = os.path.join(pycache, "venv"), os.path.join(pycache, "venv.key")
    venv = os.path.join(build, ".venv")
    try:
        with open(key_file) as f:
            same = f.read().strip() == key and os.path.isdir(cached)
    except OSError:
        same = False
    if os.path.lexists(venv):
        shutil.rmtree(venv, ignore_errors=True)
    if same:
        copy_tree(cached, venv)
        detail("Restored the virtualenv from the build cache (requirements unchanged)")
        if mode == "project":
            env = pip_env(env_dir, cache, pip_dir(wheel, cache) if wheel else "")
            heading("Installing the project with pip")
            python_in_venv = os.path.join(venv, "bin", "python")
            stream(
                [python_in_venv, "-m", "pip", "install", "--no-deps", "--force-reinstall", "."],
                env,
                build,
            )
            relocatable(venv)
    else:
        install(build, cache, env_dir, python, version, wheel, mode)
        fresh = cached + ".new"
        shutil.rmtree(fresh, ignore_errors=True)
        copy_tree(venv, fresh)
        shutil.rmtree(cached, ignore_errors=True)
        os.rename(fresh, cached)
        with open(key_file, "w") as f:
            f.write(key)
    profile = os.path.join(build, ".profile.d")
    os.makedirs(profile, exist_ok=True)
    with open(os.path.join(profile, "python.sh"), "w") as f:
        f.write(
            'export PATH="$HOME/.venv/bin:$PATH"\n'
            'export VIRTUAL_ENV="$HOME/.venv"\n'
            "export PYTHONUNBUFFERED=1\n"
        )


if __name__ == "__main__":
    main()
