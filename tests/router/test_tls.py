"""HTTPS through the router: SNI picks the certificate attached to the domain (exact before
wildcard), names with none get the router's self-signed default, and certificates follow
attach and detach within a second. Certificates are made in the test."""

from __future__ import annotations

import ssl
from pathlib import Path

import httpx
from cryptography import x509

from dockyard.router.server import Router
from tests.conftest import Account
from tests.router.helpers import deploy, until
from tests.routing import pki


async def served_cert(router: Router, name: str) -> x509.Certificate:
    """The certificate the router presents for the SNI ``name`` (not verified)."""
    import asyncio

    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    _, writer = await asyncio.open_connection(
        "127.0.0.1", router.https_port, ssl=ctx, server_hostname=name
    )
    try:
        der = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
    finally:
        writer.close()
    return x509.load_der_x509_certificate(der)


async def https_get(router: Router, host: str, cadata: str, path: str = "/") -> httpx.Response:
    """A verified HTTPS request to ``host`` at the router (like ``curl --resolve``)."""
    ctx = ssl.create_default_context(cadata=cadata)
    async with httpx.AsyncClient(verify=ctx, timeout=10) as c:
        return await c.get(
            f"https://127.0.0.1:{router.https_port}{path}",
            headers={"Host": host},
            extensions={"sni_hostname": host},
        )


async def upload(client: httpx.AsyncClient, user: Account, name: str, cert: str, key: str) -> None:
    r = await client.post(
        "/v2/certs", json={"name": name, "certificate": cert, "key": key}, headers=user.headers
    )
    assert r.status_code == 201, r.text


async def attach(client: httpx.AsyncClient, user: Account, name: str, domain: str) -> None:
    r = await client.post(f"/v2/certs/{name}/domain", json={"domain": domain}, headers=user.headers)
    assert r.status_code == 201, r.text


async def add_domain(client: httpx.AsyncClient, user: Account, app: str, domain: str) -> None:
    r = await client.post(f"/v2/apps/{app}/domains", json={"domain": domain}, headers=user.headers)
    assert r.status_code == 201, r.text


async def test_default_certificate_without_attachment(router: Router) -> None:
    cert = await served_cert(router, "nothing.example.test")
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["*.example.test", "example.test"]
    assert cert.issuer == cert.subject  # self-signed


async def test_sni_picks_exact_then_wildcard_and_follows_changes(
    client: httpx.AsyncClient, user: Account, router: Router, app_source: Path
) -> None:
    app = "rt-tls"
    await deploy(client, user, router, app, app_source)
    for domain in ("www.tls-shop.test", "*.tls-shop.test", "alt.tls-other.test"):
        await add_domain(client, user, app, domain)
    # A wildcard certificate, a certificate for www only, and one with several SANs.
    wild_cert, wild_key = pki.pair("*.tls-shop.test", sans=["*.tls-shop.test"])
    www_cert, www_key = pki.pair("www.tls-shop.test", sans=["www.tls-shop.test"])
    san_cert, san_key = pki.pair("tls-other.test", sans=["tls-other.test", "alt.tls-other.test"])
    await upload(client, user, "tls-wild", wild_cert, wild_key)
    await upload(client, user, "tls-www", www_cert, www_key)
    await upload(client, user, "tls-san", san_cert, san_key)
    await attach(client, user, "tls-wild", "*.tls-shop.test")
    await attach(client, user, "tls-san", "alt.tls-other.test")

    def pem_of(cert: x509.Certificate) -> str:
        return pki.cert_pem(cert)

    async def presents(name: str, pem: str) -> bool:
        return pem_of(await served_cert(router, name)) == pem

    await until(lambda: presents("shop.tls-shop.test", wild_cert), within=1.0)
    # www has no certificate of its own yet: the wildcard covers it.
    assert await presents("www.tls-shop.test", wild_cert)
    await attach(client, user, "tls-www", "www.tls-shop.test")
    await until(lambda: presents("www.tls-shop.test", www_cert), within=1.0)
    assert await presents("api.tls-shop.test", wild_cert)
    assert await presents("alt.tls-other.test", san_cert)

    # Verified requests, as a browser would make them, reach the app over HTTPS.
    r = await https_get(router, "www.tls-shop.test", www_cert, "/secure")
    assert r.status_code == 200
    body = r.json()
    assert body["path"] == "/secure"
    assert body["headers"]["X-Forwarded-Proto"] == "https"
    assert body["headers"]["X-Forwarded-Port"] == str(router.https_port)
    assert (await https_get(router, "deep.tls-shop.test", wild_cert)).status_code == 200
    assert (await https_get(router, "alt.tls-other.test", san_cert)).status_code == 200
    # The platform hostname over HTTPS gets the self-signed default, still routed.
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    async with httpx.AsyncClient(verify=ctx) as c:
        r = await c.get(
            f"https://127.0.0.1:{router.https_port}/", headers={"Host": f"{app}.example.test"}
        )
    assert r.status_code == 200

    # Detach: back to the wildcard within a second.
    r = await client.delete("/v2/certs/tls-www/domain/www.tls-shop.test", headers=user.headers)
    assert r.status_code == 204
    await until(lambda: presents("www.tls-shop.test", wild_cert), within=1.0)
    # Deleting a certificate detaches it everywhere: the default comes back.
    r = await client.delete("/v2/certs/tls-wild", headers=user.headers)
    assert r.status_code == 204

    async def default_again() -> bool:
        cert = await served_cert(router, "shop.tls-shop.test")
        return pem_of(cert) not in (wild_cert, www_cert)

    await until(default_again, within=1.0)


async def test_https_enforced_redirects_then_serves(
    client: httpx.AsyncClient, user: Account, router: Router, app_source: Path
) -> None:
    app = "rt-force"
    await deploy(client, user, router, app, app_source)
    await add_domain(client, user, app, "secure.force.test")
    cert, key = pki.pair("secure.force.test", sans=["secure.force.test"])
    await upload(client, user, "force-cert", cert, key)
    await attach(client, user, "force-cert", "secure.force.test")
    r = await client.post(
        f"/v2/apps/{app}/tls", json={"https_enforced": True}, headers=user.headers
    )
    assert r.status_code == 201

    async def redirected() -> bool:
        async with httpx.AsyncClient() as c:
            r = await c.get(
                f"http://127.0.0.1:{router.http_port}/x", headers={"Host": "secure.force.test"}
            )
        return r.status_code == 301

    await until(redirected, within=1.0)
    r = await https_get(router, "secure.force.test", cert, "/x")
    assert r.status_code == 200 and r.json()["headers"]["X-Forwarded-Proto"] == "https"
