"""The gitignore-style rules (``dockyard.cli.ignore``), and what ``dockyard.cli.pack`` puts
into the archive of a plain directory and of a directory in a real git repository."""

from __future__ import annotations

import os
import stat
import subprocess
import tarfile
import tempfile
from pathlib import Path

import pytest

from dockyard.cli.ignore import IgnoreRules
from dockyard.cli.pack import human_size, pack
from dockyard.client import ProfileError


def rules(*lines: str) -> IgnoreRules:
    return IgnoreRules.from_lines(lines)


# -- ignore rules ---------------------------------------------------------------------------


def test_blank_lines_and_comments_are_skipped() -> None:
    assert rules("", "   ", "# a comment", "#").rules == ()
    assert not rules("# notes.txt").ignored("# notes.txt", False)
    assert rules(r"\#notes.txt").ignored("#notes.txt", False)


def test_a_pattern_without_slash_matches_at_any_depth() -> None:
    r = rules("*.pyc")
    assert r.ignored("a.pyc", False)
    assert r.ignored("pkg/sub/a.pyc", False)
    assert not r.ignored("a.py", False)
    assert not r.ignored("a.pyc.txt", False)


def test_negation_and_the_last_matching_rule_wins() -> None:
    r = rules("*.log", "!keep.log")
    assert r.ignored("debug.log", False)
    assert not r.ignored("keep.log", False)
    assert not r.ignored("sub/keep.log", False)
    assert rules("!keep.log", "*.log").ignored("keep.log", False)
    assert rules(r"\!important").ignored("!important", False)


def test_nothing_is_reincluded_from_an_ignored_directory() -> None:
    assert rules("logs/", "!logs/keep.txt").ignored("logs/keep.txt", False)
    r = rules("logs/*", "!logs/keep.txt")
    assert not r.ignored("logs/keep.txt", False)
    assert r.ignored("logs/other.txt", False)


def test_a_trailing_slash_matches_directories_only() -> None:
    r = rules("build/")
    assert r.ignored("build", True)
    assert not r.ignored("build", False)
    assert r.ignored("src/build", True)
    assert r.ignored("build/out.bin", False)  # inside the ignored directory


def test_a_leading_or_middle_slash_anchors_to_the_root() -> None:
    r = rules("/todo.txt")
    assert r.ignored("todo.txt", False)
    assert not r.ignored("sub/todo.txt", False)
    r = rules("doc/frotz")
    assert r.ignored("doc/frotz", False)
    assert not r.ignored("a/doc/frotz", False)


def test_star_and_question_mark_do_not_cross_a_slash() -> None:
    r = rules("doc/*.txt")
    assert r.ignored("doc/a.txt", False)
    assert not r.ignored("doc/sub/a.txt", False)
    r = rules("file?.txt")
    assert r.ignored("file1.txt", False)
    assert not r.ignored("file10.txt", False)
    assert not r.ignored("file.txt", False)


def test_character_classes() -> None:
    r = rules("file[0-9].txt", "x[!ab]", "y[^c]", "[]]z")
    assert r.ignored("file5.txt", False)
    assert not r.ignored("filea.txt", False)
    assert r.ignored("xc", False)
    assert not r.ignored("xa", False)
    assert not r.ignored("yc", False) and r.ignored("yd", False)
    assert r.ignored("]z", False)
    assert rules("a[b").ignored("a[b", False)  # an unclosed bracket is literal


def test_leading_double_star() -> None:
    r = rules("**/foo")
    assert r.ignored("foo", False)
    assert r.ignored("a/foo", True)
    assert r.ignored("a/b/foo", False)
    r = rules("**/foo/bar")
    assert r.ignored("foo/bar", False)
    assert r.ignored("x/y/foo/bar", False)
    assert not r.ignored("foo/x/bar", False)


def test_trailing_double_star() -> None:
    r = rules("abc/**")
    assert r.ignored("abc/x", False)
    assert r.ignored("abc/x/y", False)
    assert not r.ignored("abc", True)
    assert not r.ignored("xabc/x", False)
    assert not r.ignored("sub/abc/x", False)


def test_middle_double_star() -> None:
    r = rules("a/**/b")
    assert r.ignored("a/b", False)
    assert r.ignored("a/x/b", False)
    assert r.ignored("a/x/y/b", False)
    assert not r.ignored("a/xb", False)
    assert not r.ignored("c/a/x/b", False)


def test_trailing_spaces() -> None:
    assert rules("foo  ").ignored("foo", False)
    r = rules("foo\\ ")
    assert r.ignored("foo ", False)
    assert not r.ignored("foo", False)


# -- packing a plain directory --------------------------------------------------------------


@pytest.fixture
def tmpdir_for_archives(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Temp files land here, so a test can see that none is left behind."""
    where = tmp_path / "tmp"
    where.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(where))
    return where


def members(path: Path) -> dict[str, tarfile.TarInfo]:
    with tarfile.open(path, "r:gz") as tar:
        return {m.name: m for m in tar.getmembers()}


def read(path: Path, name: str) -> bytes:
    with tarfile.open(path, "r:gz") as tar:
        handle = tar.extractfile(name)
        assert handle is not None
        return handle.read()


def make_plain_tree(root: Path) -> None:
    (root / "pkg").mkdir(parents=True)
    (root / "app.py").write_text("print('hi')\n")
    (root / "pkg" / "mod.py").write_text("x = 1\n")
    (root / "run.sh").write_text("#!/bin/sh\necho run\n")
    (root / "run.sh").chmod(0o755)
    (root / ".gitignore").write_text("*.log\nnode_modules/\n/secret.txt\n")
    (root / ".dockyardignore").write_text("# local things\ncache/\n!keep.log\n")
    (root / "debug.log").write_text("noise\n")
    (root / "keep.log").write_text("kept\n")
    (root / "node_modules" / "left").mkdir(parents=True)
    (root / "node_modules" / "left" / "index.js").write_text("//\n")
    (root / "cache").mkdir()
    (root / "cache" / "big.bin").write_bytes(b"\0" * 100)
    (root / "secret.txt").write_text("s3cret\n")
    (root / "pkg" / "secret.txt").write_text("not anchored: kept\n")
    (root / ".git").mkdir()
    (root / ".git" / "config").write_text("[core]\n")
    (root / "link.py").symlink_to("app.py")
    (root / "pkglink").symlink_to("pkg")
    (root / "outside").symlink_to("/etc/hostname")
    os.mkfifo(root / "a-fifo")


def test_pack_a_plain_directory(tmp_path: Path, tmpdir_for_archives: Path) -> None:
    root = tmp_path / "src"
    make_plain_tree(root)
    packed = pack(root, use_git=False)
    assert packed.path.parent == tmpdir_for_archives
    assert packed.sha is None
    assert packed.size == packed.path.stat().st_size
    expected = [
        ".dockyardignore",
        ".gitignore",
        "app.py",
        "keep.log",
        "link.py",
        "outside",
        "pkg/mod.py",
        "pkg/secret.txt",
        "pkglink",
        "run.sh",
    ]
    assert list(packed.names) == expected
    assert packed.files == len(expected)
    found = members(packed.path)
    assert list(found) == expected  # in this order in the archive
    assert found["link.py"].issym() and found["link.py"].linkname == "app.py"
    assert found["pkglink"].issym() and found["pkglink"].linkname == "pkg"
    assert found["outside"].issym() and found["outside"].linkname == "/etc/hostname"
    assert stat.S_IMODE(found["run.sh"].mode) == 0o755
    assert stat.S_IMODE(found["app.py"].mode) == 0o644
    assert all(
        m.uid == 0 and m.gid == 0 and m.uname == "" and m.gname == "" for m in found.values()
    )
    assert read(packed.path, "app.py") == b"print('hi')\n"
    packed.remove()
    assert list(tmpdir_for_archives.iterdir()) == []


def test_pack_is_deterministic(tmp_path: Path, tmpdir_for_archives: Path) -> None:
    root = tmp_path / "src"
    make_plain_tree(root)
    first, second = pack(root, use_git=False), pack(root, use_git=False)
    assert first.path != second.path
    assert first.path.read_bytes() == second.path.read_bytes()
    assert first.path.read_bytes()[4:8] == b"\0\0\0\0"  # no timestamp in the gzip header
    first.remove()
    second.remove()


def test_pack_outside_git_uses_the_ignore_files(
    tmp_path: Path, tmpdir_for_archives: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    root = tmp_path / "src"
    root.mkdir()
    (root / ".gitignore").write_text("*.tmp\n")
    (root / "a.txt").write_text("a")
    (root / "b.tmp").write_text("b")
    packed = pack(root)
    assert packed.names == (".gitignore", "a.txt") and packed.sha is None
    packed.remove()


def test_pack_refuses_what_cannot_be_packed(tmp_path: Path, tmpdir_for_archives: Path) -> None:
    with pytest.raises(ProfileError, match="does not exist"):
        pack(tmp_path / "missing")
    (tmp_path / "file").write_text("x")
    with pytest.raises(ProfileError, match="is not a directory"):
        pack(tmp_path / "file")
    empty = tmp_path / "empty"
    (empty / "sub").mkdir(parents=True)
    with pytest.raises(ProfileError, match="Nothing to pack"):
        pack(empty, use_git=False)
    ignored = tmp_path / "ignored"
    ignored.mkdir()
    (ignored / ".dockyardignore").write_text("*\n")
    with pytest.raises(ProfileError, match="Nothing to pack"):
        pack(ignored, use_git=False)
    assert list(tmpdir_for_archives.iterdir()) == []  # no temp file left behind


def test_human_size() -> None:
    assert human_size(512) == "512 B"
    assert human_size(1536) == "1.5 KB"
    assert human_size(5 * 1024 * 1024) == "5.0 MB"
    assert human_size(3 * 1024**3) == "3.0 GB"


# -- packing in a git repository ------------------------------------------------------------


@pytest.fixture
def git_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """git without the user's or the system's configuration, and no repository above."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        monkeypatch.delenv(name, raising=False)
    for var, value in (("NAME", "Test Dev"), ("EMAIL", "dev@example.test")):
        monkeypatch.setenv(f"GIT_AUTHOR_{var}", value)
        monkeypatch.setenv(f"GIT_COMMITTER_{var}", value)


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, check=True, timeout=30
    )
    return done.stdout.strip()


def make_repo(root: Path) -> None:
    root.mkdir()
    git(root, "init", "-q")
    (root / ".gitignore").write_text("*.log\nbuild/\n")
    (root / "app.py").write_text("v1\n")
    (root / "old.txt").write_text("deleted later\n")
    (root / "forced.log").write_text("tracked although ignored\n")
    (root / "web").mkdir()
    (root / "web" / "Procfile").write_text("web: python app.py\n")
    (root / "web" / "run.sh").write_text("#!/bin/sh\n")
    (root / "web" / "run.sh").chmod(0o755)
    (root / "link").symlink_to("app.py")
    git(root, "add", ".")
    git(root, "add", "-f", "forced.log")
    git(root, "commit", "-q", "-m", "first")
    # Uncommitted changes: a modification, a deletion, new files, ignored files.
    (root / "app.py").write_text("v2, not committed\n")
    (root / "old.txt").unlink()
    (root / "new.txt").write_text("untracked\n")
    (root / "web" / "new.py").write_text("untracked too\n")
    (root / "debug.log").write_text("ignored\n")
    (root / "build").mkdir()
    (root / "build" / "out.bin").write_text("ignored\n")


@pytest.mark.usefixtures("git_env")
def test_pack_a_git_work_tree(tmp_path: Path, tmpdir_for_archives: Path) -> None:
    repo = tmp_path / "repo"
    make_repo(repo)
    packed = pack(repo)
    assert packed.sha == git(repo, "rev-parse", "HEAD") and len(packed.sha) == 40
    assert list(packed.names) == [
        ".gitignore",
        "app.py",
        "forced.log",
        "link",
        "new.txt",
        "web/Procfile",
        "web/new.py",
        "web/run.sh",
    ]
    assert read(packed.path, "app.py") == b"v2, not committed\n"  # the working tree's
    found = members(packed.path)
    assert found["link"].issym() and found["link"].linkname == "app.py"
    assert stat.S_IMODE(found["web/run.sh"].mode) == 0o755
    packed.remove()


@pytest.mark.usefixtures("git_env")
def test_pack_a_subdirectory_of_a_repository(tmp_path: Path, tmpdir_for_archives: Path) -> None:
    repo = tmp_path / "repo"
    make_repo(repo)
    packed = pack(repo / "web")
    assert packed.names == ("Procfile", "new.py", "run.sh")
    assert packed.sha == git(repo, "rev-parse", "HEAD")
    assert read(packed.path, "Procfile") == b"web: python app.py\n"
    packed.remove()


@pytest.mark.usefixtures("git_env")
def test_pack_a_repository_without_commits(tmp_path: Path, tmpdir_for_archives: Path) -> None:
    repo = tmp_path / "fresh"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / ".gitignore").write_text("secret\n")
    (repo / "main.py").write_text("print(1)\n")
    (repo / "secret").write_text("x\n")
    packed = pack(repo)
    assert packed.sha is None
    assert packed.names == (".gitignore", "main.py")
    packed.remove()
    # Without git, the same directory packs by the ignore files (and never .git).
    plain = pack(repo, use_git=False)
    assert plain.names == (".gitignore", "main.py")
    plain.remove()
