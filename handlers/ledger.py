"""The delivery ledger's one owner: a row's whole life goes through here, from its key to its last status.

A row of the ledger (storage.models.Delivery) is one message to one recipient, written before it is sent. Its life:
queued under its key (one builder per kind below) -> withdrawn, or claimed by one process -> an attempt begun ->
sent, retried, failed for good or missed. Only this module and storage.ledger_queries write a row's status, its
claim or its key (tests/handlers/test_ledger_ownership.py reads the tree to keep it so). Each row has a kind, and
each kind is registered here once with what only it knows:
- `render`: the message, rendered when it is sent, so it shows the world as it is then;
- `missed`: whether it is too late to be useful (the event began, organisers decided every request …);
- `on_failure`: whom a permanent failure is told (by default whoever asked for the message, once);
- `settled`: what follows once it is sent, failed or missed (a broadcast's summary);
- `calendar`: what a platform with its own event list should show (Discord's scheduled events).
Handlers queue through `queue()` with a key from this module's builders and withdraw through `withdraw()`; the
delivery engine (bot/delivery.py) claims, begins and records through `claim()`, `begin()` and `record()`, and
dispatches through `render()`, `is_missed()`, `failed()` and `settled()`. A kind is registered by the module that
knows its words, imported the first time a row of that kind is handled (start-up loads none of them).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import json
import uuid
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlmodel import Session

from core import i18n
from core.i18n import N_, Language
from core.reminders import MAX_TRANSIENT_ATTEMPTS, is_late, transient_backoff
from core.text import ChannelMention
from handlers import languages
from handlers.types import HandlerSettings, Notice, Reply, reply_from_dict, reply_to_dict
from storage import ledger_queries, queries
from storage.models import Delivery, DeliveryStatus, Member

if TYPE_CHECKING:
    from core.calendar import Entry

MAX_KEY = 200
Status = DeliveryStatus  # pending, sending, sent, failed, missed, withdrawn (a CHECK holds the column to them)


class Outcome(StrEnum):
    """What a platform's sender says of one attempt."""

    SENT = "sent"
    RETRY = "retry"  # after the platform's Retry-After, or after a backoff
    FAILED = "failed"  # for good


class RowKind(StrEnum):
    REMINDER = "reminder"  # an event's reminder, to its channel or to one attendee
    BROADCAST = "broadcast"  # an organiser's message to a channel, now or later
    NOTICE = "notice"  # a reply kept as JSON: check-ins, follow-ups, digests, introductions, event changes
    REPORT = "report"  # a line to whoever asked for something: a broadcast's summary, a failure
    CALENDAR = "calendar"  # no message: show an event in a platform's own event list
    JOIN_REQUESTS = "joinreqs"  # an organiser's list of waiting join requests, rendered when sent


class Strings:
    FAILED = N_("Could not deliver to {recipient}: {error}. It will not be retried.")


DM_CLOSED = "dm_closed"  # a platform's answer when a person takes no direct messages from the bot


Render = Callable[[Session, Delivery, HandlerSettings, datetime], Reply]
Missed = Callable[[Session, Delivery, HandlerSettings, datetime], bool]
Settled = Callable[[Session, Delivery, datetime], None]
Shown = Callable[[Session, Delivery, datetime], "Entry | None"]


def _never(*_args: object) -> bool:
    return False


@dataclass(frozen=True)
class Kind:
    name: RowKind
    render: Render
    missed: Missed = _never
    # None: a failure is told to whoever asked for the message (report_failure); a report's failure is told nobody.
    on_failure: Settled | None = None
    settled: Settled | None = None
    calendar: Shown | None = None
    report_failures: bool = True


# The module that registers each kind: imported with the first row of that kind, not at start.
KIND_MODULES: Mapping[RowKind, str] = {
    RowKind.REMINDER: "handlers.event_reminders",
    RowKind.BROADCAST: "handlers.event_reminders",
    RowKind.CALENDAR: "handlers.event_reminders",
    RowKind.JOIN_REQUESTS: "handlers.city",
    RowKind.NOTICE: __name__,
    RowKind.REPORT: __name__,
}
_KINDS: dict[RowKind, Kind] = {}


def register(kind: Kind) -> Kind:
    _KINDS[kind.name] = kind
    return kind


def kind_of(name: str) -> Kind:
    row_kind = RowKind(name)
    if row_kind not in _KINDS:
        importlib.import_module(KIND_MODULES[row_kind])
    return _KINDS[row_kind]


# --- queuing -------------------------------------------------------------------------------------------


def _key(*parts: object) -> str:
    """The one form of a row's key: its parts joined by colons (what, which, when, to whom), at most 200
    characters. A longer one keeps its start and ends with a hash of the whole, so two long keys never meet."""
    joined = ":".join(str(part) for part in parts)
    if len(joined) <= MAX_KEY:
        return joined
    digest = hashlib.sha256(joined.encode("utf-8", "surrogatepass")).hexdigest()
    return f"{joined[: MAX_KEY - len(digest) - 1]}:{digest}"


def reminder_key(event_id: int, occurrence: datetime, minutes: int, recipient: str) -> str:
    """An event's reminder: which event, which occurrence, how long before, to whom."""
    return _key(RowKind.REMINDER, event_id, f"{occurrence:%Y%m%dT%H%M%SZ}", minutes, recipient)


def calendar_key(event_id: int, sequence: int, channel: str) -> str:
    """One change of an event (its sequence), shown in a platform's own event list."""
    return _key(RowKind.CALENDAR, event_id, sequence, channel)


def next_date_key(event_id: int, sequence: int, occurrence: datetime, channel: str) -> str:
    """A repeating event's next date shown once this occurrence is over."""
    return _key(RowKind.CALENDAR, event_id, sequence, f"after-{occurrence:%Y%m%dT%H%M%SZ}", channel)


def broadcast_key(broadcast_id: int, channel: str) -> str:
    return _key(RowKind.BROADCAST, broadcast_id, channel)


def join_requests_key(request_id: int, organiser: str) -> str:
    """An organiser's list of waiting requests, named by the request that asked for it."""
    return _key(RowKind.JOIN_REQUESTS, request_id, organiser)


def digest_name(week: str) -> str:
    """A weekly digest's name (`digest:2026-W48`): queued once per expert and week, by whichever process."""
    return _key("digest", week)


def digest_queued(session: Session, *, week: str, recipient: str) -> bool:
    return ledger_queries.delivery_exists(session=session, key=_notice_key(digest_name(week), recipient))


def _notice_key(prefix: str, recipient: str) -> str:
    return _key(prefix, recipient)


def failure_report_key(delivery_id: int | None) -> str:
    """The report that one row failed for good: once per row."""
    return _key("report", "failed", delivery_id)


def dm_closed_report_key(event_id: int | None, recipient: str) -> str:
    """The report that a person takes no DMs: once per person and event."""
    return _key("report", DM_CLOSED, event_id, recipient)


def calendar_report_key(channel: str, organiser_id: int | None) -> str:
    """The report that a platform's event list refused an event: once per channel and organiser."""
    return _key("report", RowKind.CALENDAR, channel, organiser_id)


def broadcast_report_key(broadcast_id: int) -> str:
    """A broadcast's summary to its organiser: once."""
    return _key("report", "broadcast", broadcast_id)


def in_channel_key(delivery: Delivery) -> str:
    """A reminder its person could not take by DM, posted in the event's channel instead: once per row."""
    return _key(DM_CLOSED, delivery.key)


def platform_of(external_id: str) -> str:
    """`slack:U1` -> `slack`; an id without a prefix (the console's, or a row from before prefixes) -> ``."""
    head, colon, _ = external_id.partition(":")
    return head if colon else ""


def queue(
    session: Session,
    *,
    kind: RowKind,
    key: str,
    recipient: str,
    due: datetime,
    recipient_kind: str = "user",
    event_id: int | None = None,
    broadcast_id: int | None = None,
    occurrence_at: datetime | None = None,
    offset_minutes: int | None = None,
    body: str | None = None,
    created_by: int | None = None,
) -> Delivery | None:
    """Queue one row by its key: a new key is added; a withdrawn or pending row of that key takes the new time;
    a row already sent (or failed, missed) stays as it is. Returns the row queued, or None."""
    row = Delivery(
        key=key,
        kind=kind.value,
        platform=platform_of(recipient.split(",", 1)[0]),
        event_id=event_id,
        broadcast_id=broadcast_id,
        occurrence_at=occurrence_at,
        offset_minutes=offset_minutes,
        recipient=recipient,
        recipient_kind=recipient_kind,
        body=body,
        due_at=due,
        next_attempt_at=due,
        created_by_id=created_by,
    )
    return ledger_queries.queue_delivery(session=session, delivery=row)


def queue_notices(
    session: Session,
    notices: Iterable[Notice],
    *,
    now: datetime,
    name: str | None = None,
    created_by: int | None = None,
) -> int:
    """One row per recipient, or one for a conversation of several (`together`); returns rows queued.

    `name` names the notice for good (a digest week), so queuing it again is a no-op; without one each call
    queues afresh. `created_by` is the member whose command decided it: a failure is reported to them."""
    queued = 0
    for notice in notices:
        body = json.dumps(reply_to_dict(notice.reply))
        prefix = name or _key("notice", uuid.uuid4().hex)
        targets = (
            [("group", ",".join(notice.recipients))]
            if notice.together
            else [("user", recipient) for recipient in notice.recipients]
        )
        for recipient_kind, recipient in targets:
            row = queue(
                session,
                kind=RowKind.NOTICE,
                key=_notice_key(prefix, recipient),
                recipient=recipient,
                recipient_kind=recipient_kind,
                body=body,
                due=now,
                created_by=created_by,
            )
            queued += row is not None
    return queued


def queue_report(
    session: Session, member_id: int, report_key: str, body: str | Reply, now: datetime
) -> Delivery | None:
    """A line to one member (by id) by direct message, once per key: text, or a reply whose values (a channel)
    each platform shows its own way, kept as JSON."""
    member = session.get(Member, member_id)
    if member is None:
        return None
    stored = json.dumps(reply_to_dict(body)) if isinstance(body, Reply) else body
    return queue(session, kind=RowKind.REPORT, key=report_key, recipient=member.external_id, body=stored, due=now)


# --- the plan: each platform's sends placed by its pace -------------------------------------------------

# The plan uses this share of the pace it is given: what is left takes the messages due at once (a notice, a retry
# after a 429) without making a planned reminder late.
PLAN_SHARE = 0.8
# The last of a send's messages is placed this long before its due time (the platform's answer takes a moment).
PLAN_MARGIN = timedelta(seconds=1)
PLAN_BATCH = 5000  # rows placed in one transaction; a larger queue is placed over the next runs
MAX_JUMPS = 200  # sends passed over to find room for one row; beyond that the row goes as soon as it can


def plan(session: Session, *, platform: str, pace: float, now: datetime) -> int:
    """Place the rows of `platform` queued since the last run, so that a send to N people starts early enough
    for the last of them to go by its due time at PLAN_SHARE of `pace` (messages a second), never after it.

    Each row of a send (rows due at the same time) takes the slot just before the send's earliest one, one step
    (1 / the planned pace) apart, passing over other sends' slots; a row due within PLAN_MARGIN goes as queued, and
    one with no room left before its due time goes as soon as it can. The plan is held in the rows
    (next_attempt_at), so every process sends by the same plan; one planner runs at a time per platform. Returns
    how many rows were placed."""
    if pace <= 0:
        return 0
    ledger_queries.lock_plan(session=session, platform=platform)
    step = timedelta(seconds=1.0 / (pace * PLAN_SHARE))
    earliest: dict[datetime, datetime] = {}  # a send's earliest slot, as this run leaves it
    rows = ledger_queries.unplanned(session=session, platform=platform, limit=PLAN_BATCH)
    for delivery_id, due in rows:
        slot = _slot(session, platform, due, now, step, earliest)
        ledger_queries.place(session=session, delivery_id=delivery_id, at=slot)
        if slot is not None and slot < due:
            earliest[due] = min(slot, earliest.get(due, slot))
    return len(rows)


def _slot(
    session: Session, platform: str, due: datetime, now: datetime, step: timedelta, earliest: dict[datetime, datetime]
) -> datetime | None:
    """The latest free slot by `due - PLAN_MARGIN`; `now` when none is left (it will be late: as little as it can
    be); None when it is due about now (it goes as queued)."""
    latest = due - PLAN_MARGIN
    if latest <= now:
        return None
    held = earliest.get(due) or ledger_queries.earliest_placed(session=session, platform=platform, due=due)
    candidate = min(latest, held - step) if held is not None else latest
    for _ in range(MAX_JUMPS):
        if candidate <= now:
            return now
        hit = ledger_queries.placed_between(
            session=session, platform=platform, after=candidate - step, before=candidate + step
        )
        if hit is None:
            return candidate
        slot, other_due = hit
        # Pass over that whole send: its rows hold consecutive slots down to its earliest.
        other = earliest.get(other_due) or ledger_queries.earliest_placed(
            session=session, platform=platform, due=other_due
        )
        candidate = min(slot, other or slot, candidate) - step
    return now


def planning_needed(session: Session, platforms: Collection[str]) -> bool:
    """Whether rows of these platforms wait to be placed (a cheap look before a planning transaction)."""
    return ledger_queries.any_unplanned(session=session, platforms=platforms)


# --- taking back what is still to go -----------------------------------------------------------------


def withdraw(
    session: Session,
    *,
    event_id: int,
    recipient: str | None = None,
    keep_kind: RowKind | str | None = None,
    occurrence_at: datetime | None = None,
) -> int:
    """Withdraw what an event still owes: all of it, one recipient's, or one occurrence's, but rows of `keep_kind`.
    Rows already claimed or settled stay as they are. Returns how many were withdrawn."""
    return ledger_queries.withdraw_pending(
        session=session, event_id=event_id, recipient=recipient, keep_kind=keep_kind, occurrence_at=occurrence_at
    )


def withdraw_broadcast(session: Session, broadcast_id: int) -> int:
    """Withdraw a broadcast not yet claimed for sending; how many rows (0: it is being sent, or went)."""
    return ledger_queries.withdraw_broadcast(session=session, broadcast_id=broadcast_id)


def broadcast_counts(session: Session, broadcast_id: int) -> Counter[str]:
    """A broadcast's rows by status (a Status's value)."""
    return ledger_queries.status_counts(session=session, broadcast_id=broadcast_id)


# --- the engine's half: claim, begin, record -----------------------------------------------------------


def claim(
    session: Session,
    *,
    worker: str,
    now: datetime,
    limit: int,
    hold: timedelta,
    platforms: Collection[str] | None = None,
) -> list[int]:
    """Rows due now taken for `worker` alone (a lapsed claim can be taken over); their ids, in sending order."""
    rows = ledger_queries.claim_due(
        session=session, worker=worker, now=now, limit=limit, hold=hold, platforms=platforms
    )
    return [row.id for row in rows if row.id is not None]


def begin(
    session: Session, delivery_id: int, *, worker: str, now: datetime, hold: timedelta
) -> tuple[Delivery, datetime | None] | None:
    """Renew `worker`'s claim and note the attempt, to be committed before anything is sent: the row and when an
    earlier attempt began whose outcome was never recorded (its process died mid-send). None when another worker
    took the row over."""
    if not ledger_queries.renew_claim(session=session, delivery_id=delivery_id, worker=worker, until=now + hold):
        return None
    delivery = session.get(Delivery, delivery_id, populate_existing=True)
    if delivery is None:
        return None
    return delivery, delivery.attempted_at


def attempt(delivery: Delivery, now: datetime) -> datetime:
    """The attempt is under way from now; the message says it is late when it is. Returns the moment the message
    is written as of: now, or, when an earlier attempt's outcome was never heard (its process died mid-send), that
    attempt's moment, so the message is written again byte for byte as it was then (its language is kept in the
    row too: `render`) — what Discord's takeover compares, and what its reader may already have."""
    if delivery.attempted_at is None:
        delivery.late = is_late(delivery.due_at, now)
        delivery.attempted_at = now
    return delivery.attempted_at


def mark_missed(session: Session, delivery: Delivery, now: datetime) -> None:
    """Too late to be useful (is_missed): recorded, never sent."""
    delivery.status = Status.MISSED
    settled(session, delivery, now)


def record(
    session: Session,
    delivery_id: int,
    outcome: Outcome | str,
    *,
    now: datetime,
    retry_after: float | None = None,
    error: str | None = None,
    certain: bool = True,
) -> Delivery:
    """What came of an attempt: sent; retried after `retry_after` (or a backoff, up to MAX_TRANSIENT_ATTEMPTS);
    failed for good, told to whoever should know. `certain` False: it may have arrived although we did not hear
    so, and the attempt stays on record so the next one asks the platform first."""
    delivery = session.get(Delivery, delivery_id, populate_existing=True)
    if delivery is None:
        raise LookupError(f"delivery {delivery_id} is gone")
    delivery.attempts += 1
    delivery.claimed_by = delivery.claim_expires_at = None
    if certain:
        delivery.attempted_at = None
    if outcome == Outcome.SENT:
        delivery.status, delivery.sent_at, delivery.error = Status.SENT, now, None
    elif outcome == Outcome.RETRY and (retry_after is not None or delivery.attempts < MAX_TRANSIENT_ATTEMPTS):
        wait = timedelta(seconds=retry_after) if retry_after is not None else transient_backoff(delivery.attempts)
        delivery.status, delivery.next_attempt_at, delivery.error = Status.PENDING, now + wait, error
    else:
        delivery.status, delivery.error = Status.FAILED, (error or "gave up after retries")[:200]
        failed(session, delivery, now)
    if delivery.status != Status.PENDING:
        settled(session, delivery, now)
    return delivery


# --- what the engine asks ------------------------------------------------------------------------------


def render(session: Session, delivery: Delivery, settings: HandlerSettings, now: datetime) -> Reply:
    """The row's message in its recipient's language, which the first attempt fixes in the row: a retry, or
    another process taking the row over, writes the same words. A channel or a group conversation reads the
    programme's language; a person their own (handlers.languages)."""
    if delivery.locale is None:
        delivery.locale = recipient_language(session, delivery, settings).code
    with i18n.reading(languages.by_code(delivery.locale, settings)):
        return kind_of(delivery.kind).render(session, delivery, settings, now).localize()


def recipient_language(session: Session, delivery: Delivery, settings: HandlerSettings) -> Language:
    if delivery.recipient_kind != "user":
        return languages.programme(settings)
    member = queries.get_member(session=session, external_id=delivery.recipient)
    return languages.for_member(member, None, settings)


def is_missed(session: Session, delivery: Delivery, settings: HandlerSettings, now: datetime) -> bool:
    return kind_of(delivery.kind).missed(session, delivery, settings, now)


def calendar_entry(session: Session, delivery: Delivery, now: datetime) -> Entry | None:
    shown = kind_of(delivery.kind).calendar
    return shown(session, delivery, now) if shown else None


def failed(session: Session, delivery: Delivery, now: datetime) -> None:
    """A row failed for good: tell whoever should know, once."""
    kind = kind_of(delivery.kind)
    if kind.on_failure is not None:
        kind.on_failure(session, delivery, now)
    elif kind.report_failures:
        report_failure(session, delivery, now)


def settled(session: Session, delivery: Delivery, now: datetime) -> None:
    """A row is no longer pending (sent, failed or missed)."""
    after = kind_of(delivery.kind).settled
    if after is not None:
        after(session, delivery, now)


def report_failure(session: Session, delivery: Delivery, now: datetime) -> Delivery | None:
    """The default: the member whose command queued the row hears, once, that it could not be delivered."""
    if delivery.created_by_id is None:
        return None
    recipient: object = ", ".join(f"@{display_name(session, person)}" for person in delivery.recipient.split(","))
    if delivery.recipient_kind == "channel":
        recipient = ChannelMention(delivery.recipient, delivery.recipient)  # the row knows no name: its id
    body = Reply.of(Strings.FAILED, recipient=recipient, error=delivery.error)
    return queue_report(session, delivery.created_by_id, failure_report_key(delivery.id), body, now)


def display_name(session: Session, external_id: str) -> str:
    member = queries.get_member(session=session, external_id=external_id)
    return member.display_name if member else external_id


# --- the kinds whose words are the row's own ------------------------------------------------------------


def _render_notice(_session: Session, delivery: Delivery, _settings: HandlerSettings, _now: datetime) -> Reply:
    return reply_from_dict(json.loads(delivery.body or "{}"))


def _render_report(_session: Session, delivery: Delivery, _settings: HandlerSettings, _now: datetime) -> Reply:
    body = delivery.body or ""
    if body.startswith("{"):  # a reply kept as JSON; a report's text (and every row before them) is our words
        with contextlib.suppress(ValueError, KeyError, TypeError):
            return reply_from_dict(json.loads(body))
    return Reply.of("{body}", body=body)


register(Kind(RowKind.NOTICE, _render_notice))
register(Kind(RowKind.REPORT, _render_report, report_failures=False))
