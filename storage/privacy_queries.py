"""What CityPeers holds about one person (one member row), gathered for their export and erased when they ask.

Tables are walked through SQLModel's metadata rather than listed by hand, so a table added later that points at
a member (a foreign key to `member.id`) or holds their id in its text is exported and erased without a change
here. Keyword-only; they add and flush, the caller commits.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, String, Table, Text, TypeDecorator, cast, delete, or_, select, update
from sqlalchemy.types import TypeEngine
from sqlmodel import Session, SQLModel, col

from storage import ledger_queries
from storage.models import Delivery, Member

TOMBSTONE = "a former representative"  # what stays where a forgotten person's name was
FORMER = "former"  # the recipient of a delivery row once its person is forgotten
# Rows whose only purpose is the person: deleted with them, not kept with a tombstone.
OWN_ROWS_TABLES = frozenset({"rsvp", "calendar_feed", "dashboard_link", "join_request"})
# Tables whose text is ours (rendered messages, the audit trail) rather than what people typed: a forgotten
# person's display name is replaced there too, not only their id.
NAMED_TABLES = frozenset({"delivery", "audit_entry"})
# A button's command kept server-side under a hash of itself: a command naming the person goes whole.
DELETED_WHEN_NAMED = frozenset({"stored_command"})
OPEN_STATUSES = ledger_queries.OWED


def member_columns() -> Iterator[tuple[Table, Column[Any]]]:
    """Every column of every table that points at a member row (a foreign key to member.id)."""
    for table in SQLModel.metadata.sorted_tables:
        for column in table.columns:
            if any(fk.column.table.name == "member" for fk in column.foreign_keys):
                yield table, column


def plain(value: object) -> object:
    """A column's value as JSON: times and dates in ISO 8601, everything else as it is."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def rows_pointing_at(*, session: Session, member_id: int) -> dict[str, list[dict[str, Any]]]:
    """For each `table.column` that points at a member, the rows pointing at this one, every column as JSON."""
    found: dict[str, list[dict[str, Any]]] = {}
    for table, column in member_columns():
        rows = session.connection().execute(select(table).where(column == member_id)).mappings()
        found[f"{table.name}.{column.name}"] = [{key: plain(value) for key, value in row.items()} for row in rows]
    return found


def _is_recipient(delivery: Delivery, external_id: str) -> bool:
    return external_id in delivery.recipient.split(",")


def deliveries_to(*, session: Session, external_id: str) -> list[Delivery]:
    """Every row of the ledger addressed to the person: to them alone, or to a conversation they are part of."""
    pattern = f"%{like_escaped(external_id)}%"
    query = select(Delivery).where(col(Delivery.recipient).like(pattern, escape="\\")).order_by(col(Delivery.id))
    return [row for row in session.scalars(query) if _is_recipient(row, external_id)]


def like_escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass
class Erased:
    """What a forget did, counted."""

    members: int = 0
    rows_deleted: dict[str, int] = field(default_factory=dict)
    references_cleared: dict[str, int] = field(default_factory=dict)
    deliveries_withdrawn: int = 0
    deliveries_emptied: int = 0
    texts_scrubbed: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Scrubber:
    """Replaces a person's id (and, where asked, their display name) in text and JSON values.

    An id is matched whole (`slack:U1` is not part of `slack:U12`); a mention `<@slack:U1|ana>` becomes the
    tombstone; a bare id becomes `pseudonym`, the same in every row, so the audit trail still says that one (now
    nameless) person did these things."""

    external_id: str
    display_name: str
    pseudonym: str

    @property
    def _mention(self) -> re.Pattern[str]:
        return re.compile(r"<@" + re.escape(self.external_id) + r"(?:\|[^>]*)?>")

    @property
    def _bare(self) -> re.Pattern[str]:
        return re.compile(r"(?<![A-Za-z0-9_])" + re.escape(self.external_id) + r"(?![A-Za-z0-9_])")

    @property
    def _name(self) -> re.Pattern[str]:
        """The display name as a whole word (`ana`, not the `ana` of `banana`), with the `@` we write before it."""
        return re.compile(r"(?:@|(?<![\w@]))" + re.escape(self.display_name) + r"(?!\w)")

    def holds(self, value: object, *, names: bool) -> bool:
        """Whether a value names the person: their id, or (in our own words) `@name` as we write people."""
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        if self._bare.search(text):
            return True
        return names and bool(self.display_name) and f"@{self.display_name}" in text

    def text(self, value: str, *, names: bool) -> str:
        value = self._bare.sub(self.pseudonym, self._mention.sub(TOMBSTONE, value))
        if names and self.display_name:
            value = self._name.sub(TOMBSTONE, value)
        return value

    def value(self, value: object, *, names: bool) -> object:
        """A JSON value with the person gone: a kept mention `{"mention": [id, name]}` becomes the tombstone."""
        if isinstance(value, dict):
            mentioned = value.get("mention")
            if isinstance(mentioned, list) and mentioned and mentioned[0] == self.external_id:
                return TOMBSTONE
            return {self.text(str(k), names=names): self.value(v, names=names) for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(item, names=names) for item in value]
        if isinstance(value, str):
            return self.text(value, names=names)
        return value

    def body(self, body: str, *, names: bool) -> str:
        """A delivery body: a reply kept as JSON (scrubbed as JSON, so it still loads), or plain text."""
        if body.startswith("{"):
            try:
                return json.dumps(self.value(json.loads(body), names=names))
            except ValueError:
                pass
        return self.text(body, names=names)


def forget_member(*, session: Session, member: Member, pseudonym: str) -> Erased:
    """Erase one member row and everything that is theirs alone; what belongs to a city stays, pointing at nobody.

    In order: rows that exist only for the person go (RSVPs, feed and dashboard links, join requests); every other
    reference to them is cleared (a goal's author, a goal update's, an introduction's …); the ledger's rows to them
    are withdrawn when still to go and emptied (no body, no recipient) when sent; their id, and in our own words
    their name, is replaced in every text and JSON column of every table; the member row goes last.
    """
    erased = Erased()
    scrub = Scrubber(member.external_id, member.display_name, pseudonym)
    member_id = member.id
    session.flush()
    connection = session.connection()
    for table, column in member_columns():
        if table.name == "member":
            continue
        if table.name in OWN_ROWS_TABLES or not column.nullable:
            count = connection.execute(delete(table).where(column == member_id)).rowcount or 0
            _add(erased.rows_deleted, table.name, count)
        else:
            count = connection.execute(update(table).where(column == member_id).values({column.name: None})).rowcount
            _add(erased.references_cleared, f"{table.name}.{column.name}", count or 0)
    _forget_deliveries(session, scrub, erased)
    _scrub_every_table(session, scrub, erased, member_id=member_id)
    session.expunge(member)
    # SQLModel sets __table__ on every table class when it is made; its stubs do not declare it.
    members: Table = Member.__table__  # type: ignore[attr-defined]
    erased.members = connection.execute(delete(members).where(members.c.id == member_id)).rowcount
    session.expire_all()
    return erased


def _forget_deliveries(session: Session, scrub: Scrubber, erased: Erased) -> None:
    """Messages to the person: withdrawn when still to go, and their bodies gone; to a conversation of several,
    the others still get what is still to go, and the person leaves the recipients."""
    for row in deliveries_to(session=session, external_id=scrub.external_id):
        others = [person for person in row.recipient.split(",") if person != scrub.external_id]
        still_to_go = row.status in OPEN_STATUSES
        body = None
        if still_to_go and others:
            body = scrub.body(row.body, names=True) if row.body else row.body
        else:
            erased.deliveries_emptied += 1
            erased.deliveries_withdrawn += still_to_go
        withdraw = still_to_go and not others
        assert row.id is not None  # a stored row
        ledger_queries.forget_row(
            session=session, delivery_id=row.id, recipient=",".join(others) or FORMER, body=body, withdraw=withdraw
        )


def _text_columns(table: Table) -> list[Column[Any]]:
    """Columns holding text or JSON, including types that wrap them (sqlmodel's AutoString)."""
    return [c for c in table.columns if isinstance(_stored_type(c), String | Text | JSON)]


def _stored_type(column: Column[Any]) -> TypeEngine[Any]:
    return column.type.impl_instance if isinstance(column.type, TypeDecorator) else column.type


def _scrub_every_table(session: Session, scrub: Scrubber, erased: Erased, *, member_id: int | None) -> None:
    connection = session.connection()
    for table in SQLModel.metadata.sorted_tables:
        if table.name == "member":
            continue
        columns = _text_columns(table)
        if not columns:
            continue
        names = table.name in NAMED_TABLES
        needles = [scrub.external_id] + ([f"@{scrub.display_name}"] if names and scrub.display_name else [])
        needles += [json.dumps(needle)[1:-1] for needle in needles]  # as a JSON column may keep it (\u00e1)
        conditions = [
            cast(column, Text).like(f"%{like_escaped(needle)}%", escape="\\")
            for column in columns
            for needle in needles
        ]
        keys = list(table.primary_key.columns)
        for row in connection.execute(select(table).where(or_(*conditions))).mappings().all():
            if not any(row[c.name] is not None and scrub.holds(row[c.name], names=names) for c in columns):
                continue  # `slack:U12` when looking for `slack:U1`
            # A row about the person (in our own words): their name goes from every column, not only the id's
            # (an audit entry's object_name beside its subject).
            changed = {}
            for column in columns:
                if row[column.name] is not None:
                    after = _scrubbed(scrub, row[column.name], column, names=names)
                    if after != row[column.name]:
                        changed[column.name] = after
            if table.name == "audit_entry" and row.get("actor_id") == member_id:
                changed["actor_id"] = None
            if not changed:
                continue
            where = [key == row[key.name] for key in keys]
            if table.name in DELETED_WHEN_NAMED:
                connection.execute(delete(table).where(*where))
            else:
                connection.execute(update(table).where(*where).values(changed))
            _add(erased.texts_scrubbed, table.name, 1)
    if "audit_entry" in SQLModel.metadata.tables and member_id is not None:
        audit = SQLModel.metadata.tables["audit_entry"]
        if "actor_id" in audit.c:  # entries written while the person acted keep who acted, not which row it was
            connection.execute(update(audit).where(audit.c.actor_id == member_id).values(actor_id=None))


def _scrubbed(scrub: Scrubber, value: object, column: Column[Any], *, names: bool) -> object:
    if isinstance(_stored_type(column), JSON):
        return scrub.value(value, names=names)
    if isinstance(value, str) and column.name == "body":
        return scrub.body(value, names=names)
    return scrub.text(str(value), names=names)


def _add(counts: dict[str, int], name: str, count: int) -> None:
    if count:
        counts[name] = counts.get(name, 0) + count


def departed_members(*, session: Session, before: datetime) -> list[Member]:
    """Members who left their workspace or server before `before` (see Member.left_at), oldest first."""
    query = (
        select(Member)
        .where(col(Member.left_at).is_not(None), col(Member.left_at) <= before)
        .order_by(col(Member.left_at))
    )
    return list(session.scalars(query))
