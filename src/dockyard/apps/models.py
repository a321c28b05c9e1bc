"""ORM rows for applications and their collaborators."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dockyard.db.base import Base, Timestamped, UUIDKey


class App(UUIDKey, Timestamped, Base):
    __tablename__ = "apps"

    id: Mapped[str] = mapped_column(String(63), unique=True, nullable=False)
    owner_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT"), nullable=False, index=True
    )
    structure: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    # The counts ``stop`` scaled to 0, by process type, for ``start`` to bring back.
    stopped: Mapped[dict[str, Any]] = mapped_column(
        JSON, nullable=False, default=dict, server_default="{}"
    )
    # The app's own uid and gid on the local scheduler (``DOCKYARD_APP_UID_RANGE``), given
    # at creation and never shared; None only for rows made outside the service.
    uid: Mapped[int | None] = mapped_column(Integer, unique=True, nullable=True)


class UidMark(Base):
    """The highest app uid ever given (one row, ``id`` 1), so a destroyed app's uid is not
    given to the next app while the range has room above it (see ``uids``)."""

    __tablename__ = "app_uid_mark"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    top: Mapped[int] = mapped_column(Integer, nullable=False)


class Collaborator(Base):
    """A user the owner shared the app with: every right except destroying it."""

    __tablename__ = "collaborators"
    __table_args__ = (UniqueConstraint("app_uuid", "user_id"),)

    pk: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    app_uuid: Mapped[str] = mapped_column(
        ForeignKey("apps.uuid", ondelete="CASCADE"), nullable=False, index=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
