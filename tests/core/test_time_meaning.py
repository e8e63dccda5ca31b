"""A time has one meaning: zones as people in Europe write them, clocks-forward and clocks-back nights, offsets."""

import warnings
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.dates import format_read_back, parse_durations, parse_when, parse_zone, read_when
from core.grammar import GrammarError

BRUSSELS = ZoneInfo("Europe/Brussels")
HELSINKI = ZoneInfo("Europe/Helsinki")
NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def no_warning_ever():
    """A library warning reaching a person or the log is a failure here."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


@pytest.mark.parametrize(
    "typed, utc",
    [
        # Winter: the standard abbreviation is the clock there.
        ("2027-01-20 10:00 EET", datetime(2027, 1, 20, 8, 0, tzinfo=UTC)),
        ("2027-01-20 10:00 CET", datetime(2027, 1, 20, 9, 0, tzinfo=UTC)),
        ("2027-01-20 10:00 WET", datetime(2027, 1, 20, 10, 0, tzinfo=UTC)),
        ("2027-01-20 10:00 GMT", datetime(2027, 1, 20, 10, 0, tzinfo=UTC)),
        ("2027-01-20 10:00 MSK", datetime(2027, 1, 20, 7, 0, tzinfo=UTC)),
        # Summer: the summer abbreviation is the clock there.
        ("2027-07-20 10:00 EEST", datetime(2027, 7, 20, 7, 0, tzinfo=UTC)),
        ("2027-07-20 10:00 CEST", datetime(2027, 7, 20, 8, 0, tzinfo=UTC)),
        ("2027-07-20 10:00 WEST", datetime(2027, 7, 20, 9, 0, tzinfo=UTC)),
        ("2027-07-20 10:00 BST", datetime(2027, 7, 20, 9, 0, tzinfo=UTC)),
        ("2027-07-20 10:00 MESZ", datetime(2027, 7, 20, 8, 0, tzinfo=UTC)),
        # The standard name written in summer still means the clock on the wall there, never an hour off it.
        ("2027-07-20 10:00 EET", datetime(2027, 7, 20, 7, 0, tzinfo=UTC)),
        ("2027-07-20 10:00 cet", datetime(2027, 7, 20, 8, 0, tzinfo=UTC)),
        ("2027-01-20 10:00 CEST", datetime(2027, 1, 20, 9, 0, tzinfo=UTC)),
        # GMT is UTC all year; an offset is the offset written.
        ("2027-07-20 10:00 GMT", datetime(2027, 7, 20, 10, 0, tzinfo=UTC)),
        ("2027-07-20 10:00 +02:00", datetime(2027, 7, 20, 8, 0, tzinfo=UTC)),
        ("2027-07-20 10:00 UTC-3", datetime(2027, 7, 20, 13, 0, tzinfo=UTC)),
        ("2027-07-20T10:00:00+03:00", datetime(2027, 7, 20, 7, 0, tzinfo=UTC)),
        ("2027-07-20 10:00Z", datetime(2027, 7, 20, 10, 0, tzinfo=UTC)),
        ("20/07/2027 10:00 europe/riga", datetime(2027, 7, 20, 7, 0, tzinfo=UTC)),
        ("20/07/2027 10:00 Lisbon", datetime(2027, 7, 20, 9, 0, tzinfo=UTC)),
    ],
)
def test_zones_written_in_the_text_mean_what_people_mean(typed, utc):
    assert parse_when(typed, zone=BRUSSELS, now=NOW) == utc


def test_an_abbreviation_says_how_it_was_read():
    summer = read_when("2027-07-20 10:00 EET").resolve(zone=BRUSSELS, now=NOW)
    assert summer.notes == (
        "`EET` read as Eastern European time (Helsinki, Tallinn, Riga, Vilnius, Athens, Bucharest, Sofia …): "
        "on Tue 20 Jul 2027 its clocks show EEST, UTC+03:00; for a fixed offset write +02:00.",
    )
    winter = read_when("2027-01-20 10:00 EET").resolve(zone=BRUSSELS, now=NOW)
    assert winter.notes[0].endswith(": EET, UTC+02:00 on Wed 20 Jan 2027.")
    assert winter.zone.key == "EET"
    gmt = read_when("2027-07-20 10:00 GMT").resolve(zone=BRUSSELS, now=NOW)
    assert "London is on BST, UTC+01:00" in gmt.notes[0]
    named = read_when("2027-07-20 10:00 Europe/Riga").resolve(zone=BRUSSELS, now=NOW)
    assert named.notes == () and named.zone.key == "Europe/Riga"


@pytest.mark.parametrize(
    "typed, instead",
    [
        ("PST", "America/Los_Angeles, or -08:00"),
        ("EDT", "America/New_York, or -04:00"),
        ("est", "America/New_York"),  # tzdata's `EST` is UTC-05:00 all year, not New York: refused too
        ("IST", "Europe/Dublin, Asia/Kolkata or Asia/Jerusalem"),
        ("AEST", "Australia/Sydney"),
    ],
)
def test_other_abbreviations_are_refused_with_what_to_write(typed, instead):
    for parse in (parse_zone, lambda t: parse_when(f"2027-03-01 10:00 {t}", zone=BRUSSELS, now=NOW)):
        with pytest.raises(GrammarError) as caught:
            parse(typed)
        assert instead in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize("typed", ["XYZ", "EST5EDT", "QQT"])
def test_unknown_abbreviations_are_refused_with_the_forms_read(typed):
    with pytest.raises(GrammarError, match="an offset like \\+02:00"):
        parse_zone(typed)


@pytest.mark.parametrize(
    "typed, key",
    [
        ("europe/TALLINN", "Europe/Tallinn"),
        ("utc", "UTC"),
        ("Z", "UTC"),
        ("+03:00", "Etc/GMT-3"),
        ("-0500", "Etc/GMT+5"),
        ("UTC+1", "Etc/GMT-1"),
        ("+00:00", "UTC"),
        ("EEST", "EET"),
        ("mesz", "CET"),
        ("BST", "Europe/London"),
    ],
)
def test_zone_forms(typed, key):
    assert parse_zone(typed).key == key


@pytest.mark.parametrize("typed", ["+05:30", "+15:00", "-13"])
def test_offsets_that_are_no_whole_hour_in_use_are_refused(typed):
    with pytest.raises(GrammarError):
        parse_zone(typed)


@pytest.mark.parametrize(
    "typed, zone, message",
    [
        (
            "2027-03-28 02:30",
            BRUSSELS,
            "02:30 does not exist on Sun 28 Mar 2027 in Europe/Brussels: clocks go from 02:00 straight to 03:00. "
            "The nearest valid times are 01:59 and 03:00.",
        ),
        (
            "28/03/2027 03:15",
            HELSINKI,
            "03:15 does not exist on Sun 28 Mar 2027 in Europe/Helsinki: clocks go from 03:00 straight to 04:00. "
            "The nearest valid times are 02:59 and 04:00.",
        ),
        (
            "2026-03-29 02:00 CET",
            BRUSSELS,
            "02:00 does not exist on Sun 29 Mar 2026 in CET: clocks go from 02:00 straight to 03:00. "
            "The nearest valid times are 01:59 and 03:00.",
        ),
    ],
)
def test_a_time_clocks_skip_is_refused_with_the_nearest_valid_times(typed, zone, message):
    with pytest.raises(GrammarError) as caught:
        parse_when(typed, zone=zone, now=NOW)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    "typed, zone, utc, note",
    [
        (
            "2027-10-31 02:30",
            BRUSSELS,
            datetime(2027, 10, 31, 0, 30, tzinfo=UTC),
            "02:30 happens twice on Sun 31 Oct 2027 in Europe/Brussels (clocks go back at 03:00): taken as the "
            "first, 02:30 CEST (UTC+02:00); for the second, write 02:30 +01:00.",
        ),
        (
            "31/10/2027 03:45",
            HELSINKI,
            datetime(2027, 10, 31, 0, 45, tzinfo=UTC),
            "03:45 happens twice on Sun 31 Oct 2027 in Europe/Helsinki (clocks go back at 04:00): taken as the "
            "first, 03:45 EEST (UTC+03:00); for the second, write 03:45 +02:00.",
        ),
    ],
)
def test_a_time_that_happens_twice_is_the_first_and_said(typed, zone, utc, note):
    resolved = read_when(typed).resolve(zone=zone, now=NOW)
    assert resolved.instant == utc
    assert resolved.notes == (note,)
    second = note.rsplit("write ", 1)[1].rstrip(".")
    day = typed.split()[0]
    assert parse_when(f"{day} {second}", zone=zone, now=NOW) == utc + timedelta(hours=1)


def test_the_nights_around_are_plain():
    for typed in ("2027-03-28 01:59", "2027-03-28 03:00", "2027-10-31 01:59", "2027-10-31 03:00"):
        assert read_when(typed).resolve(zone=BRUSSELS, now=NOW).notes == ()


@pytest.mark.parametrize(
    "typed, day, at, zone_typed",
    [
        ("2027-03-01 10:00", date(2027, 3, 1), time(10, 0), None),
        ("01/02/2027", date(2027, 2, 1), None, None),
        ("1 March 2027 EET", date(2027, 3, 1), None, "EET"),
        ("10:00 CET", None, time(10, 0), "CET"),
        ("Mon 15 Mar 2027, 10:00 Tallinn", date(2027, 3, 15), time(10, 0), "Tallinn"),
        ("2027-03-01 00:00", date(2027, 3, 1), time(0, 0), None),
        ("15/03 9:30", None, time(9, 30), None),
    ],
)
def test_what_was_typed_is_known_before_any_zone(typed, day, at, zone_typed):
    when = read_when(typed)
    assert (when.day, when.time, when.zone_typed, when.typed) == (day, at, zone_typed, typed)
    assert when.all_day is (at is None)


def test_a_day_without_a_year_is_this_year_where_it_is_read():
    when = read_when("15/03 9:30")
    assert when.resolve(zone=BRUSSELS, now=NOW).instant == datetime(2026, 3, 15, 8, 30, tzinfo=UTC)
    assert read_when("15/03").on_day(BRUSSELS, datetime(2027, 1, 2, tzinfo=UTC)) == date(2027, 3, 15)


@pytest.mark.parametrize(
    "typed, message",
    [
        ("0m", "0 before is no reminder"),
        ("7d,0h", "0 before is no reminder"),
        ("0w", "0 before is no reminder"),
    ],
)
def test_an_offset_of_nothing_is_refused(typed, message):
    with pytest.raises(GrammarError, match=message):
        parse_durations(typed)


def test_the_same_offset_twice_is_one_and_said():
    offsets = parse_durations("1d,24h,7d,1w,1h,1D")
    assert offsets == [timedelta(days=7), timedelta(days=1), timedelta(hours=1)]
    assert offsets.merged_text() == (
        "1d and 24h and 1d are the same time before: one reminder. 7d and 1w are the same time before: one reminder."
    )
    assert parse_durations("7d,1d").merged_text() is None


@pytest.mark.parametrize(
    "start, end, zone, reader, shown",
    [
        (
            datetime(2027, 3, 15, 8, 0, tzinfo=UTC),
            None,
            ZoneInfo("Europe/Tallinn"),
            BRUSSELS,
            "Mon 15 Mar 2027, 10:00 Tallinn — 09:00 your time (CET)",
        ),
        (
            datetime(2027, 3, 15, 8, 0, tzinfo=UTC),
            datetime(2027, 3, 15, 10, 0, tzinfo=UTC),
            ZoneInfo("EET"),
            ZoneInfo("Europe/Lisbon"),
            "Mon 15 Mar 2027, 10:00–12:00 EET — 08:00–10:00 your time (WET)",
        ),
        (
            datetime(2027, 3, 14, 23, 30, tzinfo=UTC),
            None,
            ZoneInfo("Etc/GMT-2"),
            ZoneInfo("America/New_York"),
            "Mon 15 Mar 2027, 01:30 UTC+02:00 — Sun 14 Mar, 19:30 your time (EDT)",
        ),
        (
            datetime(2027, 3, 15, 8, 0, tzinfo=UTC),
            datetime(2027, 3, 19, 15, 0, tzinfo=UTC),
            HELSINKI,
            BRUSSELS,
            "Mon 15 Mar 2027 10:00 – Fri 19 Mar 2027 17:00 Helsinki — Mon 15 Mar 09:00 – Fri 19 Mar 16:00 your time "
            "(CET)",
        ),
        # The same clock: written once, as before.
        (
            datetime(2027, 3, 15, 9, 0, tzinfo=UTC),
            None,
            BRUSSELS,
            ZoneInfo("Europe/Paris"),
            "Mon 15 Mar 2027, 10:00 CET",
        ),
    ],
)
def test_a_time_is_read_back_in_its_own_zone_and_the_readers(start, end, zone, reader, shown):
    assert format_read_back(start, end, zone, reader) == shown
