"""Database: declarative base, engine/session management and Alembic migrations."""
