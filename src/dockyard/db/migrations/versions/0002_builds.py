"""builds

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 09:49:48.247286
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "builds",
        sa.Column("app_uuid", sa.String(length=36), nullable=False),
        sa.Column("owner", sa.String(length=150), nullable=False),
        sa.Column("image", sa.Text(), nullable=False),
        sa.Column("sha", sa.String(length=64), nullable=False),
        sa.Column("procfile", sa.JSON(), nullable=False),
        sa.Column("dockerfile", sa.Text(), nullable=False),
        sa.Column("source_dir", sa.Text(), nullable=True),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.Column("updated", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["app_uuid"], ["apps.uuid"], name=op.f("fk_builds_app_uuid_apps"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("uuid", name=op.f("pk_builds")),
    )
    with op.batch_alter_table("builds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_builds_app_uuid"), ["app_uuid"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("builds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_builds_app_uuid"))

    op.drop_table("builds")
