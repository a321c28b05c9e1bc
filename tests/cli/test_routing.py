"""domains, certs, tls, settings, maintenance, routing, whitelist, autoscale and labels."""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

from tests.cli.conftest import Cli, app_name
from tests.routing.pki import pair


def _json(cli: Cli, *args: str) -> Any:
    return json.loads(cli.ok(*args, "--json").stdout)


def test_domains(cli: Cli, user: str) -> None:
    app = app_name()
    cli.ok("apps:create", app)
    assert "has no custom domains" in cli.ok("domains", "-a", app).output
    assert _json(cli, "domains:list", "-a", app) == []
    domain = f"www.{app}.test"
    assert (
        f"Added {domain} to {app}" in cli.ok("domains:add", domain.upper() + ".", "-a", app).output
    )
    cli.ok("domains", "add", f"*.{app}.test", "-a", app)
    listed = [d["domain"] for d in _json(cli, "domains", "-a", app)]
    assert sorted(listed) == sorted([domain, f"*.{app}.test"])
    assert domain in cli.ok("apps:info", "-a", app).output
    # Errors come from the server.
    other = app_name()
    cli.ok("apps:create", other)
    taken = cli.fails("domains:add", domain, "-a", other)
    assert "Domain is already in use by another application" in taken.output
    assert "Hostname can't only be a wildcard" in cli.fails("domains:add", "*", "-a", app).output
    cli.ok("domains:remove", f"*.{app}.test", "-a", app)
    cli.ok("domains:remove", domain, "-a", app)
    assert _json(cli, "domains", "-a", app) == []
    assert cli.fails("domains:remove", domain, "-a", app).exit_code == 1


def test_certs(cli: Cli, user: str, tmp_path: Path) -> None:
    app = app_name()
    cli.ok("apps:create", app)
    domain = f"www.{app}.test"
    cli.ok("domains:add", domain, "-a", app)
    cert_pem, key_pem = pair(cn=domain, sans=[domain])
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_text(cert_pem)
    key_file.write_text(key_pem)
    name = f"cert-{secrets.token_hex(4)}"
    assert "No certificates" in cli.ok("certs").output
    added = cli.ok("certs:add", name, str(cert_file), str(key_file)).output
    assert f"Added certificate {name} for {domain}" in added
    listed = _json(cli, "certs:list")
    assert [c["name"] for c in listed] == [name] and listed[0]["common_name"] == domain
    assert f"Attached {name} to {domain}" in cli.ok("certs:attach", name, domain).output
    info = _json(cli, "certs:info", name)
    assert info["domains"] == [domain] and len(info["fingerprint"].split(":")) == 32
    shown = cli.ok("certs", "info", name).output
    assert f"/CN={domain}" in shown and domain in shown
    again = cli.fails("certs:attach", name, domain)
    assert "Domain already has a certificate attached to it" in again.output
    cli.ok("certs:detach", name, domain)
    assert _json(cli, "certs:info", name)["domains"] == []
    cli.ok("certs:remove", name)
    assert _json(cli, "certs") == []
    assert cli.fails("certs:info", name).exit_code == 1


def test_cert_errors(cli: Cli, user: str, tmp_path: Path) -> None:
    cert_pem, _ = pair(cn="a.test")
    _, other_key = pair(cn="b.test")
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_text(cert_pem)
    key_file.write_text(other_key)
    mismatch = cli.fails("certs:add", f"c-{secrets.token_hex(3)}", str(cert_file), str(key_file))
    assert "key" in mismatch.output.lower()
    missing = cli.fails("certs:add", "x", str(tmp_path / "none.pem"), str(key_file))
    assert "Cannot read the certificate" in missing.output
    junk = tmp_path / "junk.pem"
    junk.write_text("not a pem")
    assert "is not a PEM file" in cli.fails("certs:add", "x", str(junk), str(key_file)).output
    assert cli.fails("certs:attach", "no-such-cert", "x.test").exit_code == 1


def test_tls(cli: Cli, user: str) -> None:
    app = app_name()
    cli.ok("apps:create", app)
    assert "HTTPS not enforced" in cli.ok("tls", "-a", app).output
    assert _json(cli, "tls:info", "-a", app)["https_enforced"] is False
    assert "HTTPS is now enforced" in cli.ok("tls:enable", "-a", app).output
    assert _json(cli, "tls", "-a", app)["https_enforced"] is True
    assert "changed nothing" in cli.fails("tls:enable", "-a", app).output
    cli.ok("tls", "disable", "-a", app)
    assert _json(cli, "tls:info", "-a", app)["https_enforced"] is False


def test_settings_maintenance_and_routing(cli: Cli, user: str) -> None:
    app = app_name()
    cli.ok("apps:create", app)
    shown = cli.ok("settings", "-a", app).output
    assert f"=== {app} Settings" in shown and "everyone" in shown
    assert f"Maintenance mode is off for {app}" in cli.ok("maintenance", "-a", app).output
    assert "is now on" in cli.ok("maintenance:on", "-a", app).output
    assert _json(cli, "maintenance:info", "-a", app) == {"maintenance": True}
    assert "changed nothing" in cli.fails("maintenance:on", "-a", app).output
    cli.ok("maintenance", "off", "-a", app)
    assert f"Routing is enabled for {app}" in cli.ok("routing", "-a", app).output
    cli.ok("routing:disable", "-a", app)
    assert _json(cli, "routing:info", "-a", app) == {"routable": False}
    settings = _json(cli, "settings", "-a", app)
    assert settings["routable"] is False and settings["maintenance"] is False
    assert settings["https_enforced"] is False and settings["app"] == app
    cli.ok("routing:enable", "-a", app)
    assert _json(cli, "settings:list", "-a", app)["routable"] is True


def test_whitelist(cli: Cli, user: str) -> None:
    app = app_name()
    cli.ok("apps:create", app)
    assert "every address may reach it" in cli.ok("whitelist", "-a", app).output
    added = cli.ok("whitelist:add", "10.0.0.0/8,192.168.1.7", "2001:db8::/32", "-a", app)
    assert "10.0.0.0/8" in added.output
    assert _json(cli, "whitelist:list", "-a", app) == {
        "addresses": ["10.0.0.0/8", "192.168.1.7", "2001:db8::/32"]
    }
    assert "192.168.1.7" in cli.ok("settings", "-a", app).output
    cli.ok("whitelist:remove", "192.168.1.7", "-a", app)
    assert _json(cli, "whitelist", "-a", app)["addresses"] == ["10.0.0.0/8", "2001:db8::/32"]
    invalid = cli.fails("whitelist:add", "nope", "-a", app)
    assert "The address nope is not valid" in invalid.output
    absent = cli.fails("whitelist:remove", "1.2.3.4", "-a", app)
    assert "1.2.3.4 does not exist in the whitelist" in absent.output
    assert cli.fails("whitelist:add", ",", "-a", app).exit_code == 2


def test_autoscale_and_labels(cli: Cli, user: str) -> None:
    app = app_name()
    cli.ok("apps:create", app)
    assert "has no autoscale rules" in cli.ok("autoscale", "-a", app).output
    rule = ["--min", "1", "--max", "4", "--cpu-percent", "70"]
    assert "web: 1-4 at 70% CPU" in cli.ok("autoscale:set", "web", *rule, "-a", app).output
    assert _json(cli, "autoscale:list", "-a", app) == {
        "web": {"min": 1, "max": 4, "cpu_percent": 70}
    }
    assert cli.fails("autoscale:set", "web", "--min", "1", "-a", app).exit_code == 2
    cli.ok("autoscale:unset", "web", "-a", app)
    assert _json(cli, "autoscale", "-a", app) == {}
    assert cli.fails("autoscale:unset", "web", "-a", app).exit_code == 1
    assert "has no labels" in cli.ok("labels", "-a", app).output
    cli.ok("labels:set", "team=web", "git_repo=https://example.test/r.git", "-a", app)
    assert _json(cli, "labels", "-a", app) == {
        "team": "web",
        "git_repo": "https://example.test/r.git",
    }
    cli.ok("labels:unset", "team", "-a", app)
    assert list(_json(cli, "labels:list", "-a", app)) == ["git_repo"]
