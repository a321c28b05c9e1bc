"""app uids: each app's own uid and gid on the local scheduler

Existing apps get one each from ``DOCKYARD_APP_UID_RANGE`` (in the order they were made), so
after the upgrade every app's processes and builds run under a user of their own;
``app_uid_mark`` keeps the highest uid given.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 15:00:00.000000
"""

import os

import sqlalchemy as sa
from alembic import op

from dockyard.core.identity import parse_uid_range

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

DEFAULT_RANGE = "200000-299999"


def upgrade() -> None:
    with op.batch_alter_table("apps", schema=None) as batch_op:
        batch_op.add_column(sa.Column("uid", sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_apps_uid"), ["uid"])
    first, last = parse_uid_range(os.environ.get("DOCKYARD_APP_UID_RANGE") or DEFAULT_RANGE)
    apps = sa.table("apps", sa.column("uuid", sa.String), sa.column("uid", sa.Integer))
    connection = op.get_bind()
    uuids = (
        connection.execute(sa.text("SELECT uuid FROM apps ORDER BY created, uuid")).scalars().all()
    )
    if len(uuids) > last - first + 1:
        raise RuntimeError(
            f"{len(uuids)} apps do not fit in DOCKYARD_APP_UID_RANGE {first}-{last}; widen it"
        )
    for offset, uuid in enumerate(uuids):
        connection.execute(apps.update().where(apps.c.uuid == uuid).values(uid=first + offset))
    mark = op.create_table(
        "app_uid_mark",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("top", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_app_uid_mark")),
    )
    if uuids:
        op.bulk_insert(mark, [{"id": 1, "top": first + len(uuids) - 1}])


def downgrade() -> None:
    op.drop_table("app_uid_mark")
    with op.batch_alter_table("apps", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_apps_uid"), type_="unique")
        batch_op.drop_column("uid")
