"""ORM rows for users, their API tokens (hashes only) and their SSH public keys."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from dockyard.core.timefmt import utcnow
from dockyard.db.base import Base, Timestamped, UUIDKey


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(150), unique=True, nullable=False)
    email: Mapped[str] = mapped_column(String(254), nullable=False, default="")
    first_name: Mapped[str] = mapped_column(String(150), nullable=False, default="")
    last_name: Mapped[str] = mapped_column(String(150), nullable=False, default="")
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    is_superuser: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    is_staff: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    date_joined: Mapped[datetime] = mapped_column(DateTime(), nullable=False, default=utcnow)
    last_login: Mapped[datetime | None] = mapped_column(DateTime(), nullable=True)


class Token(Base):
    """An API token. Only the SHA-256 of the token is stored; the token is shown once."""

    __tablename__ = "tokens"

    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    created: Mapped[datetime] = mapped_column(DateTime(), nullable=False, default=utcnow)


class Key(UUIDKey, Timestamped, Base):
    """An SSH public key a user registered (for git push)."""

    __tablename__ = "keys"
    __table_args__ = (UniqueConstraint("owner_id", "id"), UniqueConstraint("fingerprint_sha256"))

    id: Mapped[str] = mapped_column(String(128), nullable=False)
    owner_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    )
    public: Mapped[str] = mapped_column(Text, nullable=False)
    fingerprint: Mapped[str] = mapped_column(String(64), nullable=False)
    fingerprint_sha256: Mapped[str] = mapped_column(String(80), nullable=False)


class LoginFailure(Base):
    """One failed password check, kept for the sign-in throttle (``accounts.throttle``) and
    pruned once it can no longer lock anything. In the database so that every API worker
    counts the same failures."""

    __tablename__ = "login_failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(150), nullable=False, index=True)
    address: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    at: Mapped[datetime] = mapped_column(DateTime(), nullable=False, index=True)
