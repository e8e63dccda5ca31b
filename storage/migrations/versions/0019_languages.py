"""languages: whether a person chose theirs (/city language), and the language a ledger row is written in

A row's language is fixed when it is first rendered, so a retry or another process's takeover writes the same
bytes.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0019"
down_revision: str | Sequence[str] | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.add_column(sa.Column("locale_chosen", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.alter_column("locale_chosen", server_default=None)
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.add_column(sa.Column("locale", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("delivery", schema=None) as batch_op:
        batch_op.drop_column("locale")
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.drop_column("locale_chosen")
