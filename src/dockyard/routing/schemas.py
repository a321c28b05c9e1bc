"""Request bodies and response shapes for domains, certificates, TLS, settings and the
whitelist. A certificate's private key is accepted on create and never shown."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from dockyard.core.timefmt import iso
from dockyard.routing.certs import CertView
from dockyard.routing.models import AppSettings, AppTLS, Domain

MAX_PEM = 128 * 1024


class Body(BaseModel):
    model_config = ConfigDict(extra="ignore")


class DomainIn(Body):
    domain: str = Field(max_length=1024)


class DomainOut(BaseModel):
    uuid: str
    app: str
    owner: str
    domain: str
    created: str
    updated: str


def domain_out(row: Domain, app_id: str) -> dict[str, Any]:
    return {
        "uuid": row.uuid,
        "app": app_id,
        "owner": row.owner,
        "domain": row.domain,
        "created": iso(row.created),
        "updated": iso(row.updated),
    }


class CertIn(Body):
    name: str = Field(max_length=1024)
    certificate: str = Field(max_length=MAX_PEM)
    key: str = Field(max_length=MAX_PEM)


class CertDomainIn(Body):
    domain: str = Field(max_length=1024)


class CertOut(BaseModel):
    id: int
    uuid: str
    name: str
    owner: str
    common_name: str
    fingerprint: str
    san: list[str]
    domains: list[str]
    starts: str
    expires: str
    issuer: str
    subject: str
    created: str
    updated: str


def cert_out(view: CertView) -> dict[str, Any]:
    cert = view.cert
    return {
        "id": cert.id,
        "uuid": cert.uuid,
        "name": cert.name,
        "owner": view.owner,
        "common_name": cert.common_name,
        "fingerprint": cert.fingerprint,
        "san": list(cert.san or []),
        "domains": view.domains,
        "starts": iso(cert.starts),
        "expires": iso(cert.expires),
        "issuer": cert.issuer,
        "subject": cert.subject,
        "created": iso(cert.created),
        "updated": iso(cert.updated),
    }


class TLSIn(Body):
    https_enforced: bool


class TLSOut(BaseModel):
    uuid: str
    app: str
    owner: str
    https_enforced: bool
    created: str
    updated: str


def tls_out(row: AppTLS, app_id: str) -> dict[str, Any]:
    return {
        "uuid": row.uuid,
        "app": app_id,
        "owner": row.owner,
        "https_enforced": row.https_enforced,
        "created": iso(row.created),
        "updated": iso(row.updated),
    }


class AutoscaleRule(BaseModel):
    min: int
    max: int
    cpu_percent: int


class SettingsIn(Body):
    """Every field is optional; ``null`` for an autoscale type or a label key removes it."""

    maintenance: bool | None = None
    routable: bool | None = None
    whitelist: list[Any] | None = None
    autoscale: dict[str, Any] | None = None
    label: dict[str, Any] | None = None


class SettingsOut(BaseModel):
    uuid: str
    app: str
    owner: str
    maintenance: bool
    routable: bool
    whitelist: list[str]
    autoscale: dict[str, AutoscaleRule]
    label: dict[str, Any]
    created: str
    updated: str


def settings_out(row: AppSettings, app_id: str) -> dict[str, Any]:
    return {
        "uuid": row.uuid,
        "app": app_id,
        "owner": row.owner,
        "maintenance": row.maintenance,
        "routable": row.routable,
        "whitelist": list(row.whitelist or []),
        "autoscale": dict(row.autoscale or {}),
        "label": dict(row.label or {}),
        "created": iso(row.created),
        "updated": iso(row.updated),
    }


class WhitelistIn(Body):
    addresses: list[Any] = Field(min_length=1)


class WhitelistOut(BaseModel):
    addresses: list[str]
