#!/usr/bin/env python
"""Fuzz the running API with schemathesis, authenticated, over every operation of its own
``/openapi.json``. A standalone script (pytest only collects ``test_*.py``):

    python tests/fuzz/run_schemathesis.py [--max-examples N] [--seed S] [-- <schemathesis args>]

What it does:

1. starts ``dockyard server`` (``python -m dockyard server``) on 127.0.0.1 and a free port,
   with ``DOCKYARD_WORKERS=1`` and a fresh SQLite database in a temporary
   ``DOCKYARD_DATA_DIR`` -- or, when ``DOCKYARD_FUZZ_DATABASE_URL`` is set, that database
   (it must be empty: the first registered user has to become the superuser);
2. waits for ``/healthz``, then seeds data: a superuser (the first user registered) who owns an
   app shared with a second user and has an SSH key, and a second, sacrificial superuser;
3. pass "token-destroying": only the two operations that destroy the caller's credentials, as
   the sacrificial superuser, whose token comes from ``relogin_hooks.py`` (a dynamic auth
   provider that logs in again on a 401 and replays the request);
4. pass "main": every other operation, with ``Authorization: token <t>`` of the first
   superuser (logged in afresh, since the previous pass may have revoked every token);
5. always stops the server (SIGTERM, then SIGKILL), prints a summary, and exits 1 if either
   pass reported a failure or the server logged an unhandled exception.

Why two passes: ``POST /v2/auth/tokens`` revokes the caller's tokens (every user's with
``all=true``) and ``DELETE /v2/auth/cancel`` deletes the caller's account (and so do their
``/v1`` twins). With one static
token, the first time the fuzzer succeeded at either, every later request would answer 401 and
the rest of the run would test nothing but authentication. Their own pass fuzzes them fully
anyway: its user owns an app (so cancelling itself answers 409 and it never disappears), and
a revoked token is simply replaced. It runs first because it can change nothing the main pass
relies on, whereas the main pass (a superuser may set anyone's password with
``POST /v2/auth/passwd``) could lock the sacrificial user out. ``POST /v2/auth/passwd``
revokes no token, so it stays in the main pass.

Determinism: a fixed ``--seed``, a bounded ``--max-examples``, one schemathesis worker by
default, and no hypothesis example database (``--generation-database none``), so every run
of the same code sends the same requests.

Environment: ``DOCKYARD_FUZZ_DATABASE_URL`` (optional, see above), ``DOCKYARD_FUZZ_REPORT_DIR``
(optional: also write JUnit XML reports there, like ``--report-dir``).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
HOOKS = HERE / "relogin_hooks.py"

# The operations that destroy the caller's own credentials (see the module docstring). Each of
# these paths has exactly one method, so a path filter selects exactly these operations.
TOKEN_DESTROYING_PATHS = r"^/v[12]/auth/(cancel|tokens)$"

CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance"
DEFAULT_SEED = 20240601
DEFAULT_MAX_EXAMPLES = 100

ADMIN, SECOND, VICTIM = "fuzz-admin", "fuzz-user", "fuzz-victim"


class SetupError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def call(
    base: str, method: str, path: str, body: dict[str, Any] | None = None, token: str | None = None
) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"token {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    except (OSError, urllib.error.URLError) as exc:
        raise SetupError(f"{method} {path}: {exc}") from None
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw.decode(errors="replace")


def expect(
    want: int,
    base: str,
    method: str,
    path: str,
    body: dict[str, Any] | None = None,
    token: str | None = None,
) -> Any:
    status, payload = call(base, method, path, body, token)
    if status != want:
        raise SetupError(f"{method} {path}: expected {want}, got {status}: {payload}")
    return payload


def ssh_public_key() -> str:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    public = Ed25519PrivateKey.generate().public_key()
    return public.public_bytes(Encoding.OpenSSH, PublicFormat.OpenSSH).decode() + " fuzz@ci"


def start_server(port: int, data_dir: Path, log_path: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env.update(
        DOCKYARD_DATA_DIR=str(data_dir),
        DOCKYARD_WORKERS="1",
        DOCKYARD_REGISTRATION_MODE="enabled",
        DOCKYARD_LOG_LEVEL="info",
        # No build source is acceptable, so the fuzzer can never build an app: no host
        # directory gets copied and no app process (or one-off ``run`` command) ever starts.
        DOCKYARD_LOCAL_SOURCE_ROOTS="",
        # Its data dir is a private temporary directory; no app process runs anyway.
        DOCKYARD_APP_USER="",
        # The edge router on free ports: nothing is fuzzed through it, but it must start.
        DOCKYARD_ROUTER_HTTP_PORT=str(free_port()),
        DOCKYARD_ROUTER_HTTPS_PORT=str(free_port()),
        DOCKYARD_SSH_PORT=str(free_port()),
        PYTHONUNBUFFERED="1",
    )
    env.pop("DOCKYARD_DATABASE_URL", None)
    if os.environ.get("DOCKYARD_FUZZ_DATABASE_URL"):
        env["DOCKYARD_DATABASE_URL"] = os.environ["DOCKYARD_FUZZ_DATABASE_URL"]
    command = [
        sys.executable,
        "-m",
        "dockyard",
        "server",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
    ]
    with log_path.open("wb") as log:
        # A session of its own, so stopping the group also stops any worker it forked.
        return subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    for sig, grace in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue


def wait_healthy(base: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SetupError(f"the server exited with code {proc.returncode} before /healthz")
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except (OSError, urllib.error.URLError):
            pass
        time.sleep(0.2)
    raise SetupError(f"/healthz did not answer within {timeout:.0f}s")


def login(base: str, username: str, password: str) -> str:
    token: str = expect(
        200, base, "POST", "/v2/auth/login", {"username": username, "password": password}
    )["token"]
    return token


def seed(base: str, passwords: dict[str, str]) -> None:
    """Data for the fuzzer to find: a superuser (the first user registered) owning an app
    shared with a second user and an SSH key; and the sacrificial superuser of the
    token-destroying pass, who owns an app so that it can never cancel its own account."""
    admin = expect(
        201,
        base,
        "POST",
        "/v2/auth/register",
        {"username": ADMIN, "password": passwords[ADMIN], "email": "fuzz@example.com"},
    )
    if not admin.get("is_superuser"):
        raise SetupError("the first user is not a superuser: the database must be empty")
    token = login(base, ADMIN, passwords[ADMIN])
    for user in (SECOND, VICTIM):
        expect(
            201, base, "POST", "/v2/auth/register", {"username": user, "password": passwords[user]}
        )
    expect(201, base, "POST", "/v2/apps", {"id": "fuzz-app"}, token)
    expect(201, base, "POST", "/v2/apps/fuzz-app/perms", {"username": SECOND}, token)
    expect(201, base, "POST", "/v2/keys", {"id": "fuzz-key", "public": ssh_public_key()}, token)
    expect(201, base, "POST", "/v2/admin/perms", {"username": VICTIM}, token)
    victim = login(base, VICTIM, passwords[VICTIM])
    expect(201, base, "POST", "/v2/apps", {"id": "fuzz-victim-app"}, victim)


def schemathesis_executable() -> str:
    sibling = Path(sys.executable).parent / "schemathesis"
    if sibling.exists():
        return str(sibling)
    found = shutil.which("schemathesis")
    if not found:
        raise SetupError("schemathesis is not installed (pip install -e '.[test]')")
    return found


def run_pass(
    name: str,
    base: str,
    args: argparse.Namespace,
    workdir: Path,
    *,
    selection: list[str],
    token: str | None = None,
    env_extra: dict[str, str] | None = None,
) -> tuple[int, dict[str, Any] | None, float]:
    report = workdir / f"{name}.json"
    command = [
        schemathesis_executable(),
        "run",
        f"{base}/openapi.json",
        "--checks",
        args.checks,
        "--max-examples",
        str(args.max_examples),
        "--seed",
        str(args.seed),
        "--workers",
        str(args.workers),
        "--generation-database",
        "none",
        "--request-timeout",
        "30",
        "--no-color",
        "--report",
        "json" + (",junit" if args.report_dir else ""),
        "--report-json-path",
        str(report),
        *selection,
    ]
    if args.report_dir:
        command += ["--report-junit-path", str(Path(args.report_dir) / f"schemathesis-{name}.xml")]
    if token:
        command += ["--header", f"Authorization: token {token}"]
    command += args.extra
    env = dict(os.environ, **(env_extra or {}))
    shown = " ".join(re.sub(r"token \S+", "token <redacted>", part) for part in command)
    print(f"\n=== schemathesis pass: {name}\n$ {shown}", flush=True)
    started = time.monotonic()
    code = subprocess.call(command, env=env, cwd=workdir)
    elapsed = time.monotonic() - started
    summary = json.loads(report.read_text()) if report.exists() else None
    return code, summary, elapsed


def unhandled_errors(log_path: Path) -> list[str]:
    """The first line of every exception the server logged as unhandled (a 500)."""
    text = log_path.read_text(errors="replace") if log_path.exists() else ""
    return [line for line in text.splitlines() if "unhandled error on" in line]


def print_summary(
    results: list[tuple[str, int, dict[str, Any] | None, float]],
    server_errors: list[str],
    total: float,
) -> None:
    print("\n=== fuzzing summary")
    for name, code, summary, elapsed in results:
        if summary is None:
            print(f"- {name}: exit {code}, no report ({elapsed:.0f}s)")
            continue
        ops, cases = summary.get("operations") or {}, summary.get("test_cases") or {}
        print(
            f"- {name}: exit {code}, {ops.get('tested', 0)}/{ops.get('selected', 0)} operations, "
            f"{cases.get('generated', 0)} test cases, "
            f"{cases.get('unique_failures', 0)} unique failures, "
            f"{sum(e['count'] for e in summary.get('errors', []))} errors ({elapsed:.0f}s)"
        )
        for failure in summary.get("failures", []):
            where = ", ".join(failure["operations"])
            print(f"    FAIL {failure['title']} x{failure['count']}: {where}")
        for error in summary.get("errors", []):
            print(f"    ERROR {error['title']} x{error['count']}")
    print(f"- server: {len(server_errors)} unhandled exceptions logged")
    for line in server_errors[:20]:
        print(f"    {line}")
    print(f"- total time: {total:.0f}s")


def parse_args(argv: list[str]) -> argparse.Namespace:
    extra: list[str] = []
    if "--" in argv:
        at = argv.index("--")
        argv, extra = argv[:at], argv[at + 1 :]
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--max-examples",
        type=int,
        default=DEFAULT_MAX_EXAMPLES,
        help="test cases per operation and phase (default %(default)s)",
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--workers", type=int, default=1, help="schemathesis workers")
    parser.add_argument("--checks", default=CHECKS, help="default: %(default)s")
    parser.add_argument(
        "--report-dir",
        default=os.environ.get("DOCKYARD_FUZZ_REPORT_DIR"),
        help="also write JUnit XML reports here",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the temporary directory (database, server log, reports)",
    )
    args = parser.parse_args(argv)
    args.extra = extra
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.report_dir:
        Path(args.report_dir).mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="dockyard-fuzz-"))
    log_path = workdir / "server.log"
    passwords = {user: secrets.token_urlsafe(16) for user in (ADMIN, SECOND, VICTIM)}
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    results: list[tuple[str, int, dict[str, Any] | None, float]] = []
    started = time.monotonic()
    failed = True
    proc = start_server(port, workdir / "data", log_path)
    try:
        wait_healthy(base, proc)
        seed(base, passwords)
        # The token-destroying pass first: it changes nothing the main pass relies on (it
        # cannot change passwords, and cancelling a user who owns an app is refused), while
        # the main pass, as a superuser, may change anyone's password.
        results.append(
            (
                "token-destroying",
                *run_pass(
                    "token-destroying",
                    base,
                    args,
                    workdir,
                    selection=["--include-path-regex", TOKEN_DESTROYING_PATHS],
                    env_extra={
                        "SCHEMATHESIS_HOOKS": str(HOOKS),
                        "DOCKYARD_FUZZ_BASE_URL": base,
                        "DOCKYARD_FUZZ_USERNAME": VICTIM,
                        "DOCKYARD_FUZZ_PASSWORD": passwords[VICTIM],
                    },
                ),
            )
        )
        # ``all=true`` revoked every token, so log in only now.
        token = login(base, ADMIN, passwords[ADMIN])
        results.append(
            (
                "main",
                *run_pass(
                    "main",
                    base,
                    args,
                    workdir,
                    token=token,
                    selection=["--exclude-path-regex", TOKEN_DESTROYING_PATHS],
                ),
            )
        )
        failed = any(code != 0 for _, code, _, _ in results)
    except SetupError as exc:
        print(f"fuzz setup failed: {exc}", file=sys.stderr)
    finally:
        if proc.poll() is not None:
            print(f"the server exited early, with code {proc.returncode}", file=sys.stderr)
            failed = True
        stop_server(proc)
    server_errors = unhandled_errors(log_path)
    print_summary(results, server_errors, time.monotonic() - started)
    if server_errors or not results:
        failed = True
        print(f"\n--- server log ({log_path}), last 60 lines:")
        lines = log_path.read_text(errors="replace").splitlines() if log_path.exists() else []
        print("\n".join(lines[-60:]))
    if args.keep or failed:
        print(f"\nkept: {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    print("\nRESULT:", "FAILED" if failed else "OK")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
