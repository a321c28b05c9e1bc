"""The slug builder: ``python -m dockyard.builder.slugbuilder <job.json>``, one build.

It unpacks a source archive into the build directory, picks the buildpacks (the app's
``BUILDPACK_URL``, else the source's ``.buildpacks``, else the first built-in whose
``bin/detect`` accepts the source), runs each one's ``bin/compile BUILD_DIR CACHE_DIR ENV_DIR``
and ``bin/release``, and writes what it found to ``<work dir>/result.json``. Its output (and
the buildpacks') is the build log, on stdout.

It starts as the controller (root, when the controller is) inside the build's limits, reads
its job file (which holds the app's config, so it deletes it at once) and opens the source,
then drops to the build user (the app's own uid and gid, ``no_new_privs``, the app's process
limit) for good before it touches anything untrusted: the archive, the buildpacks and the
app's code only ever meet that user. Everything it needs
is imported before that, since the controller's own Python may be unreadable to that user.
It uses the standard library only, so the same program can run in a builder image.
"""

from __future__ import annotations

import contextlib
import ctypes
import gzip  # noqa: F401  (tarfile imports it lazily; it must be loaded before the drop)
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import zlib  # noqa: F401  (as gzip)
from pathlib import Path
from typing import Any, BinaryIO

from dockyard.builder.archive import ArchiveError, Limits, extract_archive
from dockyard.builder.buildpack_rules import (
    BuildpackSpecError,
    parse_release,
    read_buildpacks_file,
    resolve,
)
from dockyard.core import identity

MINIMAL_PATH = "/usr/local/bin:/usr/bin:/bin"
PROCFILE_LIMIT = 64 * 1024


class BuildFailed(Exception):
    """The build cannot go on; the message is shown to the user."""


def say(line: str = "") -> None:
    print(line, flush=True)


def heading(text: str) -> None:
    say(f"-----> {text}")


def detail(text: str) -> None:
    say(f"       {text}")


def drop_privileges(uid: int | None, gid: int | None, max_procs: int | None = None) -> None:
    """To the app's own uid and gid (no supplementary groups, a process limit for the uid,
    ``no_new_privs``); see ``dockyard.core.identity``."""
    identity.drop(uid, gid, max_procs=max_procs)


PR_SET_PDEATHSIG = 1


def end_with_parent(parent: int) -> None:
    """When the API worker that runs this build dies, the build ends, buildpacks and all:
    SIGTERM on the parent's death (set after the privilege drop, which clears it) kills
    this process group."""
    signal.signal(signal.SIGTERM, lambda *_: os.killpg(0, signal.SIGKILL))
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # it died before the signal was armed
        os.killpg(0, signal.SIGKILL)


def write_env_dir(env_dir: Path, env: dict[str, str]) -> None:
    env_dir.mkdir(mode=0o700)
    for key, value in env.items():
        (env_dir / key).write_text(value)


def buildpack_env(job: dict[str, Any], home: Path) -> dict[str, str]:
    """The environment of every buildpack step: nothing of the controller's, and not the
    app's config (that is ENV_DIR)."""
    env = {"PATH": MINIMAL_PATH, "HOME": str(home), "LANG": "C.UTF-8", "STACK": "dockyard"}
    if job.get("sha"):
        env["SOURCE_VERSION"] = job["sha"]
    if job.get("pythons"):
        env["DOCKYARD_PYTHONS"] = ":".join(job["pythons"])
    return env


def run_step(
    argv: list[str], *, env: dict[str, str], cwd: Path, exports: list[Path], capture: bool = False
) -> subprocess.CompletedProcess[str]:
    """One buildpack script, after sourcing the ``export`` files of the buildpacks before it
    (the multi-buildpack convention)."""
    script = "".join(f". {shlex.quote(str(e))}\n" for e in exports) + 'exec "$@"\n'
    return subprocess.run(
        ["/bin/sh", "-c", script, "buildpack", *argv],
        env=env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE if capture else None,
        text=True,
        check=False,
    )


def copy_buildpack(source: Path, dest: Path) -> Path:
    """A private copy, made as the build user: a buildpack can only be read if that user
    may read it, and what runs can't be changed under the build by someone else."""
    try:
        shutil.copytree(source, dest, symlinks=True)
    except (OSError, shutil.Error) as exc:
        raise BuildFailed(f"Cannot read the buildpack at {source}: {exc}") from exc
    bin_dir = dest / "bin"
    if not (bin_dir / "compile").is_file():
        raise BuildFailed(f"{source} is not a buildpack: it has no bin/compile.")
    for script in bin_dir.iterdir():
        if script.is_file() and not script.is_symlink():
            script.chmod(0o755)
    return dest


def detect(buildpack: Path, build_dir: Path, env: dict[str, str]) -> str | None:
    """The buildpack's name when its ``bin/detect`` accepts the source, else None."""
    script = buildpack / "bin" / "detect"
    if not script.is_file():
        return buildpack.name
    done = run_step([str(script), str(build_dir)], env=env, cwd=build_dir, exports=[], capture=True)
    if done.returncode != 0:
        return None
    lines = (done.stdout or "").strip().splitlines()
    return lines[0].strip() if lines else buildpack.name


def choose(job: dict[str, Any], build_dir: Path) -> list[tuple[str, Path]]:
    """The buildpacks to run as (spec, path), or [] when none applies."""
    roots = [Path(r) for r in job.get("source_roots", [])]
    data_dir = Path(job["data_dir"])
    builtin = {name: Path(path) for name, path in job["builtin"]}
    installed = {name: Path(path) for name, path in job.get("installed", {}).items()}
    specs: list[str] = []
    url = (job.get("env") or {}).get("BUILDPACK_URL", "").strip()
    if url:
        specs = [url]
        detail(f"Using the buildpack named by BUILDPACK_URL: {url}")
    elif (build_dir / ".buildpacks").is_file():
        specs = read_buildpacks_file((build_dir / ".buildpacks").read_text(errors="replace"))
        detail(f"Using the buildpacks listed in .buildpacks: {', '.join(specs)}")
    try:
        return [
            (spec, resolve(spec, builtin=builtin, installed=installed, roots=roots, data=data_dir))
            for spec in specs
        ]
    except BuildpackSpecError as exc:
        raise BuildFailed(str(exc)) from None


def build(job: dict[str, Any], source: BinaryIO) -> dict[str, Any]:
    build_dir = Path(job["build_dir"])
    work = Path(job["work_dir"])
    cache_dir = Path(job["cache_dir"])
    home = work / "home"
    home.mkdir(exist_ok=True)
    env = buildpack_env(job, home)
    try:
        summary = extract_archive(
            source, build_dir, Limits(max_bytes=job["max_bytes"], max_entries=job["max_entries"])
        )
    except ArchiveError as exc:
        raise BuildFailed(str(exc)) from None
    heading(f"Unpacked {summary.entries} entries of source")
    chosen = choose(job, build_dir)
    copies: list[tuple[str, Path]] = []
    for index, (spec, path) in enumerate(chosen):
        copy = copy_buildpack(path, work / "buildpacks" / str(index))
        name = detect(copy, build_dir, env)
        if name is None:
            raise BuildFailed(
                f"The app is not one the buildpack {spec} builds (its bin/detect said no)."
            )
        copies.append((name, copy))
    if not chosen:
        for _builtin, path in job["builtin"]:
            name = detect(Path(path), build_dir, env)
            if name is not None:
                copies.append((name, copy_buildpack(Path(path), work / "buildpacks" / "0")))
                break
    if not copies:
        if not (build_dir / "Procfile").is_file() and not job.get("procfile_given"):
            raise BuildFailed(
                "No buildpack applies to this app and it has no Procfile. Dockyard builds "
                "Python (requirements.txt, pyproject.toml or setup.py), Node.js (package.json), "
                "Go (go.mod) and static sites (index.html), or any app with a Procfile as it "
                "is; BUILDPACK_URL or a .buildpacks file names other buildpacks."
            )
        heading("No buildpack applies; using the source as it is, with its Procfile")
        if not (build_dir / "Procfile").is_file():
            detail("(the process types come with the request)")
    env_dir = work / "env"
    write_env_dir(env_dir, {k: v for k, v in (job.get("env") or {}).items()})
    defaults: dict[str, str] = {}
    exports: list[Path] = []
    for name, copy in copies:
        heading(f"{name} app detected")
        argv = [str(copy / "bin" / "compile"), str(build_dir), str(cache_dir), str(env_dir)]
        done = run_step(argv, env=env, cwd=build_dir, exports=exports)
        if done.returncode != 0:
            raise BuildFailed(
                f"The {name} buildpack could not compile the app (bin/compile exited "
                f"{done.returncode}); see the output above."
            )
        release = copy / "bin" / "release"
        if release.is_file():
            released = run_step(
                [str(release), str(build_dir)],
                env=env,
                cwd=build_dir,
                exports=exports,
                capture=True,
            )
            if released.returncode != 0:
                raise BuildFailed(f"The {name} buildpack's bin/release failed.")
            defaults.update(parse_release(released.stdout or ""))
        if (copy / "export").is_file():
            exports.append(copy / "export")
    shutil.rmtree(env_dir, ignore_errors=True)
    procfile = build_dir / "Procfile"
    text = None
    if (
        procfile.is_file()
        and not procfile.is_symlink()
        and procfile.stat().st_size < PROCFILE_LIMIT
    ):
        text = procfile.read_text(errors="replace")
    return {
        "buildpacks": [name for name, _ in copies],
        "procfile": text,
        "default_process_types": defaults,
        "size": tree_size(build_dir),
    }


def tree_size(root: Path) -> int:
    total = 0
    for directory, _dirs, files in os.walk(root):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(directory, name)).st_size
    return total


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m dockyard.builder.slugbuilder <job.json>", file=sys.stderr)
        return 2
    job_file = Path(args[0])
    job = json.loads(job_file.read_text())
    job_file.unlink()  # it holds the app's config: gone before anything untrusted runs
    parent = os.getppid()
    with open(job["source"], "rb") as source:
        drop_privileges(job.get("uid"), job.get("gid"), job.get("max_procs"))
        end_with_parent(parent)
        os.umask(0o022)
        try:
            result = build(job, source)
        except BuildFailed as exc:
            # Said once, by whoever reports the outcome (the push, the CLI), not here too.
            (Path(job["work_dir"]) / "result.json").write_text(json.dumps({"error": str(exc)}))
            return 1
    (Path(job["work_dir"]) / "result.json").write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
