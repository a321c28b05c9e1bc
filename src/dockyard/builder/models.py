"""ORM rows of the builder: the buildpacks administrators install (their files live in
``<data dir>/buildpacks/<name>/``)."""

from __future__ import annotations

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from dockyard.db.base import Base, Timestamped, UUIDKey


class Buildpack(UUIDKey, Timestamped, Base):
    __tablename__ = "buildpacks"

    name: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    # The username, not a foreign key: the buildpack outlives its installer's account.
    owner: Mapped[str] = mapped_column(String(150), nullable=False)
    size: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
