"""The ``pre-receive`` hook of every app repository: build and deploy a push to ``main`` or
``master`` before git accepts it.

git runs it with the pushed refs on stdin (``<old> <new> <ref>`` lines) and the endpoint's
``git_env`` (app, user, API URL, builder key). It sends ``git archive <new>`` to the API's
``POST /v2/hooks/git/build/<app>`` as that user and prints the build's output as it
streams back, which git shows the pusher as ``remote: ...`` lines. A failed build or
deploy exits non-zero, so git refuses the push and the ref stays where it was.

Pushes to one repository take turns (an ``flock``), and one that waited is refused if the
branch moved meanwhile (another push landed first): otherwise it would deploy code that
git would then refuse to record. Standard library only: it starts on every push.
"""

from __future__ import annotations

import fcntl
import http.client
import json
import os
import subprocess
import sys
import tempfile
import time
from urllib.parse import quote, urlencode, urlsplit

ZERO = "0" * 40
BUILT = ("refs/heads/main", "refs/heads/master")
DEPLOYED = "dockyard-deployed.json"
SETTLE = 10.0  # how long a ref may take to show a push that just deployed


def say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def git(*args: str) -> str:
    done = subprocess.run(["git", *args], capture_output=True, text=True, check=False)
    return done.stdout.strip() if done.returncode == 0 else ""


def current(ref: str) -> str:
    return git("rev-parse", "--verify", "--quiet", ref) or ZERO


def moved_on(ref: str, old: str) -> str | None:
    """The sha the branch moved to while this push waited, if it did. A push that deployed
    just before may not show in the ref yet (git records it after its hook exits)."""
    try:
        with open(DEPLOYED) as f:
            last = json.load(f)
    except (OSError, ValueError):
        last = {}
    if last.get("ref") == ref and time.time() - float(last.get("at", 0)) < SETTLE:
        deadline = time.monotonic() + SETTLE
        while current(ref) != last.get("sha") and time.monotonic() < deadline:
            time.sleep(0.05)
    now = current(ref)
    return now if now != old else None


def send(archive: str, sha: str) -> int:
    """POST the archive and relay the streamed build; 0 when it deployed."""
    url = urlsplit(os.environ["DOCKYARD_API_URL"])
    query = urlencode({"user": os.environ["DOCKYARD_PUSH_USER"], "sha": sha})
    path = f"/v2/hooks/git/build/{quote(os.environ['DOCKYARD_APP'], safe='')}?{query}"
    conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port or 80, timeout=3600)
    try:
        with open(archive, "rb") as body:
            conn.request(
                "POST",
                path,
                body=body,
                headers={
                    "Content-Type": "application/x-tar",
                    "Content-Length": str(os.fstat(body.fileno()).st_size),
                    "X-Deis-Builder-Auth": os.environ["DOCKYARD_BUILDER_KEY"],
                },
            )
        response = conn.getresponse()
        if response.status != 200:
            say(f" !     {_detail(response.read())}")
            return 1
        outcome: dict[str, object] = {}
        for raw in response:
            event = json.loads(raw)
            if "log" in event:
                say(str(event["log"]))
            else:
                outcome = event
        if "error" in outcome:
            say(f" !     Push rejected. {outcome['error']}")
            return 1
        return 0 if "release" in outcome else _broken()
    except (OSError, http.client.HTTPException, ValueError) as exc:
        say(f" !     Lost the connection to the controller during the build: {exc}")
        return 1
    finally:
        conn.close()


def _broken() -> int:
    say(" !     The controller ended the build without saying how it went.")
    return 1


def _detail(body: bytes) -> str:
    try:
        data = json.loads(body)
        if isinstance(data, dict) and len(data) == 1:
            value = next(iter(data.values()))
            return str(value[0] if isinstance(value, list) and value else value)
    except ValueError:
        pass
    return body.decode("utf-8", "replace").strip() or "The controller refused the build."


def main() -> int:
    pushed = [line.split() for line in sys.stdin.read().splitlines() if line.strip()]
    targets = [(old, new, ref) for old, new, ref in pushed if ref in BUILT and new != ZERO]
    if not targets:
        return 0  # other branches (and deletions) are stored, not built
    old, new, ref = targets[-1]
    branch = ref.rsplit("/", 1)[1]
    with open("dockyard-push.lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            say("-----> Waiting for another push to this app to finish")
            fcntl.flock(lock, fcntl.LOCK_EX)
        moved = moved_on(ref, old)
        if moved is not None:
            say(f" !     {branch} moved to {moved[:7]} while this push waited (another push")
            say(" !     landed first). Fetch, merge and push again.")
            return 1
        with tempfile.NamedTemporaryFile(suffix=".tar") as archive:
            made = subprocess.run(["git", "archive", "--format=tar", new], stdout=archive)
            if made.returncode != 0:
                say(" !     Could not read the pushed commit.")
                return 1
            archive.flush()
            code = send(archive.name, new)
        if code == 0:
            with open(DEPLOYED + ".new", "w") as f:
                json.dump({"ref": ref, "sha": new, "at": time.time()}, f)
            os.replace(DEPLOYED + ".new", DEPLOYED)
            if current("HEAD") == ZERO:  # HEAD names a branch without commits: this one
                git("symbolic-ref", "HEAD", ref)
        return code


if __name__ == "__main__":
    sys.exit(main())
