"""``git push`` over SSH to a real controller, with the real ``git`` and ``ssh`` commands:
builds stream to the pusher, deploy, and are served through the edge router; failed builds
and deploys reject the push and leave the old release serving; only the app's owner, its
collaborators and administrators may push; git is all the endpoint runs."""

from __future__ import annotations

import json
import os
import re
import subprocess
import threading
from pathlib import Path

import httpx

from dockyard.core import layout
from tests.builder.apps import flask_app, plain_app
from tests.builder.conftest import ADMIN, PASSWORD, Controller, Pusher, Users, commit, make_repo
from tests.builder.conftest import wait_for as served

APP_UIDS = range(200000, 300000)  # DOCKYARD_APP_UID_RANGE's default


def releases(pusher: Pusher, app: str) -> list[dict[str, object]]:
    with pusher.client as client:
        return list(client.releases(app))


def builds(pusher: Pusher, app: str) -> list[dict[str, object]]:
    with pusher.client as client:
        return list(client.builds(app))


def ref(pusher: Pusher, repo: Path, app: str, name: str = "main") -> str:
    out = pusher.git(repo, "ls-remote", pusher.ssh_url(app), f"refs/heads/{name}").stdout
    return out.split()[0] if out.strip() else ""


def test_a_push_builds_a_python_app_and_serves_it(
    alice: Pusher, controller: Controller, tmp_path: Path
) -> None:
    app = alice.create_app()
    repo = make_repo(tmp_path / "shop", flask_app("flask one"), home=alice.home)
    sha = alice.git(repo, "rev-parse", "HEAD").stdout.strip()

    pushed = alice.push(repo, app)

    assert pushed.returncode == 0, pushed.stderr
    out = pushed.stderr
    for line in (
        "remote: -----> Python app detected",
        "remote: -----> Installing requirements with pip",
        "Procfile declares types -> web",
        "remote:        Released v2",
        f"http://{app}.example.test:{controller.router_port}/ deployed to Dockyard",
    ):
        assert line in out, out
    # The push ends once the router knows the new pods: the very next request is served.
    first = controller.get(app)
    assert first.status_code == 200 and "flask one" in first.text, first.text[:200]
    text = first.text
    if os.geteuid() == 0:
        uid = re.search(r"uid=(\d+)", text)
        assert uid and int(uid.group(1)) in APP_UIDS, text  # the app's own user, not root
    newest = releases(alice, app)[0]
    assert newest["version"] == 2
    assert newest["summary"] == f"{alice.username} deployed {sha[:7]}"
    build = builds(alice, app)[0]
    assert (build["status"], build["sha"], build["buildpack"]) == ("succeeded", sha, "Python")
    assert build["procfile"] == {"web": "gunicorn app:app --workers 1"}
    with alice.client as client:
        log = client.build_log(app, str(build["uuid"]))
    assert "-----> Python app detected" in log and "Released v2" in log

    # A warm push: the same requirements install nothing.
    sha2 = commit(alice, repo, {"text.txt": "flask two\n"})
    again = alice.push(repo, app)
    assert again.returncode == 0, again.stderr
    assert "Restored the virtualenv from the build cache" in again.stderr
    assert "Collecting" not in again.stderr
    served(app, controller, "flask two")
    assert releases(alice, app)[0]["summary"] == f"{alice.username} deployed {sha2[:7]}"


def test_a_failed_build_rejects_the_push_and_the_old_release_keeps_serving(
    alice: Pusher, controller: Controller, tmp_path: Path
) -> None:
    app = alice.create_app()
    repo = make_repo(tmp_path / "app", plain_app("good"), home=alice.home)
    assert alice.push(repo, app).returncode == 0
    good = ref(alice, repo, app)
    served(app, controller, "good")

    commit(alice, repo, {"text.txt": "bad\n", "requirements.txt": "no-such-package-dockyard==9\n"})
    pushed = alice.push(repo, app)

    assert pushed.returncode != 0
    assert "pre-receive hook declined" in pushed.stderr
    assert "No matching distribution found for no-such-package-dockyard==9" in pushed.stderr
    assert "Push rejected. Build failed" in pushed.stderr
    assert ref(alice, repo, app) == good  # git did not record the rejected commit
    assert "good" in controller.get(app).text
    assert [r["version"] for r in releases(alice, app)] == [2, 1]
    assert builds(alice, app)[0]["status"] == "failed"


def test_a_failed_deploy_rejects_the_push_and_the_old_release_keeps_serving(
    alice: Pusher, controller: Controller, tmp_path: Path
) -> None:
    app = alice.create_app()
    repo = make_repo(tmp_path / "app", plain_app("steady"), home=alice.home)
    assert alice.push(repo, app).returncode == 0
    good = ref(alice, repo, app)
    served(app, controller, "steady")

    commit(alice, repo, {"Procfile": "web: echo crashing; exit 3\n"})
    pushed = alice.push(repo, app)

    assert pushed.returncode != 0
    assert "Push rejected. Deploy failed" in pushed.stderr, pushed.stderr
    assert ref(alice, repo, app) == good
    assert "steady" in controller.get(app).text
    failed = releases(alice, app)[0]
    assert failed["version"] == 3 and failed["failed"] is True


def test_only_the_owner_collaborators_and_administrators_may_push(
    users: Users, controller: Controller, tmp_path: Path
) -> None:
    alice, bob = users.make("alice"), users.make("bob")
    app = alice.create_app()
    repo = make_repo(tmp_path / "app", plain_app("shared"), home=bob.home)

    refused = bob.push(repo, app)

    assert refused.returncode != 0
    assert f"Dockyard: {bob.username} may not push to {app}." in refused.stderr
    assert releases(alice, app)[0]["version"] == 1  # nothing was built
    assert not (layout.repo_dir(controller.data_dir, app) / "refs/heads/main").exists()

    with alice.client as client:
        client.add_perm(app, bob.username)
    assert bob.push(repo, app).returncode == 0
    served(app, controller, "shared")

    admin_key = tmp_path / "admin_key"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(admin_key)], check=True
    )
    with alice.client as client:
        client.login(ADMIN, PASSWORD)
        client.add_key(f"admin-{app}", (tmp_path / "admin_key.pub").read_text())
    admin = Pusher(controller, bob.home, ADMIN, "", admin_key)
    commit(bob, repo, {"text.txt": "by the admin\n"})
    assert admin.push(repo, app).returncode == 0
    served(app, controller, "by the admin")
    with alice.client as client:
        client.login(ADMIN, PASSWORD)
        client.remove_key(f"admin-{app}")


def test_a_key_nobody_registered_is_refused(
    alice: Pusher, controller: Controller, tmp_path: Path
) -> None:
    app = alice.create_app()
    stranger = tmp_path / "stranger"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(stranger)], check=True)
    repo = make_repo(tmp_path / "app", plain_app(), home=alice.home)
    pusher = Pusher(controller, alice.home, "stranger", "", stranger)

    pushed = pusher.push(repo, app)

    assert pushed.returncode != 0
    assert "Permission denied (publickey)" in pushed.stderr


def _ssh(pusher: Pusher, *command: str) -> subprocess.CompletedProcess[str]:
    args = [
        "ssh", "-i", str(pusher.key), "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
        "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
        "-o", "LogLevel=ERROR", "-p", str(pusher.controller.ssh_port), "git@127.0.0.1",
        *command,
    ]  # fmt: skip
    return subprocess.run(
        args, capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL
    )


def test_the_endpoint_runs_git_and_nothing_else(alice: Pusher) -> None:
    app = alice.create_app()

    shell = _ssh(alice)
    assert shell.returncode == 1
    assert f"Hi {alice.username}! Dockyard's SSH endpoint serves git only" in shell.stderr

    for command in ("ls -la", "cat /etc/passwd", f"git-receive-pack '{app}.git'; id", "scp -t /"):
        refused = _ssh(alice, command)
        assert refused.returncode == 1, command
        assert "runs git-receive-pack and git-upload-pack only" in refused.stderr, command

    missing = _ssh(alice, "git-upload-pack '/no-such-app.git'")
    assert missing.returncode == 1
    assert "there is no app named no-such-app" in missing.stderr


def test_clone_fetches_what_was_pushed_and_other_branches_are_stored_not_built(
    alice: Pusher, controller: Controller, tmp_path: Path
) -> None:
    app = alice.create_app()
    repo = make_repo(tmp_path / "app", plain_app("main text"), home=alice.home)
    assert alice.push(repo, app).returncode == 0
    alice.git(repo, "checkout", "-q", "-b", "feature")
    feature = commit(alice, repo, {"text.txt": "feature text\n"})

    pushed = alice.push(repo, app, branch="feature")

    assert pushed.returncode == 0, pushed.stderr
    assert "Released" not in pushed.stderr
    assert [r["version"] for r in releases(alice, app)] == [2, 1]
    assert "main text" in controller.get(app).text
    clone = tmp_path / "clone"
    alice.git(tmp_path, "clone", "-q", alice.ssh_url(app), str(clone))
    assert (clone / "text.txt").read_text() == "main text\n"
    assert alice.git(clone, "rev-parse", "origin/feature").stdout.strip() == feature


def test_destroying_an_app_deletes_its_repository_and_cache(
    alice: Pusher, controller: Controller, tmp_path: Path
) -> None:
    app = alice.create_app()
    repo = make_repo(tmp_path / "app", plain_app(), home=alice.home)
    assert alice.push(repo, app).returncode == 0
    on_disk = layout.app_dirs(controller.data_dir, app)
    assert all(path.exists() for path in on_disk)

    with alice.client as client:
        client.destroy_app(app)
    alice.apps.remove(app)

    assert not any(path.exists() for path in on_disk)


def test_the_build_runs_as_the_app_user_with_the_config_as_files(
    alice: Pusher, controller: Controller, tmp_path: Path
) -> None:
    """A buildpack sees the config only as ENV_DIR files, runs as the app user, and can't
    read the controller's database."""
    app = alice.create_app()
    pack = controller.sources / f"probe-{app}"
    (pack / "bin").mkdir(parents=True)
    (pack / "bin" / "compile").write_text(
        "#!/bin/sh\n"
        'echo "uid=$(id -u)"\n'
        'echo "env-has-secret=$(env | grep -c SECRET_TOKEN)"\n'
        'echo "env-dir-secret=$(cat "$3/SECRET_TOKEN")"\n'
        f"if cat {controller.data_dir}/dockyard.db >/dev/null 2>&1; then echo db=readable; "
        "else echo db=unreadable; fi\n"
        'printf "web: python3 web.py\\n" > "$1/Procfile"\n'
    )
    os.chmod(pack / "bin" / "compile", 0o755)
    pack.chmod(0o755)
    with alice.client as client:
        client.set_config(app, values={"SECRET_TOKEN": "s3cr3t", "BUILDPACK_URL": str(pack)})
    files = plain_app("probed")
    del files["Procfile"]
    repo = make_repo(tmp_path / "app", files, home=alice.home)

    pushed = alice.push(repo, app)

    assert pushed.returncode == 0, pushed.stderr
    assert "env-has-secret=0" in pushed.stderr
    assert "env-dir-secret=s3cr3t" in pushed.stderr
    answer = json.loads(served(app, controller, "probed"))
    if os.geteuid() == 0:
        # The build ran as the app's own user, the one its processes run as.
        assert answer["uid"] in APP_UIDS
        assert f"uid={answer['uid']}" in pushed.stderr
        assert "db=unreadable" in pushed.stderr
    assert answer["source_version"] == alice.git(repo, "rev-parse", "HEAD").stdout.strip()


def test_a_push_to_master_builds_too(alice: Pusher, controller: Controller, tmp_path: Path) -> None:
    app = alice.create_app()
    repo = make_repo(tmp_path / "app", plain_app("on master"), home=alice.home)
    alice.git(repo, "branch", "-m", "master")

    assert alice.push(repo, app, branch="master").returncode == 0

    served(app, controller, "on master")
    clone = tmp_path / "clone"
    alice.git(tmp_path, "clone", "-q", alice.ssh_url(app), str(clone))
    assert (clone / "text.txt").read_text() == "on master\n"


def test_the_api_refuses_the_hooks_without_the_builder_key(controller: Controller) -> None:
    for key in ("", "wrong"):
        headers = {"X-Deis-Builder-Auth": key} if key else {}
        answer = httpx.post(
            f"{controller.url}/v2/hooks/git/access", json={"username": ADMIN}, headers=headers
        )
        assert answer.status_code == 401
        build = httpx.post(
            f"{controller.url}/v2/hooks/git/build/x?user={ADMIN}",
            content=b"x",
            headers={**headers, "Content-Type": "application/x-tar"},
        )
        assert build.status_code == 401


def test_concurrent_pushes_take_turns_and_what_runs_is_what_git_records(
    users: Users, controller: Controller, tmp_path: Path
) -> None:
    """Two people push different commits of one app at once. Pushes take turns; one that
    waited while the branch moved is refused (as git would refuse a stale push), and the
    release that serves is always the commit ``main`` points to."""
    alice, bob = users.make("alice"), users.make("bob")
    app = alice.create_app()
    with alice.client as client:
        client.add_perm(app, bob.username)
    base = make_repo(tmp_path / "base", plain_app("base"), home=alice.home)
    assert alice.push(base, app).returncode == 0
    clones = {}
    for who in (alice, bob):
        clone = tmp_path / f"clone-{who.username}"
        who.git(tmp_path, "clone", "-q", who.ssh_url(app), str(clone))
        commit(who, clone, {"text.txt": f"from {who.username}\n"})
        clones[who.username] = (who, clone)
    results: dict[str, subprocess.CompletedProcess[str]] = {}

    def push(name: str) -> None:
        who, clone = clones[name]
        results[name] = who.push(clone, app)

    threads = [threading.Thread(target=push, args=(name,)) for name in clones]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)

    codes = {name: done.returncode for name, done in results.items()}
    assert sorted(codes.values()) == [0, 1], {n: d.stderr for n, d in results.items()}
    loser = next(name for name, code in codes.items() if code)
    assert "while this push waited" in results[loser].stderr, results[loser].stderr
    winner = next(name for name, code in codes.items() if not code)
    head = ref(alice, base, app)
    assert head == alice.git(clones[winner][1], "rev-parse", "HEAD").stdout.strip()
    served(app, controller, f"from {winner}")
    assert releases(alice, app)[0]["summary"] == f"{winner} deployed {head[:7]}"


def test_a_push_larger_than_the_source_limit_is_refused(
    alice: Pusher, controller: Controller, tmp_path: Path
) -> None:
    app = alice.create_app()
    files = plain_app("big")
    repo = make_repo(tmp_path / "app", files, home=alice.home)
    (repo / "blob.bin").write_bytes(os.urandom(3 * 1024 * 1024))  # the test limit is 2M
    alice.git(repo, "add", "blob.bin")
    alice.git(repo, "commit", "-qm", "big")

    pushed = alice.push(repo, app)

    assert pushed.returncode != 0
    assert "pack exceeds maximum allowed size" in pushed.stderr, pushed.stderr
    assert ref(alice, repo, app) == ""


def test_profile_d_scripts_are_sourced_before_processes_and_runs(
    alice: Pusher, controller: Controller, tmp_path: Path
) -> None:
    app = alice.create_app()
    files = {**plain_app("profiled"), ".profile.d/app.sh": 'export FROM_PROFILE="home=$HOME"\n'}
    repo = make_repo(tmp_path / "app", files, home=alice.home)

    assert alice.push(repo, app).returncode == 0

    answer = json.loads(served(app, controller, "profiled"))
    (slug,) = (controller.data_dir / "builds" / app).iterdir()
    assert answer["from_profile"] == f"home={slug}"
    with alice.client as client:
        ran = client.run(app, "echo $FROM_PROFILE")
    assert ran["output"].strip() == f"home={slug}"
