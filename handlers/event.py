"""The /event family: City Labs, summits and meetings, RSVPs, reminders, broadcasts, iCalendar files.

Reminders are rows in the delivery ledger (storage.models.Delivery), queued here when an event is created,
changed or attended, and sent by the runtime's delivery engine when they fall due.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from core import calendar
from core.dates import format_instant, format_span, parse_durations, parse_when, parse_zone
from core.grammar import Args, ChannelRef, parse_channel_ref, parse_yes_no, split_first
from core.reminders import (
    check_rrule,
    describe_offset,
    format_offset,
    next_occurrence,
    occurrences,
    plan_reminders,
)
from core.roles import ORGANISERS
from core.text import Mention
from handlers import city
from handlers.auth import require
from handlers.types import (
    Attachment,
    Button,
    Command,
    CommandError,
    Context,
    HandlerSettings,
    Notice,
    Reply,
    UsageError,
    member_zone,
    reply_from_dict,
    reply_to_dict,
)
from storage import event_queries, feed_queries, queries
from storage.models import Broadcast, Delivery, Event, Member

SUMMARY = "City Labs, summits and meetings: RSVPs, reminders in your time zone, broadcasts"
MAX_TITLE = 200
MAX_BROADCAST = 3000
DM_CLOSED = "dm_closed"  # a platform's answer when a person takes no direct messages from the bot
# A ledger row asking a platform with its own event list (Discord's scheduled events) to show an event as it is.
CALENDAR = "calendar"


class Strings:
    """Every user-facing line of /event, in one place so it can be translated later."""

    TITLE_REQUIRED = "Give the event a title."
    TITLE_BAD = "A title is 1 to 200 characters without line breaks."
    START_REQUIRED = '`start=` is required, e.g. start="2020-09-28 10:00".'
    END_BEFORE_START = "The end must come after the start."
    ID_BAD = "`{value}` is not an event number; see /event list."
    NO_EVENT = "There is no event {id}; see /event list."
    CANCELLED = "Event {id} is cancelled."
    CHANNEL_BAD = "`{value}` is not a channel; name it as #channel."
    TOO_LONG = "Keep a broadcast under {max} characters."
    NOTHING_TO_CHANGE = "Say what changes: title=, start=, end=, tz=, where= or channel=."
    CREATED = "Scheduled *{title}* (event {id}): {when}."
    REMINDERS = "Reminders {offsets} before{channel}, and by direct message to everyone who RSVPs."
    REPEATS = "Repeats: {rule}."
    NO_EVENTS = "No upcoming events. Organisers add them with /event add."
    RSVP_DONE = "You are attending *{title}*: {when}. Reminders come by direct message {offsets} before."
    RSVP_ALREADY = "You are already attending {title}."
    RSVP_WITHDRAWN = "You are no longer attending *{title}*; its reminders to you are withdrawn."
    RSVP_NONE = "You were not attending {title}."
    PAST = "{title} has already taken place."
    REMIND_SET = "Reminders for *{title}* are now {offsets} before; {queued} queued."
    EDITED = "*{title}* (event {id}) changed: {when}. Pending reminders moved; {count} told."
    EDITED_NOTICE = "*{title}* has changed: {when}{where}."
    CANCEL_DONE = "*{title}* is cancelled; {withdrawn} pending reminders withdrawn, {count} told."
    CANCEL_NOTICE = "*{title}*, planned for {when}, is cancelled."
    BROADCAST_QUEUED = "Broadcast to {channel} queued for {when}. You will get a delivery summary."
    REMINDER = "⏰ *{title}* starts {soon}: {when}{where}"  # a Unicode emoji: every platform shows it
    REMINDER_LATE = "_Sent late: this reminder was due {due}._"
    BROADCAST_LATE = "_Sent late: this broadcast was due {due}._"
    REPORT = "Broadcast to {channel}: {sent} sent ({late} late), {failed} failed, {missed} missed."
    FAILED = "Could not deliver to {recipient}: {error}. It will not be retried."
    CALENDAR_FAILED = (
        "{title} is not shown in the server's event list ({recipient}): {error}. The event stands and its "
        "reminders still go out; you are told this once."
    )
    DM_CLOSED_FALLBACK = "{who}, your direct messages are closed to CityPeers, so your reminder is here:"
    SUBSCRIBED_RSVP = "Your private calendar feed of the events you attend: {webcal}"
    SUBSCRIBED_ALL = "Your private calendar feed of every programme event: {webcal}"
    SUBSCRIBE_HOW = (
        "Open it to subscribe in Apple Calendar or Outlook; in Google Calendar choose Other calendars, From URL, "
        "and paste {url}. Edits and cancellations show at the next refresh (about hourly)."
    )
    SUBSCRIBE_PRIVATE = "Anyone with the link sees these events: keep it private. /event subscribe reset revokes it."
    SUBSCRIBE_RESET = "Revoked {count}; calendars subscribed to them stop updating. /event subscribe gives a new one."
    FEED_RSVP = "CityPeers: events I attend"
    FEED_ALL = "CityPeers: all events"


# --- shared helpers ----------------------------------------------------------------------------------


def event_by_id(context: Context, text: str, *, scheduled: bool = True) -> Event:
    typed = text.strip().lstrip("#")
    if not typed:
        raise UsageError()
    if not typed.isdecimal() or len(typed) > 9:  # int() refuses `²`; no id or database integer is longer
        raise CommandError(Strings.ID_BAD.format(value=text.strip()))
    event = event_queries.get_event(session=context.session, event_id=int(typed))
    if event is None:
        raise CommandError(Strings.NO_EVENT.format(id=typed))
    if scheduled and event.status != "scheduled":
        raise CommandError(Strings.CANCELLED.format(id=typed))
    return event


def checked_title(text: str) -> str:
    title = " ".join(text.split())
    if not title:
        raise UsageError(Strings.TITLE_REQUIRED)
    if len(title) > MAX_TITLE:
        raise CommandError(Strings.TITLE_BAD)
    return title


def checked_channel(value: str) -> ChannelRef:
    ref = parse_channel_ref(value)
    if ref is None:
        raise CommandError(Strings.CHANNEL_BAD.format(value=value))
    return ref


def event_zone(event: Event) -> ZoneInfo:
    return ZoneInfo(event.tz)


def offsets_of(event: Event) -> list[timedelta]:
    return parse_durations(event.remind)


def offsets_text(offsets: list[timedelta]) -> str:
    return ", ".join(format_offset(offset) for offset in offsets)


def current_span(event: Event, now: datetime) -> tuple[datetime, datetime | None]:
    """The next (or, for a past one-off, the only) occurrence and its end."""
    start = next_occurrence(event.start_at, event_zone(event), event.rrule, now=now) or event.start_at
    end = start + (event.end_at - event.start_at) if event.end_at else None
    return start, end


def when_text(event: Event, zone: ZoneInfo, now: datetime) -> str:
    start, end = current_span(event, now)
    return format_span(start, end, zone)


def where_text(event: Event) -> str:
    return f" · {event.location}" if event.location else ""


# --- queuing reminders --------------------------------------------------------------------------------


def queue_reminders(
    session: Session, event: Event, settings: HandlerSettings, now: datetime, recipients: list[tuple[str, str]]
) -> int:
    """Queue every reminder still ahead for these (kind, id) recipients; returns how many rows were queued."""
    zone = event_zone(event)
    starts = occurrences(
        event.start_at, zone, event.rrule, after=now, until=now + settings.reminder_horizon + timedelta(days=60)
    )
    queued = 0
    for planned in plan_reminders(starts, offsets_of(event), zone, now=now):
        if planned.due > now + settings.reminder_horizon:
            break
        minutes = int(planned.offset.total_seconds() // 60)
        for kind, recipient in recipients:
            delivery = Delivery(
                key=f"reminder:{event.id}:{planned.occurrence:%Y%m%dT%H%M%SZ}:{minutes}:{recipient}",
                kind="reminder",
                event_id=event.id,
                occurrence_at=planned.occurrence,
                offset_minutes=minutes,
                recipient=recipient,
                recipient_kind=kind,
                due_at=planned.due,
                next_attempt_at=planned.due,
            )
            if event_queries.queue_delivery(session=session, delivery=delivery) is not None:
                queued += 1
    return queued


def everyone(session: Session, event: Event) -> list[tuple[str, str]]:
    recipients = [("channel", event.channel_id)] if event.channel_id else []
    attendees = event_queries.attendees(session=session, event_id=event.id)
    return recipients + [("user", member.external_id) for member in attendees]


def requeue_all(session: Session, event: Event, settings: HandlerSettings, now: datetime) -> int:
    # A pending calendar row stays: it shows the event as it is when sent, whatever changed meanwhile.
    event_queries.withdraw_pending(session=session, event_id=event.id, keep_kind=CALENDAR)
    queue_calendar(session, event, now)
    return queue_reminders(session, event, settings, now, everyone(session, event))


def queue_calendar(session: Session, event: Event, now: datetime) -> Delivery | None:
    """An event posted in a platform's channel (`discord:…`, `slack:…`) is shown in that platform's own event
    list where it has one: one ledger row per change, whose sender makes the platform's copy match the event as
    it is when the row is sent (a platform without such a list reports it sent)."""
    if not event.channel_id or ":" not in event.channel_id:
        return None
    return event_queries.queue_delivery(
        session=session,
        delivery=Delivery(
            key=f"{CALENDAR}:{event.id}:{event.sequence}:{event.channel_id}"[:200],
            kind=CALENDAR,
            event_id=event.id,
            recipient=event.channel_id,
            recipient_kind="channel",
            due_at=now,
            next_attempt_at=now,
        ),
    )


def calendar_now(session: Session, delivery: Delivery, now: datetime) -> calendar.Entry | None:
    """What a calendar row asks the platform to show: the event's next (or current) occurrence, or a cancelled
    one; None when there is nothing left to show (the event has taken place), and for any other row."""
    if delivery.kind != CALENDAR or delivery.event_id is None:
        return None
    event = event_queries.get_event(session=session, event_id=delivery.event_id)
    if event is None:
        return None
    start, end = current_span(event, now)
    if event.status == "scheduled" and (end or start) <= now:
        return None
    return dataclasses.replace(calendar_entry(event), start=start, end=end)


def extend_reminders(session: Session, settings: HandlerSettings, now: datetime) -> int:
    """Recurring events get reminders queued as their horizon moves forward (a daily job)."""
    return sum(
        queue_reminders(session, event, settings, now, everyone(session, event))
        for event in event_queries.recurring_events(session=session)
    )


# --- commands -----------------------------------------------------------------------------------------


def add(context: Context, args: Args) -> Reply:
    require(context, ORGANISERS, "create events")
    title = checked_title(args.text)
    options = args.options
    if "start" not in options:
        raise CommandError(Strings.START_REQUIRED)
    zone = parse_zone(options["tz"]) if "tz" in options else context.zone
    start = parse_when(options["start"], zone=zone, now=context.now)
    end = parse_when(options["end"], zone=zone, now=start) if "end" in options else None
    if end is not None and end <= start:
        raise CommandError(Strings.END_BEFORE_START)
    offsets = parse_durations(options.get("remind", context.services.settings.default_remind))
    channel = checked_channel(options["channel"]) if "channel" in options else None
    rule = check_rrule(options["repeat"], start, zone) if "repeat" in options else None
    cohort = None
    if "cohort" in options:
        cohort = queries.get_cohort_by_name(session=context.session, name=options["cohort"])
        if cohort is None:
            raise CommandError(f"No cohort called `{options['cohort']}`.")
    event = event_queries.add_event(
        session=context.session,
        event=Event(
            title=title,
            description=options.get("about", "")[:2000],
            start_at=start,
            end_at=end,
            tz=zone.key,
            location=options.get("where", "")[:300],
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
    reply = Reply.of(Strings.CREATED, title=title, id=event.id, when=when_text(event, context.zone, context.now))
    channel_part = f" to #{channel.name}" if channel else ""
    reply.add(Strings.REMINDERS, offsets=offsets_text(offsets), channel=channel_part)
    if rule:
        reply.add(Strings.REPEATS, rule=rule)
    reply.sections[-1].buttons = event_buttons(event)
    return reply


def event_buttons(event: Event) -> list[Button]:
    return [Button("RSVP", f"/event rsvp {event.id}", "primary"), Button("Add to calendar", f"/event ics {event.id}")]


def list_events(context: Context, args: Args) -> Reply:
    show_all = args.text.strip().lower() == "all"
    if args.text.strip() and not show_all:
        raise UsageError()
    session = context.session
    events = event_queries.all_events(session=session) if show_all else event_queries.scheduled_events(session=session)
    upcoming = []
    for event in events:
        start, end = current_span(event, context.now)
        ongoing = end is not None and start <= context.now < end
        if show_all or start >= context.now or ongoing:
            upcoming.append((start, end, event))
    if not upcoming:
        return Reply.of(Strings.NO_EVENTS)
    upcoming.sort(key=lambda item: item[0])
    counts = event_queries.rsvp_counts(session=session, event_ids=[e.id for _, _, e in upcoming])
    reply = Reply(title="All events" if show_all else "Upcoming events")
    for start, end, event in upcoming:
        extras = []
        if event.rrule:
            extras.append("repeats")
        if event.status != "scheduled":
            extras.append(event.status)
        extras.append(f"{counts.get(event.id, 0)} attending")
        reply.add(
            "*{title}* (event {id}) · {when}{where} · {extras}",
            title=event.title,
            id=event.id,
            when=format_span(start, end, context.zone),
            where=where_text(event),
            extras=", ".join(extras),
            buttons=event_buttons(event) if event.status == "scheduled" and start >= context.now else [],
        )
    return reply


def rsvp(context: Context, args: Args) -> Reply:
    first, rest = split_first(args.text)
    event = event_by_id(context, first)
    member = context.actor.member
    existing = event_queries.get_rsvp(session=context.session, event_id=event.id, member_id=member.id)
    if rest.strip().lower() in ("no", "cancel", "off"):
        if existing is None:
            raise CommandError(Strings.RSVP_NONE.format(title=event.title))
        event_queries.delete_rsvp(session=context.session, rsvp=existing)
        event_queries.withdraw_pending(session=context.session, event_id=event.id, recipient=member.external_id)
        return Reply.of(Strings.RSVP_WITHDRAWN, title=event.title)
    if rest.strip():
        raise UsageError()
    if existing is not None:
        raise CommandError(Strings.RSVP_ALREADY.format(title=event.title))
    if next_occurrence(event.start_at, event_zone(event), event.rrule, now=context.now) is None:
        raise CommandError(Strings.PAST.format(title=event.title))
    event_queries.add_rsvp(session=context.session, event_id=event.id, member_id=member.id, now=context.now)
    settings = context.services.settings
    queue_reminders(context.session, event, settings, context.now, [("user", member.external_id)])
    when = when_text(event, context.zone, context.now)
    return Reply.of(Strings.RSVP_DONE, title=event.title, when=when, offsets=event.remind)


def remind(context: Context, args: Args) -> Reply:
    require(context, ORGANISERS, "change reminders")
    first, rest = split_first(args.text)
    event = event_by_id(context, first)
    if not rest.strip():
        raise UsageError()
    event.remind = offsets_text(parse_durations(rest))
    queued = requeue_all(context.session, event, context.services.settings, context.now)
    return Reply.of(Strings.REMIND_SET, title=event.title, offsets=event.remind, queued=queued)


def edit(context: Context, args: Args) -> Reply:
    require(context, ORGANISERS, "change events")
    event = event_by_id(context, args.text)
    options = args.options
    if not options:
        raise CommandError(Strings.NOTHING_TO_CHANGE)
    zone = parse_zone(options["tz"]) if "tz" in options else event_zone(event)
    duration = event.end_at - event.start_at if event.end_at else None
    start = parse_when(options["start"], zone=zone, now=context.now) if "start" in options else event.start_at
    if "end" in options:
        end = parse_when(options["end"], zone=zone, now=start)
    else:
        end = start + duration if duration else None
    if end is not None and end <= start:
        raise CommandError(Strings.END_BEFORE_START)
    if "title" in options:
        event.title = checked_title(options["title"])
    if "channel" in options:
        channel = checked_channel(options["channel"])
        event.channel_id, event.channel_name = channel.channel_id, channel.name
    if "where" in options:
        event.location = options["where"][:300]
    if event.rrule:
        check_rrule(event.rrule, start, zone)
    event.start_at, event.end_at, event.tz = start, end, zone.key
    event.sequence += 1
    requeue_all(context.session, event, context.services.settings, context.now)
    attendees = event_queries.attendees(session=context.session, event_id=event.id)
    reply = Reply.of(
        Strings.EDITED,
        title=event.title,
        id=event.id,
        when=when_text(event, context.zone, context.now),
        count=plural(len(attendees), "attendee"),
    )
    reply.notices.extend(personal_notices(context, event, attendees, Strings.EDITED_NOTICE))
    return reply


def cancel(context: Context, args: Args) -> Reply:
    require(context, ORGANISERS, "cancel events")
    event = event_by_id(context, args.text)
    event.status = "cancelled"
    event.sequence += 1
    withdrawn = event_queries.withdraw_pending(session=context.session, event_id=event.id, keep_kind=CALENDAR)
    queue_calendar(context.session, event, context.now)
    attendees = event_queries.attendees(session=context.session, event_id=event.id)
    count = plural(len(attendees), "attendee")
    reply = Reply.of(Strings.CANCEL_DONE, title=event.title, withdrawn=withdrawn, count=count)
    reply.notices.extend(personal_notices(context, event, attendees, Strings.CANCEL_NOTICE))
    return reply


def personal_notices(context: Context, event: Event, attendees: list[Member], template: str) -> list[Notice]:
    """One DM per attendee, each with the time in their own zone."""
    settings = context.services.settings
    return [
        Notice(
            (member.external_id,),
            Reply.of(
                template,
                title=event.title,
                when=when_text(event, member_zone(member, settings.default_tz), context.now),
                where=where_text(event),
            ),
        )
        for member in attendees
        if member.id != context.actor.member.id
    ]


def ics(context: Context, args: Args) -> Reply:
    typed = args.text.strip()
    if typed.lower() == "all":
        events = event_queries.scheduled_events(session=context.session)
        filename = "citypeers-events.ics"
    else:
        events = [event_by_id(context, typed, scheduled=False)]
        filename = f"citypeers-event-{events[0].id}.ics"
    reply = Reply.of("iCalendar file with {count}: {name}", count=plural(len(events), "event"), name=filename)
    reply.files.append(Attachment(filename, calendar_bytes(events, context.now), "text/calendar"))
    return reply


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def calendar_entry(event: Event) -> calendar.Entry:
    return calendar.Entry(
        uid=f"event-{event.id}@citypeers",
        title=event.title,
        start=event.start_at,
        end=event.end_at,
        tz=event.tz,
        location=event.location,
        description=event.description,
        rrule=event.rrule,
        sequence=event.sequence,
        cancelled=event.status == "cancelled",
    )


def calendar_bytes(events: list[Event], now: datetime, feed: calendar.Feed | None = None) -> bytes:
    """A VCALENDAR with a VEVENT per event (recurrence, sequence, status) and each zone's VTIMEZONE."""
    return calendar.render([calendar_entry(event) for event in events], stamp=now, feed=feed)


# --- private calendar feeds -------------------------------------------------------------------------------

FEED_PATH = "/calendar/"
FEED_REFRESH = timedelta(hours=1)
TOKEN_BYTES = 24  # 192 bits
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{22,64}")
UNCHANGED_STAMP = datetime(2000, 1, 1, tzinfo=UTC)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def subscribe(context: Context, args: Args) -> Reply:
    typed = args.text.strip().lower()
    member = context.actor.member
    if typed == "reset" and not args.options:
        count = feed_queries.revoke_feeds(session=context.session, member_id=member.id, now=context.now)
        return Reply.of(Strings.SUBSCRIBE_RESET, count=plural(count, "feed link"))
    if typed:
        raise UsageError()
    every = parse_yes_no(args.options["all"], "all") if "all" in args.options else False
    token = secrets.token_urlsafe(TOKEN_BYTES)
    scope = "all" if every else "rsvp"
    feed_queries.add_feed(
        session=context.session, member_id=member.id, token_hash=token_hash(token), scope=scope, now=context.now
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


def feed_file(session: Session, token: str, now: datetime) -> FeedFile | None:
    """The calendar a feed token opens, or None for an unknown or revoked token (told apart to nobody).

    Its Last-Modified is when its content last changed, noticed at a fetch: the content is compared with what
    was served before, without the DTSTAMP, which is that same moment."""
    if not TOKEN_SHAPE.fullmatch(token):
        return None
    feed = feed_queries.live_feed(session=session, token_hash=token_hash(token))
    if feed is None:
        return None
    if feed.scope == "all":
        events = event_queries.all_events(session=session)
        about = calendar.Feed(Strings.FEED_ALL, refresh=FEED_REFRESH)
    else:
        events = feed_queries.attended_events(session=session, member_id=feed.member_id)
        about = calendar.Feed(Strings.FEED_RSVP, refresh=FEED_REFRESH)
    digest = hashlib.sha256(calendar_bytes(events, UNCHANGED_STAMP, about)).hexdigest()
    if feed.content_hash != digest or feed.changed_at is None:
        feed.content_hash, feed.changed_at = digest, now.replace(microsecond=0)
    return FeedFile(calendar_bytes(events, feed.changed_at, about), f'"{digest[:40]}"', feed.changed_at)


def broadcast(context: Context, args: Args) -> Reply:
    require(context, ORGANISERS, "broadcast")
    first, text = split_first(args.text)
    if not first:
        raise UsageError()
    channel = checked_channel(first)
    text = text.strip()
    if not text:
        raise UsageError()
    if len(text) > MAX_BROADCAST:
        raise CommandError(Strings.TOO_LONG.format(max=MAX_BROADCAST))
    send_at = (
        parse_when(args.options["at"], zone=context.zone, now=context.now) if "at" in args.options else context.now
    )
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
    event_queries.queue_delivery(
        session=context.session,
        delivery=Delivery(
            key=f"broadcast:{item.id}:{channel.channel_id}",
            kind="broadcast",
            broadcast_id=item.id,
            recipient=channel.channel_id,
            recipient_kind="channel",
            due_at=send_at,
            next_attempt_at=send_at,
        ),
    )
    when = "now" if send_at == context.now else format_instant(send_at, context.zone)
    return Reply.of(Strings.BROADCAST_QUEUED, channel=f"#{channel.name}", when=when)


# --- what a delivery says (called by the delivery engine) ----------------------------------------------


def delivery_message(session: Session, delivery: Delivery, settings: HandlerSettings, now: datetime) -> Reply:
    """The message for one delivery, rendered when it is sent so it reflects the event as it is now."""
    if delivery.kind == "report":
        return Reply.of("{body}", body=delivery.body or "")
    if delivery.kind == "notice":
        return reply_from_dict(json.loads(delivery.body or "{}"))
    if delivery.kind == city.REQUESTS_KIND:
        return city.pending_requests_reply(session)
    if delivery.kind == CALENDAR:
        event = event_queries.get_event(session=session, event_id=delivery.event_id)
        return Reply.of("{title}", title=event.title if event else "")
    if delivery.kind == "broadcast":
        item = event_queries.get_broadcast(session=session, broadcast_id=delivery.broadcast_id)
        reply = Reply.of("{text}", text=item.text if item else "")
        if delivery.late:
            reply.add(Strings.BROADCAST_LATE, due=format_instant(delivery.due_at, settings.default_tz))
        return reply
    event = event_queries.get_event(session=session, event_id=delivery.event_id)
    if delivery.recipient_kind == "user":
        zone = member_zone(queries.get_member(session=session, external_id=delivery.recipient), settings.default_tz)
    else:
        zone = event_zone(event)
    start = delivery.occurrence_at or event.start_at
    end = start + (event.end_at - event.start_at) if event.end_at else None
    # To the nearest minute: a `1m` reminder sent a moment after its instant still says "in 1 minute".
    lead = timedelta(minutes=round((start - now) / timedelta(minutes=1)))
    reply = Reply.of(
        Strings.REMINDER,
        title=event.title,
        soon=describe_offset(lead) if lead >= timedelta(minutes=1) else "now",
        when=format_span(start, end, zone),
        where=where_text(event),
    )
    if delivery.late:
        reply.add(Strings.REMINDER_LATE, due=format_instant(delivery.due_at, zone))
    if delivery.recipient_kind == "channel":
        reply.sections[-1].buttons = event_buttons(event)
    return reply


def is_missed(session: Session, delivery: Delivery, settings: HandlerSettings, now: datetime) -> bool:
    """Too late to be useful: the event has begun or was cancelled, or a broadcast is past its grace."""
    if delivery.kind == "reminder":
        event = event_queries.get_event(session=session, event_id=delivery.event_id)
        return event is None or event.status != "scheduled" or now >= (delivery.occurrence_at or event.start_at)
    if delivery.kind == "broadcast":
        return now - delivery.due_at > settings.broadcast_grace
    if delivery.kind == city.REQUESTS_KIND:  # organisers decided them all before the message went out
        return queries.count_pending_join_requests(session=session) == 0
    return False


def broadcast_report(session: Session, broadcast_id: int, now: datetime) -> Delivery | None:
    """Once every delivery of a broadcast is settled, queue the organiser's summary (once)."""
    item = event_queries.get_broadcast(session=session, broadcast_id=broadcast_id)
    if item is None or item.reported_at is not None or item.created_by_id is None:
        return None
    counts = event_queries.status_counts(session=session, broadcast_id=broadcast_id)
    if counts["pending"] or counts["sending"]:
        return None
    late = sum(1 for d in event_queries.deliveries_for(session=session, broadcast_id=broadcast_id) if d.late)
    deliveries = event_queries.deliveries_for(session=session, broadcast_id=broadcast_id)
    reasons = sorted({d.error for d in deliveries if d.status == "failed" and d.error})
    body = Strings.REPORT.format(
        channel=f"#{item.channel_name}",
        sent=counts["sent"],
        late=late,
        failed=counts["failed"],
        missed=counts["missed"],
    )
    if reasons:
        body += " Reasons: " + ", ".join(reasons) + "."
    item.reported_at = now
    return report_to(session, item.created_by_id, f"report:broadcast:{broadcast_id}", body, now)


def failure_report(session: Session, delivery: Delivery, now: datetime) -> Delivery | None:
    """A permanent failure is reported, once, to whoever asked for the message: the command's author for a
    notice, the organiser who created the event."""
    creator_id = delivery.created_by_id
    if creator_id is None and delivery.event_id is not None:
        event = event_queries.get_event(session=session, event_id=delivery.event_id)
        creator_id = event.created_by_id if event else None
    key = f"report:failed:{delivery.id}"
    if delivery.kind == CALENDAR:
        key = f"report:{CALENDAR}:{delivery.recipient}:{creator_id}"  # told once per channel, not per change
    if delivery.error == DM_CLOSED and delivery.kind == "reminder":
        reminder_in_channel(session, delivery, now)
        key = f"report:{DM_CLOSED}:{delivery.event_id}:{delivery.recipient}"  # told once per person and event
    if creator_id is None:
        return None
    if delivery.recipient_kind == "channel":
        event = event_queries.get_event(session=session, event_id=delivery.event_id) if delivery.event_id else None
        recipient = f"#{event.channel_name}" if event and event.channel_name else f"#{delivery.recipient}"
    else:
        recipient = ", ".join(f"@{display_name(session, person)}" for person in delivery.recipient.split(","))
    body = Strings.FAILED.format(recipient=recipient, error=delivery.error)
    if delivery.kind == CALENDAR:
        event = event_queries.get_event(session=session, event_id=delivery.event_id) if delivery.event_id else None
        title = event.title if event else ""
        body = Strings.CALENDAR_FAILED.format(title=title, recipient=recipient, error=delivery.error)
    return report_to(session, creator_id, key, body, now)


def display_name(session: Session, external_id: str) -> str:
    member = queries.get_member(session=session, external_id=external_id)
    return member.display_name if member else external_id


def reminder_in_channel(session: Session, delivery: Delivery, now: datetime) -> Delivery | None:
    """A person who does not take direct messages gets the reminder in the event's channel, named in it."""
    event = event_queries.get_event(session=session, event_id=delivery.event_id) if delivery.event_id else None
    member = queries.get_member(session=session, external_id=delivery.recipient)
    if event is None or not event.channel_id or member is None:
        return None
    message = delivery_message(session, delivery, HandlerSettings(frozenset(), event_zone(event), ()), now)
    reply = Reply.of(Strings.DM_CLOSED_FALLBACK, who=Mention(member.external_id, member.display_name))
    reply.sections.extend(message.sections)
    fallback = Delivery(
        key=f"{DM_CLOSED}:{delivery.key}"[:200],
        kind="notice",
        event_id=event.id,
        recipient=event.channel_id,
        recipient_kind="channel",
        body=json.dumps(reply_to_dict(reply)),
        due_at=now,
        next_attempt_at=now,
    )
    return event_queries.queue_delivery(session=session, delivery=fallback)


def report_to(session: Session, member_id: int, key: str, body: str, now: datetime) -> Delivery | None:
    member = session.get(Member, member_id)
    if member is None:
        return None
    return event_queries.queue_delivery(
        session=session,
        delivery=Delivery(
            key=key,
            kind="report",
            recipient=member.external_id,
            recipient_kind="user",
            body=body,
            due_at=now,
            next_attempt_at=now,
        ),
    )


COMMANDS: dict[str, Command] = {
    c.name: c
    for c in (
        Command(
            "add",
            "/event add <title> start=<when> [end=<when>] [tz=<Area/City>] [where=<text>] [remind=7d,1d,1h] "
            "[channel=<#channel>] [repeat=<RRULE>]",
            "Organisers: schedule an event; reminders go to its channel and to everyone who RSVPs.",
            add,
            frozenset({"start", "end", "tz", "where", "remind", "channel", "repeat", "cohort", "about"}),
        ),
        Command("list", "/event list [all]", "Upcoming events in your time zone (all: past ones too).", list_events),
        Command(
            "rsvp",
            "/event rsvp <id> [no]",
            "Attend an event; reminders come to you by direct message (`no` withdraws).",
            rsvp,
        ),
        Command(
            "remind",
            "/event remind <id> <offsets>",
            "Organisers: replace the reminder offsets (m, h, d, w: 30m,1d,1w).",
            remind,
        ),
        Command(
            "edit",
            "/event edit <id> [title=<text>] [start=<when>] [end=<when>] [tz=<Area/City>] [where=<text>] "
            "[channel=<#channel>]",
            "Organisers: change an event; pending reminders move and attendees are told.",
            edit,
            frozenset({"title", "start", "end", "tz", "where", "channel"}),
        ),
        Command(
            "cancel",
            "/event cancel <id>",
            "Organisers: cancel; pending reminders are withdrawn and attendees told.",
            cancel,
        ),
        Command("ics", "/event ics <id>|all", "An iCalendar file to import into your calendar.", ics),
        Command(
            "subscribe",
            "/event subscribe [all=yes] | /event subscribe reset",
            "A private calendar feed URL of the events you attend (all=yes: every event); reset revokes it.",
            subscribe,
            frozenset({"all"}),
        ),
        Command(
            "broadcast",
            "/event broadcast <#channel> <text> [at=<when>]",
            "Organisers: post to a channel now or at a time; you get a delivery summary.",
            broadcast,
            frozenset({"at"}),
        ),
    )
}
