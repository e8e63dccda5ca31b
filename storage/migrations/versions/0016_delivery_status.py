"""the delivery ledger's statuses as a closed list: delivery.status is checked against them

Written out here so the migration means the same whatever the code becomes; a new status changes the CHECK in a new
revision. A row holding anything else (none should) stops the upgrade rather than being changed behind anyone's back.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-08
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0016"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES = ("pending", "sending", "sent", "failed", "missed", "withdrawn")


def upgrade() -> None:
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.create_check_constraint(
            "ck_delivery_status", "status IN (" + ", ".join(f"'{status}'" for status in STATUSES) + ")"
        )


def downgrade() -> None:
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_constraint("ck_delivery_status", type_="check")
