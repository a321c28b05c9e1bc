"""``LocalRunner`` with real processes: the slug builder it starts
(``python -m dockyard.builder.slugbuilder``) unpacks a real source archive and runs real
buildpacks, with the directories laid out as the pipeline lays them out (``_prepare``) and the
build user the pipeline picks (``nobody`` when the tests run as root).

Covered: a successful build's ``BuildResult`` and its output, in order; the build user; the
app's config reaching buildpacks as ENV_DIR files only, never their environment; the job file
(which holds the config) gone once the build runs; the time limit; background processes a
buildpack leaves are killed; the memory limit; and the reasons a build fails (a failing
compile, an unsafe archive, no buildpack and no Procfile, a URL in ``.buildpacks``).

Everything a build reaches lives under a base dir in /tmp that others may traverse (0711), as
the data dir is: pytest's ``tmp_path`` is private to root, so the build user could not use it.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import secrets
import shutil
import tarfile
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from dockyard.builder import catalog
from dockyard.builder.pipeline import _prepare, build_user
from dockyard.builder.runner import BuildFailed, BuildJob, BuildResult, LocalRunner
from dockyard.core import layout
from dockyard.core.settings import Settings
from dockyard.scheduler.local import limits

APP = "shop"
MINIMAL_PATH = "/usr/local/bin:/usr/bin:/bin"
RELEASE = """#!/bin/sh
cat <<'EOF'
---
config_vars:
  FROM_RELEASE: yes
default_process_types:
  web: ./run --port $PORT
  worker: "python3 worker.py"
EOF
"""


@dataclass
class Host:
    base: Path
    data: Path
    roots: Path
    settings: Settings

    @property
    def uid(self) -> int | None:
        return build_user(self.settings)[0]


@pytest.fixture
def host() -> Iterator[Host]:
    base = Path(tempfile.mkdtemp(prefix="dockyard-runner-", dir="/tmp"))
    try:
        os.chmod(base, 0o711)
        roots = base / "roots"
        roots.mkdir(mode=0o755)
        os.chmod(roots, 0o755)
        settings = Settings(data_dir=base / "data", local_source_roots=str(roots))
        settings.ensure_dirs()
        yield Host(base, settings.data_dir, roots, settings)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def make_buildpack(
    host: Host,
    compile_body: str,
    *,
    name: str = "probe",
    detect: str = "#!/bin/sh\necho Probe\n",
    release: str | None = RELEASE,
) -> Path:
    """A buildpack under the source root: ``bin/compile`` is ``compile_body`` after
    ``set -e``."""
    buildpack = host.roots / name
    (buildpack / "bin").mkdir(parents=True)
    scripts = {"compile": "#!/bin/sh\nset -e\n" + compile_body, "detect": detect}
    if release is not None:
        scripts["release"] = release
    for script, text in scripts.items():
        path = buildpack / "bin" / script
        path.write_text(text)
        os.chmod(path, 0o755)
    for directory in (buildpack, buildpack / "bin"):
        os.chmod(directory, 0o755)
    return buildpack


def write_archive(path: Path, files: dict[str, str | bytes]) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name, content in files.items():
            data = content.encode() if isinstance(content, str) else content
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            archive.addfile(info, io.BytesIO(data))
    return path


def make_job(host: Host, files: dict[str, str | bytes], env: dict[str, str]) -> BuildJob:
    """A job as the pipeline makes one: its directories prepared for the build user."""
    build = secrets.token_hex(8)
    slug = layout.slug_dir(host.data, APP, build)
    work = layout.tmp_dir(host.data) / f"build-{build}"
    cache = layout.cache_dir(host.data, APP)
    uid, gid = build_user(host.settings)
    builtin = catalog.builtin_buildpacks(host.data)
    _prepare(slug, work, cache, uid, gid)
    source = write_archive(host.base / f"source-{build}.tar.gz", files)
    return BuildJob(
        build=build,
        app=APP,
        source=str(source),
        build_dir=str(slug),
        cache_dir=str(cache),
        work_dir=str(work),
        data_dir=str(host.data),
        builtin=[(name, str(path)) for name, path in builtin],
        installed={},
        source_roots=[str(host.roots)],
        max_bytes=16 * 1024**2,
        max_entries=1000,
        env=env,
        uid=uid,
        gid=gid,
    )


def runner(*, memory: int = 512 * 1024**2, timeout: float = 60.0) -> LocalRunner:
    return LocalRunner(memory=memory, timeout=timeout)


async def build_fails(job: BuildJob, run: LocalRunner | None = None) -> tuple[str, list[str]]:
    lines: list[str] = []
    with pytest.raises(BuildFailed) as info:
        await (run or runner()).run(job, lines.append)
    assert str(info.value) == info.value.message
    return info.value.message, lines


def _cmdlines() -> list[str]:
    found = []
    for entry in Path("/proc").glob("[0-9]*/cmdline"):
        with contextlib.suppress(OSError):
            found.append(entry.read_bytes().replace(b"\0", b" ").decode(errors="replace"))
    return found


def _marker() -> str:
    """A unique argument for ``sleep`` (GNU sleep adds its arguments up)."""
    return f"0.{secrets.randbelow(10**9):09d}"


async def _gone(marker: str, within: float = 5.0) -> bool:
    deadline = time.monotonic() + within
    while any(marker in c for c in _cmdlines()):
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


# a build that succeeds ----------------------------------------------------------------------

SOURCE = {
    "Procfile": "web: ./run\n",
    "run": "#!/bin/sh\necho hi\n",
    "lib/app.txt": "hello from the app\n",
}
COMPILED = 5000  # bytes the probe's compile adds to the slug


async def test_a_build_returns_its_result_and_streams_its_output_in_order(host: Host) -> None:
    buildpack = make_buildpack(
        host,
        'echo "-----> probe compile starting"\n'
        'for i in 1 2 3 4 5; do echo "line $i"; done\n'
        'echo "to stderr" >&2\n'
        f'head -c {COMPILED} /dev/zero > "$1/compiled.bin"\n'
        'echo "-----> probe compile done"\n',
    )
    job = make_job(host, SOURCE, {"BUILDPACK_URL": str(buildpack)})
    lines: list[str] = []
    result = await runner().run(job, lines.append)
    assert result == BuildResult(
        buildpacks=["Probe"],
        procfile="web: ./run\n",
        default_process_types={"web": "./run --port $PORT", "worker": "python3 worker.py"},
        size=sum(len(text) for text in SOURCE.values()) + COMPILED,
    )
    assert lines == [
        f"-----> Unpacked {len(SOURCE)} entries of source",
        f"       Using the buildpack named by BUILDPACK_URL: {buildpack}",
        "-----> Probe app detected",
        "-----> probe compile starting",
        *(f"line {i}" for i in range(1, 6)),
        "to stderr",
        "-----> probe compile done",
    ]
    slug = Path(job.build_dir)
    assert (slug / "lib" / "app.txt").read_text() == "hello from the app\n"
    assert (slug / "compiled.bin").stat().st_size == COMPILED
    assert not Path(job.work_dir).with_suffix(".json").exists()


async def test_the_build_runs_as_the_build_user(host: Host) -> None:
    buildpack = make_buildpack(
        host, 'echo "uid=$(id -u) gid=$(id -g) groups=$(id -G)"\ntouch "$1/made"\n'
    )
    job = make_job(host, SOURCE, {"BUILDPACK_URL": str(buildpack)})
    lines: list[str] = []
    await runner().run(job, lines.append)
    if os.geteuid() == 0:
        assert host.uid == 65534
        assert "uid=65534 gid=65534 groups=65534" in lines
    else:
        uid = os.geteuid()
        assert any(line.startswith(f"uid={uid} ") for line in lines), lines
    made = Path(job.build_dir) / "made"
    assert made.stat().st_uid == (host.uid if host.uid is not None else os.geteuid())
    # the source was unpacked by the build user too
    assert (Path(job.build_dir) / "Procfile").stat().st_uid == made.stat().st_uid


async def test_config_reaches_buildpacks_as_env_dir_files_only(host: Host) -> None:
    secret = "s3cr3t-" + secrets.token_hex(6)
    buildpack = make_buildpack(
        host,
        "env | sed 's/^/env: /'\n"
        'echo "file: $(cat "$3/SECRET_TOKEN")"\n'
        "ls \"$3\" | sed 's/^/envdir: /'\n"
        'echo "envdir-mode: $(stat -c %a "$3")"\n',
    )
    config = {"BUILDPACK_URL": str(buildpack), "SECRET_TOKEN": secret, "MULTI": "a b\nc"}
    job = make_job(host, SOURCE, config)
    lines: list[str] = []
    await runner().run(job, lines.append)
    assert f"file: {secret}" in lines
    assert [line for line in lines if secret in line] == [f"file: {secret}"]
    assert [line for line in lines if line.startswith("envdir: ")] == [
        "envdir: BUILDPACK_URL",
        "envdir: MULTI",
        "envdir: SECRET_TOKEN",
    ]
    assert "envdir-mode: 700" in lines
    env = dict(line[5:].partition("=")[::2] for line in lines if line.startswith("env: "))
    assert "SECRET_TOKEN" not in env
    assert "BUILDPACK_URL" not in env
    assert env["PATH"] == MINIMAL_PATH
    assert env["STACK"] == "dockyard"
    assert env["HOME"] == str(Path(job.work_dir) / "home")
    assert set(env) <= {"PATH", "HOME", "LANG", "STACK", "PWD", "SHLVL", "OLDPWD", "_"}
    assert not (Path(job.work_dir) / "env").exists()  # removed once the buildpacks ran


async def test_the_job_file_is_gone_once_the_build_runs(host: Host) -> None:
    job = make_job(host, SOURCE, {"BUILDPACK_URL": str(host.roots / "probe"), "TOKEN": "x"})
    job_file = Path(job.work_dir).with_suffix(".json")
    assert str(job_file) == f"{job.work_dir}.json"
    # A control: a root-only file beside it, which the build user can still see exists.
    control = job_file.with_name("control.json")
    control.write_text("{}")
    os.chmod(control, 0o600)
    make_buildpack(
        host,
        f'if [ -e "{job_file}" ]; then echo job-file-present; else echo job-file-absent; fi\n'
        f'if [ -e "{control}" ]; then echo control-present; else echo control-absent; fi\n',
    )
    lines: list[str] = []
    await runner().run(job, lines.append)
    assert "control-present" in lines
    assert "job-file-absent" in lines
    assert not job_file.exists()


# limits -------------------------------------------------------------------------------------


async def test_a_build_over_its_time_limit_is_stopped(host: Host) -> None:
    marker = _marker()
    buildpack = make_buildpack(host, f'echo "sleeping"\nsleep 30 {marker}\necho "woke up"\n')
    job = make_job(host, SOURCE, {"BUILDPACK_URL": str(buildpack)})
    started = time.monotonic()
    message, lines = await build_fails(job, runner(timeout=1.5))
    elapsed = time.monotonic() - started
    assert message == "it took longer than 1.5s (DOCKYARD_BUILD_TIMEOUT)."
    assert 1.5 <= elapsed < 6.0, elapsed
    assert "sleeping" in lines
    assert "woke up" not in lines
    assert await _gone(marker)
    assert not Path(job.work_dir).with_suffix(".json").exists()


async def test_background_processes_a_buildpack_leaves_are_killed(host: Host) -> None:
    markers = [_marker()]
    body = f"sleep 300 {markers[0]} > /dev/null 2>&1 &\n"
    # A process that left the build's process group is still in its cgroup, when there is
    # one (as root): it is killed too.
    if limits.probe().startswith("cgroup"):
        markers.append(_marker())
        body += f"setsid sleep 300 {markers[1]} > /dev/null 2>&1 &\n"
    body += "sleep 0.2\necho compiled\n"
    buildpack = make_buildpack(host, body)
    job = make_job(host, SOURCE, {"BUILDPACK_URL": str(buildpack)})
    lines: list[str] = []
    started = time.monotonic()
    result = await runner(timeout=20).run(job, lines.append)
    assert time.monotonic() - started < 10
    assert result.buildpacks == ["Probe"]
    assert "compiled" in lines
    for marker in markers:
        assert await _gone(marker), f"sleep 300 {marker} is still running"


async def test_a_background_process_holding_the_output_does_not_hold_the_build(
    host: Host,
) -> None:
    marker = _marker()
    buildpack = make_buildpack(host, f"sleep 300 {marker} &\necho compiled\n")
    job = make_job(host, SOURCE, {"BUILDPACK_URL": str(buildpack)})
    lines: list[str] = []
    started = time.monotonic()
    try:
        result = await runner(timeout=5).run(job, lines.append)
    finally:
        # either way, nothing is left running
        assert await _gone(marker), f"sleep 300 {marker} is still running"
    assert time.monotonic() - started < 4
    assert result.buildpacks == ["Probe"]
    assert "compiled" in lines


async def test_a_build_over_its_memory_limit_fails(host: Host) -> None:
    buildpack = make_buildpack(
        host,
        'echo "allocating"\n'
        "python3 -c \"b = bytearray(300*1024*1024); print('allocated', len(b))\"\n"
        'echo "still here"\n',
    )
    job = make_job(host, SOURCE, {"BUILDPACK_URL": str(buildpack)})
    enforced_by = limits.probe()
    message, lines = await build_fails(job, runner(memory=64 * 1024**2))
    assert "allocating" in lines
    assert not any(line.startswith("allocated") for line in lines)
    assert "still here" not in lines
    if enforced_by.startswith("cgroup"):
        # The kernel's OOM killer stopped the allocating process inside the build's
        # cgroup; the runner reads the cgroup's count and says why the build failed.
        assert message == (
            "it ran out of memory: a process was killed for using more than the build's "
            "limit of 64M (DOCKYARD_BUILD_MEMORY)."
        ), message
    else:
        # Under RLIMIT_DATA the allocation fails instead, and the buildpack with it.
        assert any("MemoryError" in line for line in lines), lines
        assert message.startswith("The Probe buildpack could not compile the app"), message


# reasons a build fails ----------------------------------------------------------------------


async def test_a_failing_compile_fails_the_build(host: Host) -> None:
    buildpack = make_buildpack(host, 'echo "boom: no compiler"\nexit 3\n')
    job = make_job(host, SOURCE, {"BUILDPACK_URL": str(buildpack)})
    message, lines = await build_fails(job)
    assert message == (
        "The Probe buildpack could not compile the app (bin/compile exited 3); "
        "see the output above."
    )
    assert lines[-1] == "boom: no compiler"


async def test_an_archive_entry_outside_the_build_dir_fails_the_build(host: Host) -> None:
    job = make_job(host, {"Procfile": "web: ./run\n", "../evil": "escaped\n"}, {})
    message, _lines = await build_fails(job)
    assert "'../evil'" in message
    assert not (Path(job.build_dir).parent / "evil").exists()
    assert not (Path(job.build_dir) / "evil").exists()


async def test_no_buildpack_and_no_procfile_fails_the_build(host: Host) -> None:
    job = make_job(host, {"readme.txt": "just text\n", "notes.md": "# notes\n"}, {})
    message, lines = await build_fails(job)
    assert message.startswith("No buildpack applies to this app and it has no Procfile.")
    assert lines == ["-----> Unpacked 2 entries of source"]


async def test_no_buildpack_with_a_procfile_builds_the_source_as_it_is(host: Host) -> None:
    job = make_job(host, {"Procfile": "web: python3 -m http.server\n", "a.txt": "a\n"}, {})
    lines: list[str] = []
    result = await runner().run(job, lines.append)
    assert result == BuildResult(
        buildpacks=[],
        procfile="web: python3 -m http.server\n",
        default_process_types={},
        size=len("web: python3 -m http.server\n") + 2,
    )
    assert "-----> No buildpack applies; using the source as it is, with its Procfile" in lines


async def test_a_url_in_dot_buildpacks_is_refused(host: Host) -> None:
    url = "https://github.com/heroku/heroku-buildpack-python.git#v250"
    files = {".buildpacks": f"# from Heroku\n{url}\n", "requirements.txt": "flask\n"}
    job = make_job(host, files, {})
    message, lines = await build_fails(job)
    assert message.startswith(f"{url} is a URL; builds use buildpacks on this host only.")
    assert f"       Using the buildpacks listed in .buildpacks: {url}" in lines
