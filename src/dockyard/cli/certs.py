"""TLS certificates: certs:list, certs:add NAME CERT KEY (PEM files), certs:info NAME,
certs:remove NAME, certs:attach NAME DOMAIN and certs:detach NAME DOMAIN. Certificates are
yours, not an app's: attach one to any domain of an app you may use. The private key is
sent once and never shown."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dockyard.cli import output
from dockyard.cli.context import JsonOpt, session
from dockyard.cli.topic import Topic
from dockyard.client import ProfileError
from dockyard.client.models import Cert

topic = Topic(
    "certs", "Upload TLS certificates and attach them to domains.", panel="Routing", default="list"
)

NameArg = Annotated[str, typer.Argument(help="The certificate's name, e.g. example-com.")]
DomainArg = Annotated[str, typer.Argument(help="A domain added with domains:add.")]


def _read(path: Path, what: str) -> str:
    try:
        text = path.expanduser().read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise ProfileError(f"Cannot read the {what} {path}: {reason}") from None
    if "-----BEGIN" not in text:
        raise ProfileError(f"{path} is not a PEM file (no -----BEGIN line).")
    return text


def show(cert: Cert) -> None:
    output.details(
        [
            ("name", cert["name"]),
            ("common name", cert["common_name"]),
            ("subject alt names", cert["san"]),
            ("domains", cert["domains"]),
            ("starts", cert["starts"]),
            ("expires", cert["expires"]),
            ("issuer", cert["issuer"]),
            ("subject", cert["subject"]),
            ("fingerprint", cert["fingerprint"]),
            ("owner", cert["owner"]),
            ("created", cert["created"]),
        ],
        title=f"{cert['name']} Certificate",
    )


@topic.command("list")
def list_certs(json: JsonOpt = False) -> None:
    """List your certificates."""
    with session() as client:
        certs = client.certs()
    if json:
        output.print_json(certs)
        return
    output.table(
        ["NAME", "COMMON NAME", "EXPIRES", "DOMAINS"],
        [(c["name"], c["common_name"], c["expires"], c["domains"]) for c in certs],
        title="Certificates",
        empty="No certificates. Add one with `dockyard certs:add <name> <cert.pem> <key.pem>`.",
    )


@topic.command("add")
def add(
    name: NameArg,
    cert_file: Annotated[Path, typer.Argument(help="The certificate (chain), PEM.")],
    key_file: Annotated[Path, typer.Argument(help="Its private key, PEM.")],
) -> None:
    """Upload a certificate and its private key."""
    certificate = _read(cert_file, "certificate")
    key = _read(key_file, "key")
    with session() as client:
        cert = client.add_cert(name, certificate, key)
    output.success(
        f"Added certificate {cert['name']} for {cert['common_name']} (expires {cert['expires']})."
    )


@topic.command("info")
def info(name: NameArg, json: JsonOpt = False) -> None:
    """Show a certificate."""
    with session() as client:
        cert = client.cert(name)
    if json:
        output.print_json(cert)
    else:
        show(cert)


@topic.command("remove")
def remove(name: NameArg) -> None:
    """Delete a certificate (it is detached from its domains first)."""
    with session() as client:
        client.remove_cert(name)
    output.success(f"Removed certificate {name}.")


@topic.command("attach")
def attach(name: NameArg, domain: DomainArg) -> None:
    """Serve a domain with a certificate."""
    with session() as client:
        client.attach_cert(name, domain)
    output.success(f"Attached {name} to {domain}.")


@topic.command("detach")
def detach(name: NameArg, domain: DomainArg) -> None:
    """Stop serving a domain with a certificate."""
    with session() as client:
        client.detach_cert(name, domain)
    output.success(f"Detached {name} from {domain}.")
