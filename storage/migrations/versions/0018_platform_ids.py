"""ids as long as any platform's: 300 characters for a platform's id with its prefix (Matrix's ids are up to 255)

A ledger row's recipients (several ids joined by commas, for a group) become text of any length.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0018"
down_revision: str | Sequence[str] | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = 300
# (table, column, length before, nullable)
WIDENED = (
    ("member", "external_id", 64, False),
    ("introduction", "conversation_id", 64, True),
    ("event", "channel_id", 32, True),
    ("broadcast", "channel_id", 32, False),
    ("seen_event", "event_id", 100, False),
    ("audit_entry", "actor", 64, False),
    ("audit_entry", "object_id", 100, False),
    ("audit_entry", "subject", 64, True),
)


def _string(length: int) -> sa.types.TypeEngine:  # type: ignore[type-arg]
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def upgrade() -> None:
    for table, column, before, nullable in WIDENED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(column, existing_type=_string(before), type_=_string(ID), existing_nullable=nullable)
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.alter_column("recipient", existing_type=_string(255), type_=sa.Text(), existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.alter_column("recipient", existing_type=sa.Text(), type_=_string(255), existing_nullable=False)
    for table, column, before, nullable in reversed(WIDENED):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(column, existing_type=_string(ID), type_=_string(before), existing_nullable=nullable)
