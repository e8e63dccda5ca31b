"""Reminder arithmetic: occurrences of (recurring) events, when each reminder falls due, retry policy.

Events live in a local time zone. Day and week offsets are calendar arithmetic in that zone ("a week
before, same time of day", even across a daylight-saving change); minute and hour offsets are elapsed
time. Everything returned is an aware UTC instant.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import DAILY, MONTHLY, WEEKLY, YEARLY, rrulestr

from core.grammar import GrammarError

ALLOWED_FREQUENCIES = {DAILY, WEEKLY, MONTHLY, YEARLY}
MAX_OCCURRENCES = 500
LATE_AFTER = timedelta(seconds=30)  # later than this, a message says it is late
MAX_TRANSIENT_ATTEMPTS = 8


def local_wall_time(instant: datetime, zone: ZoneInfo) -> datetime:
    """The naive wall-clock time of `instant` in `zone`."""
    return instant.astimezone(zone).replace(tzinfo=None)


def from_wall_time(wall: datetime, zone: ZoneInfo) -> datetime:
    return wall.replace(tzinfo=zone).astimezone(UTC)


def check_rrule(rule: str, start: datetime, zone: ZoneInfo) -> str:
    """Validate an RRULE (with or without the `RRULE:` prefix); returns it without the prefix."""
    body = rule.strip().removeprefix("RRULE:").removeprefix("rrule:")
    try:
        parsed = rrulestr(body, dtstart=local_wall_time(start, zone))
    except (ValueError, TypeError):
        hint = "expected e.g. FREQ=MONTHLY;BYDAY=1TH (every first Thursday)"
        raise GrammarError(f"`{rule}` is not an RRULE; {hint}.") from None
    if parsed._freq not in ALLOWED_FREQUENCIES:  # noqa: SLF001 - dateutil exposes no public accessor
        raise GrammarError("Events repeat at most daily: use FREQ=DAILY, WEEKLY, MONTHLY or YEARLY.")
    return body


def occurrences(
    start: datetime, zone: ZoneInfo, rule: str | None, *, after: datetime, until: datetime
) -> list[datetime]:
    """Start instants (UTC) of the event in (after, until]; a one-off event has at most one."""
    if not rule:
        return [start] if after < start <= until else []
    series = rrulestr(rule, dtstart=local_wall_time(start, zone))
    found: list[datetime] = []
    # Walk wall-clock times: a monthly 10:00 meeting stays at 10:00 local through DST changes.
    lower = local_wall_time(after, zone) - timedelta(days=1)
    for wall in series.xafter(lower, count=MAX_OCCURRENCES, inc=True):
        instant = from_wall_time(wall, zone)
        if instant > until:
            break
        if instant > after:
            found.append(instant)
    return found


def next_occurrence(start: datetime, zone: ZoneInfo, rule: str | None, *, now: datetime) -> datetime | None:
    """The next start at or after `now` (a one-off event that began has none)."""
    if not rule:
        return start if start >= now else None
    found = occurrences(start, zone, rule, after=now - timedelta(microseconds=1), until=now + timedelta(days=3660))
    return found[0] if found else None


def reminder_due(occurrence: datetime, offset: timedelta, zone: ZoneInfo) -> datetime:
    """When a reminder `offset` before `occurrence` falls due."""
    if offset.seconds == 0 and offset.microseconds == 0:
        return from_wall_time(local_wall_time(occurrence, zone) - offset, zone)
    return occurrence - offset


@dataclass(frozen=True)
class PlannedReminder:
    occurrence: datetime
    offset: timedelta
    due: datetime


def plan_reminders(
    occurrence_starts: Iterable[datetime], offsets: Iterable[timedelta], zone: ZoneInfo, *, now: datetime
) -> list[PlannedReminder]:
    """Every (occurrence, offset) whose due time is still ahead; reminders already past are not sent."""
    offsets = list(offsets)
    planned = [
        PlannedReminder(occurrence, offset, reminder_due(occurrence, offset, zone))
        for occurrence in occurrence_starts
        for offset in offsets
    ]
    return sorted((p for p in planned if p.due > now), key=lambda p: p.due)


def format_offset(offset: timedelta) -> str:
    """`7d`, `1h`, `30m`, `2w` — the way people type them."""
    minutes = int(offset.total_seconds() // 60)
    for unit, size in (("w", 7 * 24 * 60), ("d", 24 * 60), ("h", 60)):
        # Weeks only from two on: people write a week's notice as 7d.
        if minutes % size == 0 and minutes >= size * (2 if unit == "w" else 1):
            return f"{minutes // size}{unit}"
    return f"{minutes}m"


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
