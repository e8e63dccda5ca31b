"""the Discord scheduled event that shows each of our events in a server's event list

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import storage.types

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "discord_scheduled_event",
        sa.Column("event_uid", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("guild_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("scheduled_event_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("canceled", sa.Boolean(), nullable=False),
        sa.Column("updated_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("event_uid"),
    )


def downgrade() -> None:
    op.drop_table("discord_scheduled_event")
