"""Tables as CSV: UTF-8 with a byte-order mark, so spreadsheets keep Kraków and Łódź; no cell can become a
formula. Handlers build the rows; this module only writes them."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import astuple, dataclass, fields

from core.goals import neutralise_cell


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
    """One goal as the export writes it; the field names are the CSV's columns, in order."""

    id: int
    city: str
    country: str
    cohort: str
    track: str
    goal: str
    status: str
    due: str
    overdue: str  # yes or no
    collaborators: str
    key_learnings: str
    created: str
    created_by: str
    updated: str
    closed: str


GOAL_COLUMNS = tuple(f.name for f in fields(GoalLine))


def goals_csv(lines: Iterable[GoalLine]) -> bytes:
    return table_csv(GOAL_COLUMNS, (astuple(line) for line in sorted(lines, key=lambda line: line.id)))
