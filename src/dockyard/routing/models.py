"""ORM rows for what the edge router reads: domains, certificates, TLS and app settings.

Domains, TLS and settings belong to an app (``ON DELETE CASCADE``: destroying the app
removes them). Certificates are global objects owned by a user; a domain points at the
certificate it is served with (``ON DELETE SET NULL``), so deleting a certificate detaches
it and deleting an app's domains leaves its certificates in place.

Private keys live in the ``certificates.key`` column only. The database file is created
0600 inside a 0711 data dir (see ``Settings.ensure_dirs``), so app processes, which run as
another user, cannot read them; no key is ever written to a file or returned by the API.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from dockyard.db.base import Base, Timestamped, UUIDKey, new_uuid


class Certificate(Timestamped, Base):
    """An X.509 certificate (leaf first, then any chain) and its private key. The integer
    ``id`` is what the v2 Go client expects; ``uuid`` is the stable public identifier."""

    __tablename__ = "certificates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True, nullable=False, default=new_uuid)
    name: Mapped[str] = mapped_column(String(253), unique=True, nullable=False)
    owner_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    certificate: Mapped[str] = mapped_column(Text, nullable=False)
    key: Mapped[str] = mapped_column(Text, nullable=False)
    common_name: Mapped[str] = mapped_column(Text, nullable=False, default="")
    fingerprint: Mapped[str] = mapped_column(String(95), nullable=False)
    san: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    starts: Mapped[datetime] = mapped_column(DateTime(), nullable=False)
    expires: Mapped[datetime] = mapped_column(DateTime(), nullable=False)
    issuer: Mapped[str] = mapped_column(Text, nullable=False, default="")
    subject: Mapped[str] = mapped_column(Text, nullable=False, default="")


class Domain(UUIDKey, Timestamped, Base):
    """A hostname (IDNA-encoded, maybe ``*.``-wildcarded) routed to an app. Unique across
    all apps."""

    __tablename__ = "domains"

    app_uuid: Mapped[str] = mapped_column(
        ForeignKey("apps.uuid", ondelete="CASCADE"), nullable=False, index=True
    )
    # The username, not a foreign key: like releases, the record survives its author.
    owner: Mapped[str] = mapped_column(String(150), nullable=False)
    domain: Mapped[str] = mapped_column(String(253), unique=True, nullable=False)
    certificate_id: Mapped[int | None] = mapped_column(
        ForeignKey("certificates.id", ondelete="SET NULL"), nullable=True, index=True
    )


class AppTLS(UUIDKey, Timestamped, Base):
    """One row per app, made on first use: whether plain HTTP is redirected to HTTPS."""

    __tablename__ = "app_tls"

    app_uuid: Mapped[str] = mapped_column(
        ForeignKey("apps.uuid", ondelete="CASCADE"), unique=True, nullable=False
    )
    owner: Mapped[str] = mapped_column(String(150), nullable=False)
    https_enforced: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)


class AppSettings(UUIDKey, Timestamped, Base):
    """One row per app, made on first use: maintenance mode, routability, the IP whitelist
    (normalised addresses and CIDRs), autoscale bounds per process type and labels."""

    __tablename__ = "app_settings"

    app_uuid: Mapped[str] = mapped_column(
        ForeignKey("apps.uuid", ondelete="CASCADE"), unique=True, nullable=False
    )
    owner: Mapped[str] = mapped_column(String(150), nullable=False)
    maintenance: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    routable: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    whitelist: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    autoscale: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    label: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
