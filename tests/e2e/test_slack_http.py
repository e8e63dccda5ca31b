"""Slack conversations end to end: signed requests in, Web API calls and response_url posts out."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy import create_engine, text

from bot.slack.render import render, stored_value
from bot.web import Health, database_check
from core.clock import FakeClock
from handlers.types import Button, Reply
from storage import queries
from storage.db import unit_of_work
from tests.e2e.conftest import ADMIN, ANA, BOB, Bot
from tests.support.blockkit import assert_valid_blocks


def answer(bot: Bot, user: str, line: str, **kwargs: Any) -> dict[str, Any]:
    """Type `line` as `user`; the one reply posted to the response_url (after the notices went out)."""
    sent = bot.sender.command(user, line, **kwargs)
    assert sent.status == 200, sent
    (body,) = bot.slack.wait_for_response(sent.response_token)
    return body


def words(body: dict[str, Any]) -> str:
    """All the mrkdwn/plain text of a message's blocks, one block a line."""
    lines = []
    for block in body.get("blocks", []):
        if "text" in block:
            lines.append(block["text"]["text"])
        lines.extend(e.get("text", "") for e in block.get("elements", []) if block["type"] == "context")
    return "\n".join(lines)


def buttons(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for b in body.get("blocks", []) if b["type"] == "actions" for e in b["elements"]]


def register_brno_with_ana(bot: Bot) -> None:
    answer(bot, ADMIN, "/city register Brno country=CZ")
    answer(bot, ANA, "/city join Brno")
    answer(bot, ADMIN, f"/city approve <@{ANA}|ana> Brno")


def test_a_slash_command_is_acked_at_once_and_answered_at_its_response_url(bot: Bot) -> None:
    assert bot.slack.calls("auth.test"), "bolt's start-up auth.test must reach the fake, not Slack"
    sent = bot.sender.command(ANA, "/city help")
    assert (sent.status, sent.body) == (200, "")
    (body,) = bot.slack.wait_for_response(sent.response_token)
    assert body["response_type"] == "ephemeral"
    assert body["blocks"][0]["type"] == "header"
    assert body["blocks"][0]["text"]["text"].startswith("/city:")
    assert "/city register" in words(body)


def test_a_join_request_reaches_the_admin_with_buttons_and_approve_links_the_rep(bot: Bot) -> None:
    assert "Registered *Brno* (CZ)." in words(answer(bot, ADMIN, "/city register Brno country=CZ"))
    assert "Asked to represent *Brno*" in words(answer(bot, ANA, "/city join Brno"))

    (request,) = bot.slack.wait_for_dm(ADMIN)
    assert f"<@{ANA}> asks to represent *Brno*." in words(request)
    assert [(b["text"]["text"], b["style"], b["value"]) for b in buttons(request)] == [
        ("Approve", "primary", f"/city approve <@slack:{ANA}> Brno"),
        ("Reject", "danger", f"/city reject <@slack:{ANA}> Brno"),
    ]

    click = bot.sender.click(ADMIN, request, "Approve")
    assert click.status == 200
    (outcome,) = bot.slack.wait_for_response(click.response_token)
    assert outcome["replace_original"] is True
    assert buttons(outcome) == [], "the Approve/Reject buttons must go once used"
    assert f"<@{ANA}> now represents *Brno*." in words(outcome)

    (welcome,) = bot.slack.dms_to(ANA)
    assert "You now represent Brno" in welcome["text"]
    with unit_of_work(bot.services.engine) as session:
        ana = queries.get_member(session=session, external_id=f"slack:{ANA}")
        brno = queries.get_city_by_name(session=session, name="Brno")
        assert ana is not None and brno is not None
        assert (ana.city_id, ana.role, ana.tz, ana.display_name) == (brno.id, "rep", "Europe/Prague", "ana")


def test_a_profile_is_looked_up_once_not_per_command(bot: Bot) -> None:
    for line in ("/city help", "/city tracks", "/city list"):
        answer(bot, ANA, line)
    assert [c.params["user"] for c in bot.slack.calls("users.info")] == [ANA]


def test_a_wrong_signature_is_refused_and_changes_nothing(bot: Bot) -> None:
    refused = bot.sender.command(ADMIN, "/city register Oslo country=NO", secret="not-the-secret")
    assert refused.status == 401
    answer(bot, ADMIN, "/city register Brno country=CZ")  # a good request after it, as a barrier
    assert bot.slack.responses(refused.response_token) == []
    with unit_of_work(bot.services.engine) as session:
        assert queries.get_city_by_name(session=session, name="Oslo") is None


def test_a_request_signed_six_minutes_ago_is_refused(bot: Bot) -> None:
    refused = bot.sender.command(ADMIN, "/city register Oslo country=NO", age=360)
    assert refused.status == 401
    answer(bot, ADMIN, "/city register Brno country=CZ")
    assert bot.slack.responses(refused.response_token) == []
    with unit_of_work(bot.services.engine) as session:
        assert queries.get_city_by_name(session=session, name="Oslo") is None


def test_healthz_answers_when_the_database_does_and_anything_else_is_404(bot: Bot) -> None:
    ok = bot.sender.get("/healthz")
    assert (ok.status, json.loads(ok.body)) == (200, {"ok": True})
    assert bot.sender.get("/slack/events").status == 404
    assert bot.sender.get("/nothing-here").status == 404


def test_healthz_is_503_with_a_reason_when_the_database_is_down() -> None:
    engine = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none", connect_args={"connect_timeout": 2})
    status, body = Health([database_check(engine)]).status()
    assert status.startswith("503") and body["ok"] is False and "database unavailable" in str(body["reason"])


def test_a_rate_limited_dm_waits_out_retry_after_and_arrives_exactly_once(bot: Bot, clock: FakeClock) -> None:
    answer(bot, ADMIN, "/city register Brno country=CZ")
    bot.slack.fail_next("chat.postMessage", status=429, retry_after=1)
    answer(bot, ANA, "/city join Brno")
    [first] = bot.slack.calls("chat.postMessage")
    assert first.status == 429
    bot.delivery.run_due()
    assert len(bot.slack.calls("chat.postMessage")) == 1, "Retry-After was not honoured"
    clock.advance(timedelta(seconds=1))
    bot.delivery.run_due()
    assert [c.status for c in bot.slack.calls("chat.postMessage")] == [429, 200]
    assert len(bot.slack.dms_to(ADMIN)) == 1


def test_a_server_error_is_retried_and_the_dm_arrives_exactly_once(bot: Bot, clock: FakeClock) -> None:
    answer(bot, ADMIN, "/city register Brno country=CZ")
    bot.slack.fail_next("chat.postMessage", status=503)
    answer(bot, ANA, "/city join Brno")
    clock.advance(timedelta(seconds=3))  # the back-off after a server error
    bot.delivery.run_due()
    # A 503 may hide a message Slack posted: the retry asked conversations.history first, and found none.
    assert [c.status for c in bot.slack.calls("chat.postMessage")] == [503, 200]
    assert len(bot.slack.calls("conversations.history")) == 1
    assert len(bot.slack.dms_to(ADMIN)) == 1


def test_a_recipient_slack_refuses_is_reported_and_others_still_get_theirs(bot: Bot) -> None:
    register_brno_with_ana(bot)
    answer(bot, ADMIN, f"/city role <@{BOB}|bob> organiser")
    bot.slack.fail_next("chat.postMessage", error="account_inactive")
    body = answer(bot, "U0CARLA", "/city join Brno")  # organisers: bob (refused by Slack), then admin
    assert "Asked to represent *Brno*." in words(body)
    delivered = [c for c in bot.slack.calls("chat.postMessage") if c.ok and "@u0carla asks" in c.params["text"]]
    assert [c.params["channel"] for c in delivered] == [ADMIN]
    # Slack refused bob's DM for good: whoever asked hears of it once, by DM.
    [report] = [m for m in bot.slack.dms_to("U0CARLA") if "Could not deliver" in m["text"]]
    assert report["text"] == "Could not deliver to @bob: account_inactive. It will not be retried."


def test_channel_pings_typed_into_an_offer_are_shown_not_executed(bot: Bot) -> None:
    register_brno_with_ana(bot)
    # What Slack sends when ana types "@channel" and "&": the special mention raw, her & escaped.
    added = answer(bot, ANA, "/city offer Study visits for <!channel> &amp; <!here>")
    card = answer(bot, BOB, "/city show Brno")
    for body in (added, card):
        dumped = json.dumps(body)
        assert "&lt;!channel&gt; &amp; &lt;!here&gt;" in words(body)
        assert "<!channel>" not in dumped and "<!here>" not in dumped and "&amp;amp;" not in dumped
    assert "&lt;!channel&gt;" in added["text"]


def test_a_malformed_command_gets_one_line_and_no_stack_trace(bot: Bot) -> None:
    body = answer(bot, ANA, "/city frobnicate Brno")
    assert body["text"].startswith(":warning: Unknown command `/city frobnicate`")
    assert "\n" not in body["text"] and "Traceback" not in json.dumps(body)


def test_a_command_without_a_family_gets_one_line_not_a_slack_error(bot: Bot) -> None:
    body = answer(bot, ANA, "/nosuch thing")
    assert body["text"].startswith(":warning: Unknown command /nosuch. Commands: /city")
    assert "\n" not in body["text"]


def test_an_internal_error_is_one_line_with_a_reference(bot: Bot) -> None:
    with bot.services.engine.begin() as connection:
        connection.execute(text("ALTER TABLE member RENAME TO member_gone"))
    body = answer(bot, ANA, "/city show Brno")
    line = words(body)
    assert line.startswith(":warning: Something went wrong on our side; nothing was changed (ref ")
    assert "\n" not in line and "Traceback" not in json.dumps(body) and "member" not in line


def test_app_home_shows_a_welcome_then_the_city_and_ignores_event_retries(bot: Bot) -> None:
    opened = {"type": "app_home_opened", "user": ANA, "channel": "D0ANA", "tab": "home", "event_ts": "1.1"}
    assert bot.sender.event(opened, event_id="Ev1").status == 200
    (first,) = bot.slack.wait_for_calls("views.publish")
    assert first.params["user_id"] == ANA and first.params["view"]["type"] == "home"
    assert "Welcome to CityPeers" in words(first.params["view"])
    assert "/city join" in words(first.params["view"])

    assert bot.sender.event(opened, event_id="Ev1", retry_num=1).status == 200
    register_brno_with_ana(bot)
    assert bot.sender.event(opened, event_id="Ev2").status == 200
    publishes = bot.slack.wait_for_calls("views.publish", 2)
    assert len(publishes) == 2, "the retried Ev1 must not be published again"
    assert "*Brno* · Czechia (CZ)" in words(publishes[1].params["view"])
    assert "`/city help`" in words(publishes[1].params["view"])


def test_the_messages_tab_publishes_nothing(bot: Bot) -> None:
    messages = {"type": "app_home_opened", "user": ANA, "channel": "D0ANA", "tab": "messages", "event_ts": "1.1"}
    home = {**messages, "tab": "home"}
    bot.sender.event(messages, event_id="Ev1")
    bot.sender.event(home, event_id="Ev2")
    bot.slack.wait_for_calls("views.publish")
    answer(bot, ANA, "/city tracks")  # leaves time for a wrong publish from the messages tab to show
    assert len(bot.slack.calls("views.publish")) == 1


def test_a_button_whose_command_is_over_slacks_2000_characters_is_kept_server_side_and_works(bot: Bot) -> None:
    answer(bot, ADMIN, "/city register Brno country=CZ")
    command = "/city show Brno" + " " * 2100  # longer than a button's value may be; the same command to run
    reply = Reply()
    reply.add("Brno", buttons=[Button("Show", command), Button("Short", "/city show Brno")])
    message = render(reply, value=stored_value(bot.services))
    assert_valid_blocks(message.blocks)
    stored, short = message.blocks[1]["elements"]
    assert stored["value"].startswith("s:") and len(stored["value"]) < 40
    assert short["value"] == "/city show Brno"

    click = bot.sender.click(ANA, {"channel": "D1", "blocks": message.blocks}, "Show")
    assert click.status == 200
    (shown,) = bot.slack.wait_for_response(click.response_token)
    assert "Brno" in words(shown) and "expired" not in words(shown)

    forged = dict(message.blocks[1], elements=[dict(stored, value="s:aaaaaaaaaaaaaaaaaaaaaaaaaa")])
    click = bot.sender.click(ANA, {"channel": "D1", "blocks": [forged]}, "Show")
    (refused,) = bot.slack.wait_for_response(click.response_token)
    assert words(refused) == ":warning: This button has expired; run the command again."


def test_without_a_store_a_button_over_2000_characters_is_left_out_not_cut() -> None:
    reply = Reply()
    reply.add("Brno", buttons=[Button("Show", "/city show Brno" + " " * 2100), Button("Short", "/city tracks")])
    [section, actions] = render(reply).blocks
    assert [e["value"] for e in actions["elements"]] == ["/city tracks"]
