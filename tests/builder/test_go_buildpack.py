"""The built-in ``go`` buildpack, as the builder and the platform run it.

The buildpack is copied to a directory of its own first (the builder does the same), its
scripts run as subprocesses with the builder's minimal environment on modules written into tmp
dirs, and the compiled slug is moved elsewhere and run exactly as ``bin/release`` says
(``/bin/sh -c``, in the slug, ``HOME`` = the slug, ``.profile.d/*.sh`` sourced, ``$PORT``),
then checked over HTTP. Everything is offline: stdlib only, or a vendored module.

Go may not be installed where these run: the tests that compile skip then (CI installs it).
The "no go on PATH" failure and ``bin/release`` need no Go.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

from tests.builder import scripts
from tests.builder.scripts import RUN_PATH, free_port, link_tools, write_files

SOURCE = scripts.BUILDPACKS / "go"


def _go_build_path() -> str | None:
    """The builder's PATH, with go's directory in front when go is not already on it (e.g.
    Debian's /usr/lib/go-1.x/bin, or a CI toolcache); None without Go."""
    go = shutil.which("go")
    if go is None:
        found = sorted(glob.glob("/usr/lib/go-*/bin/go"))
        go = found[-1] if found else None
    if go is None:
        return None
    if shutil.which("go", path=RUN_PATH) == go:
        return RUN_PATH
    return f"{os.path.dirname(go)}:{RUN_PATH}"


GO_PATH = _go_build_path()
needs_go = pytest.mark.skipif(
    GO_PATH is None, reason="Go is not installed on this host (no go on PATH)"
)

HELLO_GO = """\
package main

import (
	"fmt"
	"net/http"
	"os"
)

func main() {
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello from go %s", r.URL.Path)
	})
	if err := http.ListenAndServe("127.0.0.1:"+os.Getenv("PORT"), nil); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
"""
WORKER_GO = """\
package main

import "fmt"

func main() { fmt.Println("worker") }
"""


# The builder's environment (with its STACK), and a cold Go build's time (the standard library).
minimal_env = partial(scripts.minimal_env, STACK="dockyard")
run = partial(scripts.run, timeout=600, STACK="dockyard")
compile_app = partial(scripts.compile_app, path=GO_PATH or RUN_PATH, timeout=600, STACK="dockyard")


@pytest.fixture
def buildpack(tmp_path: Path) -> Path:
    return scripts.copy_buildpack("go", tmp_path / "buildpacks")


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One CACHE_DIR for the tests that are not about the cache (compiling the standard
    library once is most of a cold build)."""
    return tmp_path_factory.mktemp("go-cache")


def hello_module(app: Path) -> Path:
    return write_files(
        app,
        {
            "go.mod": "module example.com/hello\n\ngo 1.18\n",
            "main.go": HELLO_GO,
            "cmd/worker/main.go": WORKER_GO,
        },
    )


def release_command(buildpack: Path, app: Path) -> str:
    released = run(buildpack, "release", app)
    assert released.returncode == 0, released.stdout
    lines = released.stdout.splitlines()
    assert lines[:2] == ["---", "default_process_types:"], released.stdout
    assert len(lines) == 3 and lines[2].startswith("  web: "), released.stdout
    return lines[2].removeprefix("  web: ")


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Processes a test starts, each in a session of its own; all stopped at teardown."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for proc in started:
        scripts.stop_session(proc)


def serve(processes: list[subprocess.Popen[bytes]], slug: Path, command: str) -> str:
    """Runs ``command`` in the slug as the platform runs a web process; the body of GET
    /ping."""
    port = free_port()
    log = slug.parent / f"{slug.name}.log"
    proc = scripts.start_in_slug(slug, command, minimal_env(slug, PORT=str(port)), log)
    processes.append(proc)
    return scripts.body_when_serving(proc, port, "/ping", log)


def compiled_packages(output: str) -> set[str]:
    """The packages ``go build -v`` listed as compiled: the detail lines of the compile
    section, but for the one saying what was built."""
    packages: set[str] = set()
    inside = False
    for line in output.splitlines():
        if line.startswith("-----> "):
            inside = line.startswith("-----> Compiling")
        elif inside and line.strip() and not line.strip().startswith("Built "):
            packages.add(line.strip())
    return packages


def test_scripts_are_executable_posix_sh() -> None:
    scripts.assert_posix_sh_scripts(SOURCE)


def test_detect(buildpack: Path, tmp_path: Path) -> None:
    app = hello_module(tmp_path / "app")
    detected = run(buildpack, "detect", app)
    assert (detected.returncode, detected.stdout) == (0, "Go\n")

    other = write_files(tmp_path / "other", {"main.go": WORKER_GO})
    skipped = run(buildpack, "detect", other)
    assert (skipped.returncode, skipped.stdout) == (1, "")


@needs_go
def test_compile_builds_every_main_package_reuses_the_cache_and_serves(
    buildpack: Path, tmp_path: Path, processes: list[subprocess.Popen[bytes]]
) -> None:
    cache = tmp_path / "cache"
    first_app = hello_module(tmp_path / "first" / "app")
    started = time.monotonic()
    first = compile_app(buildpack, first_app, cache)
    cold = time.monotonic() - started
    assert first.returncode == 0, first.stdout
    go_version = subprocess.run(
        ["go", "version"], env=minimal_env(tmp_path, GO_PATH or RUN_PATH), capture_output=True
    )
    assert go_version.stdout.decode().strip() in first.stdout
    compiled = compiled_packages(first.stdout)
    assert {"net/http", "example.com/hello", "example.com/hello/cmd/worker"} <= compiled
    for binary in ("hello", "worker"):
        assert os.access(first_app / "bin" / binary, os.X_OK), binary
    assert any((cache / "go-build").iterdir())
    profile = (first_app / ".profile.d/go.sh").read_text()
    assert "$HOME/bin" in profile
    assert str(first_app) not in profile

    # The next push: a fresh checkout in another directory, the same cache. Nothing is
    # compiled again (-trimpath keeps the build dir out of the cache keys).
    app = hello_module(tmp_path / "second" / "app")
    started = time.monotonic()
    second = compile_app(buildpack, app, cache)
    warm = time.monotonic() - started
    assert second.returncode == 0, second.stdout
    assert compiled_packages(second.stdout) == set(), second.stdout
    assert os.access(app / "bin/hello", os.X_OK)
    print(f"go compile: cold {cold:.1f}s, warm {warm:.1f}s")

    command = release_command(buildpack, app)
    assert command == "bin/hello"

    # The slug may run from another path: nothing in it may name the build dir.
    slug = tmp_path / "elsewhere" / "slug"
    shutil.copytree(app, slug, symlinks=True)
    shutil.rmtree(app)
    assert serve(processes, slug, command) == "hello from go /ping"
    # bin/ is on PATH at run time.
    worker = subprocess.run(
        ["/bin/sh", "-c", ". ./.profile.d/go.sh; worker"],
        cwd=slug,
        env=minimal_env(slug),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert (worker.returncode, worker.stdout) == (0, "worker\n")


@needs_go
def test_vendor_directory_is_used(buildpack: Path, tmp_path: Path, shared_cache: Path) -> None:
    # example.com/greet exists only in vendor/. With "go 1.13" in go.mod, go itself would not
    # use vendor/ (it does from 1.14): only the buildpack's -mod=vendor makes this build work.
    app = write_files(
        tmp_path / "app",
        {
            "go.mod": "module example.com/vend\n\ngo 1.13\n\nrequire example.com/greet v1.0.0\n",
            "main.go": (
                'package main\n\nimport (\n\t"fmt"\n\n\t"example.com/greet"\n)\n\n'
                "func main() { fmt.Println(greet.Hello()) }\n"
            ),
            "vendor/modules.txt": "# example.com/greet v1.0.0\n## explicit\nexample.com/greet\n",
            "vendor/example.com/greet/greet.go": (
                'package greet\n\nfunc Hello() string { return "hello from vendor/" }\n'
            ),
        },
    )
    result = compile_app(buildpack, app, shared_cache)
    assert result.returncode == 0, result.stdout
    assert "-mod=vendor" in result.stdout
    assert {"example.com/greet", "example.com/vend"} <= compiled_packages(result.stdout)
    assert not (shared_cache / "go-mod" / "example.com").exists(), "nothing was downloaded"
    assert release_command(buildpack, app) == "bin/vend"
    ran = subprocess.run([app / "bin/vend"], capture_output=True, text=True, timeout=30)
    assert ran.stdout == "hello from vendor/\n"


@needs_go
def test_a_library_root_with_one_command(
    buildpack: Path, tmp_path: Path, shared_cache: Path
) -> None:
    app = write_files(
        tmp_path / "app",
        {
            "go.mod": "module example.com/tools/v2\n\ngo 1.18\n",
            "tools.go": 'package tools\n\nfunc Name() string { return "tools" }\n',
            "cmd/server/main.go": WORKER_GO,
        },
    )
    result = compile_app(buildpack, app, shared_cache)
    assert result.returncode == 0, result.stdout
    assert sorted(p.name for p in (app / "bin").iterdir()) == ["server"]
    assert release_command(buildpack, app) == "bin/server"


@needs_go
def test_cgo_enabled_from_env_dir(buildpack: Path, tmp_path: Path, shared_cache: Path) -> None:
    app = write_files(
        tmp_path / "app",
        {
            "go.mod": "module example.com/cgo\n\ngo 1.18\n",
            # Builds only with cgo off: a file constrained to cgo builds breaks it otherwise.
            "main.go": WORKER_GO,
            "cgo.go": '//go:build cgo\n\npackage main\n\nvar broken int = "not an int"\n',
        },
    )
    off = compile_app(buildpack, app, shared_cache)
    assert off.returncode == 0, off.stdout
    assert "CGO_ENABLED=0" in off.stdout

    on = compile_app(buildpack, app, shared_cache, {"CGO_ENABLED": "1"})
    assert on.returncode != 0
    assert "CGO_ENABLED=1" in on.stdout
    assert "cgo.go:5:" in on.stdout


@needs_go
def test_a_compile_error_fails_with_go_s_message(
    buildpack: Path, tmp_path: Path, shared_cache: Path
) -> None:
    app = write_files(
        tmp_path / "app",
        {
            "go.mod": "module example.com/broken\n\ngo 1.18\n",
            "main.go": "package main\n\nfunc main() {\n\tnotDefinedAnywhere()\n}\n",
        },
    )
    result = compile_app(buildpack, app, shared_cache)
    assert result.returncode != 0
    assert "undefined: notDefinedAnywhere" in result.stdout
    assert "-----> Error: go build failed" in result.stdout
    assert not (app / "bin").exists()


def test_no_go_on_path_fails_clearly(buildpack: Path, tmp_path: Path) -> None:
    # A host with the usual tools but no Go.
    tools = link_tools(tmp_path / "tools", "sh", "awk", "cat", "cp", "mkdir", "mktemp", "mv", "rm")
    app = hello_module(tmp_path / "app")
    result = compile_app(buildpack, app, tmp_path / "cache", path=str(tools))
    assert result.returncode != 0
    assert result.stdout.startswith(
        "-----> Error: Go is not installed on this host (no go on PATH)"
    )
    assert not (app / "bin").exists()
    assert not (app / ".profile.d").exists()


@pytest.mark.parametrize(
    ("module", "binaries", "web"),
    [
        ("example.com/hello", ["hello", "worker"], "bin/hello"),
        ('"example.com/quoted"', ["quoted", "worker"], "bin/quoted"),
        ("example.com/app/v3", ["app", "worker"], "bin/app"),
        ("example.com/lib", ["server"], "bin/server"),
        ("example.com/lib", ["server", "worker"], None),
        ("example.com/lib", [], None),
    ],
)
def test_release_names_the_root_binary_or_the_only_one(
    buildpack: Path, tmp_path: Path, module: str, binaries: list[str], web: str | None
) -> None:
    app = write_files(tmp_path / "app", {"go.mod": f"module {module}\r\n\r\ngo 1.18\r\n"})
    (app / "bin").mkdir()
    for name in binaries:
        (app / "bin" / name).write_text("#!/bin/sh\n")
        (app / "bin" / name).chmod(0o755)
    if web is not None:
        assert release_command(buildpack, app) == web
    else:
        released = run(buildpack, "release", app)
        assert (released.returncode, released.stdout) == (0, "---\ndefault_process_types: {}\n")
