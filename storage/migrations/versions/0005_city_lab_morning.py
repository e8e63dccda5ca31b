"""outbox and exactly-once: wider delivery recipients (group DMs), send attempts, who asked, shared event ids;
APScheduler's job table is no longer used (each process keeps its own jobs in memory)

Revision ID: 0005
Revises: 0002, 0003, 0004
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import storage.types

revision: str = "0005"
down_revision: str | Sequence[str] | None = ("0002", "0003", "0004")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.alter_column(
            "recipient",
            existing_type=sqlmodel.sql.sqltypes.AutoString(length=64),
            type_=sqlmodel.sql.sqltypes.AutoString(length=255),
            existing_nullable=False,
        )
        batch_op.add_column(sa.Column("attempted_at", storage.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("created_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_delivery_created_by_id_member", "member", ["created_by_id"], ["id"])

    op.create_table(
        "seen_event",
        sa.Column("event_id", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("seen_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_id"),
    )
    with op.batch_alter_table("seen_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_seen_event_seen_at"), ["seen_at"], unique=False)

    # Left by earlier versions, whose processes shared one APScheduler job store (which cannot be shared).
    op.execute("DROP TABLE IF EXISTS apscheduler_jobs")


def downgrade() -> None:
    with op.batch_alter_table("seen_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_seen_event_seen_at"))
    op.drop_table("seen_event")
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_constraint("fk_delivery_created_by_id_member", type_="foreignkey")
        batch_op.drop_column("created_by_id")
        batch_op.drop_column("attempted_at")
        batch_op.alter_column(
            "recipient",
            existing_type=sqlmodel.sql.sqltypes.AutoString(length=255),
            type_=sqlmodel.sql.sqltypes.AutoString(length=64),
            existing_nullable=False,
        )
