"""source builds: build status and buildpack, build logs, installed buildpacks

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 07:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("builds", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("status", sa.String(length=16), server_default="succeeded", nullable=False)
        )
        batch_op.add_column(
            sa.Column("buildpack", sa.String(length=255), server_default="", nullable=False)
        )
    op.create_table(
        "build_logs",
        sa.Column("build_uuid", sa.String(length=36), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["build_uuid"],
            ["builds.uuid"],
            name=op.f("fk_build_logs_build_uuid_builds"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("build_uuid", name=op.f("pk_build_logs")),
    )
    op.create_table(
        "buildpacks",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("owner", sa.String(length=150), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.Column("updated", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("uuid", name=op.f("pk_buildpacks")),
        sa.UniqueConstraint("name", name=op.f("uq_buildpacks_name")),
    )


def downgrade() -> None:
    op.drop_table("buildpacks")
    op.drop_table("build_logs")
    with op.batch_alter_table("builds", schema=None) as batch_op:
        batch_op.drop_column("buildpack")
        batch_op.drop_column("status")
