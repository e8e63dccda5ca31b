"""Calendar files read back by two independent parsers give every event at the instant it was planned.

vobject (the parser behind Radicale and khal) builds each zone from the file's VTIMEZONE; icalendar reads the
TZID from the tz database, and its VTIMEZONE-to-tzinfo conversion is checked too. Each event's UTC start and end
must match what was planned, in past and future years, summer and winter, several zones, and recurrences.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import vobject
import vobject.icalendar
from dateutil.rrule import rrulestr
from icalendar import Calendar

from core.calendar import Entry, Feed, observances, render

STAMP = datetime(2026, 1, 1, tzinfo=UTC)
ZONES = ("Europe/Prague", "Europe/Lisbon", "America/New_York", "Australia/Sydney")
# (year, month, day, hour, minute) wall times: a 2017 summer meeting, a 2030 City Lab, a 2040 forum, winters.
WALL_TIMES = (
    (2017, 6, 1, 9, 30),
    (2030, 9, 28, 10, 0),
    (2040, 7, 2, 9, 0),
    (2017, 12, 1, 10, 0),
    (2031, 1, 20, 18, 0),
    (2040, 2, 29, 8, 15),
)


def at(zone: str, wall: tuple[int, ...]) -> datetime:
    return datetime(*wall, tzinfo=ZoneInfo(zone)).astimezone(UTC)


def read_with_vobject(data: bytes) -> dict[str, tuple[datetime, datetime | None, object]]:
    """uid -> (UTC start, UTC end, the event) as vobject reads them, its zones built from this file alone."""
    vobject.icalendar.__dict__["__tzidMap"].clear()  # vobject keeps zones across files; start afresh
    vobject.icalendar.registerTzid("UTC", vobject.icalendar.utc)
    calendar = vobject.readOne(data.decode())
    read = {}
    for event in calendar.vevent_list:
        start = event.dtstart.value
        assert type(start.tzinfo).__name__ == "_tzicalvtz", "vobject must use the file's VTIMEZONE"
        end = event.dtend.value.astimezone(UTC) if hasattr(event, "dtend") else None
        read[event.uid.value] = (start.astimezone(UTC), end, event)
    return read


def read_with_icalendar(data: bytes) -> dict[str, tuple[datetime, datetime | None, object]]:
    calendar = Calendar.from_ical(data)
    zones = {str(zone["TZID"]): zone.to_tz(lookup_tzid=False) for zone in calendar.walk("VTIMEZONE")}
    read = {}
    for event in calendar.walk("VEVENT"):
        start = event["DTSTART"].dt
        end = event["DTEND"].dt if "DTEND" in event else None
        # The file's own VTIMEZONE, as icalendar converts it, agrees with the tz database's reading.
        own = zones[start.tzinfo.key]
        assert start.replace(tzinfo=own).astimezone(UTC) == start.astimezone(UTC)
        if end is not None:
            assert end.replace(tzinfo=own).astimezone(UTC) == end.astimezone(UTC)
        read[str(event["UID"])] = (start.astimezone(UTC), end.astimezone(UTC) if end else None, event)
    return read


def read_both(data: bytes) -> list[dict[str, tuple[datetime, datetime | None, object]]]:
    return [read_with_vobject(data), read_with_icalendar(data)]


def one_off(zone: str, wall: tuple[int, ...], hours: float = 1.5) -> Entry:
    start = at(zone, wall)
    uid = f"{zone}-{'-'.join(map(str, wall))}"
    return Entry(uid=uid, title="Meeting", start=start, end=start + timedelta(hours=hours), tz=zone)


@pytest.mark.parametrize("zone", ZONES)
def test_one_off_events_in_past_and_future_summers_and_winters(zone):
    entries = [one_off(zone, wall) for wall in WALL_TIMES]
    data = render(entries, stamp=STAMP)
    for read in read_both(data):
        for entry in entries:
            assert read[entry.uid][:2] == (entry.start, entry.end), (zone, entry.uid)


def test_the_issue_s_three_prague_events_come_out_at_summer_time():
    walls = [(2017, 6, 1, 9, 30), (2030, 9, 28, 10, 0), (2040, 7, 2, 9, 0)]
    data = render([one_off("Europe/Prague", wall) for wall in walls], stamp=STAMP)
    for event in read_with_vobject(data).values():
        assert event[2].dtstart.value.utcoffset() == timedelta(hours=2)


def test_every_zone_of_a_file_is_read_right_when_zones_are_mixed():
    entries = [one_off(zone, wall) for zone in ZONES for wall in WALL_TIMES[:3]]
    data = render(entries, stamp=STAMP)
    for read in read_both(data):
        assert {uid: times[:2] for uid, times in read.items()} == {e.uid: (e.start, e.end) for e in entries}


def test_vtimezone_is_the_compact_rrule_form_without_rdate_lists():
    data = render([one_off("Europe/Prague", (2017, 6, 1, 9, 30))], stamp=STAMP).decode()
    assert "RDATE" not in data and "2038" not in data
    zone = Calendar.from_ical(data).walk("VTIMEZONE")[0]
    parts = {part.name: part for part in zone.subcomponents}
    assert set(parts) == {"STANDARD", "DAYLIGHT"}
    assert parts["DAYLIGHT"]["RRULE"].to_ical() == b"FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3"
    assert parts["STANDARD"]["RRULE"].to_ical() == b"FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10"
    assert parts["DAYLIGHT"]["DTSTART"].dt == datetime(1996, 3, 31, 2, 0)  # local time in TZOFFSETFROM


def test_a_zone_whose_rules_changed_after_the_event_keeps_the_transitions_it_needs():
    # São Paulo kept summer time until 2019; Nuuk moved its standard offset in 2023.
    cases = {
        "America/Sao_Paulo": [(2017, 12, 1, 10, 0), (2018, 6, 1, 10, 0), (2030, 1, 10, 10, 0)],
        "America/Nuuk": [(2017, 7, 1, 12, 0), (2022, 1, 5, 12, 0), (2030, 7, 1, 12, 0), (2040, 1, 5, 12, 0)],
        "Asia/Jerusalem": [(2017, 3, 25, 9, 0), (2040, 3, 29, 9, 0)],
        "Asia/Kolkata": [(2017, 6, 1, 9, 0)],
    }
    entries = [one_off(zone, wall) for zone, walls in cases.items() for wall in walls]
    data = render(entries, stamp=STAMP)
    for read in read_both(data):
        for entry in entries:
            assert read[entry.uid][:2] == (entry.start, entry.end), entry.uid
    by_key = {str(zone["TZID"]): zone for zone in Calendar.from_ical(data).walk("VTIMEZONE")}
    assert not any("RRULE" in part for part in by_key["America/Sao_Paulo"].subcomponents)  # no summer time now
    # The change in force at the December 2017 event (October 2017), then February 2018 to February 2019.
    assert len(by_key["America/Sao_Paulo"].subcomponents) == 4


def test_rules_start_where_the_zone_began_to_follow_them_and_history_only_from_the_first_event():
    # Prague has followed the EU rule (last Sundays of March and October) since 1996.
    for since in (datetime(1990, 7, 2, tzinfo=UTC), datetime(2040, 7, 2, tzinfo=UTC)):
        parts = observances(ZoneInfo("Europe/Prague"), since)
        ruled = [part for part in parts if part.rrule]
        assert [part.onset for part in ruled] == [datetime(1996, 3, 31, 2, 0), datetime(1996, 10, 27, 3, 0)]
        history = [part for part in parts if not part.rrule]
        expected = [year for year in range(1990, 1996) for _ in ("DAYLIGHT", "STANDARD")] if since.year == 1990 else []
        assert [part.onset.year for part in history] == expected


def exdate_weekly(zone: str, wall: tuple[int, ...]) -> tuple[Entry, list[datetime]]:
    """Ten weekly meetings across a DST change; the fourth is cancelled (EXDATE)."""
    local = datetime(*wall)
    walls = [local + timedelta(weeks=week) for week in range(10)]
    instants = [moment.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC) for moment in walls]
    cancelled = instants[3]
    entry = Entry(
        uid=f"weekly-{zone}-{wall[0]}",
        title="Working group",
        start=instants[0],
        end=instants[0] + timedelta(hours=1),
        tz=zone,
        rrule="FREQ=WEEKLY;COUNT=10",
        exdates=(cancelled,),
    )
    return entry, [moment for moment in instants if moment != cancelled]


def expand_icalendar(event) -> list[datetime]:
    start = event["DTSTART"].dt
    rule = rrulestr(event["RRULE"].to_ical().decode(), dtstart=start.replace(tzinfo=None))
    excluded = {moment.dt.replace(tzinfo=None) for moment in event["EXDATE"].dts}
    return [wall.replace(tzinfo=start.tzinfo).astimezone(UTC) for wall in rule if wall not in excluded]


@pytest.mark.parametrize("zone", ("Europe/Prague", "Europe/Lisbon", "Australia/Sydney"))
@pytest.mark.parametrize("wall", [(2017, 3, 2, 10, 0), (2040, 9, 20, 10, 0)], ids=["2017", "2040"])
def test_recurring_event_with_a_cancelled_occurrence(zone, wall):
    entry, expected = exdate_weekly(zone, wall)
    data = render([entry], stamp=STAMP)
    vobject_read, icalendar_read = read_both(data)
    ruleset = vobject_read[entry.uid][2].getrruleset()
    assert [moment.astimezone(UTC) for moment in ruleset] == expected
    assert expand_icalendar(icalendar_read[entry.uid][2]) == expected
    # The wall clock holds across the DST change: every meeting starts at the same local time.
    assert {moment.astimezone(ZoneInfo(zone)).time() for moment in expected} == {datetime(*wall).time()}


def test_monthly_series_reaching_2040_is_read_right_every_month():
    zone = "Europe/Lisbon"
    start = at(zone, (2030, 1, 3, 10, 0))
    entry = Entry(uid="monthly", title="WG", start=start, tz=zone, rrule="FREQ=MONTHLY;BYDAY=1TH;COUNT=130")
    data = render([entry], stamp=STAMP)
    vobject_read, icalendar_read = read_both(data)
    walls = list(rrulestr("FREQ=MONTHLY;BYDAY=1TH;COUNT=130", dtstart=datetime(2030, 1, 3, 10, 0)))
    expected = [moment.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC) for moment in walls]
    assert expected[-1].year == 2040
    assert [moment.astimezone(UTC) for moment in vobject_read["monthly"][2].getrruleset()] == expected


def test_feed_properties_sequence_and_cancellation():
    entry = one_off("Europe/Prague", (2030, 9, 28, 10, 0))
    cancelled = Entry(**{**entry.__dict__, "uid": "gone", "sequence": 3, "cancelled": True})
    data = render([entry, cancelled], stamp=STAMP, feed=Feed("CityPeers", refresh=timedelta(hours=1)))
    calendar = Calendar.from_ical(data)
    assert str(calendar["REFRESH-INTERVAL"].to_ical().decode()) == "PT1H"
    assert str(calendar["X-PUBLISHED-TTL"]) == "PT1H"
    for read in read_both(data):
        assert read["gone"][0] == entry.start
    statuses = {str(event["UID"]): (str(event["STATUS"]), int(event["SEQUENCE"])) for event in calendar.walk("VEVENT")}
    assert statuses == {entry.uid: ("CONFIRMED", 0), "gone": ("CANCELLED", 3)}
