"""city and cohort names are keyed by their folded form: case, accents, spaces, hyphens and punctuation aside

`Kraków` and `krakow`, `Saint-Étienne` and `saint etienne` were two cities; now they are one key. Names that
already exist and now fold alike are kept, and reported: the later one's key gets ` #<id>`, which no typed name
folds to, so nothing is lost and an organiser can rename or merge them.

Goals may now be `new` (nobody reported on them yet), which new goals start in; `goal.status` has no CHECK, so
nothing changes for it here and existing goals keep their status.

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-07
"""

import logging
import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")

KEY_LENGTH = 80
TABLES = ("city", "cohort")
# The fold as of this revision, frozen here so the migration means the same whatever the code becomes.
_LETTERS = str.maketrans(
    {
        "Ł": "l", "ł": "l", "Ø": "o", "ø": "o", "ß": "ss", "ẞ": "ss", "Đ": "d", "đ": "d", "Ð": "d", "ð": "d",
        "Þ": "th", "þ": "th", "Æ": "ae", "æ": "ae", "Œ": "oe", "œ": "oe", "ı": "i", "Ħ": "h", "ħ": "h",
        "Ŀ": "l", "ŀ": "l", "Ŧ": "t", "ŧ": "t", "ĸ": "k", "Ŋ": "ng", "ŋ": "ng",
    }
)  # fmt: skip


def folded_key(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name.translate(_LETTERS).casefold())
    folded = "".join(ch for ch in decomposed if unicodedata.category(ch) not in ("Mn", "Me"))
    spaced = "".join(ch if ch.isalnum() or unicodedata.category(ch) == "Mc" else " " for ch in folded)
    return " ".join(spaced.split())[:KEY_LENGTH]


def casefolded_key(name: str) -> str:
    """The key before this revision: case and runs of spaces aside."""
    return " ".join(name.casefold().split())[:KEY_LENGTH]


def _rekey(table_name: str, key_of, *, report: bool) -> None:  # type: ignore[no-untyped-def]
    connection = op.get_bind()
    table = sa.table(table_name, sa.column("id", sa.Integer), sa.column("name"), sa.column("name_key"))
    rows = connection.execute(sa.select(table.c.id, table.c.name).order_by(table.c.id)).all()
    owner: dict[str, tuple[int, str]] = {}
    keys: dict[int, str] = {}
    for row_id, name in rows:
        key = key_of(name) or f"#{row_id}"
        if key in owner:
            first_id, first_name = owner[key]
            distinct = f"{key[: KEY_LENGTH - len(str(row_id)) - 2]} #{row_id}"
            if report:
                log.warning(
                    "%s names %r (id %s) and %r (id %s) are now the same name; %r keeps the key %r, "
                    "%r gets %r: rename or merge them",
                    table_name, first_name, first_id, name, row_id, first_name, key, name, distinct,
                )  # fmt: skip
            key = distinct
        owner.setdefault(key, (row_id, name))
        keys[row_id] = key
    # Two passes, so no row takes a key another still holds for a moment (the keys are unique).
    if not keys:
        return
    rekey = table.update().where(table.c.id == sa.bindparam("row_id")).values(name_key=sa.bindparam("key"))
    connection.execute(rekey, [{"row_id": row_id, "key": f"#{row_id}"} for row_id in keys])
    connection.execute(rekey, [{"row_id": row_id, "key": key} for row_id, key in keys.items()])


def upgrade() -> None:
    for table_name in TABLES:
        _rekey(table_name, folded_key, report=True)


def downgrade() -> None:
    for table_name in TABLES:
        _rekey(table_name, casefolded_key, report=False)
