"""Routing: app domains, TLS certificates, HTTPS enforcement, app settings and whitelist.

Everything the edge router needs is stored here; the router itself lives elsewhere.
"""
