"""Reading the dates, times, zones and durations people type, and writing times back to them.

ISO (`2020-09-28 10:00`) is read year first; `28/09/2020` and `28-09-2020` day first, as the seed documents write
them. A date and time is read in two steps: `read_when` says what was typed (a day, a time of day or none — an
all-day date —, a zone named at its end), without any zone or clock; `TypedWhen.resolve` turns it into a UTC
instant in the zone to use, refusing a time that does not exist (clocks go forward) and taking the first of a time
that happens twice (clocks go back: the rule of RFC 5545, so calendars agree), saying so.

Zones: IANA names in any case or a city alone (`europe/tallinn`, `Tallinn`), `UTC`/`Z`, whole-hour offsets
(`+02:00`, `UTC+2`), and the abbreviations people in Europe write. An abbreviation names a region's clock, not a
fixed offset: `CET` and `CEST` are both Central European time as the clocks there show it on that day (CET in
winter, CEST in summer), because "10:00 CET" written for a July meeting means ten on the wall clock in Brussels;
a fixed offset is written as one (`+01:00`). `GMT` is UTC all year. Every other abbreviation (`PST`, `EST`, `IST`)
is refused with the zone to write instead: they name different offsets in different places. No library warning is
ever raised: the zone is found here, never by dateutil.
"""

from __future__ import annotations

import difflib
import functools
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from types import ModuleType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from dateutil import parser as dateutil_parser

from core.grammar import GrammarError, shown
from core.i18n import ENGLISH, N_, current, format_list
from core.text import fold_name

_YEAR_FIRST = re.compile(r"^\s*\d{4}[-/.]")
# Day, separator, month and an optional year (the same separator): `02/15/2027`, `1/13`, `12.13.2027`.
_DAY_MONTH = re.compile(r"\s*(\d{1,2})([-/.])(\d{1,2})(?:\2(\d{4}|\d{2}))?(?![\d/.-])")
_DURATION = re.compile(r"^(\d+)\s*([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
MAX_DATE_CHARS = 100  # dateutil's parser is not made for long input: refuse before calling it
MAX_ZONE_CHARS = 64  # the longest IANA name is 32 characters
MAX_DURATION_DIGITS = 6  # 999999w is already beyond any date we can hold
MAX_OFFSET_HOURS = 14  # the widest offset in use (Pacific/Kiritimati)


class Strings:
    """What reading times says to people: whole messages of the catalogue (locales/)."""

    DATE_TOO_LONG = N_("A date is at most {max} characters; expected a date like 2020-09-28 10:00 or 28/09/2020.")
    NOT_A_DATE = N_("`{typed}` is not a date like 2020-09-28 10:00 or 28/09/2020.")
    NOT_DAY_FIRST = N_(
        "`{typed}` is read day first, as 28/09/2020 is, and {month} is no month: write {iso} (year-month-day)."
    )

    NOT_A_ZONE = N_("`{typed}` is not a time zone; expected an Area/City name like Europe/Brussels.")
    NOT_A_ZONE_CLOSE = N_("`{typed}` is not a time zone. Did you mean {close}?")
    ABBREVIATION_REFUSED = N_(
        "`{typed}` is a zone abbreviation that names different offsets in different places; write the zone, "
        "{instead}. Abbreviations read: WET, CET, EET (and their summer forms), GMT, BST, MSK."
    )
    ABBREVIATION_UNKNOWN = N_(
        "`{typed}` is not a time zone; write an Area/City name like Europe/Brussels, an offset like +02:00, "
        "or WET, CET, EET (and their summer forms), GMT, BST or MSK."
    )
    OFFSET_NOT_WHOLE = N_(
        "`{typed}` is not a whole-hour offset; write the zone that keeps it instead, e.g. Asia/Kolkata for +05:30."
    )
    OFFSET_TOO_WIDE = N_("`{typed}` is no offset in use: offsets go from -12:00 to +14:00.")
    ZONE_NOT_AT_END = N_("`{typed}` names a time zone in the middle: write it at the end, e.g. 2027-03-01 10:00 EET.")
    NO_DATE = N_("`{typed}` names a zone but no date or time; expected e.g. 2027-03-01 10:00 {zone}.")
    GAP = N_(
        "{time} does not exist on {day} in {zone}: clocks go from {gap_from} straight to {gap_to}. "
        "The nearest valid times are {before} and {after}."
    )
    FOLD = N_(
        "{time} happens twice on {day} in {zone} (clocks go back at {back}): taken as the first, {time} {name} "
        "({offset}); for the second, write {time} {second}."
    )
    READ_AS = N_("`{typed}` read as {region}: {name}, {offset} on {day}.")
    READ_AS_OTHER = N_(
        "`{typed}` read as {region}: on {day} its clocks show {name}, {offset}; for a fixed offset write {fixed}."
    )
    GMT_IS_UTC = N_("`GMT` read as UTC (UTC+00:00 all year); for UK time write BST or Europe/London.")
    GMT_IN_SUMMER = N_(
        "`GMT` read as UTC (UTC+00:00 all year); on {day} London is on BST, UTC+01:00: for UK time write BST "
        "or Europe/London."
    )
    ZERO_OFFSET = N_("A reminder 0 before is no reminder: give how long before, e.g. 15m, 1h or 1d.")
    NO_OFFSETS = N_("Expected offsets like 7d,1d,1h.")
    MERGED = N_("{typed} are the same time before: one reminder.")
    READ_BACK = N_("{own} — {when} your time ({zone})")


# --- zones -------------------------------------------------------------------------------------------


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


@dataclass(frozen=True)
class Abbreviation:
    """A European abbreviation: the zone whose clock it names, the region in words, and which half of the year it
    names (`standard`, `summer`, or None: one all year)."""

    zone: str
    region: str
    season: str | None
    fixed: str = ""  # the offset it names in its own season, for people who mean that offset


_CENTRAL = N_("Central European time (Brussels, Paris, Berlin, Rome, Warsaw …)")
_EASTERN = N_("Eastern European time (Helsinki, Tallinn, Riga, Vilnius, Athens, Bucharest, Sofia …)")
_WESTERN = N_("Western European time (Lisbon, the Canary Islands, the Faroes)")
_UK = N_("UK time (London)")
# Keys are upper case; German forms too (MEZ, OEZ, WEZ), as German-speaking cities write them.
ABBREVIATIONS: dict[str, Abbreviation] = {
    "WET": Abbreviation("WET", _WESTERN, "standard", "+00:00"),
    "WEST": Abbreviation("WET", _WESTERN, "summer", "+01:00"),
    "WEZ": Abbreviation("WET", _WESTERN, "standard", "+00:00"),
    "WESZ": Abbreviation("WET", _WESTERN, "summer", "+01:00"),
    "CET": Abbreviation("CET", _CENTRAL, "standard", "+01:00"),
    "CEST": Abbreviation("CET", _CENTRAL, "summer", "+02:00"),
    "MET": Abbreviation("CET", _CENTRAL, "standard", "+01:00"),
    "MEST": Abbreviation("CET", _CENTRAL, "summer", "+02:00"),
    "MEZ": Abbreviation("CET", _CENTRAL, "standard", "+01:00"),
    "MESZ": Abbreviation("CET", _CENTRAL, "summer", "+02:00"),
    "EET": Abbreviation("EET", _EASTERN, "standard", "+02:00"),
    "EEST": Abbreviation("EET", _EASTERN, "summer", "+03:00"),
    "OEZ": Abbreviation("EET", _EASTERN, "standard", "+02:00"),
    "OESZ": Abbreviation("EET", _EASTERN, "summer", "+03:00"),
    "BST": Abbreviation("Europe/London", _UK, "summer", "+01:00"),
    "MSK": Abbreviation("Europe/Moscow", "Moscow time", None),
    "TRT": Abbreviation("Europe/Istanbul", "Turkey time", None),
}
_UTC_NAMES = frozenset({"UTC", "Z", "UT", "ZULU", "GMT", "UTC0", "GMT0", "ETC/UTC", "ETC/GMT", "ETC/ZULU"})
# Abbreviations used elsewhere, refused with what to write instead (each names different offsets in different
# places, or tzdata knows it as a fixed offset that is not the local time: `EST` is UTC-05:00 all year).
ELSEWHERE: dict[str, str] = {
    "PST": "e.g. America/Los_Angeles, or -08:00",
    "PDT": "e.g. America/Los_Angeles, or -07:00",
    "PT": "e.g. America/Los_Angeles",
    "MST": "e.g. America/Denver or America/Phoenix, or -07:00",
    "MDT": "e.g. America/Denver, or -06:00",
    "CST": "e.g. America/Chicago or Asia/Shanghai",
    "CDT": "e.g. America/Chicago, or -05:00",
    "EST": "e.g. America/New_York, or -05:00",
    "EDT": "e.g. America/New_York, or -04:00",
    "ET": "e.g. America/New_York",
    "AST": "e.g. America/Halifax or Asia/Riyadh",
    "ADT": "e.g. America/Halifax, or -03:00",
    "AKST": "e.g. America/Anchorage, or -09:00",
    "HST": "e.g. Pacific/Honolulu, or -10:00",
    "IST": "e.g. Europe/Dublin, Asia/Kolkata or Asia/Jerusalem",
    "JST": "e.g. Asia/Tokyo, or +09:00",
    "KST": "e.g. Asia/Seoul, or +09:00",
    "HKT": "e.g. Asia/Hong_Kong, or +08:00",
    "SGT": "e.g. Asia/Singapore, or +08:00",
    "AEST": "e.g. Australia/Sydney or Australia/Brisbane",
    "AEDT": "e.g. Australia/Sydney, or +11:00",
    "AWST": "e.g. Australia/Perth, or +08:00",
    "NZST": "e.g. Pacific/Auckland, or +12:00",
    "NZDT": "e.g. Pacific/Auckland, or +13:00",
    "BRT": "e.g. America/Sao_Paulo, or -03:00",
    "ART": "e.g. America/Argentina/Buenos_Aires, or -03:00",
    "SAST": "e.g. Africa/Johannesburg, or +02:00",
    "WAT": "e.g. Africa/Lagos, or +01:00",
    "CAT": "e.g. Africa/Maputo, or +02:00",
    "EAT": "e.g. Africa/Nairobi, or +03:00",
    "GST": "e.g. Asia/Dubai, or +04:00",
    "PKT": "e.g. Asia/Karachi, or +05:00",
    "ICT": "e.g. Asia/Bangkok, or +07:00",
    "WIB": "e.g. Asia/Jakarta, or +07:00",
}
# tzdata's names that are abbreviations or POSIX rules (`EST`, `EST5EDT`): refused, for what they seem to say is
# not what they are.
_POSIX = re.compile(r"[A-Z]{3,4}\d{1,2}[A-Z]{3,4}", re.IGNORECASE)
_LETTERS_ONLY = re.compile(r"[A-Za-z]{1,5}")
_OFFSET = re.compile(r"(?:UTC|GMT|UT)?\s*([+\-\u2212])\s*(\d{1,2})(?::?(\d{2}))?", re.IGNORECASE)


def parse_zone(name: str) -> ZoneInfo:
    """A time zone as people write one: an IANA name in any case (`europe/lisbon`) or its city alone (`Lisbon`,
    `são paulo`), `UTC`/`Z`, a whole-hour offset (`+02:00`, `UTC+2`), or a European abbreviation (see the module);
    any other abbreviation is refused with the zone to write instead."""
    typed = name.strip()
    if len(typed) > MAX_ZONE_CHARS:
        raise GrammarError(Strings.NOT_A_ZONE.format(typed=shown(name)))
    upper = typed.upper()
    if upper in _UTC_NAMES:
        return ZoneInfo("UTC")
    if (offset := _OFFSET.fullmatch(typed)) is not None:
        return _offset_zone(typed, offset)
    if upper in ABBREVIATIONS:
        return ZoneInfo(ABBREVIATIONS[upper].zone)
    if upper in ELSEWHERE:
        raise GrammarError(Strings.ABBREVIATION_REFUSED.format(typed=shown(typed), instead=ELSEWHERE[upper]))
    if _POSIX.fullmatch(typed) or (_LETTERS_ONLY.fullmatch(typed) and typed.isupper() and upper not in _KEPT_KEYS):
        raise GrammarError(Strings.ABBREVIATION_UNKNOWN.format(typed=shown(typed)))
    try:
        return ZoneInfo(typed)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a directory (`Europe`), a name too long
        pass
    by_name, by_city = _zone_names()
    zone = by_name.get(typed.casefold()) or by_city.get(fold_name(typed))
    if zone is not None:
        return ZoneInfo(zone)
    close = difflib.get_close_matches(typed.casefold(), list(by_name), n=1, cutoff=0.8)
    close = [by_name[key] for key in close] or [
        by_city[key] for key in difflib.get_close_matches(fold_name(typed), list(by_city), n=1, cutoff=0.75)
    ]
    if close:
        raise GrammarError(Strings.NOT_A_ZONE_CLOSE.format(typed=shown(name), close=close[0]))
    raise GrammarError(Strings.NOT_A_ZONE.format(typed=shown(name)))


# Upper-case IANA names that are places, not abbreviations (`GB` is Europe/London, `NZ` Pacific/Auckland).
_KEPT_KEYS = frozenset({"GB", "NZ", "PRC", "ROC", "ROK", "UCT", "CUBA", "EGYPT", "EIRE", "IRAN", "JAPAN", "LIBYA"})


def _offset_zone(typed: str, match: re.Match[str]) -> ZoneInfo:
    """A whole-hour offset as tzdata's fixed zone (`+02:00` is Etc/GMT-2: POSIX writes the sign the other way)."""
    sign = -1 if match.group(1) in "-\u2212" else 1
    hours, minutes = int(match.group(2)), int(match.group(3) or 0)
    if minutes:
        raise GrammarError(Strings.OFFSET_NOT_WHOLE.format(typed=shown(typed)))
    if hours > MAX_OFFSET_HOURS or (sign < 0 and hours > 12):
        raise GrammarError(Strings.OFFSET_TOO_WIDE.format(typed=shown(typed)))
    return ZoneInfo("UTC") if hours == 0 else ZoneInfo(f"Etc/GMT{-sign * hours:+d}")


def zone_label(zone: ZoneInfo, instant: datetime) -> str:
    """A zone's name for people: its place (`Tallinn`, `New York`), `UTC`, `UTC+02:00` for a fixed offset, or the
    abbreviation in force at `instant` for a zone named by one (`CEST`)."""
    key = zone.key
    if key.upper() in _UTC_NAMES or key in ("Etc/UCT", "Etc/Universal", "Universal", "UCT", "Greenwich"):
        return "UTC"
    if key.startswith("Etc/GMT"):
        return offset_text(instant.astimezone(zone).utcoffset() or timedelta(0))
    if "/" in key:
        return key.rsplit("/", 1)[-1].replace("_", " ")
    return instant.astimezone(zone).tzname() or key


def offset_text(offset: timedelta) -> str:
    """`UTC+02:00`, `UTC-05:00`."""
    minutes = int(offset.total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def zone_note(typed: str, instant: datetime) -> str | None:
    """What a zone written as an abbreviation was read as, at `instant`, for the reply to say (None for a zone
    named in full, UTC or an offset)."""
    upper = typed.strip().upper()
    if upper == "GMT":
        london = ZoneInfo("Europe/London")
        if instant.astimezone(london).utcoffset():
            return Strings.GMT_IN_SUMMER.format(day=format_day(instant, london))
        return Strings.GMT_IS_UTC
    about = ABBREVIATIONS.get(upper)
    if about is None:
        return None
    zone = ZoneInfo(about.zone)
    local = instant.astimezone(zone)
    name, offset = local.tzname() or "", offset_text(local.utcoffset() or timedelta(0))
    day = format_day(instant, zone)
    dst = bool(local.dst())
    if about.season is None or (about.season == "summer") == dst:
        return Strings.READ_AS.format(typed=upper, region=about.region, name=name, offset=offset, day=day)
    return Strings.READ_AS_OTHER.format(
        typed=upper, region=about.region, name=name, offset=offset, day=day, fixed=about.fixed
    )


# --- reading a date and time ---------------------------------------------------------------------------

_INFO = dateutil_parser.parserinfo()
# A zone written onto a time: `10:00Z`, or an offset onto an ISO date and time (`2027-03-01T10:00:00.5+02:00`);
# `10:00-11:00` is no time in UTC-11.
_ATTACHED_ZONE = re.compile(r"(?<=\d:\d\d)(?::\d\d(?:\.\d+)?)?(Z)$", re.IGNORECASE)
_ATTACHED_OFFSET = re.compile(
    r"\d{4}-\d\d-\d\dT\d\d:\d\d(?::\d\d(?:\.\d+)?)?([+\-\u2212]\d\d(?::?\d\d)?)$", re.IGNORECASE
)
_ZONE_TOKEN = re.compile(r"(?:[A-Za-z][\w+\-]*/[\w+\-/]+|[A-Za-z]{1,5}|(?:UTC|GMT|UT)?[+\-\u2212]\d{1,2}(?::?\d\d)?)")
_CITY_WORD = re.compile(r"[^\W\d_][\w'\-.]*")
# Two different defaults: a field that reads the same under both was typed (dateutil fills the rest from them).
_DEFAULT_A = datetime(2000, 1, 1, 0, 0, 0)
_DEFAULT_B = datetime(2004, 12, 31, 13, 37, 42, 123456)  # both leap years, so 29 February reads under both


class _ZoneInBody(Exception):
    """dateutil found a zone where none was looked for."""


def _no_zone(name: str | None, offset: int | None) -> None:
    if name is not None or offset is not None:
        raise _ZoneInBody(name or offset)


@dataclass(frozen=True)
class ResolvedWhen:
    """A typed date and time made an instant: `instant` (UTC), the zone it was read in, its wall-clock time there,
    and what the reply must say about how it was read (an abbreviation, a time that happens twice)."""

    instant: datetime
    zone: ZoneInfo
    wall: datetime
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class TypedWhen:
    """What a person typed as a date and time, before any zone or clock is applied: the day (when typed in full),
    the time of day (None: a day alone, an all-day date), the zone named at its end (and how it was written), and
    the text as typed, for reading back."""

    typed: str
    body: str = field(repr=False)  # the text without its zone, as dateutil reads it
    day: date | None
    time: time | None
    zone: ZoneInfo | None = None
    zone_typed: str | None = None

    @property
    def all_day(self) -> bool:
        return self.time is None

    def wall(self, zone: tzinfo, now: datetime) -> datetime:
        """The wall-clock time typed, with what was not typed filled from `now` in `zone` (today, midnight)."""
        if self.day is not None:
            return datetime.combine(self.day, self.time or time())
        local_today = now.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
        return _dateutil(self.body, local_today, self.typed, local_today.year)

    def on_day(self, zone: ZoneInfo, now: datetime) -> date:
        """The calendar day typed (a day typed without a year is in this year, in `zone`)."""
        return self.wall(self.zone or zone, now).date()

    def resolve(self, *, zone: ZoneInfo, now: datetime) -> ResolvedWhen:
        """The instant in UTC: in the zone named in the text, else in `zone`; a missing day is today there, a
        missing time midnight. A time that does not exist there (clocks go forward) is refused with the nearest
        valid times; one that happens twice (clocks go back) is the first, and a note says so."""
        used = self.zone or zone
        wall = self.wall(used, now)
        instant, note = local_instant(wall, used, self.typed)
        notes = tuple(n for n in (self.zone_typed and zone_note(self.zone_typed, instant), note) if n)
        return ResolvedWhen(instant, used, wall, notes)


def read_when(text: str, *, year: int | None = None) -> TypedWhen:
    """Read a date and time as typed, without applying any zone (see TypedWhen). Refuses what is no date, a date
    typed month first, and a zone it does not read; `year` is only for the suggestion in an error (the year a
    date typed without one is in). Linear: at most MAX_DATE_CHARS are read."""
    if len(text) > MAX_DATE_CHARS:
        raise GrammarError(Strings.DATE_TOO_LONG.format(max=MAX_DATE_CHARS))
    body, zone_typed = _split_zone(text.strip())
    zone = parse_zone(zone_typed) if zone_typed is not None else None
    if not body.strip(" ,") and zone_typed is not None:
        raise GrammarError(Strings.NO_DATE.format(typed=shown(text), zone=zone_typed))
    first = _dateutil(body, _DEFAULT_A, text, year)
    second = _dateutil(body, _DEFAULT_B, text, year)
    typed_day = first.date() if first.date() == second.date() else None
    typed_time = first.time() if first.hour == second.hour else None
    return TypedWhen(text.strip(), body, typed_day, typed_time, zone, zone_typed)


def _split_zone(text: str) -> tuple[str, str | None]:
    """The text and the zone written at its end (`10:00 EET`, `10:00+02:00`, `10:00 Europe/Tallinn`, `10:00 New
    York`), if any. A word that dateutil reads (a month, a weekday, am/pm) is no zone."""
    attached = _ATTACHED_ZONE.search(text) or _ATTACHED_OFFSET.fullmatch(text)
    if attached is not None:
        return text[: attached.start(1)].rstrip(), attached.group(1)
    words = text.rsplit(None, 2)
    if len(words) < 2:
        return text, None
    last = words[-1]
    if _ZONE_TOKEN.fullmatch(last) and not _dateutil_word(last):
        upper = last.upper()
        if not last.isalpha() or last.isupper() or upper in ABBREVIATIONS or upper in ELSEWHERE or upper in _UTC_NAMES:
            return text[: text.rfind(last)].rstrip(), last
    by_city = _zone_names()[1]
    for count in (2, 1):  # a city's zone by its name, one or two words (`Tallinn`, `New York`)
        names = words[-count:]
        if (
            len(words) > count
            and all(_CITY_WORD.fullmatch(word) and not _dateutil_word(word) for word in names)
            and fold_name(" ".join(names)) in by_city
        ):
            cut = text.rfind(names[0])
            return text[:cut].rstrip(), text[cut:]
    return text, None


def _dateutil_word(word: str) -> bool:
    """A word dateutil reads as part of a date: a month, a weekday, am/pm, `at`, `of`, `h`."""
    lowered = word.lower().rstrip(".,")
    return any(
        reader(lowered) is not None and reader(lowered) is not False
        for reader in (_INFO.month, _INFO.weekday, _INFO.ampm, _INFO.hms)
    ) or bool(_INFO.jump(lowered))


def _dateutil(body: str, default: datetime, typed: str, year: int | None) -> datetime:
    year_first = bool(_YEAR_FIRST.match(body))
    if not year_first:
        _refuse_month_first(body, year)
    try:
        parsed: datetime = dateutil_parser.parse(
            body, default=default, dayfirst=not year_first, yearfirst=year_first, tzinfos=_no_zone
        )
        return parsed
    except _ZoneInBody as found:
        if isinstance(found.args[0], str):  # a zone's name; an offset inside (`10:00-11:00`) is no date at all
            raise GrammarError(Strings.ZONE_NOT_AT_END.format(typed=shown(typed))) from None
        raise GrammarError(Strings.NOT_A_DATE.format(typed=shown(typed))) from None
    except (ValueError, OverflowError, dateutil_parser.ParserError):
        raise GrammarError(Strings.NOT_A_DATE.format(typed=shown(typed))) from None


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
    raise GrammarError(Strings.NOT_DAY_FIRST.format(typed=shown(text), month=second, iso=shown(iso)))


def local_instant(wall: datetime, zone: ZoneInfo, typed: str = "") -> tuple[datetime, str | None]:
    """The UTC instant of a wall-clock time in `zone`, and a note when it happens twice (the first is taken, as
    RFC 5545 and calendar clients take it). One that does not exist (clocks go forward) is refused, with the
    nearest valid times either side of the gap."""
    first = wall.replace(tzinfo=zone, fold=0)
    second = wall.replace(tzinfo=zone, fold=1)
    try:
        instant = first.astimezone(UTC)
        if first.utcoffset() == second.utcoffset():
            return instant, None
    except (ValueError, OverflowError):  # an offset of a day or more, or a year past 9999 in UTC
        raise GrammarError(Strings.NOT_A_DATE.format(typed=shown(typed or str(wall)))) from None
    shown_time = f"{wall:%H:%M}"
    before, after = first.utcoffset() or timedelta(0), second.utcoffset() or timedelta(0)
    if instant.astimezone(zone).replace(tzinfo=None) != wall:  # in a gap, fold=0 reads it in the offset before
        change = _transition(second.astimezone(UTC), instant, zone)
        raise GrammarError(
            Strings.GAP.format(
                time=shown_time,
                day=format_day(change, zone),
                zone=zone.key,
                gap_from=f"{change + before:%H:%M}",
                gap_to=f"{change + after:%H:%M}",
                before=f"{change + before - timedelta(minutes=1):%H:%M}",
                after=f"{change + after:%H:%M}",
            )
        )
    change = _transition(instant, second.astimezone(UTC), zone)
    note = Strings.FOLD.format(
        time=shown_time,
        day=format_day(instant, zone),
        zone=zone.key,
        back=f"{change + before:%H:%M}",
        name=first.tzname(),
        offset=offset_text(before),
        second=_offset_written(after),
    )
    return instant, note


def _offset_written(offset: timedelta) -> str:
    return offset_text(offset).removeprefix("UTC")


def _transition(low: datetime, high: datetime, zone: ZoneInfo) -> datetime:
    """The first second (UTC) at which `zone` has the offset it has at `high`, between `low` and `high`."""
    target = high.astimezone(zone).utcoffset()
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        middle = middle.replace(microsecond=0)
        if middle.astimezone(zone).utcoffset() == target:
            high = middle
        else:
            low = middle
    return high


def parse_when(text: str, *, zone: ZoneInfo, now: datetime) -> datetime:
    """An instant in UTC; a missing date part defaults to today in `zone`, a missing time to 00:00 (a thin wrapper of
    read_when and TypedWhen.resolve, whose notes it drops)."""
    year = now.astimezone(zone).year
    return read_when(text, year=year).resolve(zone=zone, now=now).instant


def parse_day(text: str) -> date:
    """A calendar date (no time, no zone; a day typed without a year is in the year 2000, as before)."""
    when = read_when(text)
    return when.day if when.day is not None else when.wall(UTC, datetime(2000, 1, 1, tzinfo=UTC)).date()


def names_a_time(text: str) -> bool:
    """Whether a date people typed names a time of day, or only a day (an all-day event)."""
    when = read_when(text)
    return not when.all_day


# --- durations and reminder offsets --------------------------------------------------------------------


def parse_duration(text: str) -> timedelta:
    """`30m`, `1h`, `7d`, `2w`."""
    match = _DURATION.match(text.strip().lower()) if len(text) <= MAX_DATE_CHARS else None
    if not match or len(match.group(1)) > MAX_DURATION_DIGITS:
        raise GrammarError(
            f"`{shown(text)}` is not a duration; expected a number and m, h, d or w, like 30m, 1d or 2w."
        )
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


class OffsetList(list[timedelta]):
    """Reminder offsets, longest first, each once; `merged` says which typed ones were the same and became one
    (`("1d", "24h")`), for the reply to say."""

    merged: tuple[tuple[str, ...], ...] = ()

    def merged_text(self) -> str | None:
        """`1d and 24h are the same time before: one reminder.` (None when nothing was merged)."""
        if not self.merged:
            return None
        return " ".join(Strings.MERGED.format(typed=format_list(list(group))) for group in self.merged)


def parse_durations(text: str) -> OffsetList:
    """`7d,1d,1h` -> three offsets, longest first. An offset of 0 is refused (it is no reminder); the same time
    typed twice (`1d,1d`, `1d,24h`) is one, and `merged` says so."""
    typed = [part.strip() for part in text.split(",") if part.strip()]
    if not typed:
        raise GrammarError(Strings.NO_OFFSETS)
    by_value: dict[timedelta, list[str]] = {}
    for part in typed:
        offset = parse_duration(part)
        if not offset:
            raise GrammarError(Strings.ZERO_OFFSET)
        by_value.setdefault(offset, []).append(part.lower().replace(" ", ""))
    result = OffsetList(sorted(by_value, reverse=True))
    result.merged = tuple(tuple(parts) for parts in by_value.values() if len(parts) > 1)
    return result


# --- writing times for people --------------------------------------------------------------------------


def _babel_locale(language: str | None) -> str | None:
    """The Babel locale a time is written in (`pl`, `pt_BR`), or None for English, whose forms are our own
    (`Mon 28 Sep 2020`): a given `language`, else the reader of now's."""
    code = language or current().code
    return None if code in (ENGLISH, "xx") else code.replace("-", "_")


@functools.cache
def _babel_dates() -> ModuleType:
    import babel.dates  # CLDR's day and month names and orders, loaded with the first time not in English

    return babel.dates


def _date(local: datetime, locale: str | None, *, year: bool = True) -> str:
    """`Mon 28 Sep 2020` (`pon., 28 wrz 2020` in Polish: CLDR's own order and names)."""
    if locale is None:
        return f"{local:%a} {local.day} {local:%b %Y}" if year else f"{local:%a} {local.day} {local:%b}"
    return str(_babel_dates().format_skeleton("yMMMEd" if year else "MMMEd", local, locale=locale))


def format_day(instant: datetime, zone: ZoneInfo, *, language: str | None = None) -> str:
    """`Sun 28 Mar 2027`, the day of `instant` in `zone`."""
    return _date(instant.astimezone(zone), _babel_locale(language))


def format_instant(instant: datetime, zone: ZoneInfo, *, language: str | None = None) -> str:
    """`Mon 28 Sep 2020, 10:00 CEST` in the reader's zone."""
    local = instant.astimezone(zone)
    return f"{_date(local, _babel_locale(language))}, {local:%H:%M} {local.tzname()}"


def format_span(start: datetime, end: datetime | None, zone: ZoneInfo, *, language: str | None = None) -> str:
    """An event's time in the reader's zone: one day with start–end, or several days as a range."""
    return _span(start, end, zone, (end or start).astimezone(zone).tzname() or "", _babel_locale(language))


def _span(start: datetime, end: datetime | None, zone: ZoneInfo, label: str, locale: str | None) -> str:
    first = start.astimezone(zone)
    if end is None:
        return f"{_date(first, locale)}, {first:%H:%M} {label}"
    last = end.astimezone(zone)
    if first.date() == last.date():
        return f"{_date(first, locale)}, {first:%H:%M}–{last:%H:%M} {label}"
    return f"{_date(first, locale)} {first:%H:%M} – {_date(last, locale)} {last:%H:%M} {label}"


def format_read_back(start: datetime, end: datetime | None, zone: ZoneInfo, reader: ZoneInfo) -> str:
    """An event's time as its organiser typed it, in its own zone, and the reader's time when the reader's clock
    differs: `Mon 15 Mar 2027, 10:00 Tallinn — 09:00 your time (CET)`. Where the clocks agree, the time as
    `format_span` writes it."""
    moments = [start] if end is None else [start, end]
    if all(moment.astimezone(zone).utcoffset() == moment.astimezone(reader).utcoffset() for moment in moments):
        return format_span(start, end, zone)
    locale = _babel_locale(None)
    own = _span(start, end, zone, zone_label(zone, start), locale)
    first, last = start.astimezone(reader), (end or start).astimezone(reader)
    same_day = first.date() == start.astimezone(zone).date()
    if end is None:
        yours = f"{first:%H:%M}" if same_day else f"{_date(first, locale, year=False)}, {first:%H:%M}"
    elif first.date() == last.date():
        times = f"{first:%H:%M}–{last:%H:%M}"
        yours = times if same_day else f"{_date(first, locale, year=False)}, {times}"
    else:
        yours = f"{_date(first, locale, year=False)} {first:%H:%M} – {_date(last, locale, year=False)} {last:%H:%M}"
    return Strings.READ_BACK.format(own=own, when=yours, zone=last.tzname())
