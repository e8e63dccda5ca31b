"""the delivery ledger plans each platform's sends by its pace: whether a row's first attempt was placed yet

Rows already settled count as planned; rows still owed are planned by the next process that serves their platform.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | Sequence[str] | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.add_column(sa.Column("planned", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.create_index("ix_delivery_to_plan", ["status", "planned", "platform"], unique=False)
        batch_op.create_index("ix_delivery_platform_due", ["platform", "due_at", "next_attempt_at"], unique=False)
    op.execute("UPDATE delivery SET planned = TRUE WHERE status NOT IN ('pending', 'sending')")


def downgrade() -> None:
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_index("ix_delivery_platform_due")
        batch_op.drop_index("ix_delivery_to_plan")
        batch_op.drop_column("planned")
