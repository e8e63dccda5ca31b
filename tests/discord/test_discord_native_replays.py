"""A signed interaction captured and sent again runs nothing: Discord sends each interaction once and never
retries, so one signed or created over five minutes ago, or whose id was already handled, is a replay."""

from __future__ import annotations

import json
import time

from tests.discord.conftest import ADMIN, LABS, Bot
from tests.discord.test_discord_http import run
from tests.support.discord import DISCORD_EPOCH_MS, Answer


def broadcast(bot: Bot, text: str) -> Answer:
    sent = bot.interactions.command(ADMIN, "event", "broadcast", {"channel": LABS, "text": text})
    assert sent.status == 200 and sent.body == {"type": 5, "data": {"flags": 64}}, sent.body
    assert "Broadcast" in bot.discord.wait_for_original(sent.token)["content"]
    bot.discord.wait_for(lambda: bot.discord.messages_in(LABS), what="the broadcast in #city-labs")
    return sent


def replay(bot: Bot, payload: dict, *, age: float = 0.0) -> Answer:
    """`payload` posted again as it was, signed with the application's key `age` seconds ago."""
    body = json.dumps(payload, separators=(",", ":")).encode()
    timestamp = str(int(time.time() - age))
    return bot.interactions.raw(body, signature=bot.interactions.signature(timestamp, body), timestamp=timestamp)


def webhook_calls(bot: Bot, token: str) -> list:
    return [c for c in bot.discord.calls() if c.params.get("token") == token]


def test_an_interaction_sent_again_ten_minutes_later_is_refused_and_runs_nothing(bot: Bot) -> None:
    run(bot, ADMIN, "city", "tracks")  # the admin exists
    sent = broadcast(bot, "Doors open at nine")
    calls = len(webhook_calls(bot, sent.token))
    stale = replay(bot, sent.interaction, age=600)
    assert stale.status == 401
    time.sleep(0.3)  # a command that ran would have posted by now
    assert len(bot.discord.messages_in(LABS)) == 1
    assert len(webhook_calls(bot, sent.token)) == calls


def test_an_interaction_id_already_handled_is_not_run_again(bot: Bot) -> None:
    sent = broadcast(bot, "Doors open at nine")
    calls = len(webhook_calls(bot, sent.token))
    again = replay(bot, sent.interaction)  # freshly signed, same interaction
    assert again.status == 401
    time.sleep(0.3)
    assert len(bot.discord.messages_in(LABS)) == 1
    assert len(webhook_calls(bot, sent.token)) == calls


def test_an_interaction_created_over_five_minutes_ago_is_refused_whatever_its_timestamp(bot: Bot) -> None:
    sent = broadcast(bot, "Doors open at nine")
    old_id = str((int(time.time() * 1000) - 600_000 - DISCORD_EPOCH_MS) << 22)
    captured = {**sent.interaction, "id": old_id, "token": sent.token + "x"}
    assert replay(bot, captured).status == 401
    time.sleep(0.3)
    assert len(bot.discord.messages_in(LABS)) == 1


def test_fresh_interactions_and_pings_still_run(bot: Bot) -> None:
    broadcast(bot, "Doors open at nine")
    broadcast(bot, "Doors open at nine")  # the same command typed twice is two interactions: both run
    assert len(bot.discord.messages_in(LABS)) == 2
    ping = bot.interactions.ping()
    assert ping.body == {"type": 1}
    assert replay(bot, ping.interaction, age=600).status == 401
