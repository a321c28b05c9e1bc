"""The built-in ``python`` buildpack, its real scripts run as the builder runs them.

The buildpack is copied to a directory of its own first (the builder does the same) and its
``bin/detect``, ``bin/compile`` and ``bin/release`` run as subprocesses with the builder's
minimal environment. Everything stays offline: the app installs a tiny wheel made here by hand
(``dockyard-probe``, with a console script) from its own ``wheels/`` directory.

Covered: detection; a compile that installs into ``.venv`` and writes ``.profile.d/python.sh``,
whose console script still runs once the slug is moved elsewhere (the relocatable launcher);
the virtualenv restored from the build cache without pip when the requirements are unchanged,
and reinstalled when they change; the interpreter chosen by ``.python-version`` or
``runtime.txt``, refused when missing or malformed, and ``DOCKYARD_PYTHONS`` adding to the
choices; pip settings from ENV_DIR reaching pip while the app's other config does not; and
``bin/release``.
"""

from __future__ import annotations

import base64
import hashlib
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from dockyard.builder.buildpack_rules import parse_release
from tests.builder.scripts import RUN_PATH, compile_app, copy_buildpack, minimal_env, run

MARKER = "dockyard-probe says hello 7f3a"
REQUIREMENTS = "--no-index\n--find-links wheels\ndockyard-probe==1.0\n"
RESTORED = "Restored the virtualenv from the build cache"
INSTALLING = "-----> Installing requirements with pip"


def _host_python_version() -> str:
    done = subprocess.run(
        ["python3", "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"],
        env={"PATH": "/usr/bin", "LANG": "C.UTF-8"},
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


HOST_VERSION = _host_python_version()  # the version of /usr/bin/python3
HOST_MINOR = ".".join(HOST_VERSION.split(".")[:2])

WHEEL_FILES = {
    "dockyard_probe/__init__.py": f"def main():\n    print({MARKER!r})\n",
    "dockyard_probe-1.0.dist-info/METADATA": (
        "Metadata-Version: 2.1\nName: dockyard-probe\nVersion: 1.0\n"
    ),
    "dockyard_probe-1.0.dist-info/WHEEL": (
        "Wheel-Version: 1.0\nGenerator: dockyard-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    ),
    "dockyard_probe-1.0.dist-info/entry_points.txt": (
        "[console_scripts]\ndockyard-probe = dockyard_probe:main\n"
    ),
}


def make_wheel(directory: Path) -> Path:
    """``dockyard_probe-1.0-py3-none-any.whl``, with a RECORD of its files' hashes."""
    directory.mkdir(parents=True, exist_ok=True)
    record = []
    for name, text in WHEEL_FILES.items():
        data = text.encode()
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(data)}")
    record.append("dockyard_probe-1.0.dist-info/RECORD,,")
    wheel = directory / "dockyard_probe-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for name, text in WHEEL_FILES.items():
            archive.writestr(name, text)
        archive.writestr("dockyard_probe-1.0.dist-info/RECORD", "\n".join(record) + "\n")
    return wheel


def probe_app(app: Path, requirements: str = REQUIREMENTS, wheels: bool = True) -> Path:
    """An app whose requirements.txt installs the probe wheel from ``wheels/`` only."""
    app.mkdir(parents=True)
    (app / "requirements.txt").write_text(requirements)
    (app / "Procfile").write_text("web: dockyard-probe\n")
    if wheels:
        make_wheel(app / "wheels")
    return app


@pytest.fixture
def buildpack(tmp_path: Path) -> Path:
    return copy_buildpack("python", tmp_path / "buildpacks")


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One CACHE_DIR for the tests that are not about the cache (the probe app restores
    from it after the first)."""
    return tmp_path_factory.mktemp("python-cache")


def run_in_slug(slug: Path, command: str) -> subprocess.CompletedProcess[str]:
    """A command run the way a process runs in the slug: ``.profile.d`` sourced, HOME and
    cwd the slug."""
    return subprocess.run(
        ["/bin/sh", "-c", f". ./.profile.d/python.sh && {command}"],
        cwd=slug,
        env=minimal_env(slug),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


# detect -------------------------------------------------------------------------------------


@pytest.mark.parametrize("marker", ["requirements.txt", "pyproject.toml", "setup.py"])
def test_detect_accepts_python_apps(buildpack: Path, tmp_path: Path, marker: str) -> None:
    app = tmp_path / "app"
    app.mkdir()
    (app / marker).write_text("")
    done = run(buildpack, "detect", app)
    assert (done.returncode, done.stdout) == (0, "Python\n")


def test_detect_refuses_other_apps(buildpack: Path, tmp_path: Path) -> None:
    app = tmp_path / "app"
    app.mkdir()
    (app / "app.py").write_text("print('hi')\n")
    (app / "requirements").mkdir()  # a directory of that kind of name is not the file
    (app / "setup.py.txt").write_text("")
    done = run(buildpack, "detect", app)
    assert (done.returncode, done.stdout) == (1, "")


# compile ------------------------------------------------------------------------------------


def test_compile_installs_a_virtualenv_that_runs_after_the_slug_moves(
    buildpack: Path, tmp_path: Path
) -> None:
    app = probe_app(tmp_path / "build" / "app")
    done = compile_app(buildpack, app, tmp_path / "cache")
    assert done.returncode == 0, done.stdout
    lines = done.stdout.splitlines()
    assert lines[0].startswith(f"-----> Using Python {HOST_MINOR}."), done.stdout
    assert INSTALLING in lines
    assert "       Successfully installed dockyard-probe-1.0" in lines
    assert RESTORED not in done.stdout
    assert (app / ".profile.d" / "python.sh").read_text() == (
        'export PATH="$HOME/.venv/bin:$PATH"\n'
        'export VIRTUAL_ENV="$HOME/.venv"\n'
        "export PYTHONUNBUFFERED=1\n"
    )
    script = app / ".venv" / "bin" / "dockyard-probe"
    assert script.is_file()
    assert str(app) not in script.read_text()  # no absolute path to the build dir

    slug = tmp_path / "elsewhere" / "slug"
    slug.parent.mkdir()
    app.rename(slug)
    assert not app.exists()
    ran = run_in_slug(slug, "dockyard-probe")
    assert (ran.returncode, ran.stdout, ran.stderr) == (0, MARKER + "\n", "")
    where = run_in_slug(
        slug,
        "python -c 'import sys, dockyard_probe; print(sys.prefix); print(dockyard_probe.__file__)'",
    )
    assert where.returncode == 0, where.stderr
    prefix, module = where.stdout.splitlines()
    assert Path(prefix) == slug / ".venv"
    assert Path(module).is_relative_to(slug / ".venv")


def test_unchanged_requirements_restore_the_virtualenv_without_pip(
    buildpack: Path, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    first = compile_app(buildpack, probe_app(tmp_path / "one" / "app"), cache)
    assert first.returncode == 0, first.stdout
    assert INSTALLING in first.stdout.splitlines()
    # A fresh build dir with the same requirements and no wheels/: pip, had it run, would
    # find nothing to install.
    app = probe_app(tmp_path / "two" / "app", wheels=False)
    second = compile_app(buildpack, app, cache)
    assert second.returncode == 0, second.stdout
    assert RESTORED in second.stdout
    assert "Installing" not in second.stdout
    assert "pip" not in second.stdout
    assert (app / ".profile.d" / "python.sh").is_file()
    ran = run_in_slug(app, "dockyard-probe")
    assert (ran.returncode, ran.stdout) == (0, MARKER + "\n"), ran.stderr


def test_changed_requirements_reinstall(buildpack: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = compile_app(buildpack, probe_app(tmp_path / "one" / "app"), cache)
    assert first.returncode == 0, first.stdout
    app = probe_app(tmp_path / "two" / "app", requirements=REQUIREMENTS + "# changed\n")
    second = compile_app(buildpack, app, cache)
    assert second.returncode == 0, second.stdout
    assert RESTORED not in second.stdout
    assert INSTALLING in second.stdout.splitlines()
    assert "       Successfully installed dockyard-probe-1.0" in second.stdout.splitlines()
    ran = run_in_slug(app, "dockyard-probe")
    assert (ran.returncode, ran.stdout) == (0, MARKER + "\n"), ran.stderr
    # and the changed requirements are now what the cache restores
    third = compile_app(
        buildpack,
        probe_app(tmp_path / "three" / "app", requirements=REQUIREMENTS + "# changed\n"),
        cache,
    )
    assert third.returncode == 0, third.stdout
    assert RESTORED in third.stdout


# choosing the interpreter -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({".python-version": f"{HOST_MINOR}\n"}, f"{HOST_MINOR}."),
        ({".python-version": f"# pinned\n\npython{HOST_VERSION}\n"}, f"{HOST_VERSION} ("),
        ({"runtime.txt": f"python-{HOST_VERSION}\n"}, f"{HOST_VERSION} ("),
        (
            {".python-version": f"{HOST_VERSION}\n", "runtime.txt": "python-3.4.0\n"},
            f"{HOST_VERSION} (",
        ),
    ],
    ids=["python-version-minor", "python-version-comment", "runtime-txt", "python-version-wins"],
)
def test_the_app_chooses_its_python_version(
    buildpack: Path, tmp_path: Path, shared_cache: Path, files: dict[str, str], expected: str
) -> None:
    app = probe_app(tmp_path / "app")
    for name, text in files.items():
        (app / name).write_text(text)
    done = compile_app(buildpack, app, shared_cache)
    assert done.returncode == 0, done.stdout
    heading = done.stdout.splitlines()[0]
    assert heading.startswith(f"-----> Using Python {expected}"), done.stdout
    chosen = heading.removeprefix("-----> Using Python ").split(" ")[0]
    ran = run_in_slug(app, "python -c 'import sys; print(\"%d.%d.%d\" % sys.version_info[:3])'")
    assert ran.stdout.strip() == chosen, ran.stderr


@pytest.mark.parametrize(
    ("name", "text"), [(".python-version", "3.4\n"), ("runtime.txt", "python-3.4.10\n")]
)
def test_a_python_the_host_lacks_fails_listing_what_there_is(
    buildpack: Path, tmp_path: Path, name: str, text: str
) -> None:
    app = probe_app(tmp_path / "app")
    (app / name).write_text(text)
    done = compile_app(buildpack, app, tmp_path / "cache")
    assert done.returncode == 1
    wanted = text.strip().removeprefix("python-")
    message = done.stdout.splitlines()[-1]
    assert message.startswith(
        f" !     Python {wanted} (from {name}) is not installed on this host. Available: "
    ), done.stdout
    assert f"{HOST_VERSION} (/usr/bin/python3)" in message
    assert message.endswith(f"Ask for one of those in {name}.")
    assert not (app / ".venv").exists()


@pytest.mark.parametrize(
    ("name", "text", "shown"),
    [
        (".python-version", "latest\n", "'latest'"),
        (".python-version", "3\n", "'3'"),
        (".python-version", "# nothing but a comment\n", "''"),
        ("runtime.txt", "ruby-3.2.0\n", "'ruby-3.2.0'"),
    ],
)
def test_a_malformed_version_file_fails_with_its_message(
    buildpack: Path, tmp_path: Path, name: str, text: str, shown: str
) -> None:
    app = probe_app(tmp_path / "app")
    (app / name).write_text(text)
    done = compile_app(buildpack, app, tmp_path / "cache")
    assert done.returncode == 1
    assert done.stdout.splitlines()[-1] == (
        f" !     {name} says {shown}: write a Python version such as 3.11 or 3.11.2"
    )
    assert not (app / ".venv").exists()


def test_dockyard_pythons_adds_interpreters_to_the_choices(
    buildpack: Path, tmp_path: Path, shared_cache: Path
) -> None:
    # A PATH with the tools the scripts use but no Python at all.
    tools = tmp_path / "tools"
    tools.mkdir()
    for tool in ("dirname", "realpath", "cp"):
        found = shutil.which(tool, path=RUN_PATH)
        assert found is not None
        (tools / tool).symlink_to(found)
    alone = compile_app(
        buildpack, probe_app(tmp_path / "one" / "app"), shared_cache, path=str(tools)
    )
    assert alone.returncode == 1
    assert "No Python 3.8 or newer that this build may run is installed on this host" in (
        alone.stdout
    )

    app = probe_app(tmp_path / "two" / "app")
    done = compile_app(
        buildpack,
        app,
        shared_cache,
        path=str(tools),
        DOCKYARD_PYTHONS=f"{tmp_path}/no-such-python:/usr/bin/python3",
    )
    assert done.returncode == 0, done.stdout
    assert done.stdout.splitlines()[0] == f"-----> Using Python {HOST_VERSION} (/usr/bin/python3)"
    assert (app / ".venv" / "bin" / "dockyard-probe").is_file()


def test_pip_settings_in_env_dir_reach_pip_and_other_config_does_not(
    buildpack: Path, tmp_path: Path
) -> None:
    app = probe_app(tmp_path / "app", requirements="dockyard-not-in-wheels==1.0\n")
    log = tmp_path / "pip.log"
    config = {
        "PIP_INDEX_URL": "http://127.0.0.1:9/simple",
        "PIP_RETRIES": "0",
        "PIP_DEFAULT_TIMEOUT": "2",
        # pip would write this log if it saw the variable: the app's config is not for pip
        "PIP_LOG": str(log),
        "DATABASE_URL": "postgres://secret@db/app",
    }
    done = compile_app(buildpack, app, tmp_path / "cache", config=config)
    assert done.returncode == 1, done.stdout
    assert "Looking in indexes: http://127.0.0.1:9/simple" in done.stdout
    assert "dockyard-not-in-wheels" in done.stdout
    assert done.stdout.splitlines()[-1].startswith(
        " !     pip could not install the requirements (exit status 1)"
    )
    assert not log.exists()
    assert "secret" not in done.stdout


# release ------------------------------------------------------------------------------------


def test_release_declares_no_default_process_types(buildpack: Path, tmp_path: Path) -> None:
    app = probe_app(tmp_path / "app")
    done = run(buildpack, "release", app)
    assert (done.returncode, done.stdout) == (0, "---\ndefault_process_types: {}\n")
    assert parse_release(done.stdout) == {}
