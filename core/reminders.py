"""Reminder arithmetic: occurrences of (recurring) events, when each reminder falls due, retry policy.

Events live in a local time zone. Day and week offsets are calendar arithmetic in that zone ("a week
before, same time of day", even across a daylight-saving change); minute and hour offsets are elapsed
time. An all-day event has no time of day: its reminders fall at ALL_DAY_HOUR (09:00) in its zone on the day
the offset names (7d: 09:00 seven days before its first day), never at night; its offsets are whole days.
Everything returned is an aware UTC instant.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import DAILY, MONTHLY, WEEKLY, YEARLY, rrulestr

from core.dates import parse_duration
from core.grammar import GrammarError, shown

ALLOWED_FREQUENCIES = {DAILY, WEEKLY, MONTHLY, YEARLY}
MAX_OCCURRENCES = 500
LATE_AFTER = timedelta(seconds=30)  # later than this, a message says it is late
MAX_TRANSIENT_ATTEMPTS = 8


def local_wall_time(instant: datetime, zone: ZoneInfo) -> datetime:
    """The naive wall-clock time of `instant` in `zone`."""
    return instant.astimezone(zone).replace(tzinfo=None)


def from_wall_time(wall: datetime, zone: ZoneInfo) -> datetime:
    return wall.replace(tzinfo=zone).astimezone(UTC)


RULE_SEARCH = timedelta(days=5 * 366)  # a rule must give a second date within this, or it is no repeat
MAX_COUNT = 1000  # COUNT= above this is refused: a finite series is walked from its start


# dateutil has no types (pyproject.toml): its rrule would be Any anyway.
def _rule(body: str, wall_start: datetime):  # type: ignore[no-untyped-def]
    try:
        return rrulestr(body, dtstart=wall_start)
    except (ValueError, TypeError, OverflowError):
        hint = "expected e.g. FREQ=MONTHLY;BYDAY=1TH (every first Thursday)"
        raise GrammarError(f"`{shown(body)}` is not an RRULE; {hint}.") from None


LAST_YEAR = 9998  # dateutil walks a rule period by period until a date matches, or past the year 9999
CYCLE = 400  # the Gregorian calendar repeats every 400 years, weekdays included (146,097 days)


def _shifted(moment: datetime, years: int) -> datetime:
    return moment.replace(year=moment.year + years)


# `series` is a dateutil rrule or rruleset, which have no types (pyproject.toml).
def _walk(series, wall_until: datetime) -> Iterator[datetime]:  # type: ignore[no-untyped-def]
    """The rule's own dates from its start up to `wall_until`, in bounded time whatever the rule.

    dateutil looks at UNTIL only when a date matches, so a rule that never matches (`BYMONTH=2;BYMONTHDAY=30`)
    walks day by day to the year 9999. The walk is moved forward by whole 400-year cycles, which keep every date
    and weekday, to end just before 9999: a rule that stops matching then runs out of calendar within 400 years
    of periods instead of thousands, and every date found is moved back. COUNT is applied by counting."""
    count = series._count  # noqa: SLF001 - dateutil exposes no public accessor
    own_until = series._until  # noqa: SLF001
    until = min(own_until, wall_until) if own_until is not None else wall_until
    years = CYCLE * max(0, (LAST_YEAR - until.year) // CYCLE)
    start = series._dtstart  # noqa: SLF001
    moved = series.replace(dtstart=_shifted(start, years), count=None, until=_shifted(until, years))
    for index, wall in enumerate(moved):
        if count is not None and index >= count:
            return
        yield _shifted(wall, -years)


def check_rrule(rule: str, start: datetime, zone: ZoneInfo) -> str:
    """Validate an RRULE (with or without the `RRULE:` prefix) for an event starting at `start`; returns it without
    the prefix. Refused: a frequency above daily, a rule that repeats less than once in five years, and a start that
    is not one of the rule's dates (calendars would show that start, the rule would not: RFC 5545 3.8.5.3)."""
    body = rule.strip().removeprefix("RRULE:").removeprefix("rrule:")
    wall_start = local_wall_time(start, zone)
    series = _rule(body, wall_start)
    if series._freq not in ALLOWED_FREQUENCIES:  # noqa: SLF001 - dateutil exposes no public accessor
        raise GrammarError("Events repeat at most daily: use FREQ=DAILY, WEEKLY, MONTHLY or YEARLY.")
    if series._count is not None and series._count > MAX_COUNT:  # noqa: SLF001
        raise GrammarError(f"COUNT= is at most {MAX_COUNT}; leave it out to repeat without end.")
    dates = list(itertools.islice(_walk(series, wall_start + RULE_SEARCH), 2))
    if len(dates) < 2:
        raise GrammarError(
            f"`{shown(body)}` gives no second date in the five years from the start: it never repeats. "
            "Check BYMONTH, BYMONTHDAY and INTERVAL, or leave repeat= out for a one-off event."
        )
    if dates[0] != wall_start:
        raise GrammarError(
            f"The start is not one of the dates `{shown(body)}` gives, so calendars and reminders would disagree; "
            f"the nearest are {_nearest(body, wall_start, dates[0], zone)}: start on one of them."
        )
    return body


def _nearest(body: str, wall_start: datetime, following: datetime, zone: ZoneInfo) -> str:
    """The rule's dates either side of an off-rule start, as people read them."""
    earlier = None
    for back in (timedelta(days=8), timedelta(days=32), timedelta(days=367)):
        candidates = [wall for wall in _walk(_rule(body, wall_start - back), wall_start) if wall < wall_start]
        if candidates:
            earlier = candidates[-1]
            break
    shown_dates = [wall for wall in (earlier, following) if wall is not None]
    return " and ".join(format_wall(wall, zone) for wall in shown_dates)


def format_wall(wall: datetime, zone: ZoneInfo) -> str:
    return f"{wall:%a} {wall.day} {wall:%b %Y, %H:%M}"


def rule_dates(start: datetime, zone: ZoneInfo, rule: str, *, until: datetime) -> Iterator[datetime]:
    """Start instants (UTC) the rule gives up to `until`, DTSTART first: RFC 5545 counts it as the first instance
    even when it is not on the rule (older rows), as every calendar client does."""
    wall_start = local_wall_time(start, zone)
    yield start
    for wall in _walk(_rule(rule, wall_start), local_wall_time(until, zone) + timedelta(days=1)):
        if wall != wall_start:
            yield from_wall_time(wall, zone)


def occurrences(
    start: datetime, zone: ZoneInfo, rule: str | None, *, after: datetime, until: datetime
) -> list[datetime]:
    """Start instants (UTC) of the event in (after, until]; a one-off event has at most one."""
    if not rule:
        return [start] if after < start <= until else []
    # Walk wall-clock times: a monthly 10:00 meeting stays at 10:00 local through DST changes.
    found = sorted({instant for instant in rule_dates(start, zone, rule, until=until) if after < instant <= until})
    return found[:MAX_OCCURRENCES]


def next_occurrence(start: datetime, zone: ZoneInfo, rule: str | None, *, now: datetime) -> datetime | None:
    """The next start at or after `now` (a one-off event that began has none)."""
    if not rule:
        return start if start >= now else None
    for ahead in (timedelta(days=400), timedelta(days=3660)):  # most rules give a date within the year
        found = occurrences(start, zone, rule, after=now - timedelta(microseconds=1), until=now + ahead)
        if found:
            return found[0]
    return None


@dataclass(frozen=True)
class Change:
    """One occurrence changed on its own: cancelled, or moved to `start`–`end` (and `location`)."""

    cancelled: bool = False
    start: datetime | None = None
    end: datetime | None = None
    location: str | None = None


@dataclass(frozen=True)
class Occurrence:
    """One occurrence as it will happen: `original` is the start the rule gives (iCalendar's RECURRENCE-ID)."""

    original: datetime
    start: datetime
    end: datetime | None
    cancelled: bool = False
    moved: bool = False
    location: str | None = None


def expand(
    start: datetime,
    end: datetime | None,
    zone: ZoneInfo,
    rule: str | None,
    changes: Mapping[datetime, Change],
    *,
    after: datetime,
    until: datetime,
    keep_cancelled: bool = False,
) -> list[Occurrence]:
    """The occurrences whose (actual) start is in (after, until], in order, with each change applied: a cancelled
    one is left out (or kept, marked, with `keep_cancelled`), a moved one is found where it moved to."""
    duration = end - start if end is not None else None
    found: list[Occurrence] = []
    for original in occurrences(start, zone, rule, after=after, until=until):
        change = changes.get(original)
        if change is None:
            found.append(Occurrence(original, original, original + duration if duration else None))
        elif change.cancelled and keep_cancelled:
            found.append(Occurrence(original, original, original + duration if duration else None, cancelled=True))
    known = None
    for original, change in changes.items():
        if change.cancelled or change.start is None or not after < change.start <= until:
            continue
        if known is None:  # a change of a date the rule no longer gives (the rule was edited since) is dropped
            span = (min(changes) - timedelta(days=1), max(changes))
            known = set(occurrences(start, zone, rule, after=span[0], until=span[1]))
        if original in known:
            moved_end = change.end or (change.start + duration if duration else None)
            found.append(Occurrence(original, change.start, moved_end, moved=True, location=change.location))
    return sorted(found, key=lambda item: (item.start, item.original))


ALL_DAY_HOUR = 9  # an all-day event's reminders go at this hour in its zone: people read them over breakfast
DAY = timedelta(days=1)


def whole_days(offset: timedelta) -> bool:
    return offset >= DAY and offset % DAY == timedelta(0)


def all_day_offsets(offsets: Iterable[timedelta]) -> list[timedelta]:
    """The offsets an all-day event is reminded at: whole days, longest first, each once. One stored that is no
    whole number of days (a default `1h` from before all-day events were told apart) is the day before."""
    return sorted({offset if whole_days(offset) else -(-offset // DAY) * DAY for offset in offsets}, reverse=True)


def reminder_due(occurrence: datetime, offset: timedelta, zone: ZoneInfo, *, all_day: bool = False) -> datetime:
    """When a reminder `offset` before `occurrence` falls due; for an all-day event, at ALL_DAY_HOUR on the day
    that many days before its first day, in its zone."""
    if all_day:
        days = -(-offset // DAY)  # whole days, rounded up: a part of a day before is the day before
        day = local_wall_time(occurrence, zone).date() - timedelta(days=days)
        return from_wall_time(datetime.combine(day, time(ALL_DAY_HOUR)), zone)
    if offset.seconds == 0 and offset.microseconds == 0:
        return from_wall_time(local_wall_time(occurrence, zone) - offset, zone)
    return occurrence - offset


@dataclass(frozen=True)
class PlannedReminder:
    occurrence: datetime
    offset: timedelta
    due: datetime


def plan_reminders(
    occurrence_starts: Iterable[datetime],
    offsets: Iterable[timedelta],
    zone: ZoneInfo,
    *,
    now: datetime,
    all_day: bool = False,
) -> list[PlannedReminder]:
    """Every (occurrence, offset) whose due time is still ahead; reminders already past are not sent."""
    offsets = list(offsets)
    planned = [
        PlannedReminder(occurrence, offset, reminder_due(occurrence, offset, zone, all_day=all_day))
        for occurrence in occurrence_starts
        for offset in offsets
    ]
    return sorted((p for p in planned if p.due > now), key=lambda p: p.due)


def stored_offsets(text: str) -> list[timedelta]:
    """An event's stored offsets (`7d, 1d, 1h`), longest first; one stored as 0 before 0 was refused (`remind=0m`)
    is no reminder and is left out."""
    stored = {parse_duration(part) for part in text.split(",") if part.strip()}
    return sorted((offset for offset in stored if offset), reverse=True)


def format_offset(offset: timedelta) -> str:
    """`7d`, `1h`, `30m`, `2w` — the way people type them."""
    minutes = int(offset.total_seconds() // 60)
    for unit, size in (("w", 7 * 24 * 60), ("d", 24 * 60), ("h", 60)):
        # Weeks only from two on: people write a week's notice as 7d.
        if minutes % size == 0 and minutes >= size * (2 if unit == "w" else 1):
            return f"{minutes // size}{unit}"
    return f"{minutes}m"


@dataclass(frozen=True)
class Lead:
    """How far off a start is, as people say it, for a message to say: `unit` is `now`, `today`, `tomorrow`,
    `minutes`, `hours`, `days` or `weeks`; `amount` how many; `past` when the start is behind."""

    unit: str
    amount: int = 0
    past: bool = False


def lead_of(lead: timedelta) -> Lead:
    """Rounded to the nearest minute, then to hours from two hours on and to days from two days on, so a reminder
    sent late never says `in 1435 minutes`; weeks from two on when whole."""
    minutes = round(lead / timedelta(minutes=1))
    if minutes == 0:
        return Lead("now")
    amount, past = abs(minutes), minutes < 0
    if amount >= 2 * 24 * 60:
        days = round(amount / (24 * 60))
        return Lead("weeks", days // 7, past) if days % 7 == 0 and days >= 14 else Lead("days", days, past)
    if amount == 24 * 60:
        return Lead("days", 1, past)
    if amount >= 2 * 60:
        return Lead("hours", round(amount / 60), past)
    if amount % 60 == 0:
        return Lead("hours", 1, past)
    return Lead("minutes", amount, past)


def days_lead(days: int) -> Lead:
    """An all-day event's first day, in days: today, tomorrow, in 7 days, in 2 weeks, 2 days ago."""
    if days == 0:
        return Lead("today")
    if days == 1:
        return Lead("tomorrow")
    if days < 0:
        return Lead("days", -days, True)
    return Lead("weeks", days // 7) if days % 7 == 0 and days >= 14 else Lead("days", days)


def describe_lead(lead: timedelta) -> str:
    """How far off a start is, in English (`starts in 7 days`, `started 5 minutes ago`): see `lead_of`."""
    return _english(lead_of(lead))


def describe_days_ahead(days: int) -> str:
    """How far off an all-day event's first day is, in English: see `days_lead`."""
    return _english(days_lead(days))


def _english(lead: Lead) -> str:
    if lead.unit in ("now", "today", "tomorrow"):
        return f"starts {lead.unit}"
    words = f"{lead.amount} {lead.unit[:-1] if lead.amount == 1 else lead.unit}"
    return f"started {words} ago" if lead.past else f"starts in {words}"


def describe_offset(offset: timedelta) -> str:
    """`in 7 days`, `in 1 hour`, `in 30 minutes`."""
    text = format_offset(offset)
    amount, unit = int(text[:-1]), text[-1]
    word = {"w": "week", "d": "day", "h": "hour", "m": "minute"}[unit]
    return f"in {amount} {word}{'' if amount == 1 else 's'}"


# --- delivery policy -----------------------------------------------------------------------------------


def transient_backoff(attempts: int) -> timedelta:
    """Wait before retrying after a server error or a dropped connection: 2, 4, 8 … seconds, at most 5 min."""
    return timedelta(seconds=min(2 ** max(attempts, 1), 300))


def is_late(due: datetime, now: datetime) -> bool:
    return now - due > LATE_AFTER


# --- the weekly digest ----------------------------------------------------------------------------------

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def digest_week_due(local_now: datetime, weekday: int, hour: int) -> str | None:
    """The ISO week (`2026-W48`) whose digest is due at this local time: from its weekday and hour for one
    day, so a digest missed while the bot was down still goes out, but a stale one is not sent days late."""
    year, week, today = local_now.isocalendar()
    scheduled = datetime.combine(local_now.date() + timedelta(days=weekday - today), datetime.min.time())
    scheduled = scheduled.replace(hour=hour, tzinfo=local_now.tzinfo)
    if not scheduled <= local_now < scheduled + timedelta(days=1):
        return None
    return f"{year}-W{week:02d}"
