"""The route table's pure rules: host normalisation, exact and wildcard matching (most
specific first), whitelists, and which certificate each name gets."""

from __future__ import annotations

from typing import Any

from dockyard.router.table import RouteTable, normalise_host, parents


def snapshot(**apps: dict[str, Any]) -> dict[str, Any]:
    return {
        "apps": {name: {"hosts": [], "certificates": [], **data} for name, data in apps.items()}
    }


def test_normalise_host() -> None:
    assert normalise_host("Example.COM") == "example.com"
    assert normalise_host("example.com.:8080") == "example.com"
    assert normalise_host("example.com:443") == "example.com"
    assert normalise_host("[::1]:8080") == "[::1]"
    assert normalise_host(" a.b ") == "a.b"


def test_parents_most_specific_first() -> None:
    assert list(parents("a.b.example.com")) == ["*.b.example.com", "*.example.com", "*.com"]
    assert list(parents("localhost")) == []


def test_exact_then_most_specific_wildcard() -> None:
    table = RouteTable.from_snapshot(
        snapshot(
            exact={"hosts": ["www.example.com"]},
            deep={"hosts": ["*.api.example.com"]},
            broad={"hosts": ["*.example.com"]},
            platform={"hosts": ["platform.example.test"]},
        )
    )
    assert table.lookup("www.example.com").app == "exact"  # type: ignore[union-attr]
    assert table.lookup("WWW.Example.com:8080").app == "exact"  # type: ignore[union-attr]
    assert table.lookup("v1.api.example.com").app == "deep"  # type: ignore[union-attr]
    assert table.lookup("x.y.api.example.com").app == "deep"  # type: ignore[union-attr]
    assert table.lookup("shop.example.com").app == "broad"  # type: ignore[union-attr]
    assert table.lookup("a.b.example.com").app == "broad"  # type: ignore[union-attr]
    assert table.lookup("platform.example.test").app == "platform"  # type: ignore[union-attr]
    # A wildcard covers names below its base, not the base itself.
    assert table.lookup("example.com") is None
    assert table.lookup("api.example.com").app == "broad"  # type: ignore[union-attr]
    assert table.lookup("unknown.test") is None


def test_route_fields_and_backends() -> None:
    table = RouteTable.from_snapshot(
        snapshot(
            app={
                "hosts": ["app.example.test"],
                "backends": [5001, 5002],
                "https_enforced": True,
                "maintenance": True,
                "routable": False,
            }
        )
    )
    route = table.lookup("app.example.test")
    assert route is not None
    assert route.backends == (5001, 5002)
    assert (route.https_enforced, route.maintenance, route.routable) == (True, True, False)


def test_whitelist() -> None:
    table = RouteTable.from_snapshot(
        snapshot(
            open={"hosts": ["open.test"]},
            closed={"hosts": ["closed.test"], "whitelist": ["10.0.0.0/8", "192.168.1.7", "::1"]},
        )
    )
    open_route, closed = table.lookup("open.test"), table.lookup("closed.test")
    assert open_route is not None and closed is not None
    assert open_route.allows("203.0.113.9")
    assert closed.allows("10.1.2.3")
    assert closed.allows("192.168.1.7")
    assert not closed.allows("192.168.1.8")
    assert closed.allows("::1")
    assert closed.allows("::ffff:10.9.9.9")  # an IPv4 client on a dual-stack socket
    assert not closed.allows("127.0.0.1")
    assert not closed.allows("not-an-address")


def test_certificates_by_attached_host() -> None:
    cert = {"name": "c1", "certificate": "C", "key": "K", "hosts": ["www.a.com", "*.b.com"]}
    table = RouteTable.from_snapshot(
        snapshot(app={"hosts": ["www.a.com", "*.b.com", "c.com"], "certificates": [cert]})
    )
    found = table.certificates()
    assert set(found) == {"www.a.com", "*.b.com"}
    assert found["*.b.com"].name == "c1"
