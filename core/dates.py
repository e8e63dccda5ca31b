"""Reading the dates, times, zones and durations people type.

ISO (`2020-09-28 10:00`) is read year first; `28/09/2020` and `28-09-2020` day first, as the seed
documents write them. A time without a zone is in the user's zone. Instants are returned in UTC.
"""

from __future__ import annotations

import difflib
import functools
import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from dateutil import parser as dateutil_parser

from core.grammar import GrammarError, shown
from core.text import fold_name

DATE_HINT = "a date like 2020-09-28 10:00 or 28/09/2020"
NOT_DAY_FIRST = "`{typed}` is read day first, as 28/09/2020 is, and {month} is no month: write {iso} (year-month-day)."
_YEAR_FIRST = re.compile(r"^\s*\d{4}[-/.]")
# Day, separator, month and an optional year (the same separator): `02/15/2027`, `1/13`, `12.13.2027`.
_DAY_MONTH = re.compile(r"\s*(\d{1,2})([-/.])(\d{1,2})(?:\2(\d{4}|\d{2}))?(?![\d/.-])")
_DURATION = re.compile(r"^(\d+)\s*([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
MAX_DATE_CHARS = 100  # dateutil's parser is not made for long input: refuse before calling it
MAX_ZONE_CHARS = 64  # the longest IANA name is 32 characters
MAX_DURATION_DIGITS = 6  # 999999w is already beyond any date we can hold


# Areas whose zones are named after a city people may type alone (`Lisbon` for Europe/Lisbon).
_CITY_AREAS = ("Europe/", "Africa/", "America/", "Asia/", "Atlantic/", "Australia/", "Indian/", "Pacific/")


@functools.cache
def _zone_names() -> tuple[dict[str, str], dict[str, str]]:
    """IANA names by their case-folded form, and by their folded city (`lisbon`: Europe/Lisbon; Europe first)."""
    names = sorted(available_timezones(), key=lambda zone: (not zone.startswith("Europe/"), zone))
    by_name = {zone.casefold(): zone for zone in names}
    by_city: dict[str, str] = {}
    for zone in names:
        if zone.startswith(_CITY_AREAS):
            by_city.setdefault(fold_name(zone.rsplit("/", 1)[-1]), zone)
    return by_name, by_city


def parse_zone(name: str) -> ZoneInfo:
    """An IANA zone, typed in any case (`europe/lisbon`), or by its city alone (`Lisbon`, `são paulo`)."""
    typed = name.strip()
    try:
        if len(typed) > MAX_ZONE_CHARS:
            raise ValueError(name)
        return ZoneInfo(typed)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a directory (`Europe`), a name too long
        pass
    if len(typed) <= MAX_ZONE_CHARS:
        by_name, by_city = _zone_names()
        zone = by_name.get(typed.casefold()) or by_city.get(fold_name(typed))
        if zone is not None:
            return ZoneInfo(zone)
        close = difflib.get_close_matches(typed.casefold(), list(by_name), n=1, cutoff=0.8)
        close = [by_name[key] for key in close] or [
            by_city[key] for key in difflib.get_close_matches(fold_name(typed), list(by_city), n=1, cutoff=0.75)
        ]
        if close:
            raise GrammarError(f"`{shown(name)}` is not a time zone. Did you mean {close[0]}?")
    raise GrammarError(f"`{shown(name)}` is not a time zone; expected an Area/City name like Europe/Brussels.")


def _parse(text: str, default: datetime, year: int | None = None) -> datetime:
    """`year` is the year a date typed without one is in, for a suggestion (None: not known)."""
    if len(text) > MAX_DATE_CHARS:
        raise GrammarError(f"A date is at most {MAX_DATE_CHARS} characters; expected {DATE_HINT}.")
    year_first = bool(_YEAR_FIRST.match(text))
    if not year_first:
        _refuse_month_first(text, year)
    try:
        return dateutil_parser.parse(text, default=default, dayfirst=not year_first, yearfirst=year_first)
    except (ValueError, OverflowError, dateutil_parser.ParserError):
        raise GrammarError(f"`{shown(text)}` is not {DATE_HINT}.") from None


def _refuse_month_first(text: str, this_year: int | None) -> None:
    """dateutil, asked for day first, quietly reads `02/15/2027` month first (15 cannot be a month) while it reads
    `03/04/2027` day first: refuse the first, with the ISO form of what was surely meant."""
    match = _DAY_MONTH.match(text)
    if match is None or (match.group(2) == "." and match.group(4) is None):  # `10.30` is no date
        return
    first, second, year = int(match.group(1)), int(match.group(3)), match.group(4)
    if second <= 12 or not 1 <= first <= 12:
        return  # day first as it should be, or no date at all (dateutil says so)
    full_year = this_year if year is None else int(year) + (2000 if len(year) == 2 else 0)
    try:
        date(full_year or 2000, first, second)  # 2000: a leap year, so 29 February may be meant
    except ValueError:
        return  # no date either way round (`2/30`): dateutil's error says so
    iso = f"{'YYYY' if full_year is None else f'{full_year:04d}'}-{first:02d}-{second:02d}"
    rest = text[match.end() :].strip()
    iso = f"{iso} {rest}" if rest else iso
    raise GrammarError(NOT_DAY_FIRST.format(typed=shown(text), month=second, iso=shown(iso)))


def parse_when(text: str, *, zone: ZoneInfo, now: datetime) -> datetime:
    """An instant in UTC; a missing date part defaults to today in `zone`, a missing time to 00:00."""
    local_today = now.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
    parsed = _parse(text, local_today, local_today.year)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    try:
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError):  # an offset of a day or more (`+99:00`), or a year past 9999 in UTC
        raise GrammarError(f"`{shown(text)}` is not {DATE_HINT}.") from None


def parse_day(text: str) -> date:
    """A calendar date (no time, no zone)."""
    return _parse(text, datetime(2000, 1, 1), None).date()


def parse_duration(text: str) -> timedelta:
    """`30m`, `1h`, `7d`, `2w`."""
    match = _DURATION.match(text.strip().lower()) if len(text) <= MAX_DATE_CHARS else None
    if not match or len(match.group(1)) > MAX_DURATION_DIGITS:
        raise GrammarError(
            f"`{shown(text)}` is not a duration; expected a number and m, h, d or w, like 30m, 1d or 2w."
        )
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def parse_durations(text: str) -> list[timedelta]:
    """`7d,1d,1h` -> three offsets, longest first, without repeats."""
    items = [parse_duration(part) for part in text.split(",") if part.strip()]
    if not items:
        raise GrammarError("Expected offsets like 7d,1d,1h.")
    return sorted(set(items), reverse=True)


def format_instant(instant: datetime, zone: ZoneInfo) -> str:
    """`Mon 28 Sep 2020, 10:00 CEST` in the reader's zone."""
    local = instant.astimezone(zone)
    return f"{local:%a} {local.day} {local:%b %Y, %H:%M} {local.tzname()}"


def format_span(start: datetime, end: datetime | None, zone: ZoneInfo) -> str:
    """An event's time in the reader's zone: one day with start–end, or several days as a range."""
    first = start.astimezone(zone)
    if end is None:
        return format_instant(start, zone)
    last = end.astimezone(zone)
    if first.date() == last.date():
        return f"{first:%a} {first.day} {first:%b %Y, %H:%M}–{last:%H:%M} {last.tzname()}"
    return f"{first:%a} {first.day} {first:%b %Y %H:%M} – {last:%a} {last.day} {last:%b %Y %H:%M} {last.tzname()}"


def names_a_time(text: str) -> bool:
    """Whether a date people typed names a time of day, or only a day (an all-day event): read twice with two
    different default hours, a typed time gives the same hour both times."""
    first = _parse(text, datetime(2000, 1, 1, 0, 0, 0))
    second = _parse(text, datetime(2000, 1, 1, 13, 37, 42, 123456))
    return first.hour == second.hour or first.tzinfo is not None
