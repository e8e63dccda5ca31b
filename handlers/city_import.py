"""`citypeers import cities FILE.csv`: a programme's cities in one step, all or nothing.

Columns: name, country, population, cohort, mentor, tracks, offers, needs (name and country required,
the header names them in any order). Several tracks, offers or needs in one cell are separated by `;`.
UTF-8, with or without a byte-order mark. Every bad row is reported by its line number and, if there is
one, nothing is imported: the whole file is one transaction. A line or a cell far longer than any real one,
or a control character, is a one-line problem found before the row is parsed.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from core.audit import AuditKind
from core.grammar import GrammarError, bad_character, parse_count, parse_yes_no, shown
from core.i18n import N_, nN_
from core.tracks import TrackSpec, resolve_track
from handlers import audit
from handlers.city import MAX_ITEM, MAX_ITEMS, checked_country, checked_name
from handlers.types import CommandError, Services
from storage import match_queries, queries
from storage.db import unit_of_work
from storage.models import name_key

COLUMNS = ("name", "country", "population", "cohort", "mentor", "tracks", "offers", "needs")
REQUIRED = ("name", "country")
MAX_CELL = MAX_ITEMS * (MAX_ITEM + 2)  # room for the most offers or needs a city can have, with separators
MAX_LINE = 100_000  # more than a row of full cells; a longer line is refused before the csv module reads it


class Strings:
    """Every line the import prints, in one place."""

    NOT_UTF8 = N_("{path} is not UTF-8 text (save it as CSV UTF-8).")
    NO_FILE = N_("{path}: no such file.")
    EMPTY = N_("{path} has no header row; expected the columns {columns}.")
    MISSING_COLUMNS = N_("line 1: the header lacks {missing}; expected the columns {columns}.")
    UNKNOWN_COLUMNS = N_("line 1: unknown columns {unknown}; expected the columns {columns}.")
    LINE = N_("line {line}: {problem}")
    DUPLICATE = N_("{name} appears twice in the file (first on line {first}).")
    EXISTS = N_("{name} is already registered.")
    # An offer and a need each have their sentences: no noun is put into one, nor made plural by an added "s".
    TOO_LONG = {
        "offer": N_("an offer is longer than {max} characters."),
        "need": N_("a need is longer than {max} characters."),
    }
    TOO_MANY = {
        "offer": nN_("more than {max} offer.", "more than {max} offers.", count="max"),
        "need": nN_("more than {max} need.", "more than {max} needs.", count="max"),
    }
    EXTRA_CELLS = N_("more cells than columns (a `;` or `,` inside a cell needs the cell in double quotes).")
    CELL_TOO_LONG = N_("the {column} cell has {length:,} characters; a cell holds at most {max:,}.")
    BAD_CHARACTER = N_("the {column} cell holds {code} at character {position:,}, a control character; remove it.")
    LINE_TOO_LONG = N_("longer than {max:,} characters; the rest of the file was not read.")
    NOT_CSV = N_("not readable as CSV ({error}); the rest of the file was not read.")
    DONE = N_("Imported {cities} cities ({offers} offers, {needs} needs).")
    FAILED = N_("Nothing imported: {count} bad rows.")


class ImportFailed(Exception):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class ImportResult:
    cities: int = 0
    offers: int = 0
    needs: int = 0
    names: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return Strings.DONE.format(cities=self.cities, offers=self.offers, needs=self.needs)


@dataclass
class _Row:
    line: int
    name: str
    country: str
    population: int | None
    cohort: str
    mentor: bool
    tracks: list[TrackSpec]
    offers: list[str]
    needs: list[str]


def _cells(value: str | None) -> list[str]:
    return [" ".join(part.split()) for part in (value or "").split(";") if part.strip()]


class _LineTooLong(Exception):
    def __init__(self, line: int) -> None:
        super().__init__(line)
        self.line = line


def _lines(handle: TextIO) -> Iterator[str]:
    """The file's lines for the csv module, never reading more than MAX_LINE characters of one into memory."""
    number = 0
    while line := handle.readline(MAX_LINE + 1):
        number += 1
        if len(line) > MAX_LINE and line[-1] not in "\r\n":
            raise _LineTooLong(number)
        yield line


def _cell_problem(record: dict[str, str]) -> str | None:
    """A cell too long or holding a control character, found before any parsing of the row."""
    for column, cell in record.items():
        if len(cell) > MAX_CELL:
            return Strings.CELL_TOO_LONG.format(column=column, length=len(cell), max=MAX_CELL)
        if (bad := bad_character(cell)) is not None:
            return Strings.BAD_CHARACTER.format(column=column, code=f"U+{ord(cell[bad]):04X}", position=bad + 1)
    return None


def _read_rows(path: Path, tracks: list[TrackSpec]) -> tuple[list[_Row], list[str]]:
    columns = ", ".join(COLUMNS)
    rows: list[_Row] = []
    problems: list[str] = []
    reader = None
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.reader(_lines(handle))
            header = next(reader, None)
            if header is None:
                return [], [Strings.EMPTY.format(path=path, columns=columns)]
            keys = [cell.strip().lower() for cell in header]
            missing = [c for c in REQUIRED if c not in keys]
            unknown = [shown(k) for k in keys if k and k not in COLUMNS]
            if missing:
                return [], [Strings.MISSING_COLUMNS.format(missing=", ".join(missing), columns=columns)]
            if unknown:
                return [], [Strings.UNKNOWN_COLUMNS.format(unknown=", ".join(unknown), columns=columns)]
            line = reader.line_num
            for cells in reader:
                start, line = line + 1, reader.line_num  # a quoted cell may span lines: report where the row starts
                if not any(cell.strip() for cell in cells):
                    continue
                if len(cells) > len(keys):
                    problems.append(Strings.LINE.format(line=start, problem=Strings.EXTRA_CELLS))
                    continue
                record = dict(zip(keys, cells, strict=False))
                if problem := _cell_problem(record):
                    problems.append(Strings.LINE.format(line=start, problem=problem))
                    continue
                try:
                    rows.append(_parse_row(start, record, tracks))
                except (CommandError, GrammarError) as error:
                    problem = " ".join(str(error).split())  # one line per problem, even if a cell has line breaks
                    problems.append(Strings.LINE.format(line=start, problem=problem or "malformed row."))
            return rows, problems
    except _LineTooLong as error:
        problems.append(Strings.LINE.format(line=error.line, problem=Strings.LINE_TOO_LONG.format(max=MAX_LINE)))
        return rows, problems
    except csv.Error as error:  # a cell over the csv module's own limit, spread over many lines
        line = reader.line_num if reader is not None else 1
        problems.append(Strings.LINE.format(line=line, problem=Strings.NOT_CSV.format(error=error)))
        return rows, problems
    except FileNotFoundError:
        return [], [Strings.NO_FILE.format(path=path)]
    except UnicodeDecodeError:
        return [], [Strings.NOT_UTF8.format(path=path)]


def _parse_row(line: int, record: dict[str, str], tracks: list[TrackSpec]) -> _Row:
    name = checked_name(record.get("name", ""))
    country = checked_country(record.get("country", "").strip())
    population_text = record.get("population", "").strip()
    population = parse_count(population_text, "population", minimum=1) if population_text else None
    mentor_text = record.get("mentor", "").strip()
    mentor = parse_yes_no(mentor_text, "mentor") if mentor_text else False
    cohort = record.get("cohort", "").strip()
    if cohort:
        cohort = checked_name(cohort)
    chosen = list(dict.fromkeys(resolve_track(item, tracks) for item in _cells(record.get("tracks"))))
    items = {}
    for kind in ("offer", "need"):
        texts = _cells(record.get(f"{kind}s"))
        if any(len(text) > MAX_ITEM for text in texts):
            raise CommandError(Strings.TOO_LONG[kind], max=MAX_ITEM)
        if len(texts) > MAX_ITEMS:
            raise CommandError(Strings.TOO_MANY[kind], max=MAX_ITEMS)
        items[kind] = texts
    return _Row(line, name, country, population, cohort, mentor, chosen, items["offer"], items["need"])


def import_cities(services: Services, path: Path) -> ImportResult:
    """Import every row or none; raises ImportFailed with one line per problem.

    One transaction of bulk inserts (cities, their tracks, offers and needs), and one profile revision for every
    imported city at the end, so a running bot's match index takes them all in at its next /match."""
    with unit_of_work(services.engine) as session:
        stored_tracks = {t.key: t for t in queries.active_tracks(session=session)}
        specs = [TrackSpec(t.key, t.name) for t in stored_tracks.values()]
        rows, problems = _read_rows(path, specs)
        first_line: dict[str, int] = {}
        for row in rows:
            key = name_key(row.name)
            if key in first_line:
                duplicate = Strings.DUPLICATE.format(name=row.name, first=first_line[key])
                problems.append(Strings.LINE.format(line=row.line, problem=duplicate))
                continue
            first_line[key] = row.line
        registered = queries.registered_name_keys(session=session, keys=list(first_line))
        for row in rows:
            if name_key(row.name) in registered and first_line[name_key(row.name)] == row.line:
                problems.append(Strings.LINE.format(line=row.line, problem=Strings.EXISTS.format(name=row.name)))
        if problems:
            raise ImportFailed(sorted(problems, key=_line_of) + [Strings.FAILED.format(count=len(problems))])
        now = services.clock.now()
        cohorts = {
            name_key(name): queries.get_or_add_cohort(session=session, name=name, now=now).id
            for name in dict.fromkeys(row.cohort for row in rows if row.cohort)
        }
        ids = queries.add_cities(
            session=session,
            cities=[
                {"name": row.name, "name_key": name_key(row.name), "country": row.country,
                 "population": row.population, "mentor": row.mentor,
                 "cohort_id": cohorts[name_key(row.cohort)] if row.cohort else None, "created_at": now}
                for row in rows
            ],
        )  # fmt: skip
        interests: list[dict[str, object]] = []  # column values, as the cities' above
        items: list[dict[str, object]] = []
        result = ImportResult()
        for row, city_id in zip(rows, ids, strict=True):
            interests.extend({"city_id": city_id, "track_id": stored_tracks[t.key].id} for t in row.tracks)
            for kind, texts in (("offer", row.offers), ("need", row.needs)):
                items.extend(
                    {"city_id": city_id, "kind": kind, "text": text, "created_by_id": None, "created_at": now}
                    for text in texts
                )
            result.cities += 1
            result.offers += len(row.offers)
            result.needs += len(row.needs)
            result.names.append(row.name)
        queries.add_interests_and_items(session=session, interests=interests, items=items)
        if ids:
            match_queries.mark_profiles_changed(session=session, city_ids=ids)
        audit.record(
            session,
            actor=None,  # the command line: whoever runs `citypeers import` on the server
            what=AuditKind.IMPORT,
            object_kind="file",
            object_id=path.name,
            after={"cities": result.cities, "offers": result.offers, "needs": result.needs},
            now=now,
        )
        return result


def _line_of(problem: str) -> int:
    head = problem.split(":", 1)[0]
    return int(head.removeprefix("line ")) if head.startswith("line ") and head[5:].isdigit() else 0
