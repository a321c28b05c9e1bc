"""The built-in ``nodejs`` buildpack, as the builder and the platform run it.

The buildpack is copied to a directory of its own first (the builder does the same), its
scripts run as subprocesses with the builder's minimal environment on apps written into tmp
dirs, and the compiled slug is moved elsewhere and run exactly as ``bin/release`` says
(``/bin/sh -c``, in the slug, ``HOME`` = the slug, ``.profile.d/*.sh`` sourced, ``$PORT``),
then checked over HTTP. The apps have no registry dependencies (only ``file:`` ones), so
everything works offline.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

from tests.builder import scripts
from tests.builder.scripts import free_port, link_tools, write_files

SOURCE = scripts.BUILDPACKS / "nodejs"
RESTORED = "       Restored node_modules from the build cache"

needs_node = pytest.mark.skipif(
    shutil.which("node") is None or shutil.which("npm") is None,
    reason="node and npm are not installed on this host",
)

PACKAGE_JSON = {
    "name": "hello",
    "version": "1.0.0",
    "private": True,
    "scripts": {
        "build": "node build.js",
        "postinstall": "node postinstall.js",
        "start": "node server.js",
    },
}
# A valid lockfile (v3) for PACKAGE_JSON: no dependencies.
PACKAGE_LOCK = {
    "name": "hello",
    "version": "1.0.0",
    "lockfileVersion": 3,
    "requires": True,
    "packages": {"": {"name": "hello", "version": "1.0.0"}},
}
BUILD_JS = """\
const fs = require("fs");
fs.mkdirSync("public", { recursive: true });
fs.writeFileSync("public/built.txt", "made by the build script");
"""
POSTINSTALL_JS = """require("fs").writeFileSync("postinstall.txt", "made by postinstall");\n"""
SERVER_JS = """\
const fs = require("fs");
const http = require("http");
const built = fs.readFileSync("public/built.txt", "utf8");
http
  .createServer((req, res) => {
    res.end(`hello from node; ${built}; NODE_ENV=${process.env.NODE_ENV}`);
  })
  .listen(Number(process.env.PORT), "127.0.0.1");
"""


# The builder's environment, with its STACK.
minimal_env = partial(scripts.minimal_env, STACK="dockyard")
run = partial(scripts.run, STACK="dockyard")
compile_app = partial(scripts.compile_app, STACK="dockyard")


@pytest.fixture
def buildpack(tmp_path: Path) -> Path:
    return scripts.copy_buildpack("nodejs", tmp_path / "buildpacks")


def write_app(app: Path, package: dict[str, object], files: dict[str, str]) -> Path:
    app.mkdir(parents=True)
    (app / "package.json").write_text(json.dumps(package, indent=2) + "\n")
    return write_files(app, files)


def hello_app(app: Path) -> Path:
    return write_app(
        app,
        PACKAGE_JSON,
        {
            "package-lock.json": json.dumps(PACKAGE_LOCK, indent=2) + "\n",
            "build.js": BUILD_JS,
            "postinstall.js": POSTINSTALL_JS,
            "server.js": SERVER_JS,
        },
    )


class Processes:
    """Processes a test starts, each in a session of its own; all stopped at teardown."""

    def __init__(self) -> None:
        self.started: list[subprocess.Popen[bytes]] = []

    def start(self, slug: Path, command: str, port: int, log: Path) -> subprocess.Popen[bytes]:
        proc = scripts.start_in_slug(slug, command, minimal_env(slug, PORT=str(port)), log)
        self.started.append(proc)
        return proc

    def stop_all(self) -> None:
        for proc in self.started:
            # The whole session: npm start runs node under a shell of its own.
            scripts.stop_session(proc)
            # Wait for the rest of the group (npm's children) to be gone as well.
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                try:
                    os.killpg(proc.pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.05)


@pytest.fixture
def processes() -> Iterator[Processes]:
    procs = Processes()
    yield procs
    procs.stop_all()


def serve(processes: Processes, slug: Path, command: str) -> str:
    """Runs ``command`` in the slug as the platform runs a web process; the body of GET /."""
    port = free_port()
    log = slug.parent / f"{slug.name}.log"
    proc = processes.start(slug, command, port, log)
    return scripts.body_when_serving(proc, port, "/", log)


def installed_version(command: str) -> str:
    return subprocess.run(
        [command, "--version"], capture_output=True, text=True, check=True
    ).stdout.strip()


def test_scripts_are_executable_posix_sh() -> None:
    scripts.assert_posix_sh_scripts(SOURCE)


def test_detect(buildpack: Path, tmp_path: Path) -> None:
    app = hello_app(tmp_path / "app")
    detected = run(buildpack, "detect", app)
    assert (detected.returncode, detected.stdout) == (0, "Node.js\n")

    other = tmp_path / "other"
    other.mkdir()
    (other / "index.js").write_text("console.log(1)\n")
    skipped = run(buildpack, "detect", other)
    assert (skipped.returncode, skipped.stdout) == (1, "")


@needs_node
def test_compile_restores_node_modules_from_cache_and_serves(
    buildpack: Path, tmp_path: Path, processes: Processes
) -> None:
    cache = tmp_path / "cache"
    first_app = hello_app(tmp_path / "first" / "app")
    first = compile_app(buildpack, first_app, cache)
    assert first.returncode == 0, first.stdout
    assert first.stdout.startswith("-----> ")
    assert installed_version("node") in first.stdout
    assert installed_version("npm") in first.stdout
    assert "Running npm ci" in first.stdout
    assert RESTORED not in first.stdout
    assert (first_app / "public/built.txt").read_text() == "made by the build script"
    assert (first_app / "postinstall.txt").is_file()
    assert (first_app / "node_modules").is_dir()
    assert (cache / "npm").is_dir()
    assert (cache / "node_modules").is_dir()
    assert (cache / "node_modules.key").read_text().strip()
    profile = (first_app / ".profile.d/nodejs.sh").read_text()
    assert "$HOME/node_modules/.bin" in profile
    assert str(first_app) not in profile

    # The next push: a fresh checkout of the same source, the same cache.
    app = hello_app(tmp_path / "second" / "app")
    second = compile_app(buildpack, app, cache)
    assert second.returncode == 0, second.stdout
    assert RESTORED in second.stdout.splitlines()
    assert "npm ci" not in second.stdout
    assert (app / "node_modules").is_dir()
    assert (app / "public/built.txt").read_text() == "made by the build script"
    assert (app / "postinstall.txt").is_file(), "the app's postinstall runs on a cache hit too"

    released = run(buildpack, "release", app)
    assert released.returncode == 0
    assert released.stdout == "---\ndefault_process_types:\n  web: npm start\n"

    # The slug may run from another path: nothing in it may name the build dir.
    slug = tmp_path / "elsewhere" / "slug"
    shutil.copytree(app, slug, symlinks=True)
    shutil.rmtree(app)
    body = serve(processes, slug, "npm start")
    assert body == "hello from node; made by the build script; NODE_ENV=production"


@needs_node
def test_without_a_lockfile_npm_install_runs_and_a_changed_package_json_reinstalls(
    buildpack: Path, tmp_path: Path, processes: Processes
) -> None:
    package = {
        "name": "unlocked",
        "version": "1.0.0",
        "private": True,
        "dependencies": {"greet": "file:./greet"},
    }
    greet_files = {
        "greet/package.json": json.dumps(
            {"name": "greet", "version": "1.0.0", "bin": {"greet": "cli.js"}}
        ),
        "greet/cli.js": "#!/usr/bin/env node\nconsole.log(`greetings on ${process.env.PORT}`);\n",
    }
    cache = tmp_path / "cache"
    app = write_app(tmp_path / "first" / "app", package, greet_files)
    first = compile_app(buildpack, app, cache)
    assert first.returncode == 0, first.stdout
    assert "running npm install" in first.stdout
    assert "npm ci" not in first.stdout
    assert (app / "package-lock.json").is_file(), "npm install writes the lockfile"
    assert (app / "node_modules/greet/package.json").is_file()

    # The dependency's bin is on PATH at run time, through .profile.d.
    released = run(buildpack, "release", app)
    assert released.stdout.endswith("  web: npm start\n")
    proc = processes.start(app, "greet", 4321, tmp_path / "greet.log")
    assert proc.wait(timeout=30) == 0
    assert (tmp_path / "greet.log").read_text() == "greetings on 4321\n"

    # The same package.json again restores; a changed one installs again.
    same = compile_app(buildpack, write_app(tmp_path / "same" / "app", package, greet_files), cache)
    assert same.returncode == 0, same.stdout
    assert RESTORED in same.stdout.splitlines()

    changed = {**package, "dependencies": {"greet": "file:./greet", "other": "file:./other"}}
    other_files = {**greet_files, "other/package.json": '{"name": "other", "version": "2.0.0"}'}
    app = write_app(tmp_path / "changed" / "app", changed, other_files)
    third = compile_app(buildpack, app, cache)
    assert third.returncode == 0, third.stdout
    assert RESTORED not in third.stdout
    assert "running npm install" in third.stdout
    assert (app / "node_modules/other/package.json").is_file()


@needs_node
@pytest.mark.parametrize(
    ("config", "dev_installed"),
    [
        ({}, True),
        ({"NODE_ENV": "production"}, False),
        ({"NODE_ENV": "production", "NPM_CONFIG_PRODUCTION": "false"}, True),
        ({"NPM_CONFIG_PRODUCTION": "true"}, False),
    ],
)
def test_node_env_and_npm_config_production_from_env_dir(
    buildpack: Path, tmp_path: Path, config: dict[str, str], dev_installed: bool
) -> None:
    package = {
        "name": "configured",
        "version": "1.0.0",
        "private": True,
        "dependencies": {"runtime": "file:./runtime"},
        "devDependencies": {"devtool": "file:./devtool"},
        "scripts": {"build": "node build.js"},
    }
    files = {
        "runtime/package.json": '{"name": "runtime", "version": "1.0.0"}',
        "devtool/package.json": '{"name": "devtool", "version": "1.0.0"}',
        # What the build sees of the app's config.
        "build.js": (
            'require("fs").writeFileSync("seen.json", JSON.stringify('
            "{NODE_ENV: process.env.NODE_ENV || null, SECRET: process.env.SECRET || null}));\n"
        ),
    }
    app = write_app(tmp_path / "app", package, files)
    result = compile_app(buildpack, app, tmp_path / "cache", {**config, "SECRET": "hunter2"})
    assert result.returncode == 0, result.stdout
    assert (app / "node_modules/runtime").exists()
    assert (app / "node_modules/devtool").exists() == dev_installed
    seen = json.loads((app / "seen.json").read_text())
    assert seen["SECRET"] is None, "only NODE_ENV and NPM_CONFIG_PRODUCTION are read"
    if "NODE_ENV" in config:
        assert seen["NODE_ENV"] == config["NODE_ENV"]
    assert "deprecated" not in result.stdout and "warn config" not in result.stdout


@needs_node
def test_a_failing_build_script_fails_the_build(buildpack: Path, tmp_path: Path) -> None:
    package = {
        "name": "broken",
        "version": "1.0.0",
        "private": True,
        "scripts": {"build": "node -e \"console.error('bundler exploded'); process.exit(3)\""},
    }
    app = write_app(tmp_path / "app", package, {})
    result = compile_app(buildpack, app, tmp_path / "cache")
    assert result.returncode != 0
    assert "       bundler exploded" in result.stdout.splitlines()
    assert "-----> Error: the build script failed" in result.stdout


@needs_node
def test_invalid_package_json_fails_clearly(buildpack: Path, tmp_path: Path) -> None:
    app = tmp_path / "app"
    app.mkdir()
    (app / "package.json").write_text('{"name": "oops",\n')
    result = compile_app(buildpack, app, tmp_path / "cache")
    assert result.returncode != 0
    assert "-----> Error: package.json is not valid JSON" in result.stdout
    assert not (app / "node_modules").exists()


@pytest.mark.parametrize(
    ("present", "missing"),
    [(("npm",), "node"), (("node",), "npm"), ((), "node and npm")],
)
def test_missing_node_or_npm_fails_clearly(
    buildpack: Path, tmp_path: Path, present: tuple[str, ...], missing: str
) -> None:
    # A host with the usual tools but no Node.js (or half of it).
    tools = link_tools(
        tmp_path / "tools", "sh", "awk", "cat", "cp", "grep", "mkdir", "mv", "rm", *present
    )
    app = hello_app(tmp_path / "app")
    result = compile_app(buildpack, app, tmp_path / "cache", path=str(tools))
    assert result.returncode != 0
    assert result.stdout.splitlines()[0] == (
        f"-----> Error: Node.js is not installed on this host (no {missing} on PATH)"
    )
    assert not (app / "node_modules").exists()
    assert not (app / ".profile.d").exists()
