"""Our events in a Discord server's own event list: one external scheduled event per event, kept in step.

An event posted in a Discord channel reaches us as ledger rows of kind `calendar` (one per change, see
handlers.event.queue_calendar), each carrying the event as it is now. The first creates a scheduled event in the
channel's server (`entity_type` 3, EXTERNAL: a place, a start and an end, visible to the server's members); the
next ones PATCH it, and a cancelled event cancels it (status 4). Which scheduled event shows which of ours is
kept in the `discord_scheduled_event` table, so any process can continue where another stopped. CityPeers' own
ledger still sends the reminders: Discord's "interested" list is not read.

Without the Create Events permission (Manage Events for events made by someone else) Discord answers 403
50013: the row fails with a sentence naming the permission, and the organiser hears it once per channel
(handlers.event.failure_report); the command that changed the event has already answered.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Engine

from bot.delivery import Arrival, Outgoing, SendOutcome
from bot.discord.api import DiscordClient, DiscordError
from bot.discord.render import discord_id
from storage import discord_queries
from storage.db import run_transaction, unit_of_work
from storage.discord_queries import is_marker
from storage.models import DiscordScheduledEvent

if TYPE_CHECKING:
    from core.calendar import Entry
    from core.clock import Clock

log = logging.getLogger(__name__)

EXTERNAL, GUILD_ONLY, CANCELED = 3, 2, 4
DEFAULT_LENGTH = timedelta(hours=1)  # an external event needs an end; ours may have none
NAME_CHARS, LOCATION_CHARS, DESCRIPTION_CHARS = 100, 100, 1000
MISSING_PERMISSIONS, UNKNOWN_EVENT = 50013, 10070
NEEDS_PERMISSION = (
    "grant CityPeers the Create Events permission (Manage Events also does) in the server's settings, under Roles"
)
CREATING_FOR = timedelta(minutes=2)  # a create older than this was lost with its process (requests time out sooner)
BUSY_RETRY_SECONDS = 3.0
PERMANENT = {10003: "the channel is gone", 10004: "the server is gone", 50001: "CityPeers cannot see the channel"}


class ScheduledEvents:
    def __init__(self, client: DiscordClient, engine: Engine, clock: Clock) -> None:
        self.client = client
        self.engine = engine
        self.clock = clock
        self._channels: dict[str, dict[str, Any]] = {}  # channel id -> its guild id and name
        self._lock = threading.Lock()

    def send(self, message: Outgoing) -> SendOutcome:
        try:
            self.sync(message.entry, discord_id(message.recipient) or message.recipient, marker=marker_of(message))
        except Busy:
            return SendOutcome("retry", retry_after=BUSY_RETRY_SECONDS, error="another process is creating it")
        except DiscordError as error:
            return outcome_of(error)
        return SendOutcome.sent()

    def arrived(self, message: Outgoing, since: datetime) -> Arrival:
        """A create whose answer was lost may have made the event: adopt one with the same name and start, so the
        next attempt edits it instead of making a second one."""
        entry = message.entry
        if entry is None:
            return Arrival.ABSENT
        known = self._known(entry.uid)
        if known is not None and not is_marker(known.scheduled_event_id):
            return Arrival.ABSENT  # sending again edits what is known: nothing doubles
        try:
            guild, _ = self._channel(discord_id(message.recipient) or message.recipient)
            self._adopt(entry, guild)
        except DiscordError as error:
            return Arrival.LATER if error.status in (0, 429) or error.status >= 500 else Arrival.UNKNOWN
        return Arrival.ABSENT

    # --- keeping one event in step -------------------------------------------------------------------------

    def sync(self, entry: Entry | None, channel: str, *, marker: str) -> None:
        """Make the server's copy match `entry`. Creating one takes a claim on the map's row first (see
        storage.discord_queries.claim_creation), so two processes sending two changes of a new event at once
        make one scheduled event: the second waits (Busy) and then edits it."""
        if entry is None:
            return  # the event has taken place: nothing left to show
        known = self._known(entry.uid)
        if known is not None and is_marker(known.scheduled_event_id) and known.scheduled_event_id != marker:
            if not self._stale(known):
                raise Busy
            # Its creator died mid-create: Discord may hold what it made.
            found = self._adopt(entry, known.guild_id)
            known = self._known(entry.uid) if found else known
        if entry.cancelled:
            if known is not None and is_marker(known.scheduled_event_id):
                self._forget(entry.uid, known.scheduled_event_id)  # nothing was made: nothing to cancel
            elif known is not None and not known.canceled:
                self._cancel(known)
            return
        guild, name = self._channel(channel)
        if known is not None and not is_marker(known.scheduled_event_id) and known.guild_id != guild:
            if not known.canceled:  # the event moved to another server's channel
                self._cancel(known)
            known = self._known(entry.uid)
        body = event_body(entry, default_location=f"#{name}" if name else "Discord")
        if known is not None and not known.canceled and not is_marker(known.scheduled_event_id):
            try:
                self.client.request("PATCH", f"/guilds/{guild}/scheduled-events/{known.scheduled_event_id}", body=body)
                return
            except DiscordError as error:
                if error.code != UNKNOWN_EVENT:
                    raise
                # Someone deleted it in Discord: make it again.
        replacing = None if known is None else known.scheduled_event_id
        if not self._claim(entry.uid, guild, replacing, marker):
            raise Busy
        try:
            created = self.client.request("POST", f"/guilds/{guild}/scheduled-events", body=body)
        except DiscordError as error:
            if outcome_of(error).certain:  # certainly not made: the next change may try again
                self._forget(entry.uid, marker)
            raise
        self._remember(entry.uid, guild, str(created["id"]), canceled=False)

    def _cancel(self, known: DiscordScheduledEvent) -> None:
        path = f"/guilds/{known.guild_id}/scheduled-events/{known.scheduled_event_id}"
        try:
            self.client.request("PATCH", path, body={"status": CANCELED})
        except DiscordError as error:
            # Gone, already over or under way (Discord cancels only a scheduled one): nothing left to cancel.
            if error.status not in (400, 404):
                raise
            log.info("scheduled event %s not cancelled: %s", known.scheduled_event_id, error)
        self._remember(known.event_uid, known.guild_id, known.scheduled_event_id, canceled=True)

    def _adopt(self, entry: Entry, guild: str) -> str | None:
        """Look in the server's list for the event a lost create may have made (same name and start)."""
        found = self.client.request("GET", f"/guilds/{guild}/scheduled-events")
        start = _stamp(entry.start)
        for event in found or []:
            same_name = isinstance(event, dict) and event.get("name") == entry.title[:NAME_CHARS]
            if same_name and _same_instant(event.get("scheduled_start_time"), start):
                self._remember(entry.uid, guild, str(event["id"]), canceled=False)
                return str(event["id"])
        return None

    def _stale(self, known: DiscordScheduledEvent) -> bool:
        return known.updated_at < self.clock.now() - CREATING_FOR

    def _channel(self, channel: str) -> tuple[str, str]:
        """The server a channel belongs to, and the channel's name (asked once per channel)."""
        with self._lock:
            found = self._channels.get(channel)
        if found is None:
            found = self.client.request("GET", f"/channels/{channel}") or {}
            with self._lock:
                self._channels[channel] = found
        guild = found.get("guild_id")
        if not guild:
            raise DiscordError(400, None, "not a server channel")
        return str(guild), str(found.get("name") or "")

    # --- which scheduled event shows which event -----------------------------------------------------------

    def _known(self, uid: str) -> DiscordScheduledEvent | None:
        with unit_of_work(self.engine) as session:
            row = discord_queries.get_scheduled_event(session=session, event_uid=uid)
            if row is not None:
                session.expunge(row)
            return row

    def _remember(self, uid: str, guild: str, scheduled_event_id: str, *, canceled: bool) -> None:
        run_transaction(
            self.engine,
            lambda session: discord_queries.remember_scheduled_event(
                session=session,
                event_uid=uid,
                guild_id=guild,
                scheduled_event_id=scheduled_event_id,
                canceled=canceled,
                now=self.clock.now(),
            ),
        )

    def _claim(self, uid: str, guild: str, replacing: str | None, marker: str) -> bool:
        now = self.clock.now()
        return run_transaction(
            self.engine,
            lambda session: discord_queries.claim_creation(
                session=session,
                event_uid=uid,
                guild_id=guild,
                replacing=replacing,
                marker=marker,
                now=now,
                stale_before=now - CREATING_FOR,
            ),
        )

    def _forget(self, uid: str, marker: str) -> None:
        run_transaction(
            self.engine, lambda session: discord_queries.release_creation(session=session, event_uid=uid, marker=marker)
        )


class Busy(Exception):
    """Another process is creating this event's scheduled event right now: try again once it has."""


def marker_of(message: Outgoing) -> str:
    """What a create under way leaves in the map: the same for every attempt of one ledger row."""
    return discord_queries.MARKER + hashlib.sha256(message.key.encode()).hexdigest()[:24]


def event_body(entry: Entry, *, default_location: str) -> dict[str, Any]:
    """An external, server-only scheduled event for `entry` (its next occurrence for a repeating one)."""
    end = entry.end or entry.start + DEFAULT_LENGTH
    body: dict[str, Any] = {
        "name": entry.title[:NAME_CHARS],
        "privacy_level": GUILD_ONLY,
        "entity_type": EXTERNAL,
        "entity_metadata": {"location": (entry.location.strip() or default_location)[:LOCATION_CHARS]},
        "scheduled_start_time": _stamp(entry.start),
        "scheduled_end_time": _stamp(end),
    }
    if entry.description.strip():
        body["description"] = entry.description[:DESCRIPTION_CHARS]
    return body


def outcome_of(error: DiscordError) -> SendOutcome:
    if error.status == 429:
        return SendOutcome("retry", retry_after=error.retry_after or 1.0, error="ratelimited")
    if error.code == MISSING_PERMISSIONS:
        return SendOutcome("failed", error=NEEDS_PERMISSION)
    if error.code in PERMANENT:
        return SendOutcome("failed", error=PERMANENT[error.code])
    if 400 <= error.status < 500:
        return SendOutcome("failed", error=f"Discord refused it ({error.status} {error.code}: {error.message})"[:200])
    # A 5xx or a dropped connection: a create may have happened; arrived() looks for it before the next try.
    return SendOutcome("retry", error=f"http_{error.status}" if error.status else "unreachable", certain=False)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def _same_instant(value: Any, stamp: str) -> bool:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")) == datetime.fromisoformat(stamp)
    except ValueError:
        return False
