"""keys:list, keys:add (explicit file or the first ~/.ssh/*.pub) and keys:remove."""

from __future__ import annotations

import json
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from tests.cli.conftest import Cli


def _public_key(comment: str) -> str:
    key = ed25519.Ed25519PrivateKey.generate().public_key()
    blob = key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return f"{blob.decode()} {comment}\n"


def test_add_default_key_list_remove(cli: Cli, home: Path, user: str) -> None:
    ssh = home / ".ssh"
    ssh.mkdir()
    (ssh / "id_ed25519.pub").write_text(_public_key(f"{user}@laptop"))
    (ssh / "zz_other.pub").write_text(_public_key("other@laptop"))
    assert "No keys yet" in cli.ok("keys:list").output
    added = cli.ok("keys:add").output
    assert f"Added key {user}@laptop" in added
    keys = json.loads(cli.ok("keys:list", "--json").stdout)
    assert [k["id"] for k in keys] == [f"{user}@laptop"]
    fingerprint = keys[0]["fingerprint"]
    assert len(fingerprint.split(":")) == 16
    table = cli.ok("keys").output
    assert f"{user}@laptop" in table and fingerprint in table
    duplicate = cli.fails("keys:add", str(ssh / "id_ed25519.pub"), "--id", "again")
    assert "Public Key is already in use" in duplicate.output
    cli.ok("keys:remove", f"{user}@laptop")
    assert json.loads(cli.ok("keys", "list", "--json").stdout) == []
    missing = cli.fails("keys:remove", f"{user}@laptop")
    assert "does not exist" in missing.output


def test_add_explicit_file_with_id(cli: Cli, tmp_path: Path, user: str) -> None:
    path = tmp_path / "deploy.pub"
    path.write_text(_public_key("has spaces in the comment"))
    cli.ok("keys:add", str(path))
    assert json.loads(cli.ok("keys:list", "--json").stdout)[0]["id"] == "deploy"
    other = tmp_path / "other.pub"
    other.write_text(_public_key("c"))
    cli.ok("keys", "add", str(other), "--id", "ci-key")
    assert sorted(k["id"] for k in json.loads(cli.ok("keys:list", "--json").stdout)) == [
        "ci-key",
        "deploy",
    ]


def test_add_errors(cli: Cli, home: Path, tmp_path: Path, user: str) -> None:
    none = cli.fails("keys:add")
    assert "No SSH public key found" in none.output
    bad = tmp_path / "bad.pub"
    bad.write_text("ssh-ed25519 not-base64!! me@host\n")
    assert cli.fails("keys:add", str(bad)).exit_code == 1
    assert "Cannot read" in cli.fails("keys:add", str(tmp_path / "missing.pub")).output
