"""people and channels carry their platform (slack:U…, discord:…); a person's chosen time zone and language;
button commands too long for a platform's payload

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23

Slack ids stored before this revision had no prefix: user ids (U…/W…) and channel ids (C…/G…/D…) get `slack:`.
Console names (lower-case words) keep none.
"""

import re
from collections.abc import Callable, Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

import storage.types

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,}$")
SLACK_CHANNEL = re.compile(r"^[CGD][A-Z0-9]{2,}$")
PREFIX = "slack:"


def _add(pattern: re.Pattern[str]) -> Callable[[str], str]:
    return lambda value: PREFIX + value if pattern.match(value) else value


def _drop(value: str) -> str:
    return value.removeprefix(PREFIX)


def _rewrite(table: str, key: str, column: str, change: Callable[[str], str]) -> None:
    connection = op.get_bind()
    rows = connection.execute(sa.text(f"SELECT {key}, {column} FROM {table} WHERE {column} IS NOT NULL")).all()
    for row_key, value in rows:
        changed = change(value)
        if changed != value:
            connection.execute(
                sa.text(f"UPDATE {table} SET {column} = :value WHERE {key} = :key"), {"value": changed, "key": row_key}
            )


def _rewrite_deliveries(user: Callable[[str], str], channel: Callable[[str], str]) -> None:
    """Recipients, and the keys that end with them (so a reminder queued again keeps its key)."""
    connection = op.get_bind()
    rows = connection.execute(sa.text("SELECT id, key, recipient, recipient_kind FROM delivery")).all()
    for row_id, key, recipient, kind in rows:
        changed = channel(recipient) if kind == "channel" else ",".join(user(part) for part in recipient.split(","))
        if changed == recipient:
            continue
        new_key = key[: -len(recipient)] + changed if key.endswith(":" + recipient) else key
        connection.execute(
            sa.text("UPDATE delivery SET recipient = :recipient, key = :key WHERE id = :id"),
            {"recipient": changed, "key": new_key[:200], "id": row_id},
        )


def upgrade() -> None:
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tz_chosen", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("locale", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.alter_column("tz_chosen", server_default=None)
    op.create_table(
        "stored_command",
        sa.Column("token", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("command", sa.Text(), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("token"),
    )
    _rewrite("member", "id", "external_id", _add(SLACK_USER))
    _rewrite("event", "id", "channel_id", _add(SLACK_CHANNEL))
    _rewrite("broadcast", "id", "channel_id", _add(SLACK_CHANNEL))
    _rewrite_deliveries(_add(SLACK_USER), _add(SLACK_CHANNEL))


def downgrade() -> None:
    _rewrite_deliveries(_drop, _drop)
    _rewrite("broadcast", "id", "channel_id", _drop)
    _rewrite("event", "id", "channel_id", _drop)
    _rewrite("member", "id", "external_id", _drop)
    op.drop_table("stored_command")
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.drop_column("locale")
        batch_op.drop_column("tz_chosen")
