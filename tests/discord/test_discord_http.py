"""CityPeers on Discord over real HTTP: signed interactions to the real web app and handlers, replies and DMs to
a fake Discord that validates every body against Discord's published schema and documented limits."""

from __future__ import annotations

import re

from storage import queries
from storage.db import unit_of_work
from tests.discord.conftest import ADMIN, ANA, BOB, LABS, Bot
from tests.support.discord import GUILD_ID


def run(bot: Bot, who: str, command: str, sub: str | None = None, **options: object) -> dict:
    """A slash command; the deferred, ephemeral answer, then the reply that replaces it."""
    answer = bot.interactions.command(who, command, sub, options, username=f"user{who[-3:]}")
    assert answer.status == 200 and answer.body == {"type": 5, "data": {"flags": 64}}, answer.body
    return bot.discord.wait_for_original(answer.token)


def shown(message: dict) -> str:
    """A message's content as Discord shows it: each backslash escape is the character it escapes."""
    return re.sub(r"\\(.)", r"\1", message["content"])


def replaced(bot: Bot, token: str, words: str) -> dict:
    """The message a button was on, once the bot has replaced it with the outcome (which says `words`)."""
    return bot.discord.wait_for(
        lambda: (found := bot.discord.original(token)) and words in found.get("content", "") and found,
        what=f"the message replaced with {words!r}",
    )


def test_signatures_are_checked_and_pings_answered(bot: Bot) -> None:
    assert bot.interactions.ping().body == {"type": 1}
    assert bot.interactions.raw(b'{"type":1}', signature=None).status == 401
    assert bot.interactions.raw(b'{"type":1}', signature="00" * 64).status == 401
    assert bot.interactions.raw(b'{"type":1}', signature="not hex").status == 401


def test_commands_are_registered_from_the_handlers_registry(bot: Bot) -> None:
    registered = {command["name"]: command for command in bot.discord.commands(GUILD_ID)}
    assert set(registered) == {"city", "match", "goal", "event", "citypeers", "home"}
    subcommands = {option["name"] for option in registered["city"]["options"]}
    assert {"register", "join", "approve", "show", "list", "tracks", "timezone", "help"} <= subcommands


def test_join_is_approved_with_a_button_and_each_side_hears_of_it(bot: Bot) -> None:
    registered = run(bot, ADMIN, "city", "register", name="Brno", country="CZ", population=380000)
    assert registered["content"] == "Registered **Brno** (CZ)."
    asked = run(bot, ANA, "city", "join", name="Brno")
    assert asked["content"].startswith("Asked to represent **Brno**.")
    [request] = bot.discord.wait_for_dm(ADMIN)
    assert f"<@{ANA}> asks to represent **Brno**." in request["content"]
    assert request["allowed_mentions"] == {"parse": [], "users": [ANA]}  # only the person named may ping
    pressed = bot.interactions.click(ADMIN, request, label="Approve")
    assert pressed.body == {"type": 6}  # a deferred update: the message is replaced by the outcome
    outcome = replaced(bot, pressed.token, "now represents")
    assert outcome["content"].startswith(f"<@{ANA}> now represents **Brno**.")
    assert outcome["components"] == []
    [approved] = bot.discord.wait_for_dm(ANA)
    assert approved["content"] == f"You now represent **Brno** (approved by <@{ADMIN}>)."
    with unit_of_work(bot.services.engine) as session:
        member = queries.get_member(session=session, external_id=f"discord:{ANA}")
        assert member is not None and member.city_id is not None and member.locale == "en-GB"


def test_user_text_pings_nobody_and_keeps_its_markdown_visible(bot: Bot) -> None:
    run(bot, ADMIN, "city", "register", name="Brno", country="CZ")
    run(bot, ANA, "city", "join", name="Brno")
    run(bot, ADMIN, "city", "approve", user=ANA, name="Brno")
    added = run(bot, ANA, "goal", "add", text="@everyone <@&123> **bold** @here")
    assert "\\@everyone \\<\\@&123\\> \\*\\*bold\\*\\* \\@here" in added["content"]
    assert added["allowed_mentions"]["parse"] == []


def test_autocomplete_offers_cities_and_tracks(bot: Bot) -> None:
    for name in ("Brno", "Bremen", "Porto"):
        run(bot, ADMIN, "city", "register", name=name, country="DE" if name == "Bremen" else "CZ")
    cities = bot.interactions.autocomplete(ANA, "city", "show", "name", "br")
    assert cities.body == {
        "type": 8,
        "data": {"choices": [{"name": "Bremen", "value": "Bremen"}, {"name": "Brno", "value": "Brno"}]},
    }
    tracks = bot.interactions.autocomplete(ANA, "city", "list", "track", "tour")
    assert [choice["value"] for choice in tracks.body["data"]["choices"]] == ["tourism"]


def test_the_goal_form_opens_as_a_modal_and_a_mistake_names_its_field(bot: Bot) -> None:
    run(bot, ADMIN, "city", "register", name="Brno", country="CZ")
    run(bot, ANA, "city", "join", name="Brno")
    run(bot, ADMIN, "city", "approve", user=ANA, name="Brno")
    home = run(bot, ANA, "home")
    opened = bot.interactions.click(ANA, home, label="Add a goal")
    assert opened.body["type"] == 9
    modal = opened.body["data"]
    wrong = bot.interactions.submit_modal(
        ANA, modal["custom_id"], {"text": "Open data hub", "due": "someday"}, modal=opened.body
    )
    mistake = bot.discord.wait_for_original(wrong.token)
    # The form cannot show it next to the field in Discord, so the answer names the field.
    assert shown(mistake).startswith("⚠️ Due (empty: in three months): `someday` is not a date")
    right = bot.interactions.submit_modal(
        ANA, modal["custom_id"], {"text": "Open data hub", "due": "2027-01-31", "track": "tourism"}, modal=opened.body
    )
    assert "Goal **#1** for **Brno**" in bot.discord.wait_for_original(right.token)["content"]


def test_a_calendar_file_arrives_as_an_attachment_and_times_follow_the_chosen_zone(bot: Bot) -> None:
    added = run(bot, ADMIN, "event", "add", title="City Lab", start="2026-12-01 10:00", channel=LABS)
    assert shown(added).startswith("Scheduled **City Lab** (event 1): Tue 1 Dec 2026, 10:00 CET."), added
    zone = run(bot, ANA, "city", "timezone", zone="Asia/Tokyo")
    assert zone["content"].startswith("Times are now shown to you in **Asia/Tokyo**")
    listed = run(bot, ANA, "event", "list")
    assert "Tue 1 Dec 2026, 10:00 Brussels — 18:00 your time (JST)" in shown(listed)  # as typed, and hers
    answer = bot.interactions.command(ANA, "event", "ics", {"event": "1"})
    bot.discord.wait_for_original(answer.token)
    [(name, content)] = bot.discord.interaction_files(answer.token)
    assert name == "citypeers-event-1.ics" and b"BEGIN:VEVENT" in content


def test_the_escape_hatch_runs_a_typed_line_with_discord_mentions(bot: Bot) -> None:
    run(bot, ADMIN, "city", "register", name="Porto", country="PT")
    made = run(bot, ADMIN, "citypeers", line=f"/city role <@!{BOB}> expert")
    assert made["content"] == f"<@{BOB}> is now expert."
