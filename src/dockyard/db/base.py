"""The declarative base every model uses: a naming convention for constraints (so Alembic
migrations are deterministic on SQLite and PostgreSQL) and the created/updated timestamps."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from dockyard.core.timefmt import utcnow

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def new_uuid() -> str:
    return str(uuid.uuid4())


class Timestamped:
    created: Mapped[datetime] = mapped_column(DateTime(), default=utcnow, nullable=False)
    updated: Mapped[datetime] = mapped_column(
        DateTime(), default=utcnow, onupdate=utcnow, nullable=False
    )


class UUIDKey:
    uuid: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
