"""ORM rows for config snapshots and releases.

A release is immutable once written: every change of build or config makes a new row, and
rollback copies an older one. ``(app_uuid, version)`` is unique so concurrent writers can
never produce two releases with one number.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dockyard.db.base import Base, Timestamped, UUIDKey


class Config(UUIDKey, Timestamped, Base):
    __tablename__ = "configs"

    app_uuid: Mapped[str] = mapped_column(
        ForeignKey("apps.uuid", ondelete="CASCADE"), nullable=False, index=True
    )
    # The username, not a foreign key: history survives the author's account.
    owner: Mapped[str] = mapped_column(String(150), nullable=False)
    values: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    memory: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    cpu: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    tags: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    # "registry" is reserved by SQLAlchemy's declarative base, hence the attribute name.
    registry_info: Mapped[dict[str, Any]] = mapped_column(
        "registry", JSON, nullable=False, default=dict
    )
    healthcheck: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)


class Release(UUIDKey, Timestamped, Base):
    __tablename__ = "releases"
    __table_args__ = (UniqueConstraint("app_uuid", "version"),)

    app_uuid: Mapped[str] = mapped_column(
        ForeignKey("apps.uuid", ondelete="CASCADE"), nullable=False, index=True
    )
    # The username, not a foreign key: history survives the author's account.
    owner: Mapped[str] = mapped_column(String(150), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    summary: Mapped[str] = mapped_column(Text, nullable=False, default="")
    failed: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    config_uuid: Mapped[str] = mapped_column(
        ForeignKey("configs.uuid", ondelete="CASCADE"), nullable=False
    )
    build_uuid: Mapped[str | None] = mapped_column(String(36), nullable=True)


class Build(UUIDKey, Timestamped, Base):
    """What a release runs: an image, or on the local scheduler a slug in ``source_dir`` (a
    host source copied there, or source code built there by buildpacks), the procfile and
    the commit sha. A build from source is written when it starts (``status`` building) and
    finished once (succeeded or failed); nothing else changes it."""

    __tablename__ = "builds"

    app_uuid: Mapped[str] = mapped_column(
        ForeignKey("apps.uuid", ondelete="CASCADE"), nullable=False, index=True
    )
    owner: Mapped[str] = mapped_column(String(150), nullable=False)
    image: Mapped[str] = mapped_column(Text, nullable=False)
    sha: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    procfile: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    dockerfile: Mapped[str] = mapped_column(Text, nullable=False, default="")
    source_dir: Mapped[str | None] = mapped_column(Text, nullable=True)
    status: Mapped[str] = mapped_column(
        String(16), nullable=False, default="succeeded", server_default="succeeded"
    )
    # The buildpacks that built it, comma-separated ("" for images and prebuilt sources).
    buildpack: Mapped[str] = mapped_column(
        String(255), nullable=False, default="", server_default=""
    )


class BuildLog(Base):
    """The output of a build from source, kept for ``GET builds/<uuid>/log``."""

    __tablename__ = "build_logs"

    build_uuid: Mapped[str] = mapped_column(
        ForeignKey("builds.uuid", ondelete="CASCADE"), primary_key=True
    )
    text: Mapped[str] = mapped_column(Text, nullable=False, default="")
