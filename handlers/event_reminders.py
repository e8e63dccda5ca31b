"""An event's dates and what it owes people: its occurrences (one changed on its own included), its reminders in
the delivery ledger, and the ledger kinds events own (reminder, broadcast, calendar), registered with
handlers.ledger.

How far ahead reminders are kept: a one-off event has every reminder queued when it is added, changed or attended,
however far ahead it is (a summit announced five months ahead). A recurring event has reminders queued for the
occurrences of the next REMINDER_HORIZON, extended by `extend_reminders`, which runs when a process starts and
daily; so a process started at any moment, after any downtime, has every reminder still ahead in the ledger.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session

from core import calendar
from core.dates import format_day, format_instant, format_read_back
from core.i18n import N_, Template, nN_, pN_
from core.reminders import (
    Change,
    Lead,
    Occurrence,
    all_day_offsets,
    days_lead,
    expand,
    format_offset,
    lead_of,
    reminder_due,
    stored_offsets,
)
from core.text import ChannelMention, Mention, Moment
from handlers import ledger
from handlers.ledger import Kind, RowKind, Status
from handlers.types import Button, HandlerSettings, Reply, member_zone, reply_to_dict
from storage import event_queries, ledger_queries, queries
from storage.models import Delivery, Event

DM_CLOSED = ledger.DM_CLOSED  # a platform's answer when a person takes no direct messages from the bot
CALENDAR = RowKind.CALENDAR.value
LOOK_BACK = timedelta(days=400)  # how far back "the current occurrence" of an event is looked for
EXTENSION_MARGIN = timedelta(days=7)  # a recurring event's horizon exceeds its longest reminder by this


class Strings:
    """What reminders, broadcasts and their reports say: whole messages of the catalogue (locales/). A reminder
    is one message per way of saying how far off the start is; `{when}` is the time, `{where}` the place after a
    middle dot (` · Hotel Metropole`) or nothing. The ⏰ is a Unicode emoji: every platform shows it."""

    # TRANSLATORS: an event's reminder; {title} is the event's title, {when} its date and time.
    REMINDER_NOW = N_("⏰ *{title}* starts now: {when}{where}")
    REMINDER_TODAY = N_("⏰ *{title}* starts today: {when}{where}")
    REMINDER_TOMORROW = N_("⏰ *{title}* starts tomorrow: {when}{where}")
    REMINDER_IN = {
        "minutes": nN_(
            "⏰ *{title}* starts in {n} minute: {when}{where}",
            "⏰ *{title}* starts in {n} minutes: {when}{where}",
        ),
        "hours": nN_(
            "⏰ *{title}* starts in {n} hour: {when}{where}",
            "⏰ *{title}* starts in {n} hours: {when}{where}",
        ),
        "days": nN_(
            "⏰ *{title}* starts in {n} day: {when}{where}",
            "⏰ *{title}* starts in {n} days: {when}{where}",
        ),
        "weeks": nN_(
            "⏰ *{title}* starts in {n} week: {when}{where}",
            "⏰ *{title}* starts in {n} weeks: {when}{where}",
        ),
    }
    REMINDER_AGO = {
        "minutes": nN_(
            "⏰ *{title}* started {n} minute ago: {when}{where}",
            "⏰ *{title}* started {n} minutes ago: {when}{where}",
        ),
        "hours": nN_(
            "⏰ *{title}* started {n} hour ago: {when}{where}",
            "⏰ *{title}* started {n} hours ago: {when}{where}",
        ),
        "days": nN_(
            "⏰ *{title}* started {n} day ago: {when}{where}",
            "⏰ *{title}* started {n} days ago: {when}{where}",
        ),
        "weeks": nN_(
            "⏰ *{title}* started {n} week ago: {when}{where}",
            "⏰ *{title}* started {n} weeks ago: {when}{where}",
        ),
    }
    # TRANSLATORS: an all-day event's one day, or its first and last days.
    ALL_DAY = N_("{day} (all day)")
    ALL_DAYS = N_("{first} – {last} (all day)")
    REMINDER_LATE = N_("_Sent late: this reminder was due {due}._")
    BROADCAST_LATE = N_("_Sent late: this broadcast was due {due}._")
    REPORT = N_("Broadcast to {channel}: {sent} sent ({late} late), {failed} failed, {missed} missed.")
    REPORT_REASONS = N_(
        "Broadcast to {channel}: {sent} sent ({late} late), {failed} failed, {missed} missed. Reasons: {reasons}."
    )
    FAILED = N_("Could not deliver to {recipient}: {error}. It will not be retried.")
    CALENDAR_FAILED = N_(
        "{title} is not shown in the server's event list ({recipient}): {error}. The event stands and its "
        "reminders still go out; you are told this once."
    )
    DM_CLOSED_FALLBACK = N_("{who}, your direct messages are closed to CityPeers, so your reminder is here:")
    RSVP = pN_("button", "RSVP")
    ADD_TO_CALENDAR = pN_("button", "Add to calendar")


def reminder_message(lead: Lead) -> tuple[Template, dict[str, object]]:
    """The reminder's message for how far off its start is, and the count it takes."""
    if lead.unit == "now":
        return Strings.REMINDER_NOW, {}
    if lead.unit == "today":
        return Strings.REMINDER_TODAY, {}
    if lead.unit == "tomorrow":
        return Strings.REMINDER_TOMORROW, {}
    return (Strings.REMINDER_AGO if lead.past else Strings.REMINDER_IN)[lead.unit], {"n": lead.amount}


# --- an event's dates -----------------------------------------------------------------------------------


def event_zone(event: Event) -> ZoneInfo:
    return ZoneInfo(event.tz)


def offsets_of(event: Event) -> list[timedelta]:
    """The offsets its reminders go at, longest first; an all-day event's in whole days (see core.reminders)."""
    offsets = stored_offsets(event.remind)
    return all_day_offsets(offsets) if event.all_day else offsets


def offsets_text(offsets: list[timedelta]) -> str:
    return ", ".join(format_offset(offset) for offset in offsets)


def changes_of(session: Session, event: Event) -> dict[datetime, Change]:
    """The event's occurrences changed on their own, by the start the rule gives them."""
    if not event.rrule:
        return {}
    return {
        row.original_at: Change(row.status == "cancelled", row.start_at, row.end_at, row.location)
        for row in event_queries.occurrence_changes(session=session, event_id=event.stored_id)
    }


def event_occurrences(
    session: Session, event: Event, *, after: datetime, until: datetime, keep_cancelled: bool = False
) -> list[Occurrence]:
    """The occurrences starting in (after, until], each as it will happen."""
    return expand(
        event.start_at,
        event.end_at,
        event_zone(event),
        event.rrule,
        changes_of(session, event),
        after=after,
        until=until,
        keep_cancelled=keep_cancelled,
    )


def current_occurrence(session: Session, event: Event, now: datetime) -> Occurrence:
    """The occurrence under way or next; for an event with none left, its last (or, one-off, its only) one."""
    if not event.rrule:
        end = event.end_at
        return Occurrence(event.start_at, event.start_at, end)
    ahead = event_occurrences(session, event, after=now - timedelta(days=31), until=now + timedelta(days=3660))
    for occurrence in ahead:
        if occurrence.start >= now or (occurrence.end is not None and occurrence.start <= now < occurrence.end):
            return occurrence
    past = event_occurrences(session, event, after=now - LOOK_BACK, until=now)
    if past:
        return past[-1]
    end = event.end_at
    return Occurrence(event.start_at, event.start_at, end)


def current_span(session: Session, event: Event, now: datetime) -> tuple[datetime, datetime | None]:
    occurrence = current_occurrence(session, event, now)
    return occurrence.start, occurrence.end


def span_text(event: Event, start: datetime, end: datetime | None, zone: ZoneInfo) -> str:
    """An occurrence's time in the event's own zone, as its organiser typed it, with the reader's time beside it
    when the reader's clock differs; an all-day event by its days only."""
    if event.all_day:
        own = event_zone(event)
        first = start.astimezone(own)
        last = (end - timedelta(days=1)).astimezone(own) if end else first
        if first.date() == last.date():
            return Strings.ALL_DAY.format(day=format_day(first, own))
        return Strings.ALL_DAYS.format(first=format_day(first, own), last=format_day(last, own))
    return format_read_back(start, end, event_zone(event), zone)


def when_text(session: Session, event: Event, zone: ZoneInfo, now: datetime) -> str:
    start, end = current_span(session, event, now)
    return span_text(event, start, end, zone)


def where_text(event: Event, location: str | None = None) -> str:
    place = location if location is not None else event.location
    return f" · {place}" if place else ""


def event_buttons(event: Event) -> list[Button]:
    return [
        Button(Strings.RSVP, f"/event rsvp {event.id}", "primary"),
        Button(Strings.ADD_TO_CALENDAR, f"/event ics {event.id}"),
    ]


# --- queuing reminders ----------------------------------------------------------------------------------


def horizon_of(event: Event, settings: HandlerSettings) -> timedelta:
    """How far ahead a recurring event's reminders are kept: the programme's horizon, or a week more than its
    longest reminder, so every reminder is queued before it falls due while the extension runs."""
    longest = max(offsets_of(event), default=timedelta(0))
    return max(settings.reminder_horizon, longest + EXTENSION_MARGIN)


def queue_reminders(
    session: Session,
    event: Event,
    settings: HandlerSettings,
    now: datetime,
    recipients: list[tuple[str, str]],
    *,
    only_missing: bool = False,
    everyone_planned: bool = True,
) -> int:
    """Queue every reminder still ahead for these (kind, id) recipients: all of a one-off event's, however far
    ahead; a recurring event's up to its horizon. Returns how many rows were queued.

    `only_missing` (the extension) leaves every key already in the ledger as it is, so nothing withdrawn comes
    back, and queues every reminder of an occurrence that was beyond the horizon when reminders were last
    planned, even one that fell due while no process ran: it goes out late, or is recorded as missed once the
    occurrence has begun, instead of silently never existing."""
    if event.status != "scheduled":
        return 0
    zone = event_zone(event)
    until = now + horizon_of(event, settings) if event.rrule else max(event.start_at, now)
    planned_until = event.reminders_until if only_missing else None
    existing = ledger_queries.delivery_keys(session=session, event_id=event.stored_id) if only_missing else set()
    offsets = offsets_of(event)
    queued = 0
    for occurrence in event_occurrences(session, event, after=now, until=until):
        if event.rrule and everyone_planned:
            queue_next_date_shown(session, event, occurrence, existing)
        unplanned = planned_until is not None and occurrence.start > planned_until
        for offset in offsets:
            due = reminder_due(occurrence.start, offset, zone, all_day=event.all_day)
            if due <= now and not unplanned:
                continue  # already past when it was promised: not sent
            minutes = int(offset.total_seconds() // 60)
            for recipient_kind, recipient in recipients:
                row_key = ledger.reminder_key(event.stored_id, occurrence.start, minutes, recipient)
                if row_key in existing:
                    continue
                row = ledger.queue(
                    session,
                    kind=RowKind.REMINDER,
                    key=row_key,
                    event_id=event.id,
                    occurrence_at=occurrence.start,
                    offset_minutes=minutes,
                    recipient=recipient,
                    recipient_kind=recipient_kind,
                    due=due,
                )
                queued += row is not None
    if event.rrule and everyone_planned:  # an RSVP plans one attendee's only: the horizon stays
        event.reminders_until = max(until, event.reminders_until or until)
    return queued


def everyone(session: Session, event: Event) -> list[tuple[str, str]]:
    recipients = [("channel", event.channel_id)] if event.channel_id else []
    attendees = event_queries.attendees(session=session, event_id=event.stored_id)
    return recipients + [("user", member.external_id) for member in attendees]


def requeue_all(session: Session, event: Event, settings: HandlerSettings, now: datetime) -> int:
    # A pending calendar row stays: it shows the event as it is when sent, whatever changed meanwhile.
    ledger.withdraw(session, event_id=event.stored_id, keep_kind=RowKind.CALENDAR)
    queue_calendar(session, event, now)
    return queue_reminders(session, event, settings, now, everyone(session, event))


def extend_reminders(session: Session, settings: HandlerSettings, now: datetime) -> int:
    """Recurring events get reminders queued as their horizon moves forward. Run when a process starts and daily,
    so whatever the downtime, every reminder still ahead is in the ledger; keys already there stay as they are."""
    return sum(
        queue_reminders(session, event, settings, now, everyone(session, event), only_missing=True)
        for event in event_queries.recurring_events(session=session)
    )


def queue_next_date_shown(session: Session, event: Event, occurrence: Occurrence, existing: set[str]) -> None:
    """A platform's event list shows a repeating event's next date: when this one is over, show the one after."""
    if not event.channel_id or ":" not in event.channel_id:
        return
    over = occurrence.end or occurrence.start + timedelta(hours=1)
    row_key = ledger.next_date_key(event.stored_id, event.sequence, occurrence.start, event.channel_id)
    if row_key not in existing:
        ledger.queue(
            session,
            kind=RowKind.CALENDAR,
            key=row_key,
            event_id=event.id,
            recipient=event.channel_id,
            recipient_kind="channel",
            due=over,
        )


def queue_calendar(session: Session, event: Event, now: datetime) -> Delivery | None:
    """An event posted in a platform's channel (`discord:…`, `slack:…`) is shown in that platform's own event
    list where it has one: one ledger row per change, whose sender makes the platform's copy match the event as
    it is when the row is sent (a platform without such a list reports it sent)."""
    if not event.channel_id or ":" not in event.channel_id:
        return None
    return ledger.queue(
        session,
        kind=RowKind.CALENDAR,
        key=ledger.calendar_key(event.stored_id, event.sequence, event.channel_id),
        event_id=event.id,
        recipient=event.channel_id,
        recipient_kind="channel",
        due=now,
    )


# --- iCalendar entries -------------------------------------------------------------------------------------


def calendar_entry(session: Session, event: Event) -> calendar.Entry:
    """The event as a calendar reads it: its rule, each cancelled occurrence an EXDATE, each moved one a
    RECURRENCE-ID override."""
    changes = event_queries.occurrence_changes(session=session, event_id=event.stored_id) if event.rrule else []
    master = calendar.Entry(
        uid=f"event-{event.id}@citypeers",
        title=event.title,
        start=event.start_at,
        end=event.end_at,
        tz=event.tz,
        location=event.location,
        description=event.description,
        rrule=event.rrule,
        exdates=tuple(row.original_at for row in changes if row.status == "cancelled"),
        sequence=event.sequence,
        cancelled=event.status == "cancelled",
        all_day=event.all_day,
    )
    overrides = tuple(
        dataclasses.replace(
            master,
            start=row.start_at,
            end=row.end_at,
            location=row.location if row.location is not None else event.location,
            rrule=None,
            exdates=(),
            recurrence_id=row.original_at,
        )
        for row in changes
        if row.status == "moved" and row.start_at is not None
    )
    return dataclasses.replace(master, overrides=overrides)


# --- the ledger kinds events own ---------------------------------------------------------------------------


def event_of(session: Session, delivery: Delivery) -> Event | None:
    """The event a ledger row is about: none for a row of another kind, or once the event is erased."""
    return event_queries.get_event(session=session, event_id=delivery.event_id) if delivery.event_id else None


def _render_reminder(session: Session, delivery: Delivery, settings: HandlerSettings, now: datetime) -> Reply:
    event = event_of(session, delivery)
    if event is None:  # the ledger asks _reminder_missed first, which says a reminder without its event is missed
        raise LookupError(f"reminder {delivery.key} has no event")
    if delivery.recipient_kind == "user":
        zone = member_zone(queries.get_member(session=session, external_id=delivery.recipient), settings.default_tz)
    else:
        zone = event_zone(event)
    start = delivery.occurrence_at or event.start_at
    occurrence = next(
        (o for o in event_occurrences(session, event, after=start - timedelta(seconds=1), until=start)), None
    )
    end = occurrence.end if occurrence else (start + (event.end_at - event.start_at) if event.end_at else None)
    location = occurrence.location if occurrence else None
    # In a channel people in many zones read it: a Moment, which a platform shows in each reader's zone (an
    # all-day event's days stay text: a day is no instant). A DM says it in the reader's zone.
    shared = delivery.recipient_kind == "channel"
    when = Moment(start, zone, "F", end) if shared and not event.all_day else span_text(event, start, end, zone)
    template, count = reminder_message(lead_until(event, start, now))
    reply = Reply.of(template, title=event.title, when=when, where=where_text(event, location), **count)
    if delivery.late:
        due = Moment(delivery.due_at, zone, "F") if shared else format_instant(delivery.due_at, zone)
        reply.add(Strings.REMINDER_LATE, due=due)
    if delivery.recipient_kind == "channel":
        reply.sections[-1].buttons = event_buttons(event)
    return reply


def lead_until(event: Event, start: datetime, now: datetime) -> Lead:
    """How far off the start is: in hours and minutes, or for an all-day event in days (its reminder goes at 09:00,
    so "starts in 15 hours" would say midnight)."""
    if event.all_day:
        zone = event_zone(event)
        return days_lead((start.astimezone(zone).date() - now.astimezone(zone).date()).days)
    return lead_of(start - now)


def _reminder_missed(session: Session, delivery: Delivery, _settings: HandlerSettings, now: datetime) -> bool:
    """Too late to be useful: the event (this occurrence) has begun, or was cancelled."""
    event = event_of(session, delivery)
    return event is None or event.status != "scheduled" or now >= (delivery.occurrence_at or event.start_at)


def _reminder_failed(session: Session, delivery: Delivery, now: datetime) -> None:
    if delivery.error == DM_CLOSED and delivery.recipient_kind == "user":
        reminder_in_channel(session, delivery, now)
        report_key = ledger.dm_closed_report_key(delivery.event_id, delivery.recipient)
        _report_event_failure(session, delivery, now, report_key)
    else:
        _report_event_failure(session, delivery, now, ledger.failure_report_key(delivery.id))


def _report_event_failure(session: Session, delivery: Delivery, now: datetime, report_key: str) -> None:
    """Told to the organiser who created the event."""
    event = event_of(session, delivery)
    creator_id = delivery.created_by_id or (event.created_by_id if event else None)
    if creator_id is None:
        return
    recipient: object
    if delivery.recipient_kind == "channel":
        name = event.channel_name if event and event.channel_name else delivery.recipient
        recipient = ChannelMention(delivery.recipient, name)
    else:
        recipient = ", ".join(f"@{ledger.display_name(session, person)}" for person in delivery.recipient.split(","))
    if delivery.kind == CALENDAR:
        title = event.title if event else ""
        body = Reply.of(Strings.CALENDAR_FAILED, title=title, recipient=recipient, error=delivery.error)
    else:
        body = Reply.of(Strings.FAILED, recipient=recipient, error=delivery.error)
    ledger.queue_report(session, creator_id, report_key, body, now)


def reminder_in_channel(session: Session, delivery: Delivery, now: datetime) -> Delivery | None:
    """A person who does not take direct messages gets the reminder in the event's channel, named in it."""
    event = event_of(session, delivery)
    member = queries.get_member(session=session, external_id=delivery.recipient)
    if event is None or not event.channel_id or member is None:
        return None
    message = _render_reminder(session, delivery, HandlerSettings(frozenset(), event_zone(event), ()), now)
    reply = Reply.of(Strings.DM_CLOSED_FALLBACK, who=Mention(member.external_id, member.display_name))
    reply.sections.extend(message.sections)
    return ledger.queue(
        session,
        kind=RowKind.NOTICE,
        key=ledger.in_channel_key(delivery),
        event_id=event.id,
        recipient=event.channel_id,
        recipient_kind="channel",
        body=json.dumps(reply_to_dict(reply)),
        due=now,
        created_by=event.created_by_id,
    )


def _render_broadcast(session: Session, delivery: Delivery, settings: HandlerSettings, _now: datetime) -> Reply:
    item = (
        event_queries.get_broadcast(session=session, broadcast_id=delivery.broadcast_id)
        if delivery.broadcast_id
        else None
    )
    reply = Reply.of("{text}", text=item.text if item else "")
    if delivery.late:
        # A broadcast goes to a channel: its due time is shown in each reader's own zone where the platform can.
        reply.add(Strings.BROADCAST_LATE, due=Moment(delivery.due_at, settings.default_tz))
    return reply


def _broadcast_missed(session: Session, delivery: Delivery, settings: HandlerSettings, now: datetime) -> bool:
    return now - delivery.due_at > settings.broadcast_grace


def _broadcast_settled(session: Session, delivery: Delivery, now: datetime) -> None:
    if delivery.broadcast_id is not None:
        session.flush()
        broadcast_report(session, delivery.broadcast_id, now)


def broadcast_report(session: Session, broadcast_id: int, now: datetime) -> Delivery | None:
    """Once every delivery of a broadcast is settled, queue the organiser's summary (once)."""
    item = event_queries.get_broadcast(session=session, broadcast_id=broadcast_id)
    if item is None or item.reported_at is not None or item.created_by_id is None or item.cancelled_at is not None:
        return None
    counts = ledger_queries.status_counts(session=session, broadcast_id=broadcast_id)
    if counts[Status.PENDING] or counts[Status.SENDING]:
        return None
    deliveries = ledger_queries.deliveries_for(session=session, broadcast_id=broadcast_id)
    late = sum(1 for d in deliveries if d.late)
    reasons = sorted({d.error for d in deliveries if d.status == Status.FAILED and d.error})
    body = Reply.of(
        Strings.REPORT_REASONS if reasons else Strings.REPORT,
        channel=ChannelMention(item.channel_id, item.channel_name),
        sent=counts[Status.SENT],
        late=late,
        failed=counts[Status.FAILED],
        missed=counts[Status.MISSED],
        reasons=", ".join(reasons),
    )
    item.reported_at = now
    return ledger.queue_report(session, item.created_by_id, ledger.broadcast_report_key(broadcast_id), body, now)


def _render_calendar(session: Session, delivery: Delivery, _settings: HandlerSettings, _now: datetime) -> Reply:
    event = event_of(session, delivery)
    return Reply.of("{title}", title=event.title if event else "")


def _calendar_now(session: Session, delivery: Delivery, now: datetime) -> calendar.Entry | None:
    """What a calendar row asks the platform to show: the event's next (or current) occurrence as it will happen,
    or a cancelled one; None when there is nothing left to show (the event has taken place)."""
    event = event_of(session, delivery)
    if event is None:
        return None
    occurrence = current_occurrence(session, event, now)
    if event.status == "scheduled" and (occurrence.end or occurrence.start) <= now:
        return None
    entry = calendar_entry(session, event)
    location = occurrence.location if occurrence.location is not None else event.location
    return dataclasses.replace(entry, start=occurrence.start, end=occurrence.end, location=location, overrides=())


def _calendar_failed(session: Session, delivery: Delivery, now: datetime) -> None:
    event = event_of(session, delivery)
    creator_id = delivery.created_by_id or (event.created_by_id if event else None)
    # Told once per channel and organiser, not at every change.
    _report_event_failure(session, delivery, now, ledger.calendar_report_key(delivery.recipient, creator_id))


ledger.register(Kind(RowKind.REMINDER, _render_reminder, _reminder_missed, on_failure=_reminder_failed))
ledger.register(
    Kind(RowKind.BROADCAST, _render_broadcast, _broadcast_missed, settled=_broadcast_settled, report_failures=False)
)
ledger.register(Kind(RowKind.CALENDAR, _render_calendar, on_failure=_calendar_failed, calendar=_calendar_now))
