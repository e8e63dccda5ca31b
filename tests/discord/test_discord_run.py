"""A real `citypeers run` with only Discord's settings: commands through signed interactions, and reminders that
arrive once — late after a restart, through a 429, and from two processes on one PostgreSQL.

Real time, like tests/e2e/test_reminders.py: events are set a minute or two ahead and the tests wait for what
the fake Discord receives."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.discord.conftest import ADMIN, ANA, BOB, LABS
from tests.support.botprocess import DiscordProcess
from tests.support.discord import DiscordInteractions, FakeDiscord

pytestmark = pytest.mark.slow  # real `citypeers run` processes on real time

BRUSSELS = ZoneInfo("Europe/Brussels")
FAST = {"citypeers_sweep_seconds": "1"}
# The fake Discord is tests/discord/conftest.py's `discord` fixture, checked for problems when a test ends.


def run(bot: DiscordProcess, who: str, command: str, sub: str | None = None, **options: object) -> str:
    answer = bot.interactions.command(who, command, sub, options)
    assert answer.status == 200 and answer.body["type"] == 5, answer.body
    return bot.discord.wait_for_original(answer.token, timeout=30)["content"]


def typed(moment: datetime) -> str:
    return moment.astimezone(BRUSSELS).strftime("%Y-%m-%d %H:%M:%S")


def schedule(bot: DiscordProcess, *, due_in: float, remind: str, lead: timedelta, attendees=()) -> datetime:
    due = datetime.now(UTC) + timedelta(seconds=due_in)
    added = run(bot, ADMIN, "event", "add", title="City Lab", start=typed(due + lead), remind=remind, channel=LABS)
    assert added.startswith("Scheduled **City Lab**"), added
    for person in attendees:
        assert run(bot, person, "event", "rsvp", id=1).startswith("You are attending"), person
    return due


def reminders(discord: FakeDiscord, *, channel: str | None = None, dm: str | None = None) -> list[dict]:
    found = discord.messages_in(channel) if channel else discord.dms_to(dm or "")
    return [m for m in found if "City Lab" in m.get("content", "") and "starts" in m.get("content", "")]


def test_commands_of_every_family_run_through_a_real_process(discord, database_url):
    interactions = DiscordInteractions("http://127.0.0.1:1", discord)
    with DiscordProcess(discord, interactions, database_url, admins=ADMIN) as bot:
        assert run(bot, ADMIN, "city", "register", name="Brno", country="CZ") == "Registered **Brno** (CZ)."
        assert run(bot, ADMIN, "city", "register", name="Porto", country="PT") == "Registered **Porto** (PT)."
        for person, city in ((ANA, "Brno"), (BOB, "Porto")):
            run(bot, person, "city", "join", name=city)
            assert run(bot, ADMIN, "city", "approve", user=person, name=city).startswith(f"<@{person}> now represents")
            assert run(bot, person, "city", "interests", tracks="tourism, upskilling").startswith(
                f"**{city}** works on"
            )
        assert run(bot, ANA, "city", "offer", text="open data platform").startswith("Added to what **Brno** offers")
        assert run(bot, BOB, "city", "need", text="open data platform").startswith("Added to what **Porto** needs")
        assert "Porto" in run(bot, ANA, "match", "top", count=3)
        assert "Goal **#1** for **Brno**" in run(bot, ANA, "goal", "add", text="Publish the open data strategy")
        assert "done" in run(bot, ANA, "goal", "update", id=1, status="done")
        assert "Brno" in run(bot, ADMIN, "goal", "list", city="all")
        assert "Thematic tracks" in run(bot, BOB, "city", "tracks")
        assert "**Brno**" in run(bot, BOB, "city", "show", name="Brno")
        assert "/city register <name> country=" in run(bot, BOB, "city", "help")
        # The rest of product.md's canonical lines, each through its subcommand, as the person who may run it.
        carla = "1310000000000000904"
        for who, command, sub, options, expected in (
            (carla, "city", "join", {"name": "Porto"}, "Asked to represent **Porto**. An organiser will approve it"),
            (ADMIN, "city", "requests", {}, f"<@{carla}> asks to represent **Porto**."),
            (ADMIN, "match", "round", {"dry": True}, "Dry run for all cities, nothing sent"),  # while both have reps
            (ADMIN, "city", "role", {"user": BOB, "role": "expert"}, f"<@{BOB}> is now expert."),
            (BOB, "city", "list", {"track": "tourism"}, "**Brno** (CZ) · upskilling, tourism"),
            (ANA, "city", "timezone", {"zone": "Europe/Lisbon"}, "shown to you in **Europe/Lisbon**"),
            (ANA, "match", "pause", {"duration": "2w"}, "**Brno** is paused until "),
            (ANA, "match", "resume", {}, "**Brno** is back in suggestions and rounds."),
            (ANA, "match", "intro", {"name": "Porto"}, "Introduced **Brno** and **Porto**"),
            (ADMIN, "match", "stats", {}, "ntroduction"),
            (ADMIN, "goal", "export", {}, "Exported 1 goal of 1 city"),
            (ADMIN, "event", "add", {"title": "City Lab", "start": "2030-09-28 10:00", "channel": LABS}, "Scheduled"),
            (ANA, "event", "list", {"all": True}, "Sat 28 Sep 2030, 10:00 Brussels — 09:00 your time"),
            (ANA, "event", "rsvp", {"id": 1}, "You are attending **City Lab**"),
            (ADMIN, "event", "remind", {"id": 1, "offsets": "1d"}, "Reminders for **City Lab** are now 1d before"),
            (ANA, "event", "subscribe", {}, "Your private calendar feed of the events you attend: webcal://"),
            (ADMIN, "event", "broadcast", {"channel": LABS, "text": "Welcome"}, "queued for now"),
            (
                ADMIN,
                "event",
                "cancel",
                {"id": 1},
                "**City Lab** is cancelled; 2 pending reminders withdrawn, 1 attendee",  # 1d to #labs and to ana
            ),
        ):
            answer = run(bot, who, command, sub, **options)
            assert expected in answer and not answer.startswith("⚠️"), (command, sub, answer)


@pytest.mark.slow(seconds=40)  # down for more than 30 s
def test_a_reminder_due_while_the_bot_was_down_arrives_once_marked_late_in_the_channel_and_by_dm(discord, tmp_path):
    database_url = f"sqlite:///{tmp_path / 'citypeers.db'}"
    interactions = DiscordInteractions("http://127.0.0.1:1", discord)
    bot = DiscordProcess(discord, interactions, database_url, admins=ADMIN, **FAST).start()
    due = schedule(bot, due_in=5, remind="2m", lead=timedelta(minutes=2), attendees=[ANA])
    bot.kill()
    time.sleep(max(0.0, (due - datetime.now(UTC)).total_seconds()) + 32)  # down past the due time, and late
    assert reminders(discord, channel=LABS) == []
    with DiscordProcess(discord, interactions, database_url, admins=ADMIN, **FAST):
        discord.wait_for(lambda: reminders(discord, channel=LABS) and reminders(discord, dm=ANA), timeout=30)
        time.sleep(3)  # three more sweeps: nothing may be sent twice
    for message in (*reminders(discord, channel=LABS), *reminders(discord, dm=ANA)):
        assert "Sent late: this reminder was due" in message["content"]
    assert len(reminders(discord, channel=LABS)) == 1 and len(reminders(discord, dm=ANA)) == 1


def test_a_429_is_waited_out_and_never_doubles_a_message(discord, tmp_path):
    database_url = f"sqlite:///{tmp_path / 'citypeers.db'}"
    interactions = DiscordInteractions("http://127.0.0.1:1", discord)
    with DiscordProcess(discord, interactions, database_url, admins=ADMIN, **FAST) as bot:
        schedule(bot, due_in=4, remind="1m", lead=timedelta(minutes=1))
        discord.fail_next("POST /channels/{channel_id}/messages", status=429, retry_after=1.5)
        discord.wait_for(lambda: reminders(discord, channel=LABS), timeout=30)
        time.sleep(2)
    attempts = [c for c in discord.calls("POST /channels/{channel_id}/messages") if LABS in c.path]
    assert [c.status for c in attempts] == [429, 200]
    assert attempts[1].at - attempts[0].at >= 1.5
    assert len(reminders(discord, channel=LABS)) == 1


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_processes_on_postgresql_send_each_reminder_once(discord, database_url):
    people = [f"13100000000000010{n:02d}" for n in range(8)]
    interactions = DiscordInteractions("http://127.0.0.1:1", discord)
    with (
        DiscordProcess(discord, interactions, database_url, admins=ADMIN, **FAST) as first,
        DiscordProcess(discord, DiscordInteractions("http://127.0.0.1:1", discord), database_url, admins=ADMIN, **FAST),
    ):
        schedule(first, due_in=8, remind="1m", lead=timedelta(minutes=1), attendees=people)
        discord.wait_for(
            lambda: reminders(discord, channel=LABS) and all(reminders(discord, dm=p) for p in people), timeout=40
        )
        time.sleep(3)
    assert len(reminders(discord, channel=LABS)) == 1
    for person in people:
        assert len(reminders(discord, dm=person)) == 1, person
