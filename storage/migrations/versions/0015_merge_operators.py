"""join the three branches of 0011: the dashboard's links (0012), the audit trail (0013), personal data (0014)

Revision ID: 0015
Revises: 0012, 0013, 0014
Create Date: 2026-12-07
"""

from collections.abc import Sequence

revision: str = "0015"
down_revision: str | Sequence[str] | None = ("0012", "0013", "0014")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
