"""Tables as CSV: UTF-8 with a byte-order mark, so spreadsheets keep Kraków and Łódź; no cell can become a
formula. Handlers build the rows; this module only writes them."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import astuple, dataclass, fields
from datetime import UTC, date, datetime

from core.goals import is_overdue, neutralise_cell, standing, status_label


def table_csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """Any table: text cells are neutralised (`=SUM(…)` becomes `'=SUM(…)`), numbers are written as they are."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow([neutralise_cell(cell) if isinstance(cell, str) else cell for cell in row])
    return buffer.getvalue().encode("utf-8-sig")


@dataclass(frozen=True)
class GoalLine:
    """One goal as both goal CSVs write it (`/goal export` and the dashboard's `goals.csv`); the field names are
    the columns, in order. Times are ISO 8601 in UTC with their offset; statuses are worded as every view words
    them (`core.goals.status_label`: a goal nobody reported on is "not yet reported")."""

    id: int
    city: str
    country: str
    cohort: str
    track: str  # the track's key
    goal: str
    status: str  # as last reported
    standing: str  # what every count counts: overdue for an open goal past its due date, else its status
    due: str  # YYYY-MM-DD
    overdue: str  # yes or no: open and past its due date
    latest_note: str  # the last note given with an update, if any
    collaborators: str  # cities named in with=, separated by "; "
    key_learnings: str
    created: str
    created_by: str
    updated: str
    closed: str  # when it was first done or dropped
    history: str  # every update, oldest first: "<when> <status>: <note>", separated by " | "


GOAL_COLUMNS = tuple(f.name for f in fields(GoalLine))


def moment(when: datetime | None) -> str:
    return when.astimezone(UTC).isoformat(timespec="seconds") if when else ""


def goal_line(
    *,
    goal_id: int,
    city: str,
    country: str,
    cohort: str | None,
    track: str | None,
    text: str,
    status: str,
    due: date,
    today: date,
    history: Sequence[tuple[str, str | None, datetime]],
    collaborators: Sequence[str],
    learnings: str | None,
    created_at: datetime,
    created_by: str | None,
    updated_at: datetime,
    closed_at: datetime | None,
) -> GoalLine:
    """A goal's line, from neutral values: the one place its statuses, overdue and standing are written."""
    notes = [note for _, note, _ in history if note]
    return GoalLine(
        id=goal_id,
        city=city,
        country=country,
        cohort=cohort or "",
        track=track or "",
        goal=text,
        status=status_label(status),
        standing=status_label(standing(status=status, due=due, today=today)),
        due=due.isoformat(),
        overdue="yes" if is_overdue(status=status, due=due, today=today) else "no",
        latest_note=notes[-1] if notes else "",
        collaborators="; ".join(collaborators),
        key_learnings=learnings or "",
        created=moment(created_at),
        created_by=created_by or "",
        updated=moment(updated_at),
        closed=moment(closed_at),
        history=" | ".join(
            f"{moment(when)} {status_label(value)}" + (f": {note}" if note else "") for value, note, when in history
        ),
    )


def goals_csv(lines: Iterable[GoalLine], *, ordered: bool = False) -> bytes:
    """Lines by goal id, or in the order given (`ordered`: a page's own sort)."""
    kept = list(lines) if ordered else sorted(lines, key=lambda line: line.id)
    return table_csv(GOAL_COLUMNS, (astuple(line) for line in kept))
