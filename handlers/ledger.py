"""The delivery ledger's one owner: every row is queued here, and the engine asks here what a row says.

A row of the ledger (storage.models.Delivery) is one message to one recipient, written before it is sent. Each
row has a kind, and each kind is registered here once with what only it knows:
- `render`: the message, rendered when it is sent, so it shows the world as it is then;
- `missed`: whether it is too late to be useful (the event began, organisers decided every request …);
- `on_failure`: whom a permanent failure is told (by default whoever asked for the message, once);
- `settled`: what follows once it is sent, failed or missed (a broadcast's summary);
- `calendar`: what a platform with its own event list should show (Discord's scheduled events).
Handlers queue through `queue()`, whose keys are all built by `key()`; the delivery engine (bot/delivery.py)
dispatches through `render()`, `is_missed()`, `failed()` and `settled()`. A kind is registered by the module
that knows its words, imported the first time a row of that kind is handled (start-up loads none of them).
"""

from __future__ import annotations

import contextlib
import importlib
import json
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlmodel import Session

from core.text import ChannelMention
from handlers.types import HandlerSettings, Notice, Reply, reply_from_dict, reply_to_dict
from storage import event_queries, queries
from storage.models import Delivery, Member

if TYPE_CHECKING:
    from core.calendar import Entry

MAX_KEY = 200


class RowKind(StrEnum):
    REMINDER = "reminder"  # an event's reminder, to its channel or to one attendee
    BROADCAST = "broadcast"  # an organiser's message to a channel, now or later
    NOTICE = "notice"  # a reply kept as JSON: check-ins, follow-ups, digests, introductions, event changes
    REPORT = "report"  # a line to whoever asked for something: a broadcast's summary, a failure
    CALENDAR = "calendar"  # no message: show an event in a platform's own event list
    JOIN_REQUESTS = "joinreqs"  # an organiser's list of waiting join requests, rendered when sent


class Strings:
    FAILED = "Could not deliver to {recipient}: {error}. It will not be retried."


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


def key(*parts: object) -> str:
    """The one form of a row's key: its parts joined by colons (what, which, when, to whom), at most 200."""
    return ":".join(str(part) for part in parts)[:MAX_KEY]


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
        key=key[:MAX_KEY],
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
    return event_queries.queue_delivery(session=session, delivery=row)


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
        prefix = name or key("notice", uuid.uuid4().hex)
        targets = (
            [("group", ",".join(notice.recipients))]
            if notice.together
            else [("user", recipient) for recipient in notice.recipients]
        )
        for recipient_kind, recipient in targets:
            row = queue(
                session,
                kind=RowKind.NOTICE,
                key=key(prefix, recipient),
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


# --- what the engine asks ------------------------------------------------------------------------------


def render(session: Session, delivery: Delivery, settings: HandlerSettings, now: datetime) -> Reply:
    return kind_of(delivery.kind).render(session, delivery, settings, now)


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
    return queue_report(session, delivery.created_by_id, key("report", "failed", delivery.id), body, now)


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
