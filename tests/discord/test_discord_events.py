"""Events native to Discord: an event added in a Discord channel also shows in the server's own event list (an
external scheduled event), kept in step when it is edited or cancelled; without the permission to make events
the command still works and the organiser is told once which permission to grant."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta

from bot.delivery import Outgoing, SendOutcome
from bot.discord.events import ScheduledEvents
from core.calendar import Entry
from core.clock import FakeClock
from handlers.types import Reply
from tests.discord.conftest import ADMIN, ANA, LABS, Bot
from tests.support.discord import GUILD_ID

CREATE = "POST /guilds/{guild_id}/scheduled-events"
EDIT = "PATCH /guilds/{guild_id}/scheduled-events/{event_id}"


def run(bot: Bot, who: str, command: str, sub: str | None = None, **options: object) -> str:
    answer = bot.interactions.command(who, command, sub, options)
    assert answer.status == 200 and answer.type == 5, answer.body
    return bot.discord.wait_for_original(answer.token)["content"]


def listed(bot: Bot, **wanted: object) -> dict:
    """The server's one scheduled event, once it has the wanted fields."""

    def found() -> dict | None:
        events = bot.discord.scheduled_events(GUILD_ID)
        assert len(events) <= 1, events
        return next((e for e in events if all(e.get(k) == v for k, v in wanted.items())), None)

    return bot.discord.wait_for(found, what=f"a scheduled event with {wanted}")


def test_an_event_added_edited_and_cancelled_in_discord_is_kept_in_step_in_the_servers_event_list(bot: Bot) -> None:
    added = run(
        bot, ADMIN, "event", "add", title="City Lab", start="2026-12-01 10:00", where="Brno City Hall", channel=LABS
    )
    assert added.startswith("Scheduled **City Lab** (event 1)"), added
    event = listed(bot, name="City Lab")
    assert event["entity_type"] == 3 and event["privacy_level"] == 2 and event["status"] == 1
    assert event["entity_metadata"] == {"location": "Brno City Hall"}
    assert event["channel_id"] is None
    # Brussels time in December is UTC+1; no end given: an hour long.
    assert (event["scheduled_start_time"], event["scheduled_end_time"]) == (
        "2026-12-01T09:00:00+00:00",
        "2026-12-01T10:00:00+00:00",
    )

    edited = run(bot, ADMIN, "event", "edit", id=1, title="City Lab: mobility", start="2026-12-02 14:00",
                 end="2026-12-02 16:30", where="Porto, Rua das Flores 12")  # fmt: skip
    assert "changed" in edited, edited
    moved = listed(bot, name="City Lab: mobility")
    assert moved["id"] == event["id"]  # the same scheduled event, edited
    assert moved["entity_metadata"] == {"location": "Porto, Rua das Flores 12"}
    assert (moved["scheduled_start_time"], moved["scheduled_end_time"]) == (
        "2026-12-02T13:00:00+00:00",
        "2026-12-02T15:30:00+00:00",
    )

    assert "is cancelled" in run(bot, ADMIN, "event", "cancel", id=1)
    cancelled = listed(bot, status=4)
    assert cancelled["id"] == event["id"]
    assert len(bot.discord.calls(CREATE)) == 1
    assert [c.body for c in bot.discord.calls(EDIT)][-1] == {"status": 4}
    # CityPeers' own ledger still sends the reminders: nothing asked who is "interested".
    assert bot.discord.calls("GET /guilds/{guild_id}/scheduled-events/{event_id}/users") == []


def test_without_a_place_the_channel_is_the_location_and_an_rsvp_changes_nothing_there(bot: Bot) -> None:
    run(bot, ADMIN, "event", "add", title="Summit", start="2026-12-03 09:30", end="2026-12-03 17:00", channel=LABS)
    event = listed(bot, name="Summit")
    assert event["entity_metadata"] == {"location": "#city-labs"}
    assert event["scheduled_end_time"] == "2026-12-03T16:00:00+00:00"
    assert run(bot, ANA, "event", "rsvp", id=1).startswith("You are attending")
    run(bot, ADMIN, "event", "remind", id=1, offsets="1d")  # reminders change; the event does not
    assert len(bot.discord.calls(CREATE)) == 1 and bot.discord.calls(EDIT) == []


def test_an_event_without_a_channel_or_outside_discord_makes_no_scheduled_event(bot: Bot) -> None:
    assert run(bot, ADMIN, "event", "add", title="Call", start="2026-12-03 09:30").startswith("Scheduled")
    assert bot.discord.calls(CREATE) == []


def test_without_the_permission_the_command_still_works_and_the_organiser_is_told_once(bot: Bot) -> None:
    bot.discord.deny_permission("CREATE_EVENTS")
    bot.discord.deny_permission("MANAGE_EVENTS")
    added = run(bot, ADMIN, "event", "add", title="City Lab", start="2026-12-01 10:00", channel=LABS)
    assert added.startswith("Scheduled **City Lab** (event 1)"), added
    [told] = bot.discord.wait_for_dm(ADMIN)
    text = re.sub(r"\\(.)", r"\1", told["content"])  # as Discord shows it: escapes undone
    assert text.startswith(f"City Lab is not shown in the server's event list (<#{LABS}>): grant CityPeers the "
                           "Create Events permission"), text  # fmt: skip
    assert "changed" in run(bot, ADMIN, "event", "edit", id=1, start="2026-12-01 11:00")
    bot.discord.wait_for_calls(CREATE, 2)  # the edit tried again, and was refused again
    assert "is cancelled" in run(bot, ADMIN, "event", "cancel", id=1)
    assert [c.status for c in bot.discord.calls(CREATE)] == [403, 403]
    assert bot.discord.scheduled_events(GUILD_ID) == []
    assert len(bot.discord.dms_to(ADMIN)) == 1  # once, not at every change


def test_once_granted_the_next_change_puts_the_event_in_the_list(bot: Bot) -> None:
    bot.discord.deny_permission("CREATE_EVENTS")
    run(bot, ADMIN, "event", "add", title="City Lab", start="2026-12-01 10:00", channel=LABS)
    bot.discord.wait_for_dm(ADMIN)
    bot.discord.grant_permission("CREATE_EVENTS")
    run(bot, ADMIN, "event", "edit", id=1, where="Brno City Hall")
    event = listed(bot, name="City Lab")
    assert event["entity_metadata"] == {"location": "Brno City Hall"}


def test_a_create_whose_answer_was_lost_is_found_and_edited_not_made_twice(bot: Bot, clock: FakeClock) -> None:
    bot.discord.fail_next(CREATE, status=502)  # Discord may or may not have made it: the bot cannot tell
    run(bot, ADMIN, "event", "add", title="City Lab", start="2026-12-01 10:00", where="Brno City Hall", channel=LABS)
    assert bot.discord.scheduled_events(GUILD_ID) == []
    # Say Discord had made it: the same event, as the bot asked for it.
    made = bot.adapter.client.request(
        "POST",
        f"/guilds/{GUILD_ID}/scheduled-events",
        body={
            "name": "City Lab",
            "privacy_level": 2,
            "entity_type": 3,
            "entity_metadata": {"location": "Brno City Hall"},
            "scheduled_start_time": "2026-12-01T09:00:00+00:00",
            "scheduled_end_time": "2026-12-01T10:00:00+00:00",
        },
    )
    clock.advance(timedelta(minutes=30))
    bot.services.on_commit[-1]()  # the engine's next sweep: it asks before trying again
    assert bot.discord.calls("GET /guilds/{guild_id}/scheduled-events")
    [event] = bot.discord.scheduled_events(GUILD_ID)
    assert event["id"] == made["id"]
    assert [c.status for c in bot.discord.calls(CREATE)] == [502, 200]  # the 200 is the one made above
    assert [c.params["event_id"] for c in bot.discord.calls(EDIT)] == [made["id"]]


def test_a_calendar_row_still_pending_is_not_counted_among_withdrawn_reminders(bot: Bot, clock: FakeClock) -> None:
    bot.discord.fail_next(CREATE, status=502)  # the calendar row waits for its retry
    run(bot, ADMIN, "event", "add", title="Summit", start="2030-09-28 10:00", channel=LABS)  # 7d, 1d, 1h to #labs
    assert "3 pending reminders withdrawn" in run(bot, ADMIN, "event", "cancel", id=1)  # the calendar row stays
    clock.advance(timedelta(minutes=30))
    bot.services.on_commit[-1]()
    assert bot.discord.scheduled_events(GUILD_ID) == []  # cancelled before Discord had it: nothing to show


def _calendar_row(key: str, title: str, start: datetime, *, cancelled: bool = False) -> Outgoing:
    entry = Entry(uid="event-7@citypeers", title=title, start=start, tz="Europe/Brussels", cancelled=cancelled)
    return Outgoing(key, "channel", f"discord:{LABS}", Reply(), kind="calendar", entry=entry)


def test_two_processes_sending_two_changes_of_a_new_event_at_once_make_one_scheduled_event(
    bot: Bot, clock: FakeClock
) -> None:
    """Two processes, each with its own sender, take the event's first two ledger rows at the same moment: the
    first one's create is slow; the second waits for it and then edits what it made."""
    first, second = (ScheduledEvents(bot.adapter.client, bot.services.engine, clock) for _ in range(2))
    start = datetime(2026, 12, 1, 9, tzinfo=UTC)
    slow = bot.discord.hold_next(CREATE)
    outcome: list[SendOutcome] = []
    creating = threading.Thread(target=lambda: outcome.append(first.send(_calendar_row("c:7:0", "Lab", start))))
    creating.start()
    slow.reached.wait(10)
    waited = second.send(_calendar_row("c:7:1", "Lab: mobility", start))
    assert (waited.status, waited.error) == ("retry", "another process is creating it")
    slow.release()
    creating.join(10)
    assert outcome == [SendOutcome.sent()]
    assert second.send(_calendar_row("c:7:1", "Lab: mobility", start)) == SendOutcome.sent()  # its retry
    [event] = bot.discord.scheduled_events(GUILD_ID)
    assert event["name"] == "Lab: mobility"
    assert len(bot.discord.calls(CREATE)) == 1 and len(bot.discord.calls(EDIT)) == 1


def test_a_create_left_by_a_process_that_died_is_adopted_by_the_next_not_made_again(bot: Bot, clock: FakeClock) -> None:
    """A process claimed the create, Discord made the event, and the process died before it wrote the id down.
    Until the claim is old the others wait; then the next change finds the event by name and start and edits it."""
    dying, survivor = (ScheduledEvents(bot.adapter.client, bot.services.engine, clock) for _ in range(2))
    start = datetime(2026, 12, 1, 9, tzinfo=UTC)
    lost = bot.discord.hold_next(CREATE)  # Discord acts on it; the answer never reaches the dying process
    threading.Thread(target=lambda: dying.send(_calendar_row("c:7:0", "Lab", start)), daemon=True).start()
    lost.reached.wait(10)
    assert survivor.send(_calendar_row("c:7:1", "Lab", start)).status == "retry"
    clock.advance(timedelta(minutes=3))
    assert survivor.send(_calendar_row("c:7:1", "Lab", start)) == SendOutcome.sent()
    assert len(bot.discord.calls(CREATE)) == 1 and len(bot.discord.calls(EDIT)) == 1
    assert survivor.send(_calendar_row("c:7:2", "Lab", start, cancelled=True)) == SendOutcome.sent()
    [event] = bot.discord.scheduled_events(GUILD_ID)
    assert event["status"] == 4
    lost.release()  # the dying process's thread may now end; what it writes later is the same id


def test_a_create_discord_refused_leaves_no_claim_behind(bot: Bot, clock: FakeClock) -> None:
    events = ScheduledEvents(bot.adapter.client, bot.services.engine, clock)
    start = datetime(2026, 12, 1, 9, tzinfo=UTC)
    bot.discord.deny_permission("CREATE_EVENTS")
    assert events.send(_calendar_row("c:7:0", "Lab", start)).status == "failed"
    bot.discord.grant_permission("CREATE_EVENTS")
    # Another row (another process's) may create it at once: nothing waits for a claim Discord refused.
    other = ScheduledEvents(bot.adapter.client, bot.services.engine, clock)
    assert other.send(_calendar_row("c:7:1", "Lab", start)) == SendOutcome.sent()
    assert len(bot.discord.scheduled_events(GUILD_ID)) == 1


def test_a_repeating_event_shows_its_next_date_as_each_one_passes(bot: Bot, clock: FakeClock) -> None:
    added = run(bot, ADMIN, "event", "add", title="WG", start="2026-12-03 15:00", repeat="FREQ=MONTHLY;BYDAY=1TH",
                remind="1h", channel=LABS)  # fmt: skip
    assert added.startswith("Scheduled **WG**"), added
    assert listed(bot, name="WG")["scheduled_start_time"] == "2026-12-03T14:00:00+00:00"
    assert "cancelled" in run(bot, ADMIN, "event", "cancel", id=1, on="2027-01-07")
    clock.set(datetime(2026, 12, 3, 15, 30, tzinfo=UTC))  # the December meeting is over
    bot.services.on_commit[-1]()  # the engine's next sweep
    # January's is cancelled: the server's list moves on to February's.
    assert listed(bot, name="WG", scheduled_start_time="2027-02-04T14:00:00+00:00")["status"] == 1
