"""The route table: which app a Host header names, and what the router does with it.

Built from the table the node agent streams (``scheduler.local.routes.snapshot``); pure and
immutable, so a new table replaces the old one in a single assignment while requests are in
flight. Host matching: an exact name first, then the most specific wildcard (``*.a.example``
before ``*.example``); a wildcard matches any depth below its base, as nginx's does.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def normalise_host(host: str) -> str:
    """``Example.COM.:8080`` -> ``example.com``; IPv6 literals keep their brackets."""
    host = host.strip().lower()
    if host.startswith("["):
        end = host.find("]")
        return host[: end + 1] if end != -1 else host
    host = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    return host.rstrip(".")


def parents(host: str) -> Iterator[str]:
    """The wildcard names that could cover ``host``, most specific first."""
    labels = host.split(".")
    for i in range(1, len(labels)):
        yield "*." + ".".join(labels[i:])


@dataclass(frozen=True)
class Certificate:
    name: str
    certificate: str
    key: str
    hosts: tuple[str, ...]


@dataclass(frozen=True)
class AppRoute:
    app: str
    hosts: tuple[str, ...]
    backends: tuple[int, ...] = ()
    https_enforced: bool = False
    maintenance: bool = False
    routable: bool = True
    whitelist: tuple[Network, ...] = ()
    certificates: tuple[Certificate, ...] = ()

    def allows(self, address: str) -> bool:
        """Whether a client address may reach the app (an empty whitelist allows all)."""
        if not self.whitelist:
            return True
        try:
            ip = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError:
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return any(ip.version == net.version and ip in net for net in self.whitelist)


def _route(app: str, data: Mapping[str, Any]) -> AppRoute:
    return AppRoute(
        app=app,
        hosts=tuple(data["hosts"]),
        backends=tuple(int(p) for p in data.get("backends", ())),
        https_enforced=bool(data.get("https_enforced")),
        maintenance=bool(data.get("maintenance")),
        routable=bool(data.get("routable", True)),
        whitelist=tuple(ipaddress.ip_network(a, strict=False) for a in data.get("whitelist", ())),
        certificates=tuple(
            Certificate(c["name"], c["certificate"], c["key"], tuple(c["hosts"]))
            for c in data.get("certificates", ())
        ),
    )


@dataclass(frozen=True)
class RouteTable:
    apps: Mapping[str, AppRoute] = field(default_factory=dict)
    exact: Mapping[str, AppRoute] = field(default_factory=dict)
    wildcard: Mapping[str, AppRoute] = field(default_factory=dict)

    @classmethod
    def from_snapshot(cls, snapshot: Mapping[str, Any]) -> RouteTable:
        apps = {app: _route(app, data) for app, data in snapshot.get("apps", {}).items()}
        exact: dict[str, AppRoute] = {}
        wildcard: dict[str, AppRoute] = {}
        for route in apps.values():
            for host in route.hosts:
                (wildcard if host.startswith("*.") else exact)[host] = route
        return cls(apps, exact, wildcard)

    def lookup(self, host: str) -> AppRoute | None:
        name = normalise_host(host)
        route = self.exact.get(name)
        if route is not None:
            return route
        for candidate in parents(name):
            route = self.wildcard.get(candidate)
            if route is not None:
                return route
        return None

    def certificates(self) -> dict[str, Certificate]:
        """Hostname (or ``*.`` wildcard) -> the certificate attached to it."""
        found: dict[str, Certificate] = {}
        for route in self.apps.values():
            for cert in route.certificates:
                for host in cert.hosts:
                    found[host] = cert
        return found
