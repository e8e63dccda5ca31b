"""a programme year: one occurrence changed on its own, all-day events, broadcasts withdrawn, rows by platform

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07

`delivery.platform` is filled from each row's recipient (`slack:U1` -> `slack`), so a process claims only the
rows of the platforms it serves.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import storage.types

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "event_occurrence",
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("original_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("start_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("end_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("location", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.Column("changed_by_id", sa.Integer(), nullable=True),
        sa.Column("changed_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["event_id"], ["event.id"]),
        sa.ForeignKeyConstraint(["changed_by_id"], ["member.id"]),
        sa.PrimaryKeyConstraint("event_id", "original_at"),
    )
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("all_day", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("reminders_until", storage.types.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table("broadcast", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cancelled_at", storage.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("cancelled_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_broadcast_cancelled_by_id_member", "member", ["cancelled_by_id"], ["id"])
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("platform", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False, server_default="")
        )
    delivery = sa.table("delivery", sa.column("recipient", sa.String()), sa.column("platform", sa.String()))
    for platform in ("slack", "discord"):
        op.execute(delivery.update().where(delivery.c.recipient.like(f"{platform}:%")).values(platform=platform))


def downgrade() -> None:
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_column("platform")
    with op.batch_alter_table("broadcast", schema=None) as batch_op:
        batch_op.drop_constraint("fk_broadcast_cancelled_by_id_member", type_="foreignkey")
        batch_op.drop_column("cancelled_by_id")
        batch_op.drop_column("cancelled_at")
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_column("reminders_until")
        batch_op.drop_column("all_day")
    op.drop_table("event_occurrence")
