"""The /event family: City Labs, summits and meetings, RSVPs, reminders, broadcasts, iCalendar files.

Reminders are rows in the delivery ledger (handlers.ledger), queued through handlers.event_reminders when an
event is created, changed or attended, and sent by the runtime's delivery engine when they fall due. Times are
checked at the door: nothing is promised that cannot be kept (a start in the past, a reminder before now).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from core import calendar, i18n
from core.audit import AuditKind
from core.dates import OffsetList, TypedWhen, format_day, format_instant, zone_note
from core.grammar import ChannelRef
from core.i18n import N_, nN_, pN_, reading
from core.reminders import (
    ALL_DAY_HOUR,
    Occurrence,
    check_rrule,
    describe_days_ahead,
    describe_lead,
    format_offset,
    plan_reminders,
    reminder_due,
    stored_offsets,
    whole_days,
)
from core.roles import ORGANISERS
from core.text import ChannelMention, Mention, Text
from handlers import audit, languages, ledger
from handlers.auth import require
from handlers.binding import NoArguments, param
from handlers.event_reminders import (
    CALENDAR,
    calendar_entry,
    current_occurrence,
    event_buttons,
    event_occurrences,
    event_zone,
    everyone,
    offsets_of,
    offsets_text,
    queue_calendar,
    queue_reminders,
    requeue_all,
    span_text,
    when_text,
    where_text,
)
from handlers.ledger import RowKind
from handlers.types import (
    Attachment,
    Button,
    Command,
    CommandError,
    Context,
    HandlerSettings,
    Kind,
    Notice,
    Reply,
    UsageError,
    Variant,
    member_zone,
)
from storage import event_queries, feed_queries
from storage.models import Broadcast, Cohort, Event, EventOccurrence, Member

SUMMARY = N_("City Labs, summits and meetings: RSVPs, reminders in your time zone, broadcasts")
MAX_TITLE = 200
MAX_BROADCAST = 3000
MAX_OFFSETS = 5  # reminders per event: more is noise, and every one is a message to every attendee
MAX_OFFSET = timedelta(days=365)
LISTED_AHEAD = timedelta(days=731)  # /event list all shows a recurring event's dates this far ahead
MAX_LISTED_DATES = 60
PAST_TOLERANCE = timedelta(minutes=1)  # "now" typed as a time a few seconds ago is still now


class Strings:
    """Every user-facing line of /event, in one place so it can be translated later."""

    TITLE_REQUIRED = N_("Give the event a title.")
    TITLE_BAD = N_("A title is 1 to 200 characters without line breaks.")
    START_REQUIRED = N_('`start=` is required, e.g. start="2020-09-28 10:00".')
    START_PAST = N_("The start, {when}, is in the past: give a time from now on.")
    END_BEFORE_START = N_("The end must come after the start.")
    END_NEEDS_DAY = N_("An all-day event ends on a day too: end= a date without a time, e.g. end=2027-03-05.")
    ID_BAD = N_("`{value}` is not an event number; see /event list.")
    NO_EVENT = N_("There is no event {id}; see /event list.")
    CANCELLED = N_("Event {id} is cancelled.")
    CHANNEL_BAD = N_("`{value}` is not a channel; name it as #channel.")
    TOO_LONG = N_("Keep a broadcast under {max} characters.")
    NOTHING_TO_CHANGE = N_(
        "Say what changes: title=, start=, end=, tz=, where=, channel= or repeat= (none removes it)."
    )
    TOO_MANY_OFFSETS = N_("At most {max} reminders an event; you gave {count} ({offsets}).")
    OFFSET_TOO_LONG = N_("A reminder is at most {max} before its event; {offset} is longer.")
    OFFSET_BEFORE_NOW = N_(
        "A {offset} reminder would fall before now: the event {lead}. Use offsets shorter than that."
    )
    CREATED = N_("Scheduled *{title}* (event {id}): {when}.")
    # Whole sentences with and without the channel (a channel is a value each platform shows as its own link).
    REMINDERS = N_("Reminders {offsets} before, and by direct message to everyone who RSVPs.")
    REMINDERS_TO = N_("Reminders {offsets} before to {channel}, and by direct message to everyone who RSVPs.")
    REMINDERS_DROPPED = N_("The default {dropped} would fall before now, so reminders are {offsets} before.")
    REMINDERS_DROPPED_TO = N_(
        "The default {dropped} would fall before now, so reminders are {offsets} before to {channel}."
    )
    NO_REMINDERS_LEFT = N_("Too close to its start for the default reminders ({offsets}): none are sent.")
    REPEATS = N_("Repeats: {rule}.")
    NOTE = N_("{note}")
    ZONE_TWICE = N_(
        "`start=` names {typed} and `tz=` is {zone}, whose clocks differ on that day: give the zone once, in "
        "tz= or at the end of start=."
    )
    ALL_DAY_HOUR = N_("An all-day event is reminded at {hour} in its zone ({zone}) on each of those days.")
    ALL_DAY_DEFAULTS = N_(
        "An all-day event has no time of day, so the default {dropped} before is left out; it is reminded at {hour} "
        "in its zone ({zone})."
    )
    ALL_DAY_KEPT = N_(
        "An all-day event has no time of day, so its {dropped} reminder is left out; reminders are {offsets} before, "
        "at {hour} in its zone ({zone})."
    )
    ALL_DAY_KEPT_NONE = N_(
        "An all-day event has no time of day, so its {dropped} reminder is left out; it has no reminders left."
    )
    ALL_DAY_OFFSETS = N_(
        "An all-day event has no time of day: its reminders go at {hour} in its zone on a day before, so give them "
        "in whole days or weeks (1d, 7d, 2w); {offsets} is not."
    )
    NO_EVENTS = N_("No upcoming events. Organisers add them with /event add.")
    RSVP_DONE = N_("You are attending *{title}*: {when}. Reminders come by direct message {offsets} before.")
    RSVP_DONE_LATE = N_(
        "You are attending *{title}*: {when}. Its reminders before this date have gone out; by direct message you "
        "get {offsets}."
    )
    RSVP_DONE_NONE_LEFT = N_("You are attending *{title}*: {when}. Its reminders have already gone out.")
    RSVP_ALREADY = N_("You are already attending {title}.")
    RSVP_WITHDRAWN = N_("You are no longer attending *{title}*; its reminders to you are withdrawn.")
    RSVP_NONE = N_("You were not attending {title}.")
    PAST = N_("{title} has already taken place.")
    REMIND_SET = N_("Reminders for *{title}* are now {offsets} before; {queued} queued.")
    EDITED = nN_(
        "*{title}* (event {id}) changed: {when}. Pending reminders moved; {n} attendee told.",
        "*{title}* (event {id}) changed: {when}. Pending reminders moved; {n} attendees told.",
    )
    EDITED_NOTICE = N_("*{title}* has changed: {when}{where}.")
    REPEAT_REMOVED = N_("It no longer repeats.")
    # TRANSLATORS: the form follows {n}, the people told; say {withdrawn} after a colon if it must agree.
    CANCEL_DONE = nN_(
        "*{title}* is cancelled; {withdrawn} pending reminders withdrawn, {n} attendee told.",
        "*{title}* is cancelled; {withdrawn} pending reminders withdrawn, {n} attendees told.",
    )
    CANCEL_NOTICE = N_("*{title}*, planned for {when}, is cancelled.")
    ON_NOT_RECURRING = N_("`on=` picks one date of a repeating event; event {id} happens once: change it without on=.")
    ON_NO_OCCURRENCE = N_("*{title}* does not meet on {day}; its next dates: {dates}.")
    ON_NO_OCCURRENCE_AHEAD = N_("*{title}* does not meet on {day}, and has no dates ahead.")
    ON_PAST = N_("*{title}* on {day} has already taken place.")
    ON_ALREADY_CANCELLED = N_("*{title}* on {day} is already cancelled.")
    ON_OPTIONS = N_("With on=, only start=, end= and where= change (that one date); {keys} change every date.")
    ON_NOTHING = N_("Say what changes on that date: start=, end= or where=.")
    # TRANSLATORS: the form follows {n}, the people told; say {withdrawn} after a colon if it must agree.
    OCCURRENCE_CANCELLED = nN_(
        "*{title}* on {day} is cancelled; the other dates stand. {withdrawn} pending reminders withdrawn, {n} attendee "
        "told.",
        "*{title}* on {day} is cancelled; the other dates stand. {withdrawn} pending reminders withdrawn, "
        "{n} attendees told.",
    )
    OCCURRENCE_CANCEL_NOTICE = N_("*{title}* on {day} is cancelled; the other dates stand.")
    OCCURRENCE_MOVED = nN_(
        "*{title}* on {day} now takes place {when}{where}; the other dates stand. {n} attendee told.",
        "*{title}* on {day} now takes place {when}{where}; the other dates stand. {n} attendees told.",
    )
    ALL_EVENTS = N_("All events")
    LIST_LINE = N_("*{title}* (event {id}) · {when}{where} · {extras}")
    REPEATING = N_("repeats")
    STATUS = {"cancelled": pN_("event status", "cancelled")}
    ATTENDING = nN_("{n} attending", "{n} attending")
    UPCOMING_EVENTS = N_("Upcoming events")
    ICS_FILE = nN_("iCalendar file with {n} event: {name}", "iCalendar file with {n} events: {name}")
    # TRANSLATORS: when a broadcast goes: "queued for now".
    NOW = pN_("broadcast time", "now")
    OCCURRENCE_MOVE_NOTICE = N_("*{title}* on {day} now takes place {when}{where}; the other dates stand.")
    DATES = N_("Dates: {dates}")
    DATES_MORE = N_(" … and {more} more until {last}")
    MOVED_FROM = N_("{when} (moved from {original})")
    CANCELLED_ON = N_("{day} cancelled")
    BROADCAST_QUEUED = N_("Broadcast {id} to {channel} queued for {when}. You will get a delivery summary.")
    BROADCAST_UNDO = N_("/event broadcast cancel {id} withdraws it before it goes.")
    BROADCAST_PAST = N_("`at=` is {when}, in the past: give a time from now on, or leave at= out to send now.")
    BROADCASTS_TITLE = N_("Broadcasts still to go")
    BROADCAST_LINE = N_("Broadcast {id} · {when} · {channel} · by {who} · “{text}”")
    NO_BROADCASTS = N_("No broadcasts are waiting to go.")
    BROADCAST_ID_BAD = N_("`{value}` is not a broadcast number; see /event broadcast list.")
    NO_BROADCAST = N_("There is no broadcast {id} waiting to go; see /event broadcast list.")
    BROADCAST_CANCELLED = N_("Broadcast {id} to {channel} is withdrawn; it will not be sent.")
    BROADCAST_GONE = N_("Broadcast {id} has already been sent; it cannot be taken back.")
    BROADCAST_SENDING = N_("Broadcast {id} is being sent right now; it cannot be taken back.")
    CANCEL_BROADCAST = N_("Cancel")
    SUBSCRIBED_RSVP = N_("Your private calendar feed of the events you attend: {webcal}")
    SUBSCRIBED_ALL = N_("Your private calendar feed of every programme event: {webcal}")
    SUBSCRIBE_HOW = N_(
        "Open it to subscribe in Apple Calendar or Outlook; in Google Calendar choose Other calendars, From URL, "
        "and paste {url}. Edits and cancellations show at the next refresh (about hourly)."
    )
    SUBSCRIBE_PRIVATE = N_(
        "Anyone with the link sees these events: keep it private. /event subscribe reset revokes it."
    )
    SUBSCRIBE_RESET = nN_(
        "Revoked {n} feed link; calendars subscribed to them stop updating. /event subscribe gives a new one.",
        "Revoked {n} feed links; calendars subscribed to them stop updating. /event subscribe gives a new one.",
    )
    FEED_RSVP = N_("CityPeers: events I attend")
    FEED_ALL = N_("CityPeers: all events")


# --- shared helpers ----------------------------------------------------------------------------------


def event_by_id(context: Context, text: str) -> Event:
    """An event by its number, cancelled or not (a command that changes or attends one asks `scheduled`)."""
    typed = text.strip().lstrip("#")
    if not typed:
        raise UsageError()
    if not typed.isdecimal() or len(typed) > 9:  # int() refuses `²`; no id or database integer is longer
        raise CommandError(Strings.ID_BAD.format(value=text.strip()))
    event = event_queries.get_event(session=context.session, event_id=int(typed))
    if event is None:
        raise CommandError(Strings.NO_EVENT.format(id=typed))
    return event


def checked_title(text: str) -> str:
    title = " ".join(text.split())
    if not title:
        raise UsageError(Strings.TITLE_REQUIRED)
    if len(title) > MAX_TITLE:
        raise CommandError(Strings.TITLE_BAD)
    return title


@dataclass(frozen=True)
class Span:
    start: datetime
    end: datetime | None
    all_day: bool
    zone: ZoneInfo = ZoneInfo("UTC")  # the event's own zone, that its times were typed in
    notes: tuple[str, ...] = ()  # how the times were read, for the reply (an abbreviation, clocks going back)


def event_zone_for(start: TypedWhen | None, tz: ZoneInfo | None, fallback: ZoneInfo) -> ZoneInfo:
    """An event's own zone: tz= when given, else the zone named at the end of start= (`10:00 EET`), else
    `fallback` (the organiser's zone for a new event, the event's own for a change)."""
    if tz is not None:
        return tz
    return start.zone if start is not None and start.zone is not None else fallback


def checked_span(
    context: Context, start_typed: TypedWhen, end_typed: TypedWhen | None, zone: ZoneInfo, *, default_day: datetime
) -> Span:
    """start= and end= as typed, in the event's zone: a date without a time is an all-day event (its end, a day too,
    is inclusive); a start in the past, a time the clocks skip, and a zone in start= that disagrees with tz= are
    refused; a time that happens twice, or a zone abbreviation, is said how it was read (`notes`)."""
    notes: list[str] = []
    all_day = start_typed.all_day
    if all_day:
        start = _midnight(start_typed.on_day(zone, default_day), zone)
        if start_typed.zone_typed and (note := zone_note(start_typed.zone_typed, start)):
            notes.append(note)
    else:
        resolved = start_typed.resolve(zone=start_typed.zone or zone, now=default_day)
        start = resolved.instant
        notes.extend(resolved.notes)
    if (
        start_typed.zone is not None
        and start.astimezone(start_typed.zone).utcoffset() != start.astimezone(zone).utcoffset()
    ):
        raise CommandError(Strings.ZONE_TWICE.format(typed=start_typed.zone_typed, zone=zone.key), field="tz")
    earliest = _midnight(context.now.astimezone(zone).date(), zone) if all_day else context.now - PAST_TOLERANCE
    if start < earliest:  # an all-day event may still be today
        raise CommandError(Strings.START_PAST.format(when=format_instant(start, context.zone)), field="start")
    end = None
    if end_typed is not None:
        if all_day:
            if not end_typed.all_day:
                raise CommandError(Strings.END_NEEDS_DAY, field="end")
            end = _midnight(end_typed.on_day(zone, start) + timedelta(days=1), zone)
        else:
            resolved = end_typed.resolve(zone=zone, now=start)
            end = resolved.instant
            notes.extend(note for note in resolved.notes if note not in notes)
    elif all_day:
        end = _midnight(start.astimezone(zone).date() + timedelta(days=1), zone)
    if end is not None and end <= start:
        raise CommandError(Strings.END_BEFORE_START, field="end")
    return Span(start, end, all_day, zone, tuple(notes))


def zone_notes(tz: ZoneInfo | None, span: Span) -> tuple[str, ...]:
    """How tz= was read, when it is one of the zones European abbreviations name (`tz=EET`), and how the times
    were read."""
    note = zone_note(tz.key, span.start) if tz is not None else None
    return ((note,) if note else ()) + span.notes


def scheduled(event: Event) -> Event:
    """An event a command changes or attends: not one that was cancelled."""
    if event.status != "scheduled":
        raise CommandError(Strings.CANCELLED.format(id=event.id))
    return event


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)


def checked_offsets(
    offsets: OffsetList, *, start: datetime, repeats: bool, now: datetime, zone: ZoneInfo, all_day: bool = False
) -> OffsetList:
    """Offsets as read (none of 0; the same one twice is one, and `merged` says so): a handful at most, none over a
    year, whole days for an all-day event, and (a one-off event) none falling before now."""
    if len(offsets) > MAX_OFFSETS:
        raise CommandError(
            Strings.TOO_MANY_OFFSETS.format(max=MAX_OFFSETS, count=len(offsets), offsets=offsets_text(offsets)),
            field="remind",
        )
    if all_day and (parts := [offset for offset in offsets if not whole_days(offset)]):
        message = Strings.ALL_DAY_OFFSETS.format(hour=ALL_DAY_TIME, offsets=offsets_text(parts))
        raise CommandError(message, field="remind")
    for offset in offsets:
        if not repeats and reminder_due(start, offset, zone, all_day=all_day) <= now:
            lead = soon_text_for(start, now, zone, all_day)
            message = Strings.OFFSET_BEFORE_NOW.format(offset=format_offset(offset), lead=lead)
            raise CommandError(message, field="remind")
        if offset > MAX_OFFSET:
            raise CommandError(Strings.OFFSET_TOO_LONG.format(max="365d", offset=format_offset(offset)), field="remind")
    return offsets


def soon_text_for(start: datetime, now: datetime, zone: ZoneInfo, all_day: bool) -> str:
    if all_day:
        return describe_days_ahead((start.astimezone(zone).date() - now.astimezone(zone).date()).days)
    return describe_lead(start - now)


ALL_DAY_TIME = f"{ALL_DAY_HOUR:02d}:00"


def remaining_offsets(event: Event, occurrence: datetime, now: datetime) -> list[timedelta]:
    """The offsets of an occurrence whose reminders are still ahead."""
    planned = plan_reminders([occurrence], offsets_of(event), event_zone(event), now=now, all_day=event.all_day)
    return [p.offset for p in planned]


# --- commands -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AddEvent:
    title: str = param(
        Kind.TEXT, N_("What the event is called, e.g. City Lab Brno"), required=True, missing=Strings.TITLE_REQUIRED
    )
    start: TypedWhen = param(
        Kind.WHEN,
        N_("When it starts, e.g. 2027-03-01 10:00 or 01/03/2027 10:00"),
        required=True,
        key="start",
        missing=Strings.START_REQUIRED,
    )
    end: TypedWhen | None = param(Kind.WHEN, N_("When it ends (for a calendar and the server's event list)"), key="end")
    tz: ZoneInfo | None = param(
        Kind.ZONE, N_("The time zone of its times, e.g. Europe/Brussels (yours if not given)"), key="tz"
    )
    where: str = param(
        Kind.TEXT,
        N_("Where it takes place: a place, an address or a link"),
        key="where",
        placeholder="<text>",
        default="",
    )
    remind: OffsetList = param(
        Kind.OFFSETS,
        N_("How long before it reminders go, e.g. 7d,1d,1h (m, h, d, w)"),
        key="remind",
        placeholder="7d,1d,1h",
    )
    channel: ChannelRef | None = param(Kind.CHANNEL, N_("The channel that gets its reminders"), key="channel")
    repeat: str | None = param(
        Kind.RRULE, N_("How it repeats, as an iCalendar rule: FREQ=WEEKLY;BYDAY=TU"), key="repeat"
    )
    cohort: Cohort | None = param(Kind.COHORT, N_("The cohort it is for"), key="cohort")
    about: str = param(
        Kind.TEXT,
        N_("What it is about, shown in calendars and the server's event list"),
        key="about",
        placeholder="<text>",
        default="",
    )


def add(context: Context, args: AddEvent) -> Reply:
    require(context, ORGANISERS, "create events")
    title = checked_title(args.title)
    start_typed = args.start
    zone = event_zone_for(start_typed, args.tz, context.zone)
    span = checked_span(context, start_typed, args.end, zone, default_day=context.now)
    rule = check_rrule(args.repeat, span.start, zone) if args.repeat is not None else None
    defaults = not args.remind
    part_days: list[timedelta] = []
    if not args.remind:  # the programme's defaults: those that would fall before now are left out, and said so
        all_offsets = stored_offsets(context.services.settings.default_remind)
        if span.all_day:  # an all-day event has no time of day: reminders a day or more before, at 09:00
            part_days = [o for o in all_offsets if not whole_days(o)]
            all_offsets = [o for o in all_offsets if whole_days(o)]
        offsets = [
            o for o in all_offsets if rule or reminder_due(span.start, o, zone, all_day=span.all_day) > context.now
        ]
    else:
        offsets = checked_offsets(
            args.remind, start=span.start, repeats=bool(rule), now=context.now, zone=zone, all_day=span.all_day
        )
    channel, cohort = args.channel, args.cohort
    event = event_queries.add_event(
        session=context.session,
        event=Event(
            title=title,
            description=args.about[:2000],
            start_at=span.start,
            end_at=span.end,
            all_day=span.all_day,
            tz=zone.key,
            location=args.where[:300],
            cohort_id=cohort.id if cohort else None,
            channel_id=channel.channel_id if channel else None,
            channel_name=channel.name if channel else None,
            rrule=rule,
            remind=offsets_text(offsets),
            created_by_id=context.actor.member.id,
            created_at=context.now,
        ),
    )
    queue_reminders(context.session, event, context.services.settings, context.now, everyone(context.session, event))
    queue_calendar(context.session, event, context.now)
    context.record(AuditKind.EVENT_ADD, "event", event.id, event.title, after=audit.event_fields(event))
    when = when_text(context.session, event, context.zone, context.now)
    reply = Reply.of(Strings.CREATED, title=title, id=event.id, when=when)
    for note in zone_notes(args.tz, span):
        reply.add(Strings.NOTE, note=note)
    to = {"channel": ChannelMention(channel.channel_id, channel.name)} if channel else {}
    if not offsets:
        reply.add(Strings.NO_REMINDERS_LEFT, offsets=offsets_text(all_offsets))
    elif defaults and len(offsets) < len(all_offsets):
        dropped = offsets_text([o for o in all_offsets if o not in offsets])
        template = Strings.REMINDERS_DROPPED_TO if channel else Strings.REMINDERS_DROPPED
        reply.add_text(Text(template, dropped=dropped, offsets=offsets_text(offsets), **to))
    else:
        reply.add_text(
            Text(Strings.REMINDERS_TO if channel else Strings.REMINDERS, offsets=offsets_text(offsets), **to)
        )
    if isinstance(offsets, OffsetList) and (merged := offsets.merged_text()):
        reply.add(Strings.NOTE, note=merged)
    if part_days:
        reply.add(Strings.ALL_DAY_DEFAULTS, dropped=offsets_text(part_days), hour=ALL_DAY_TIME, zone=zone.key)
    elif offsets and span.all_day:
        reply.add(Strings.ALL_DAY_HOUR, hour=ALL_DAY_TIME, zone=zone.key)
    if rule:
        reply.add(Strings.REPEATS, rule=rule)
    reply.sections[-1].buttons = event_buttons(event)
    return reply


@dataclass(frozen=True)
class ListEvents:
    all: bool = param(Kind.FLAG, N_("Show past events too"))


def list_events(context: Context, args: ListEvents) -> Reply:
    show_all = args.all
    session = context.session
    events = event_queries.all_events(session=session) if show_all else event_queries.scheduled_events(session=session)
    upcoming: list[tuple[Occurrence, Event]] = []
    for event in events:
        occurrence = current_occurrence(session, event, context.now)
        ongoing = occurrence.end is not None and occurrence.start <= context.now < occurrence.end
        if show_all or occurrence.start >= context.now or ongoing:
            upcoming.append((occurrence, event))
    if not upcoming:
        return Reply.of(Strings.NO_EVENTS)
    upcoming.sort(key=lambda item: item[0].start)
    counts = event_queries.rsvp_counts(session=session, event_ids=[e.stored_id for _, e in upcoming])
    reply = Reply(title=Strings.ALL_EVENTS if show_all else Strings.UPCOMING_EVENTS)
    for occurrence, event in upcoming:
        extras = []
        if event.rrule:
            extras.append(str(Strings.REPEATING))
        if event.status != "scheduled":
            extras.append(str(Strings.STATUS.get(event.status, event.status)))
        extras.append(Strings.ATTENDING.format(n=counts.get(event.stored_id, 0)))
        reply.add(
            Strings.LIST_LINE,
            title=event.title,
            id=event.id,
            when=span_text(event, occurrence.start, occurrence.end, context.zone),
            where=where_text(event, occurrence.location),
            extras=", ".join(extras),
            buttons=event_buttons(event) if event.status == "scheduled" and occurrence.start >= context.now else [],
        )
        if show_all and event.rrule and event.status == "scheduled":
            reply.add(Strings.DATES, dates=dates_text(context, event))
    return reply


def dates_text(context: Context, event: Event) -> str:
    """A recurring event's dates for the next two years, as they will happen: moved ones with the date they moved
    from, cancelled ones marked."""
    found = event_occurrences(
        context.session,
        event,
        after=context.now - timedelta(seconds=1),
        until=context.now + LISTED_AHEAD,
        keep_cancelled=True,
    )
    shown = []
    for occurrence in found[:MAX_LISTED_DATES]:
        when = span_text(event, occurrence.start, occurrence.end, context.zone)
        if occurrence.cancelled:
            shown.append(Strings.CANCELLED_ON.format(day=when))
        elif occurrence.moved:
            original = span_text(event, occurrence.original, None, context.zone)
            shown.append(Strings.MOVED_FROM.format(when=when, original=original))
        else:
            shown.append(when)
    text = "; ".join(shown)
    if len(found) > MAX_LISTED_DATES:
        last = span_text(event, found[-1].start, None, context.zone)
        text += Strings.DATES_MORE.format(more=len(found) - MAX_LISTED_DATES, last=last)
    return text


EVENT_ID = N_("The event's number, as /event list shows it")


@dataclass(frozen=True)
class Rsvp:
    event: Event = param(Kind.EVENT, EVENT_ID, required=True, name="id", invalid=Strings.ID_BAD)
    # `no`, and the words it was said with before declarations (cancel, off)
    withdraw: bool = param(Kind.FLAG, N_("Say you no longer attend"), word="no", also=("cancel", "off"))
    # `yes` says what the command does anyway (product.md's Matrix form: `!event rsvp 3 yes`); not an option
    attend: bool = param(
        Kind.FLAG, N_("Say you will be there, as the command does anyway"), word="yes", placeholder="", line_only=True
    )


def rsvp(context: Context, args: Rsvp) -> Reply:
    event = scheduled(args.event)
    member = context.actor.member
    existing = event_queries.get_rsvp(session=context.session, event_id=event.stored_id, member_id=member.stored_id)
    if args.withdraw and args.attend:
        raise UsageError()
    if args.withdraw:
        if existing is None:
            raise CommandError(Strings.RSVP_NONE.format(title=event.title))
        event_queries.delete_rsvp(session=context.session, rsvp=existing)
        ledger.withdraw(context.session, event_id=event.stored_id, recipient=member.external_id)
        return Reply.of(Strings.RSVP_WITHDRAWN, title=event.title)
    if existing is not None:
        raise CommandError(Strings.RSVP_ALREADY.format(title=event.title))
    occurrence = current_occurrence(context.session, event, context.now)
    if occurrence.start < context.now:
        raise CommandError(Strings.PAST.format(title=event.title))
    event_queries.add_rsvp(
        session=context.session, event_id=event.stored_id, member_id=member.stored_id, now=context.now
    )
    settings = context.services.settings
    recipient = [("user", member.external_id)]
    queue_reminders(context.session, event, settings, context.now, recipient, everyone_planned=False)
    when = span_text(event, occurrence.start, occurrence.end, context.zone)
    left = remaining_offsets(event, occurrence.start, context.now)
    if not left:
        return Reply.of(Strings.RSVP_DONE_NONE_LEFT, title=event.title, when=when)
    if len(left) < len(offsets_of(event)):
        return Reply.of(Strings.RSVP_DONE_LATE, title=event.title, when=when, offsets=offsets_text(left))
    return Reply.of(Strings.RSVP_DONE, title=event.title, when=when, offsets=offsets_text(left))


@dataclass(frozen=True)
class Remind:
    event: Event = param(Kind.EVENT, EVENT_ID, required=True, name="id", invalid=Strings.ID_BAD)
    offsets: OffsetList = param(Kind.OFFSETS, N_("How long before it reminders go, e.g. 7d,1d,1h"), required=True)


def remind(context: Context, args: Remind) -> Reply:
    require(context, ORGANISERS, "change reminders")
    event = scheduled(args.event)
    start = current_occurrence(context.session, event, context.now).start
    zone = event_zone(event)
    offsets = checked_offsets(
        args.offsets, start=start, repeats=bool(event.rrule), now=context.now, zone=zone, all_day=event.all_day
    )
    before = {"remind": event.remind}
    event.remind = offsets_text(offsets)
    context.record(AuditKind.EVENT_EDIT, "event", event.id, event.title, before=before, after={"remind": event.remind})
    queued = requeue_all(context.session, event, context.services.settings, context.now)
    reply = Reply.of(Strings.REMIND_SET, title=event.title, offsets=event.remind, queued=queued)
    if merged := offsets.merged_text():
        reply.add(Strings.NOTE, note=merged)
    if event.all_day:
        reply.add(Strings.ALL_DAY_HOUR, hour=ALL_DAY_TIME, zone=zone.key)
    return reply


EVERY_DATE_OPTIONS = ("title", "tz", "channel", "repeat")


@dataclass(frozen=True)
class EditEvent:
    event: Event = param(Kind.EVENT, EVENT_ID, required=True, name="id", invalid=Strings.ID_BAD)
    on: date | None = param(Kind.DATE, N_("Only this date of a repeating event, e.g. 2027-03-01"), key="on")
    title: str | None = param(Kind.TEXT, N_("A new title"), key="title", placeholder="<text>")
    start: TypedWhen | None = param(Kind.WHEN, N_("A new start, e.g. 2027-03-01 10:00"), key="start")
    end: TypedWhen | None = param(Kind.WHEN, N_("A new end, e.g. 2027-03-01 17:00"), key="end")
    tz: ZoneInfo | None = param(Kind.ZONE, N_("A new time zone for its times, e.g. Europe/Brussels"), key="tz")
    where: str | None = param(
        Kind.TEXT, N_("Where it takes place: a place, an address or a link"), key="where", placeholder="<text>"
    )
    channel: ChannelRef | None = param(Kind.CHANNEL, N_("The channel that gets its reminders"), key="channel")
    repeat: str | None = param(
        Kind.RRULE,
        N_("A new iCalendar rule (FREQ=WEEKLY;BYDAY=TU), or none to stop repeating"),
        key="repeat",
        placeholder="<RRULE>|none",
    )

    def given(self) -> list[str]:
        """The options given, as `key`s, the event's number aside."""
        return [
            name for name in ("on", *EVERY_DATE_OPTIONS, "start", "end", "where") if getattr(self, name) is not None
        ]


def edit(context: Context, args: EditEvent) -> Reply:
    require(context, ORGANISERS, "change events")
    event = scheduled(args.event)
    if args.on is not None:
        return edit_occurrence(context, event, args)
    if not args.given():
        raise CommandError(Strings.NOTHING_TO_CHANGE)
    before = audit.event_fields(event)
    start_typed, end_typed = args.start, args.end
    zone = event_zone_for(start_typed, args.tz, event_zone(event))
    if start_typed is not None:
        span = checked_span(context, start_typed, end_typed, zone, default_day=context.now)
        if end_typed is None and event.end_at and not span.all_day and not event.all_day:
            same_length = span.start + (event.end_at - event.start_at)
            span = Span(span.start, same_length, False, span.zone, span.notes)
    else:
        duration = event.end_at - event.start_at if event.end_at else None
        end = None
        notes: tuple[str, ...] = ()
        if end_typed is not None:
            if event.all_day:
                if not end_typed.all_day:
                    raise CommandError(Strings.END_NEEDS_DAY, field="end")
                end = _midnight(end_typed.on_day(zone, event.start_at) + timedelta(days=1), zone)
            else:
                resolved = end_typed.resolve(zone=zone, now=event.start_at)
                end, notes = resolved.instant, resolved.notes
        elif duration:
            end = event.start_at + duration
        span = Span(event.start_at, end, event.all_day, zone, notes)
        if end is not None and end <= span.start:
            raise CommandError(Strings.END_BEFORE_START, field="end")
    part_days = [o for o in stored_offsets(event.remind) if not whole_days(o)] if span.all_day else []
    if part_days:  # now all-day: reminders at 09:00 on days before, so the ones within a day go
        event.remind = offsets_text([o for o in stored_offsets(event.remind) if whole_days(o)])
    rule = event.rrule
    removed = False
    if args.repeat is not None:
        typed = args.repeat.strip()
        removed = typed.lower() in ("none", "no", "off", "")
        rule = None if removed else typed
    if rule:
        rule = check_rrule(rule, span.start, zone)
    if args.title is not None:
        event.title = checked_title(args.title)
    if args.channel is not None:
        event.channel_id, event.channel_name = args.channel.channel_id, args.channel.name
    if args.where is not None:
        event.location = args.where[:300]
    if rule != event.rrule or span.start != event.start_at or zone.key != event.tz:
        # The rule's dates change: one-date changes of the old dates no longer mean anything.
        event_queries.clear_occurrence_changes(session=context.session, event_id=event.stored_id)
    event.start_at, event.end_at, event.tz, event.all_day, event.rrule = (
        span.start,
        span.end,
        zone.key,
        span.all_day,
        rule,
    )
    event.sequence += 1
    old, new = audit.changed(before, audit.event_fields(event))
    context.record(AuditKind.EVENT_EDIT, "event", event.id, event.title, before=old, after=new)
    requeue_all(context.session, event, context.services.settings, context.now)
    attendees = event_queries.attendees(session=context.session, event_id=event.stored_id)
    reply = Reply.of(
        Strings.EDITED,
        title=event.title,
        id=event.id,
        when=when_text(context.session, event, context.zone, context.now),
        n=len(attendees),
    )
    for note in zone_notes(args.tz, span):
        reply.add(Strings.NOTE, note=note)
    if part_days:
        kept = offsets_text(offsets_of(event))
        dropped = offsets_text(part_days)
        if kept:
            reply.add(Strings.ALL_DAY_KEPT, dropped=dropped, offsets=kept, hour=ALL_DAY_TIME, zone=zone.key)
        else:
            reply.add(Strings.ALL_DAY_KEPT_NONE, dropped=dropped)
    if removed:
        reply.add(Strings.REPEAT_REMOVED)
    elif rule and args.repeat is not None:
        reply.add(Strings.REPEATS, rule=rule)
    reply.notices.extend(personal_notices(context, event, attendees, Strings.EDITED_NOTICE))
    return reply


def find_occurrence(context: Context, event: Event, day: date) -> Occurrence:
    """The occurrence of a recurring event on the day typed (in the event's zone): where it happens now, or the
    date the rule gives it."""
    if not event.rrule:
        raise CommandError(Strings.ON_NOT_RECURRING.format(id=event.id), field="on")
    zone = event_zone(event)
    around = _midnight(day, zone)
    found = event_occurrences(
        context.session,
        event,
        after=around - timedelta(days=400),
        until=around + timedelta(days=400),
        keep_cancelled=True,
    )
    on_day = [o for o in found if o.start.astimezone(zone).date() == day] or [
        o for o in found if o.original.astimezone(zone).date() == day
    ]
    shown_day = format_day(around, zone)
    if not on_day:
        ahead = [o for o in found if o.start >= context.now and not o.cancelled][:3]
        if not ahead:
            raise CommandError(Strings.ON_NO_OCCURRENCE_AHEAD.format(title=event.title, day=shown_day), field="on")
        dates = ", ".join(span_text(event, o.start, None, context.zone) for o in ahead)
        raise CommandError(Strings.ON_NO_OCCURRENCE.format(title=event.title, day=shown_day, dates=dates), field="on")
    occurrence = on_day[0]
    if occurrence.cancelled:
        raise CommandError(Strings.ON_ALREADY_CANCELLED.format(title=event.title, day=shown_day), field="on")
    if occurrence.start < context.now:
        raise CommandError(Strings.ON_PAST.format(title=event.title, day=shown_day), field="on")
    return occurrence


def day_text(event: Event, occurrence: Occurrence) -> str:
    """The date an occurrence had by its rule, in the event's zone (`Thu 7 Jan 2027`), in the reader's words."""
    return format_day(occurrence.original, event_zone(event))


def edit_occurrence(context: Context, event: Event, args: EditEvent) -> Reply:
    """`/event edit <id> on=<date> start=… [end=…] [where=…]`: that one date moves; the rule stays."""
    every = [f"{key}=" for key in EVERY_DATE_OPTIONS if key in args.given()]
    if every:
        raise CommandError(Strings.ON_OPTIONS.format(keys=", ".join(every)))
    if not {"start", "end", "where"} & set(args.given()):
        raise CommandError(Strings.ON_NOTHING)
    assert args.on is not None
    occurrence = find_occurrence(context, event, args.on)
    zone = event_zone(event)
    duration = occurrence.end - occurrence.start if occurrence.end else None
    notes: list[str] = []
    end: datetime | None
    if args.start is not None:
        resolved = args.start.resolve(zone=zone, now=occurrence.start)  # a time alone: that day
        start = resolved.instant
        notes.extend(resolved.notes)
        if start < context.now - PAST_TOLERANCE:
            raise CommandError(Strings.START_PAST.format(when=format_instant(start, context.zone)), field="start")
    else:
        start = occurrence.start
    if args.end is not None:
        resolved = args.end.resolve(zone=zone, now=start)
        end = resolved.instant
        notes.extend(note for note in resolved.notes if note not in notes)
    else:
        end = start + duration if duration else None
    if end is not None and end <= start:
        raise CommandError(Strings.END_BEFORE_START, field="end")
    location = args.where[:300] if args.where is not None else occurrence.location
    ledger.withdraw(context.session, event_id=event.stored_id, occurrence_at=occurrence.start)
    event_queries.change_occurrence(
        session=context.session,
        change=EventOccurrence(
            event_id=event.stored_id,
            original_at=occurrence.original,
            status="moved",
            start_at=start,
            end_at=end,
            location=location,
            changed_by_id=context.actor.member.id,
            changed_at=context.now,
        ),
    )
    event.sequence += 1
    context.record(
        AuditKind.EVENT_EDIT,
        "event",
        event.id,
        event.title,
        before={
            "on": occurrence.original.isoformat(),
            "start": occurrence.start.isoformat(),
            "where": occurrence.location,
        },
        after={"on": occurrence.original.isoformat(), "start": start.isoformat(), "where": location},
    )
    requeue_all(context.session, event, context.services.settings, context.now)
    attendees = event_queries.attendees(session=context.session, event_id=event.stored_id)
    day = day_text(event, occurrence)
    place = where_text(event, location)
    reply = Reply.of(
        Strings.OCCURRENCE_MOVED,
        title=event.title,
        day=day,
        when=span_text(event, start, end, context.zone),
        where=place,
        n=len(attendees),
    )
    for note in notes:
        reply.add(Strings.NOTE, note=note)
    for member in attendees:
        if member.id == context.actor.member.id:
            continue
        zone_of = member_zone(member, context.services.settings.default_tz)
        with reading(languages.for_member(member, None, context.services.settings)):  # the date in their words
            day_shown, when = day_text(event, occurrence), span_text(event, start, end, zone_of)
        notice = Reply.of(Strings.OCCURRENCE_MOVE_NOTICE, title=event.title, day=day_shown, when=when, where=place)
        reply.notices.append(Notice((member.external_id,), notice))
    return reply


@dataclass(frozen=True)
class CancelEvent:
    event: Event = param(Kind.EVENT, EVENT_ID, required=True, name="id", invalid=Strings.ID_BAD)
    on: date | None = param(Kind.DATE, N_("Only this date of a repeating event, e.g. 2027-03-01"), key="on")


def cancel(context: Context, args: CancelEvent) -> Reply:
    require(context, ORGANISERS, "cancel events")
    event = scheduled(args.event)
    if args.on is not None:
        return cancel_occurrence(context, event, args.on)
    context.record(
        AuditKind.EVENT_CANCEL,
        "event",
        event.id,
        event.title,
        before={"status": event.status},
        after={"status": "cancelled"},
    )
    event.status = "cancelled"
    event.sequence += 1
    withdrawn = ledger.withdraw(context.session, event_id=event.stored_id, keep_kind=CALENDAR)
    queue_calendar(context.session, event, context.now)
    attendees = event_queries.attendees(session=context.session, event_id=event.stored_id)
    reply = Reply.of(Strings.CANCEL_DONE, title=event.title, withdrawn=withdrawn, n=len(attendees))
    reply.notices.extend(personal_notices(context, event, attendees, Strings.CANCEL_NOTICE))
    return reply


def cancel_occurrence(context: Context, event: Event, day: date) -> Reply:
    """`/event cancel <id> on=<date>`: that one date is cancelled (an EXDATE); its reminders are withdrawn."""
    occurrence = find_occurrence(context, event, day)
    withdrawn = ledger.withdraw(context.session, event_id=event.stored_id, occurrence_at=occurrence.start)
    event_queries.change_occurrence(
        session=context.session,
        change=EventOccurrence(
            event_id=event.stored_id,
            original_at=occurrence.original,
            status="cancelled",
            changed_by_id=context.actor.member.id,
            changed_at=context.now,
        ),
    )
    context.record(
        AuditKind.EVENT_CANCEL,
        "event",
        event.id,
        event.title,
        before={"on": occurrence.original.isoformat(), "status": "scheduled"},
        after={"on": occurrence.original.isoformat(), "status": "cancelled"},
    )
    event.sequence += 1
    queue_calendar(context.session, event, context.now)
    attendees = event_queries.attendees(session=context.session, event_id=event.stored_id)
    day_read = day_text(event, occurrence)
    reply = Reply.of(
        Strings.OCCURRENCE_CANCELLED,
        title=event.title,
        day=day_read,
        withdrawn=withdrawn,
        n=len(attendees),
    )
    for member in attendees:
        if member.id == context.actor.member.id:
            continue
        with reading(languages.for_member(member, None, context.services.settings)):  # the date in their words
            day_shown = day_text(event, occurrence)
        notice = Reply.of(Strings.OCCURRENCE_CANCEL_NOTICE, title=event.title, day=day_shown)
        reply.notices.append(Notice((member.external_id,), notice))
    return reply


def personal_notices(context: Context, event: Event, attendees: list[Member], template: str) -> list[Notice]:
    """One DM per attendee, each with the time in their own zone and words (the message itself is written in
    their language when the ledger sends it)."""
    settings = context.services.settings
    notices = []
    for member in attendees:
        if member.id == context.actor.member.id:
            continue
        with reading(languages.for_member(member, None, settings)):
            when = when_text(context.session, event, member_zone(member, settings.default_tz), context.now)
        notice = Reply.of(template, title=event.title, when=when, where=where_text(event))
        notices.append(Notice((member.external_id,), notice))
    return notices


@dataclass(frozen=True)
class Ics:
    event: Event | None = param(
        Kind.EVENT, N_("The event's number, or all for every event"), placeholder="<id>|all", either=True
    )
    all: bool = param(Kind.FLAG, N_("Every event"), placeholder="")


def ics(context: Context, args: Ics) -> Reply:
    if args.all and args.event is None:
        events = event_queries.scheduled_events(session=context.session)
        filename = "citypeers-events.ics"
    elif args.event is not None and not args.all:
        events = [args.event]
        filename = f"citypeers-event-{events[0].id}.ics"
    else:
        raise UsageError()
    reply = Reply.of(Strings.ICS_FILE, n=len(events), name=filename)
    body = calendar_bytes(context.session, events, context.now)
    reply.files.append(Attachment(filename, body, "text/calendar"))
    return reply


def calendar_bytes(session: Session, events: list[Event], now: datetime, feed: calendar.Feed | None = None) -> bytes:
    """A VCALENDAR with a VEVENT per event (recurrence, one-date changes, sequence, status) and each zone's
    VTIMEZONE."""
    return calendar.render([calendar_entry(session, event) for event in events], stamp=now, feed=feed)


# --- private calendar feeds -------------------------------------------------------------------------------

FEED_PATH = "/calendar/"
FEED_REFRESH = timedelta(hours=1)
TOKEN_BYTES = 24  # 192 bits
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{22,64}")
UNCHANGED_STAMP = datetime(2000, 1, 1, tzinfo=UTC)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Subscribe:
    all: bool = param(Kind.YESNO, N_("Every event, not only those you attend"), key="all")


def subscribe_reset(context: Context, args: NoArguments) -> Reply:
    """`/event subscribe reset`: every calendar feed link the person got stops working."""
    count = feed_queries.revoke_feeds(
        session=context.session, member_id=context.actor.member.stored_id, now=context.now
    )
    return Reply.of(Strings.SUBSCRIBE_RESET, n=count)


def subscribe(context: Context, args: Subscribe) -> Reply:
    member = context.actor.member
    every = args.all
    token = secrets.token_urlsafe(TOKEN_BYTES)
    scope = "all" if every else "rsvp"
    feed_queries.add_feed(
        session=context.session, member_id=member.stored_id, token_hash=token_hash(token), scope=scope, now=context.now
    )
    url = f"{context.services.settings.public_url.rstrip('/')}{FEED_PATH}{token}.ics"
    webcal = "webcal://" + url.split("://", 1)[1]
    reply = Reply.of(Strings.SUBSCRIBED_ALL if every else Strings.SUBSCRIBED_RSVP, webcal=webcal)
    reply.add(Strings.SUBSCRIBE_HOW, url=url)
    reply.add(Strings.SUBSCRIBE_PRIVATE)
    return reply


@dataclass(frozen=True)
class FeedFile:
    body: bytes
    etag: str
    modified: datetime


def feed_file(session: Session, token: str, now: datetime, settings: HandlerSettings | None = None) -> FeedFile | None:
    """The calendar a feed token opens, or None for an unknown or revoked token (told apart to nobody). Its name
    is in its owner's language (with `settings`, whose default language is the programme's).

    Its Last-Modified is when its content last changed, noticed at a fetch: the content is compared with what
    was served before, without the DTSTAMP, which is that same moment."""
    if not TOKEN_SHAPE.fullmatch(token):
        return None
    feed = feed_queries.live_feed(session=session, token_hash=token_hash(token))
    if feed is None:
        return None
    owner = session.get(Member, feed.member_id) if settings is not None else None
    language = languages.for_member(owner, None, settings) if settings is not None else i18n.current()
    if feed.scope == "all":
        events = event_queries.all_events(session=session)
        about = calendar.Feed(Strings.FEED_ALL.translated(language), refresh=FEED_REFRESH)
    else:
        events = feed_queries.attended_events(session=session, member_id=feed.member_id)
        about = calendar.Feed(Strings.FEED_RSVP.translated(language), refresh=FEED_REFRESH)
    digest = hashlib.sha256(calendar_bytes(session, events, UNCHANGED_STAMP, about)).hexdigest()
    if feed.content_hash != digest or feed.changed_at is None:
        feed.content_hash, feed.changed_at = digest, now.replace(microsecond=0)
    return FeedFile(calendar_bytes(session, events, feed.changed_at, about), f'"{digest[:40]}"', feed.changed_at)


@dataclass(frozen=True)
class PostBroadcast:
    channel: ChannelRef = param(Kind.CHANNEL, N_("The channel to post to"), required=True)
    text: str = param(Kind.TEXT, N_("The message, as people will read it"), required=True)
    at: TypedWhen | None = param(Kind.WHEN, N_("When to post it, e.g. 2027-03-01 09:00 (now if not given)"), key="at")


@dataclass(frozen=True)
class CancelBroadcast:
    number: int = param(Kind.NUMBER, N_("The broadcast's number, as broadcast-list shows it"), required=True, name="id")


def broadcast(context: Context, args: PostBroadcast) -> Reply:
    require(context, ORGANISERS, "broadcast")
    channel, text = args.channel, args.text  # "Welcome" posts Welcome: quotes around it are no part of it
    if len(text) > MAX_BROADCAST:
        raise CommandError(Strings.TOO_LONG.format(max=MAX_BROADCAST))
    send_at = context.now
    notes: tuple[str, ...] = ()
    if args.at is not None:
        resolved = args.at.resolve(zone=context.zone, now=context.now)
        send_at, notes = resolved.instant, resolved.notes
        if send_at < context.now - PAST_TOLERANCE:
            raise CommandError(Strings.BROADCAST_PAST.format(when=format_instant(send_at, context.zone)), field="at")
        send_at = max(send_at, context.now)
    item = event_queries.add_broadcast(
        session=context.session,
        broadcast=Broadcast(
            channel_id=channel.channel_id,
            channel_name=channel.name,
            text=text,
            send_at=send_at,
            created_by_id=context.actor.member.id,
            created_at=context.now,
        ),
    )
    ledger.queue(
        context.session,
        kind=RowKind.BROADCAST,
        key=ledger.broadcast_key(item.stored_id, channel.channel_id),
        broadcast_id=item.id,
        recipient=channel.channel_id,
        recipient_kind="channel",
        due=send_at,
    )
    # The text stays out of the trail: it is a message body, kept only as long as retention keeps bodies.
    after = {"channel": channel.channel_id, "send_at": send_at.isoformat(), "characters": len(text)}
    context.record(AuditKind.BROADCAST, "broadcast", item.id, channel.name, after=after)
    when = Strings.NOW if send_at == context.now else format_instant(send_at, context.zone)
    reply = Reply.of(
        Strings.BROADCAST_QUEUED, id=item.id, channel=ChannelMention(channel.channel_id, channel.name), when=when
    )
    for note in notes:
        reply.add(Strings.NOTE, note=note)
    if send_at > context.now:
        reply.add(
            Strings.BROADCAST_UNDO,
            id=item.id,
            buttons=[Button(Strings.CANCEL_BROADCAST, f"/event broadcast cancel {item.id}", "danger")],
        )
    return reply


def broadcast_list(context: Context, args: NoArguments) -> Reply:
    """The broadcasts still to go: when, where, by whom, the start of the text, each with a Cancel button."""
    require(context, ORGANISERS, "broadcast")
    waiting = event_queries.broadcasts_to_go(session=context.session)
    if not waiting:
        return Reply.of(Strings.NO_BROADCASTS)
    reply = Reply(title=Strings.BROADCASTS_TITLE)
    for item in waiting:
        author = context.session.get(Member, item.created_by_id) if item.created_by_id else None
        text = item.text if len(item.text) <= 80 else item.text[:79].rstrip() + "…"
        reply.add(
            Strings.BROADCAST_LINE,
            id=item.id,
            when=format_instant(item.send_at, context.zone),
            channel=ChannelMention(item.channel_id, item.channel_name),
            who=Mention(author.external_id, author.display_name) if author else "?",
            text=" ".join(text.split()),
            buttons=[Button(Strings.CANCEL_BROADCAST, f"/event broadcast cancel {item.id}", "danger")],
        )
    return reply


def broadcast_cancel(context: Context, args: CancelBroadcast) -> Reply:
    """Withdraw a broadcast before it is sent; one already sent (or being sent) cannot be taken back."""
    require(context, ORGANISERS, "broadcast")
    value = str(args.number)
    if len(value) > 9:
        raise CommandError(Strings.NO_BROADCAST.format(id=value))
    item = event_queries.get_broadcast(session=context.session, broadcast_id=int(value))
    if item is None or item.cancelled_at is not None:
        raise CommandError(Strings.NO_BROADCAST.format(id=value))
    withdrawn = ledger.withdraw_broadcast(context.session, item.stored_id)
    if not withdrawn:
        counts = ledger.broadcast_counts(context.session, item.stored_id)
        template = Strings.BROADCAST_SENDING if counts["sending"] else Strings.BROADCAST_GONE
        raise CommandError(template.format(id=item.id))
    item.cancelled_at, item.cancelled_by_id = context.now, context.actor.member.id
    context.record(
        AuditKind.BROADCAST_CANCEL,
        "broadcast",
        item.id,
        item.channel_name,
        before={"send_at": item.send_at.isoformat()},
        after={"cancelled_at": context.now.isoformat()},
    )
    return Reply.of(Strings.BROADCAST_CANCELLED, id=item.id, channel=ChannelMention(item.channel_id, item.channel_name))


COMMANDS: dict[str, Command] = {
    c.name: c
    for c in (
        Command(
            "add",
            "/event add",
            N_("Organisers: schedule an event; reminders go to its channel and to everyone who RSVPs."),
            add,
            arguments=AddEvent,
        ),
        Command(
            "list",
            "/event list",
            N_("Upcoming events in your time zone (all: past ones too)."),
            list_events,
            arguments=ListEvents,
        ),
        Command(
            "rsvp",
            "/event rsvp",
            N_("Attend an event; reminders come to you by direct message (`no` withdraws)."),
            rsvp,
            arguments=Rsvp,
        ),
        Command(
            "remind",
            "/event remind",
            N_("Organisers: replace the reminder offsets (m, h, d, w: 30m,1d,1w)."),
            remind,
            arguments=Remind,
        ),
        Command(
            "edit",
            "/event edit",
            N_("Organisers: change an event, or one date of a repeating one; reminders move, attendees are told."),
            edit,
            arguments=EditEvent,
        ),
        Command(
            "cancel",
            "/event cancel",
            N_("Organisers: cancel an event, or one date of a repeating one; reminders go, attendees are told."),
            cancel,
            arguments=CancelEvent,
        ),
        Command("ics", "/event ics", N_("An iCalendar file to import into your calendar."), ics, arguments=Ics),
        Command(
            "subscribe",
            "/event subscribe",
            N_("A private calendar feed URL of the events you attend (all=yes: every event); reset revokes it."),
            subscribe,
            arguments=Subscribe,
            variants=(
                Variant(
                    "subscribe-reset",
                    "reset",
                    N_("Revoke your calendar feed links; calendars using them stop updating."),
                    arguments=NoArguments,
                    run=subscribe_reset,
                ),
            ),
        ),
        Command(
            "broadcast",
            "/event broadcast",
            N_("Organisers: post to a channel now or at a time; list those still to go, or withdraw one."),
            broadcast,
            arguments=PostBroadcast,
            variants=(
                Variant(
                    "broadcast-list",
                    "list",
                    N_("Organisers: the broadcasts still to go, each with a Cancel button."),
                    arguments=NoArguments,
                    run=broadcast_list,
                ),
                Variant(
                    "broadcast-cancel",
                    "cancel",
                    N_("Organisers: withdraw a broadcast before it goes."),
                    arguments=CancelBroadcast,
                    run=broadcast_cancel,
                ),
            ),
        ),
    )
}
