"""routing

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 10:02:29.100475
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "certificates",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=253), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("certificate", sa.Text(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("common_name", sa.Text(), nullable=False),
        sa.Column("fingerprint", sa.String(length=95), nullable=False),
        sa.Column("san", sa.JSON(), nullable=False),
        sa.Column("starts", sa.DateTime(), nullable=False),
        sa.Column("expires", sa.DateTime(), nullable=False),
        sa.Column("issuer", sa.Text(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.Column("updated", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["users.id"],
            name=op.f("fk_certificates_owner_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_certificates")),
        sa.UniqueConstraint("name", name=op.f("uq_certificates_name")),
        sa.UniqueConstraint("uuid", name=op.f("uq_certificates_uuid")),
    )
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_certificates_owner_id"), ["owner_id"], unique=False)

    op.create_table(
        "app_settings",
        sa.Column("app_uuid", sa.String(length=36), nullable=False),
        sa.Column("owner", sa.String(length=150), nullable=False),
        sa.Column("maintenance", sa.Boolean(), nullable=False),
        sa.Column("routable", sa.Boolean(), nullable=False),
        sa.Column("whitelist", sa.JSON(), nullable=False),
        sa.Column("autoscale", sa.JSON(), nullable=False),
        sa.Column("label", sa.JSON(), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.Column("updated", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["app_uuid"],
            ["apps.uuid"],
            name=op.f("fk_app_settings_app_uuid_apps"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("uuid", name=op.f("pk_app_settings")),
        sa.UniqueConstraint("app_uuid", name=op.f("uq_app_settings_app_uuid")),
    )
    op.create_table(
        "app_tls",
        sa.Column("app_uuid", sa.String(length=36), nullable=False),
        sa.Column("owner", sa.String(length=150), nullable=False),
        sa.Column("https_enforced", sa.Boolean(), nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.Column("updated", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["app_uuid"], ["apps.uuid"], name=op.f("fk_app_tls_app_uuid_apps"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("uuid", name=op.f("pk_app_tls")),
        sa.UniqueConstraint("app_uuid", name=op.f("uq_app_tls_app_uuid")),
    )
    op.create_table(
        "domains",
        sa.Column("app_uuid", sa.String(length=36), nullable=False),
        sa.Column("owner", sa.String(length=150), nullable=False),
        sa.Column("domain", sa.String(length=253), nullable=False),
        sa.Column("certificate_id", sa.Integer(), nullable=True),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.Column("updated", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["app_uuid"], ["apps.uuid"], name=op.f("fk_domains_app_uuid_apps"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["certificate_id"],
            ["certificates.id"],
            name=op.f("fk_domains_certificate_id_certificates"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("uuid", name=op.f("pk_domains")),
        sa.UniqueConstraint("domain", name=op.f("uq_domains_domain")),
    )
    with op.batch_alter_table("domains", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_domains_app_uuid"), ["app_uuid"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_domains_certificate_id"), ["certificate_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("domains", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_domains_certificate_id"))
        batch_op.drop_index(batch_op.f("ix_domains_app_uuid"))

    op.drop_table("domains")
    op.drop_table("app_tls")
    op.drop_table("app_settings")
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_certificates_owner_id"))

    op.drop_table("certificates")
