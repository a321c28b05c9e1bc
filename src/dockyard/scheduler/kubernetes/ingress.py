"""The objects that route traffic to an app, as plain dicts built from a ``RouteSpec``:
the Ingress (networking.k8s.io/v1), its TLS Secrets and the maintenance Service. Pure
functions; ``routes.py`` applies them (and documents the mapping).
"""

from __future__ import annotations

from dockyard.scheduler.base import RouteSpec, TLSCertificate
from dockyard.scheduler.kubernetes import names
from dockyard.scheduler.kubernetes.manifests import Object, b64, meta


def maintenance_service(app: str) -> Object:
    """A Service whose selector matches no pod: an Ingress pointing at it answers 503 on
    every ingress controller, which is what maintenance mode means."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": meta(names.maintenance_service(app), app, **{names.COMPONENT: "maintenance"}),
        "spec": {
            "type": "ClusterIP",
            "selector": {names.APP: app, names.COMPONENT: "maintenance"},
            "ports": [{"name": "http", "port": 80, "targetPort": 80, "protocol": "TCP"}],
        },
    }


def tls_secret(app: str, cert: TLSCertificate) -> Object:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "kubernetes.io/tls",
        "metadata": meta(names.tls_secret(app, cert.name), app, **{names.COMPONENT: "tls"}),
        "data": {"tls.crt": b64(cert.certificate), "tls.key": b64(cert.key)},
    }


def ingress_annotations(spec: RouteSpec) -> dict[str, str]:
    """Access rules as ingress-nginx annotations (other controllers ignore them)."""
    result = {
        "nginx.ingress.kubernetes.io/ssl-redirect": str(spec.https_enforced).lower(),
        "nginx.ingress.kubernetes.io/force-ssl-redirect": str(spec.https_enforced).lower(),
    }
    if spec.whitelist:
        result["nginx.ingress.kubernetes.io/whitelist-source-range"] = ",".join(spec.whitelist)
    return result


def ingress(spec: RouteSpec, *, ingress_class: str) -> Object:
    """One Ingress for every host of the app, all to the web Service (or to the maintenance
    Service), with a TLS entry per attached certificate."""
    app = spec.app
    service = names.maintenance_service(app) if spec.maintenance else names.web_service(app)
    backend = {"service": {"name": service, "port": {"number": 80}}}
    path = {"path": "/", "pathType": "Prefix", "backend": backend}
    body: Object = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {
            **meta(names.ingress(app), app),
            "annotations": ingress_annotations(spec),
        },
        "spec": {
            "rules": [{"host": host, "http": {"paths": [path]}} for host in spec.hosts],
        },
    }
    if ingress_class:
        body["spec"]["ingressClassName"] = ingress_class
    if spec.certificates:
        body["spec"]["tls"] = [
            {"hosts": list(c.hosts), "secretName": names.tls_secret(app, c.name)}
            for c in spec.certificates
        ]
    return body
