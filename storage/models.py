"""The tables. Timestamps are aware UTC; names are unique case-insensitively through `*_key` columns."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import cast

from pydantic import ConfigDict
from sqlalchemy import JSON, CheckConstraint, Column, Index, Text, text
from sqlalchemy.orm import Mapped
from sqlmodel import Field, SQLModel, col

from core.audit import AuditKind
from core.text import fold_name
from storage.types import UTCDateTime

NAME_KEY_LENGTH = 80
# A platform's id with its prefix (`slack:U123`): every column holding one is this long. The prefix is at most
# PLATFORM_NAME_LENGTH characters and an id at most 255 (Matrix's user and room ids); tests/bot/test_platforms.py
# holds every registered platform to it.
PLATFORM_NAME_LENGTH = 16
PLATFORM_ID_LENGTH = 300
# audit_entry.what holds one of core.audit.AuditKind (migration 0013 writes the same list).
AUDIT_KINDS_CHECK = "what IN (" + ", ".join(f"'{kind.value}'" for kind in AuditKind) + ")"


class DeliveryStatus(StrEnum):
    """Where a row of the delivery ledger is in its life; only handlers.ledger moves it from one to the next."""

    PENDING = "pending"  # owed: waits for its time (or its next attempt)
    SENDING = "sending"  # claimed by one process, which is sending it
    SENT = "sent"
    FAILED = "failed"  # for good: the platform refused it, or it gave up after retries
    MISSED = "missed"  # too late to be useful (its event began) when its turn came
    WITHDRAWN = "withdrawn"  # taken back before it went (an RSVP withdrawn, an event cancelled, a person erased)


OWED_STATUSES = (DeliveryStatus.PENDING, DeliveryStatus.SENDING)  # still to go
SETTLED_STATUSES = (DeliveryStatus.SENT, DeliveryStatus.FAILED, DeliveryStatus.MISSED)  # never sent again
# delivery.status holds one of DeliveryStatus (migration 0016 writes the same list).
DELIVERY_STATUS_CHECK = "status IN (" + ", ".join(f"'{status.value}'" for status in DeliveryStatus) + ")"


def utc_column(nullable: bool = False) -> Column[datetime]:
    return Column(UTCDateTime(), nullable=nullable)


def name_key(name: str) -> str:
    """The form a city's or cohort's name is unique and found by: case, accents, spaces, hyphens and punctuation
    aside (`Saint-Étienne` is `saint etienne`), as long as the column (migration 0010 keys existing rows)."""
    return fold_name(name)[:NAME_KEY_LENGTH]


class Row(SQLModel):
    """Every table's base. Rows are made and loaded through SQLAlchemy, which pydantic does not validate, so a
    table's pydantic validator and serializer are built the first time something asks for them (defer_build), not
    at every start (a sixth of importing the tables)."""

    # SQLModel types model_config as its SQLModelConfig, pydantic's ConfigDict plus table options; this is one.
    model_config = ConfigDict(defer_build=True)  # type: ignore[assignment]

    @property
    def stored_id(self) -> int:
        """The id of a row that is stored: the tables say `int | None` only because a new row has none before it
        is flushed, so this is the id typed as what it then is; asking it of a row not yet flushed is a bug, said
        here rather than passed on as None."""
        found: int | None = getattr(self, "id", None)
        if found is None:
            raise LookupError(f"this {type(self).__name__} is not stored yet: it has no id")
        return found


class Cohort(Row, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=80)
    name_key: str = Field(max_length=80, unique=True)
    created_at: datetime = Field(sa_column=utc_column())


class Track(Row, table=True):
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=40, unique=True)
    name: str = Field(max_length=120)
    active: bool = True


class City(Row, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=80)
    name_key: str = Field(max_length=80, unique=True)
    country: str = Field(max_length=2)
    population: int | None = None
    mentor: bool = False
    cohort_id: int | None = Field(default=None, foreign_key="cohort.id", index=True)
    created_at: datetime = Field(sa_column=utc_column())


class Member(Row, table=True):
    """A person on a platform and what they may do. `external_id` carries the platform (`slack:U123`,
    `discord:80351110224678912`); a console name carries none, so people of different platforms never collide."""

    id: int | None = Field(default=None, primary_key=True)
    external_id: str = Field(max_length=PLATFORM_ID_LENGTH, unique=True)
    display_name: str = Field(max_length=80)
    tz: str | None = Field(default=None, max_length=64)
    # True once the person chose `tz` themselves (/city timezone): the platform's zone no longer replaces it.
    tz_chosen: bool = False
    # The language CityPeers writes to the person in: the one the platform reports (Discord's interaction locale,
    # Slack's users.info), until the person chooses one (/city language): then `locale_chosen` is True.
    locale: str | None = Field(default=None, max_length=16)
    locale_chosen: bool = False
    role: str = Field(default="none", max_length=16)
    city_id: int | None = Field(default=None, foreign_key="city.id", index=True)
    created_at: datetime = Field(sa_column=utc_column())
    # When the platform said the person left (Slack: deactivated); erased CITYPEERS_FORGET_DEPARTED_DAYS later.
    left_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class CityInterest(Row, table=True):
    city_id: int = Field(foreign_key="city.id", primary_key=True)
    track_id: int = Field(foreign_key="track.id", primary_key=True)


class CityItem(Row, table=True):
    """Something a city offers or needs, in its own words."""

    __tablename__ = "city_item"
    id: int | None = Field(default=None, primary_key=True)
    city_id: int = Field(foreign_key="city.id", index=True)
    kind: str = Field(max_length=8)  # "offer" or "need"
    text: str = Field(max_length=500)
    created_by_id: int | None = Field(default=None, foreign_key="member.id")
    created_at: datetime = Field(sa_column=utc_column())


class JoinRequest(Row, table=True):
    __tablename__ = "join_request"
    # One open request per person and city, however often they type /city join.
    __table_args__ = (
        Index(
            "uq_join_request_pending",
            "member_id",
            "city_id",
            unique=True,
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    city_id: int = Field(foreign_key="city.id", index=True)
    status: str = Field(default="pending", max_length=16)  # pending, approved, rejected
    created_at: datetime = Field(sa_column=utc_column())
    decided_by_id: int | None = Field(default=None, foreign_key="member.id")
    decided_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


# --- matching (issue 3): introductions, not-a-fit lists, pauses, rounds, follow-up outcomes ----------


class MatchRound(Row, table=True):
    __tablename__ = "match_round"
    id: int | None = Field(default=None, primary_key=True)
    cohort_id: int | None = Field(default=None, foreign_key="cohort.id", index=True)
    created_by_id: int | None = Field(default=None, foreign_key="member.id")
    created_at: datetime = Field(sa_column=utc_column())


class Introduction(Row, table=True):
    """Two cities put in touch; the city, not the person, is the unit, so this outlives any rep."""

    # The follow-up sweep asks "due and not sent" every few minutes.
    __table_args__ = (Index("ix_introduction_followup_due", "followup_due_at", "followup_sent_at"),)
    id: int | None = Field(default=None, primary_key=True)
    # The pair is stored lower id first, so "were A and B introduced?" is one indexed lookup.
    city_a_id: int = Field(foreign_key="city.id", index=True)
    city_b_id: int = Field(foreign_key="city.id", index=True)
    created_by_id: int | None = Field(default=None, foreign_key="member.id")
    round_id: int | None = Field(default=None, foreign_key="match_round.id", index=True)
    conversation_id: str | None = Field(default=None, max_length=PLATFORM_ID_LENGTH)
    reasons: list[dict[str, object]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(sa_column=utc_column())
    followup_due_at: datetime = Field(sa_column=utc_column())
    followup_sent_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class IntroductionOutcome(Row, table=True):
    """What one city says came of an introduction (each side answers for itself)."""

    __tablename__ = "introduction_outcome"
    introduction_id: int = Field(foreign_key="introduction.id", primary_key=True)
    city_id: int = Field(foreign_key="city.id", primary_key=True)
    met: bool
    outcome: str = Field(max_length=24)  # shared-practice, joint-proposal, site-visit, nothing-yet
    answered_by_id: int | None = Field(default=None, foreign_key="member.id")
    answered_at: datetime = Field(sa_column=utc_column())


class NotAFit(Row, table=True):
    """A city the asker's city does not want suggested again."""

    __tablename__ = "not_a_fit"
    city_id: int = Field(foreign_key="city.id", primary_key=True)
    other_city_id: int = Field(foreign_key="city.id", primary_key=True)
    created_by_id: int | None = Field(default=None, foreign_key="member.id")
    created_at: datetime = Field(sa_column=utc_column())


class MatchPause(Row, table=True):
    __tablename__ = "match_pause"
    city_id: int = Field(foreign_key="city.id", primary_key=True)
    until: datetime = Field(sa_column=utc_column())
    created_by_id: int | None = Field(default=None, foreign_key="member.id")
    created_at: datetime = Field(sa_column=utc_column())


class ProfileRevision(Row, table=True):
    """The revision at which a city's declared profile last changed, so every process's match index
    reloads only the cities that changed. Row `city_id = 0` is the counter itself."""

    __tablename__ = "profile_revision"
    city_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    revision: int = Field(index=True)


# --- three-month goals (issue 5): goals, their history, collaborators, check-ins sent ------------------


class Goal(Row, table=True):
    """A city's commitment for the next months; only the city's reps change it."""

    id: int | None = Field(default=None, primary_key=True)
    city_id: int = Field(foreign_key="city.id", index=True)
    text: str = Field(max_length=500)
    track_id: int | None = Field(default=None, foreign_key="track.id", index=True)
    due_on: date = Field(index=True)
    # new (nobody reported on it yet), on-track, at-risk, done, dropped
    status: str = Field(default="new", max_length=16)
    created_by_id: int | None = Field(default=None, foreign_key="member.id")
    created_at: datetime = Field(sa_column=utc_column())
    # The last change of any kind, so the weekly digest finds "changed this week" in one query.
    updated_at: datetime = Field(sa_column=utc_column())
    closed_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    learnings: str | None = Field(default=None, max_length=1000)


class GoalUpdate(Row, table=True):
    """One entry of a goal's history: the status it took, a note, who and when."""

    __tablename__ = "goal_update"
    id: int | None = Field(default=None, primary_key=True)
    goal_id: int = Field(foreign_key="goal.id", index=True)
    status: str = Field(max_length=16)
    note: str | None = Field(default=None, max_length=500)
    member_id: int | None = Field(default=None, foreign_key="member.id")
    created_at: datetime = Field(sa_column=utc_column())


class GoalCollaborator(Row, table=True):
    """A city the goal's city would like to work with on it."""

    __tablename__ = "goal_collaborator"
    goal_id: int = Field(foreign_key="goal.id", primary_key=True)
    city_id: int = Field(foreign_key="city.id", primary_key=True, index=True)


class GoalCheckin(Row, table=True):
    """A check-in DM sent for a goal; the unique pair means each kind goes out once, even across processes."""

    __tablename__ = "goal_checkin"
    __table_args__ = (Index("uq_goal_checkin_goal_kind", "goal_id", "kind", unique=True),)
    id: int | None = Field(default=None, primary_key=True)
    goal_id: int = Field(foreign_key="goal.id")
    kind: str = Field(max_length=16)  # month-before, due
    sent_at: datetime = Field(sa_column=utc_column())


# --- events and reminders (issue 4) ---------------------------------------------------------------


class Event(Row, table=True):
    """A City Lab, summit or meeting; `rrule` makes it recur. Times are UTC, shown in `tz`."""

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=200)
    description: str = Field(default="", max_length=2000)
    start_at: datetime = Field(sa_column=utc_column())
    end_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    tz: str = Field(max_length=64)
    location: str = Field(default="", max_length=300)
    cohort_id: int | None = Field(default=None, foreign_key="cohort.id")
    channel_id: str | None = Field(default=None, max_length=PLATFORM_ID_LENGTH)
    channel_name: str | None = Field(default=None, max_length=80)
    rrule: str | None = Field(default=None, max_length=300)
    remind: str = Field(max_length=64)  # offsets as typed, longest first: "7d,1d,1h"
    status: str = Field(default="scheduled", max_length=16)  # scheduled, cancelled
    sequence: int = 0  # bumped on every change, as iCalendar's SEQUENCE
    created_by_id: int | None = Field(default=None, foreign_key="member.id")
    created_at: datetime = Field(sa_column=utc_column())
    # A day (or days) without a time: starts at local midnight of its first day, `end_at` is local midnight
    # after its last day (exclusive, as iCalendar's DTEND;VALUE=DATE).
    all_day: bool = False
    # A recurring event's reminders are in the ledger for every occurrence up to here (handlers.event_reminders).
    reminders_until: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class EventOccurrence(Row, table=True):
    """One occurrence of a recurring event changed on its own: cancelled, or moved (a new start, end or place).

    `original_at` is the start the rule gives (iCalendar's RECURRENCE-ID); the rule itself is unchanged."""

    __tablename__ = "event_occurrence"
    event_id: int = Field(foreign_key="event.id", primary_key=True)
    original_at: datetime = Field(sa_column=Column(UTCDateTime(), primary_key=True))
    status: str = Field(default="moved", max_length=16)  # moved, cancelled
    start_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    end_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    location: str | None = Field(default=None, max_length=300)
    changed_by_id: int | None = Field(default=None, foreign_key="member.id")
    changed_at: datetime = Field(sa_column=utc_column())


class Rsvp(Row, table=True):
    event_id: int = Field(foreign_key="event.id", primary_key=True)
    member_id: int = Field(foreign_key="member.id", primary_key=True, index=True)
    created_at: datetime = Field(sa_column=utc_column())


class Broadcast(Row, table=True):
    id: int | None = Field(default=None, primary_key=True)
    channel_id: str = Field(max_length=PLATFORM_ID_LENGTH)
    channel_name: str = Field(max_length=80)
    text: str = Field(max_length=3000)
    send_at: datetime = Field(sa_column=utc_column())
    created_by_id: int | None = Field(default=None, foreign_key="member.id")
    created_at: datetime = Field(sa_column=utc_column())
    reported_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    # Withdrawn by an organiser before it was sent (/event broadcast cancel), and by whom.
    cancelled_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    cancelled_by_id: int | None = Field(default=None, foreign_key="member.id")


class Delivery(Row, table=True):
    """One message to one recipient, written before it is sent and marked after: the truth of what is owed.

    `key` (what, occurrence, offset, recipient) is unique, so nothing is ever queued twice; a row is claimed
    (status `sending`) by one worker at a time, so nothing is ever sent twice.
    """

    __table_args__ = (
        Index("ix_delivery_status_next_attempt", "status", "next_attempt_at"),
        # The planner's: rows still to place (status first: settled rows are never looked at), and a send's rows.
        Index("ix_delivery_to_plan", "status", "planned", "platform"),
        Index("ix_delivery_platform_due", "platform", "due_at", "next_attempt_at"),
        CheckConstraint(DELIVERY_STATUS_CHECK, name="ck_delivery_status"),
    )
    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200, unique=True)
    kind: str = Field(max_length=16)  # a kind of handlers.ledger: reminder, broadcast, notice, report, calendar…
    # The recipient's platform (`slack`, `discord`; `` for the console's people): a process claims only rows of
    # the platforms it serves.
    platform: str = Field(default="", max_length=PLATFORM_NAME_LENGTH)
    event_id: int | None = Field(default=None, foreign_key="event.id", index=True)
    broadcast_id: int | None = Field(default=None, foreign_key="broadcast.id", index=True)
    occurrence_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    offset_minutes: int | None = None
    # A channel id, a member's external id (a DM), or several external ids joined by commas (a group DM).
    recipient: str = Field(sa_column=Column(Text, nullable=False))
    recipient_kind: str = Field(max_length=8)  # channel, user, group
    # A report's text, or a notice's reply as JSON (check-ins, follow-ups, digests), rendered when sent.
    body: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    due_at: datetime = Field(sa_column=utc_column())
    # When it is sent (a process claims it then): first the time handlers.ledger.plan gives it by its platform's
    # pace, so that the last of a reminder's messages still goes by its due time; after a failure, the retry's.
    next_attempt_at: datetime = Field(sa_column=utc_column())
    planned: bool = False  # next_attempt_at was placed by the plan (a row is queued unplanned, at its due time)
    status: str = Field(default=DeliveryStatus.PENDING, max_length=16)  # a DeliveryStatus
    late: bool = False
    attempts: int = 0
    claimed_by: str | None = Field(default=None, max_length=64)
    claim_expires_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    sent_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    error: str | None = Field(default=None, max_length=200)
    # The language it is written in, fixed when it is first rendered: a retry or a takeover writes the same bytes.
    locale: str | None = Field(default=None, max_length=16)
    # Set, and committed, just before the platform is called; cleared with the outcome. A claim retaken while it
    # is set means a process died mid-send: the platform is asked whether the message arrived before resending.
    attempted_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    # Whose command decided to send it (a notice), so a failure is reported to them.
    created_by_id: int | None = Field(default=None, foreign_key="member.id")


class SeenEvent(Row, table=True):
    """A platform event id already handled, shared by every process: a retry that reaches another process than
    the first delivery is still answered once. Old rows are pruned."""

    __tablename__ = "seen_event"
    event_id: str = Field(primary_key=True, max_length=PLATFORM_ID_LENGTH)
    seen_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))


class CalendarFeed(Row, table=True):
    """A private calendar feed URL: only the token's SHA-256 is kept, so the table alone opens no feed.

    `content_hash` and `changed_at` remember the feed as last served, for ETag and Last-Modified.
    """

    __tablename__ = "calendar_feed"
    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    scope: str = Field(max_length=8)  # rsvp (the events the member attends) or all
    created_at: datetime = Field(sa_column=utc_column())
    revoked_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    content_hash: str | None = Field(default=None, max_length=64)
    changed_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class StoredCommand(Row, table=True):
    """A button's command too long for its platform's payload (Discord's custom_id holds 100 characters): the
    button carries `token`, a hash of the command, so the same command always gets the same short id."""

    __tablename__ = "stored_command"
    token: str = Field(primary_key=True, max_length=32)
    command: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(sa_column=utc_column())


class DiscordScheduledEvent(Row, table=True):
    """The Discord scheduled event that shows one of our events in a server's event list (bot/discord/events.py):
    `event_uid` is the event's calendar uid, `canceled` once Discord's copy is cancelled too."""

    __tablename__ = "discord_scheduled_event"
    event_uid: str = Field(primary_key=True, max_length=255)
    guild_id: str = Field(max_length=32)
    scheduled_event_id: str = Field(max_length=32)
    canceled: bool = False
    updated_at: datetime = Field(sa_column=utc_column())


class AuditEntry(Row, table=True):
    """One privileged act (core.audit.AuditKind): who, on which platform, what, to which object, before and after,
    when. Written in the act's own transaction and never changed; only retention deletes old rows.

    `actor_id` is the member's id at the time and has no foreign key, so the entry outlives the member row (a person
    forgotten); `actor` is their external id then (`cli` for the command line). `subject` is the external id of the
    person the act is about, if any, so a person's export finds the entries about them."""

    __tablename__ = "audit_entry"
    __table_args__ = (CheckConstraint(AUDIT_KINDS_CHECK, name="ck_audit_entry_what"),)
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    actor_id: int | None = None
    actor: str = Field(max_length=PLATFORM_ID_LENGTH, index=True)
    platform: str = Field(default="", max_length=PLATFORM_NAME_LENGTH)
    what: str = Field(max_length=24)
    object_kind: str = Field(max_length=16)
    object_id: str = Field(max_length=PLATFORM_ID_LENGTH)
    object_name: str = Field(default="", max_length=200)
    subject: str | None = Field(default=None, max_length=PLATFORM_ID_LENGTH, index=True)
    before: dict[str, object] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    after: dict[str, object] | None = Field(default=None, sa_column=Column(JSON, nullable=True))


class DashboardLink(Row, table=True):
    """A private link to the web dashboard (/goal dashboard): only the token's SHA-256 is kept, so the table alone
    opens no dashboard. The owner's role is checked again at every request, so losing it closes the link."""

    __tablename__ = "dashboard_link"
    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    created_at: datetime = Field(sa_column=utc_column())
    revoked_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


def key(column: int | None) -> Mapped[int]:
    """A primary key selected as a column: typed int, as it is in every stored row (the model says int | None only
    because a row has no id before it is inserted)."""
    return cast("Mapped[int]", col(column))
