"""iCalendar files that every client reads the same: events, recurrences, and VTIMEZONEs in the compact form.

A VTIMEZONE is written as calendar clients exchange it: a STANDARD and a DAYLIGHT observance with yearly RRULEs
for the rule the zone follows now (so it holds for any future year), preceded by one observance per earlier
transition that an event in the file needs (from the transition in force at the earliest event onwards). The
transitions are found by asking the zone itself (the tz database behind `zoneinfo`) for its offsets, day by day,
and bisecting each change to the second; the yearly rule is the weekday-of-month pattern that reproduces the
zone's transitions in every year of a 30-year window far in the future, where only the zone's current rule speaks.
"""

from __future__ import annotations

import calendar as gregorian
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from icalendar import Timezone

DAY = 86_400
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
# Years in which only the zone's current rule (the tz database's footer) decides its transitions.
RULE_YEARS = range(2070, 2100)
OLDEST_YEAR = 1850  # how far back to look for the transition in force at a very old event


@dataclass(frozen=True, order=True)
class Transition:
    """The zone's offset changes at `at` (UTC, whole seconds) from `before` to `after`."""

    at: int
    before: timedelta
    after: timedelta


@dataclass(frozen=True)
class Observance:
    """One STANDARD or DAYLIGHT part of a VTIMEZONE; `onset` is the local wall time in `offset_from`."""

    kind: str  # STANDARD or DAYLIGHT
    onset: datetime  # naive
    offset_from: timedelta
    offset_to: timedelta
    name: str
    rrule: str | None = None


@dataclass(frozen=True)
class YearlyRule:
    """A transition that happens every year on a weekday-of-month pattern at a local wall time."""

    month: int
    time: timedelta  # since local midnight, in the offset before the change
    weekday: int | None  # 0 = Monday; None for a fixed day of the month
    ordinal: int | None = None  # 1..4 (the nth weekday) or -1 (the last)
    first_day: int | None = None  # the weekday on or after this day of the month; or the fixed day
    before: timedelta = timedelta(0)
    after: timedelta = timedelta(0)

    def day(self, year: int) -> int:
        length = gregorian.monthrange(year, self.month)[1]
        if self.weekday is None:
            return self.first_day or 1
        if self.ordinal == -1:
            last = length
            return last - (gregorian.weekday(year, self.month, last) - self.weekday) % 7
        first = self.first_day if self.first_day is not None else 1 + 7 * ((self.ordinal or 1) - 1)
        return first + (self.weekday - gregorian.weekday(year, self.month, first)) % 7

    def onset(self, year: int) -> datetime:
        """The local wall time (in the offset before) of the change in `year`."""
        return datetime(year, self.month, self.day(year)) + self.time

    def transition(self, year: int) -> Transition:
        instant = self.onset(year) - self.before
        return Transition(int(instant.replace(tzinfo=UTC).timestamp()), self.before, self.after)

    def rrule(self) -> str:
        parts = ["FREQ=YEARLY", f"BYMONTH={self.month}"]
        if self.weekday is None:
            parts.append(f"BYMONTHDAY={self.first_day}")
        elif self.ordinal is not None:
            parts.append(f"BYDAY={self.ordinal}{WEEKDAYS[self.weekday]}")
        else:
            first = self.first_day or 1
            parts.append(f"BYDAY={WEEKDAYS[self.weekday]}")
            parts.append("BYMONTHDAY=" + ",".join(str(day) for day in range(first, first + 7)))
        return ";".join(parts)


def _offset(zone: ZoneInfo, at: int) -> timedelta:
    offset = datetime.fromtimestamp(at, zone).utcoffset()
    assert offset is not None
    return offset


@lru_cache(maxsize=4096)
def year_transitions(zone: ZoneInfo, year: int) -> tuple[Transition, ...]:
    """Every offset change of `zone` during `year` (UTC), found day by day and bisected to the second."""
    start = int(datetime(year, 1, 1, tzinfo=UTC).timestamp())
    end = int(datetime(year + 1, 1, 1, tzinfo=UTC).timestamp())
    found = []
    at, offset = start - 1, _offset(zone, start - 1)
    while at < end - 1:
        step = min(at + DAY, end - 1)
        following = _offset(zone, step)
        if following != offset:
            low, high = at, step  # offset(low) is the old one, offset(high) the new one
            while high - low > 1:
                middle = (low + high) // 2
                if _offset(zone, middle) == offset:
                    low = middle
                else:
                    high = middle
            found.append(Transition(high, offset, following))
        at, offset = step, following
    return tuple(found)


def _candidates(onset: datetime, before: timedelta, after: timedelta) -> Iterable[YearlyRule]:
    """Weekday-of-month patterns that produce this one onset, most usual first."""
    time = onset - datetime(onset.year, onset.month, onset.day)
    common: dict[str, Any] = {"month": onset.month, "time": time, "before": before, "after": after}
    weekday, day = onset.weekday(), onset.day
    if day <= 28:
        yield YearlyRule(weekday=weekday, ordinal=(day - 1) // 7 + 1, **common)
    if day + 7 > gregorian.monthrange(onset.year, onset.month)[1]:
        yield YearlyRule(weekday=weekday, ordinal=-1, **common)
    shortest = 28 if onset.month == 2 else gregorian.monthrange(onset.year, onset.month)[1]
    for first in range(max(1, day - 6), day + 1):
        if first + 6 <= shortest:
            yield YearlyRule(weekday=weekday, first_day=first, **common)
    yield YearlyRule(weekday=None, first_day=day, **common)


def _follows(rules: Sequence[YearlyRule], zone: ZoneInfo, year: int) -> bool:
    return sorted(rule.transition(year) for rule in rules) == sorted(year_transitions(zone, year))


@lru_cache(maxsize=512)
def current_rules(zone: ZoneInfo) -> tuple[YearlyRule, ...] | None:
    """The yearly rules the zone follows from now on: () for a fixed offset, None if no pattern fits."""
    last_year = RULE_YEARS[-1]
    rules = []
    for change in year_transitions(zone, last_year):
        onset = datetime(1970, 1, 1) + timedelta(seconds=change.at) + change.before
        fitting = (
            rule
            for rule in _candidates(onset, change.before, change.after)
            if all(rule.transition(year) in year_transitions(zone, year) for year in RULE_YEARS)
        )
        found = next(fitting, None)
        if found is None:
            return None
        rules.append(found)
    if not all(_follows(rules, zone, year) for year in RULE_YEARS):
        return None
    return tuple(rules)


@lru_cache(maxsize=512)
def rules_since(zone: ZoneInfo) -> int:
    """The first year from which the current rules describe every transition (the year after the end when no
    pattern fits). The rules start there even for later events: some readers (vobject) compare a zone with UTC
    over 2000-2020 and would take a zone at +00:00 in winter whose rules start later for UTC itself."""
    rules = current_rules(zone)
    if rules is None:
        return RULE_YEARS[-1] + 1
    year = RULE_YEARS[0]
    while year > OLDEST_YEAR and _follows(rules, zone, year - 1):
        year -= 1
    return year


def _kind(zone: ZoneInfo, at: int) -> str:
    dst = datetime.fromtimestamp(at, zone).dst()
    return "DAYLIGHT" if dst and dst > timedelta(0) else "STANDARD"


def _name(zone: ZoneInfo, at: int) -> str:
    return datetime.fromtimestamp(at, zone).tzname() or zone.key


def _local(at: int, offset: timedelta) -> datetime:
    return datetime(1970, 1, 1) + timedelta(seconds=at) + offset


def observances(zone: ZoneInfo, since: datetime) -> list[Observance]:
    """The VTIMEZONE parts that give `zone`'s offset right at every instant from `since` on, in any year."""
    since_at = int(since.timestamp())
    first_year = since.astimezone(UTC).year
    rules = current_rules(zone)
    rule_year = rules_since(zone)
    history: list[Transition] = []
    if rule_year >= first_year:  # earlier transitions matter: from the one in force at `since`
        year = first_year
        while year > OLDEST_YEAR and not any(change.at <= since_at for change in year_transitions(zone, year)):
            year -= 1
        for each in range(year, rule_year):
            history.extend(year_transitions(zone, each))
        history = [change for change in history if change.at <= since_at][-1:] + [
            change for change in history if change.at > since_at
        ]
    parts = [
        Observance(_kind(zone, c.at), _local(c.at, c.before), c.before, c.after, _name(zone, c.at)) for c in history
    ]
    for rule in rules or ():
        at = rule.transition(rule_year).at
        parts.append(
            Observance(_kind(zone, at), rule.onset(rule_year), rule.before, rule.after, _name(zone, at), rule.rrule())
        )
    if not parts:  # one offset throughout
        offset = _offset(zone, since_at)
        onset = min(datetime(1970, 1, 1), _local(since_at, offset) - timedelta(days=1))
        parts.append(Observance("STANDARD", onset, offset, offset, _name(zone, since_at)))
    return parts


# --- calendar files -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One VEVENT: times are aware UTC instants, shown in `tz`; `exdates` are cancelled occurrences' starts."""

    uid: str
    title: str
    start: datetime
    tz: str
    end: datetime | None = None
    location: str = ""
    description: str = ""
    rrule: str | None = None
    exdates: tuple[datetime, ...] = ()
    sequence: int = 0
    cancelled: bool = False
    url: str = ""
    all_day: bool = False  # DTSTART and DTEND as dates (VALUE=DATE), DTEND the day after the last day
    recurrence_id: datetime | None = None  # this entry replaces the occurrence the rule gives at this start
    overrides: tuple[Entry, ...] = ()  # occurrences changed on their own: same uid, each with its recurrence_id


@dataclass(frozen=True)
class Feed:
    """What makes a file a subscribed calendar: its name and how often clients should fetch it again."""

    name: str
    refresh: timedelta = timedelta(hours=1)
    extra: dict[str, str] = field(default_factory=dict)


def _duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds % 86_400 == 0:
        return f"P{seconds // 86_400}D"
    hours, rest = divmod(seconds, 3600)
    minutes = rest // 60
    return "PT" + (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes or not hours else "")


def vtimezone(key: str, since: datetime) -> Timezone:
    from icalendar import Timezone, TimezoneDaylight, TimezoneStandard, vRecur

    component = Timezone()
    component.add("tzid", key)
    for part in observances(ZoneInfo(key), since):
        observance = TimezoneDaylight() if part.kind == "DAYLIGHT" else TimezoneStandard()
        observance.add("dtstart", part.onset)
        observance.add("tzoffsetfrom", part.offset_from)
        observance.add("tzoffsetto", part.offset_to)
        observance.add("tzname", part.name)
        if part.rrule:
            observance.add("rrule", vRecur.from_ical(part.rrule))
        component.add_component(observance)
    return component


def _when(entry: Entry, moment: datetime) -> object:
    """A start or end in the entry's zone, or its local date for an all-day entry."""
    local = moment.astimezone(ZoneInfo(entry.tz))
    return local.date() if entry.all_day else local


# icalendar's Event is untyped here; the caller only adds it to a Calendar.
def _vevent(entry: Entry, stamp: datetime):  # type: ignore[no-untyped-def]
    from icalendar import Event as CalendarEvent
    from icalendar import vRecur

    event = CalendarEvent()
    event.add("uid", entry.uid)
    event.add("dtstamp", stamp)
    if entry.recurrence_id is not None:
        event.add("recurrence-id", _when(entry, entry.recurrence_id))
    event.add("dtstart", _when(entry, entry.start))
    if entry.end is not None:
        event.add("dtend", _when(entry, entry.end))
    event.add("summary", entry.title)
    if entry.location:
        event.add("location", entry.location)
    if entry.description:
        event.add("description", entry.description)
    if entry.url:
        event.add("url", entry.url)
    if entry.rrule:
        event.add("rrule", vRecur.from_ical(entry.rrule))
    if entry.exdates:
        event.add("exdate", [_when(entry, moment) for moment in entry.exdates])
    event.add("sequence", entry.sequence)
    event.add("status", "CANCELLED" if entry.cancelled else "CONFIRMED")
    return event


def render(entries: Sequence[Entry], *, stamp: datetime, feed: Feed | None = None) -> bytes:
    """A VCALENDAR: each zone's VTIMEZONE (from the earliest event in it), then a VEVENT per entry."""
    from icalendar import Calendar  # loaded with the first calendar file, not at every start

    calendar = Calendar()
    calendar.add("prodid", "-//CityPeers//citypeers//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    if feed is not None:
        calendar.add("method", "PUBLISH")
        calendar.add("x-wr-calname", feed.name)
        # RFC 7986's property, and the older one Outlook and Apple Calendar read.
        calendar.add("refresh-interval", feed.refresh, parameters={"VALUE": "DURATION"})
        calendar.add("x-published-ttl", _duration(feed.refresh))
    earliest: dict[str, datetime] = {}
    for entry in entries:
        if entry.all_day:
            continue  # dates carry no zone
        first = min([entry.start, *(each.start for each in entry.overrides)])
        earliest[entry.tz] = min(first, earliest.get(entry.tz, first))
    for key in sorted(earliest):
        calendar.add_component(vtimezone(key, earliest[key]))
    for entry in entries:
        for each in (entry, *entry.overrides):
            calendar.add_component(_vevent(each, stamp))
    ical: bytes = calendar.to_ical()
    return ical
