"""How requests reach an app: its domains, the TLS switch, its settings (maintenance,
routable, whitelist, autoscale, labels) and the whitelist, plus the global certificates
(uploaded once, then attached to domains)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, cast

from dockyard.client.base import BaseClient, app_path, seg
from dockyard.client.models import TLS, AppSettings, Cert, Domain


class RoutingAPI(BaseClient):
    # -- domains --------------------------------------------------------------------------

    def domains(self, app_id: str) -> list[Domain]:
        return cast(list[Domain], self._list(app_path(app_id, "domains")))

    def add_domain(self, app_id: str, domain: str) -> Domain:
        path = app_path(app_id, "domains")
        return cast(Domain, self._json("POST", path, json={"domain": domain}))

    def remove_domain(self, app_id: str, domain: str) -> None:
        self._json("DELETE", app_path(app_id, "domains", domain))

    # -- certificates ---------------------------------------------------------------------

    def certs(self) -> list[Cert]:
        return cast(list[Cert], self._list("/v2/certs"))

    def cert(self, name: str) -> Cert:
        return cast(Cert, self._json("GET", f"/v2/certs/{seg(name)}"))

    def add_cert(self, name: str, certificate: str, key: str) -> Cert:
        body = {"name": name, "certificate": certificate, "key": key}
        return cast(Cert, self._json("POST", "/v2/certs", json=body))

    def remove_cert(self, name: str) -> None:
        self._json("DELETE", f"/v2/certs/{seg(name)}")

    def attach_cert(self, name: str, domain: str) -> Cert:
        path = f"/v2/certs/{seg(name)}/domain"
        return cast(Cert, self._json("POST", path, json={"domain": domain}))

    def detach_cert(self, name: str, domain: str) -> None:
        self._json("DELETE", f"/v2/certs/{seg(name)}/domain/{seg(domain)}")

    # -- TLS ------------------------------------------------------------------------------

    def tls(self, app_id: str) -> TLS:
        return cast(TLS, self._json("GET", app_path(app_id, "tls")))

    def set_tls(self, app_id: str, https_enforced: bool) -> TLS:
        body = {"https_enforced": https_enforced}
        return cast(TLS, self._json("POST", app_path(app_id, "tls"), json=body))

    # -- settings and whitelist -----------------------------------------------------------

    def settings(self, app_id: str) -> AppSettings:
        return cast(AppSettings, self._json("GET", app_path(app_id, "settings")))

    def change_settings(
        self,
        app_id: str,
        *,
        maintenance: bool | None = None,
        routable: bool | None = None,
        autoscale: Mapping[str, Any] | None = None,
        label: Mapping[str, Any] | None = None,
    ) -> AppSettings:
        """Change some settings; ``None`` leaves a field alone. In ``autoscale`` and
        ``label`` a ``None`` value removes that process type or key."""
        fields: dict[str, Any] = {
            "maintenance": maintenance,
            "routable": routable,
            "autoscale": None if autoscale is None else dict(autoscale),
            "label": None if label is None else dict(label),
        }
        body = {k: v for k, v in fields.items() if v is not None}
        return cast(AppSettings, self._json("POST", app_path(app_id, "settings"), json=body))

    def whitelist(self, app_id: str) -> list[str]:
        data = self._json("GET", app_path(app_id, "whitelist"))
        return [str(a) for a in data.get("addresses", [])]

    def add_whitelist(self, app_id: str, addresses: Iterable[str]) -> list[str]:
        body = {"addresses": list(addresses)}
        data = self._json("POST", app_path(app_id, "whitelist"), json=body)
        return [str(a) for a in data.get("addresses", [])]

    def remove_whitelist(self, app_id: str, addresses: Iterable[str]) -> None:
        self._json("DELETE", app_path(app_id, "whitelist"), json={"addresses": list(addresses)})
