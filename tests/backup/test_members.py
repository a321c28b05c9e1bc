"""The rules a restore judges a backup archive's entries by, without a database: only the
expected names, no path traversal, no links out of a slug, nothing through a link."""

from __future__ import annotations

import tarfile

import pytest

from dockyard.backup.members import BadArchive, Tree, data_entry


def entry(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, link
    return info


SLUG = "data/builds/shop/0b7c/"


def tree_with(*names: str) -> Tree:
    tree = Tree()
    for name in ("manifest.json", "database.sqlite", *names):
        tree.admit(entry(name, tarfile.DIRTYPE if name.endswith("/") else tarfile.REGTYPE))
    return tree


def test_what_of_the_data_dir_goes_in() -> None:
    assert data_entry(("builder.key",))
    assert data_entry(("ssh_host_ed25519_key",))
    assert data_entry(("builds", "shop", "0b7c", "web.py"))
    assert data_entry(("repos", "shop.git", "HEAD"))
    assert data_entry(("buildpacks", "mine", "bin", "compile"))
    for left_out in (
        ("dockyard.db",),
        ("ssh.json",),
        ("local", "agent.pid"),
        ("cache", "shop", "pip"),
        ("tmp", "upload"),
        ("buildpacks", ".builtin", "abc", "bin", "compile"),
        ("builds.key",),
    ):
        assert not data_entry(left_out), left_out


def test_a_backup_is_admitted() -> None:
    tree = tree_with(
        "data/builder.key",
        "data/builds/",
        "data/builds/shop/",
        SLUG,
        SLUG + ".venv/",
        SLUG + ".venv/bin/",
        "data/repos/",
        "data/repos/shop.git/",
        "data/repos/shop.git/HEAD",
    )
    # A virtualenv links its interpreter by absolute path; a relative link stays inside.
    tree.admit(entry(SLUG + ".venv/bin/python", tarfile.SYMTYPE, "/usr/bin/python3"))
    tree.admit(entry(SLUG + ".venv/bin/python3", tarfile.SYMTYPE, "python"))
    tree.admit(entry(SLUG + ".venv/lib64", tarfile.SYMTYPE, "../.venv/lib"))
    assert tree.finish() == "database.sqlite"
    assert tree.data_files == 5


@pytest.mark.parametrize(
    ("name", "kind", "link", "why"),
    [
        ("data/../evil", tarfile.REGTYPE, "", "'..' component"),
        ("../evil", tarfile.REGTYPE, "", "'..' component"),
        ("/etc/cron.d/evil", tarfile.REGTYPE, "", "absolute path"),
        ("data/builds/shop/../../../x", tarfile.REGTYPE, "", "'..' component"),
        ("data/local/agent.pid", tarfile.REGTYPE, "", "not part of a Dockyard backup"),
        ("data/dockyard.db", tarfile.REGTYPE, "", "not part of a Dockyard backup"),
        ("evil.sh", tarfile.REGTYPE, "", "not part of a Dockyard backup"),
        ("data/builder.key", tarfile.SYMTYPE, "/etc/shadow", "symbolic link outside a slug"),
        ("data/repos/shop.git/hooks", tarfile.SYMTYPE, "/tmp", "symbolic link outside a slug"),
        (SLUG + "up", tarfile.SYMTYPE, "../../../../etc", "climbing out of its slug"),
        (SLUG + "sneaky", tarfile.SYMTYPE, "a/../../x", "climbing out of its slug"),
        (SLUG + "hard", tarfile.LNKTYPE, "data/builder.key", "hard link"),
        (SLUG + "dev", tarfile.CHRTYPE, "", "device"),
        (SLUG + "fifo", tarfile.FIFOTYPE, "", "FIFO"),
        ("database.sql", tarfile.REGTYPE, "", "not the one database file"),
    ],
)
def test_refused_entries(name: str, kind: bytes, link: str, why: str) -> None:
    tree = tree_with("data/builds/", "data/builds/shop/", SLUG)
    with pytest.raises(BadArchive) as refused:
        tree.admit(entry(name, kind, link))
    assert why in str(refused.value)


def test_nothing_passes_through_a_link_or_replaces_an_entry() -> None:
    tree = tree_with("data/builds/", "data/builds/shop/", SLUG)
    tree.admit(entry(SLUG + "out", tarfile.SYMTYPE, "/etc"))
    with pytest.raises(BadArchive, match="is inside"):
        tree.admit(entry(SLUG + "out/cron.d/evil"))
    tree.admit(entry(SLUG + "web.py"))
    with pytest.raises(BadArchive, match="appears twice"):
        tree.admit(entry(SLUG + "web.py", tarfile.SYMTYPE, "/etc/passwd"))


def test_an_archive_must_start_with_its_manifest_and_hold_a_database() -> None:
    with pytest.raises(BadArchive, match=r"does not start with manifest\.json"):
        Tree().admit(entry("data/builder.key"))
    tree = Tree()
    tree.admit(entry("manifest.json"))
    with pytest.raises(BadArchive, match="no database"):
        tree.finish()
    with pytest.raises(BadArchive, match="empty"):
        Tree().finish()
