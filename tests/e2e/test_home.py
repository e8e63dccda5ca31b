"""App Home over HTTP: the city's goals, events and matches within Block Kit's limits; modals that add and
update goals and answer mistakes inside the modal."""

from __future__ import annotations

import json

from slack_sdk.models.blocks import Block

from storage import goal_queries
from storage.db import unit_of_work
from tests.e2e.conftest import ADMIN, ANA, Bot
from tests.e2e.test_slack_http import register_brno_with_ana, words
from tests.handlers.conversation import say
from tests.support.slackviews import buttons, click_in_view, submit_view


def open_home(bot: Bot, count: int) -> dict:
    event = {"type": "app_home_opened", "user": ANA, "channel": "D0ANA", "tab": "home", "event_ts": "1.1"}
    assert bot.sender.event(event, event_id=f"EvHome{count}").status == 200
    return bot.slack.wait_for_calls("views.publish", count)[-1].params["view"]


def test_home_with_200_goals_stays_within_block_kit_limits(bot: Bot) -> None:
    register_brno_with_ana(bot)
    for n in range(200):
        say(bot.services, f"slack:{ANA}", f"/goal add Goal number {n} with a reasonably long description of what it is")
    say(bot.services, f"slack:{ADMIN}", '/event add First City Lab start="2026-12-01 10:00" channel=#labs')
    view = open_home(bot, 1)
    blocks = view["blocks"]
    assert len(blocks) <= 100
    for block in Block.parse_all(blocks):
        block.validate_json()
    text = words(view)
    assert "*Goals of Brno (200)*" in text
    assert "Goal number 0 with" in text and "Goal number 199" not in text
    assert "More in /goal list" in text
    assert "*First City Lab* (event 1)" in text
    assert {"Add a goal", "On track", "At risk", "Done", "Update…", "RSVP"} <= set(buttons(view))
    assert all(len(block["text"]["text"]) <= 3000 for block in blocks if "text" in block)


def test_add_a_goal_in_a_modal_mistakes_answered_in_the_modal(bot: Bot) -> None:
    register_brno_with_ana(bot)
    home = open_home(bot, 1)
    assert click_in_view(bot.sender, ANA, home, "Add a goal").status == 200
    (opened,) = bot.slack.wait_for_calls("views.open")
    modal = opened.params["view"]
    assert modal["callback_id"] == "form:goal-add"
    assert {b["block_id"] for b in modal["blocks"]} == {"text", "due", "track"}

    past = submit_view(
        bot.sender,
        ANA,
        modal,
        {"text": {"value": {"value": "Open data hub"}}, "due": {"value": {"selected_date": "2020-01-01"}}},
    )
    assert past.status == 200
    answer = json.loads(past.body)
    assert answer["response_action"] == "errors"
    assert answer["errors"]["due"].startswith("The due date 2020-01-01 has passed")
    with unit_of_work(bot.services.engine) as session:
        assert goal_queries.find_goals(session=session) == []

    good = {
        "text": {"value": {"value": "Open a tourism data hub"}},
        "due": {"value": {"selected_date": "2027-01-15"}},
        "track": {"value": {"selected_option": {"value": "tourism"}}},
    }
    ok = submit_view(bot.sender, ANA, modal, good)
    assert ok.status == 200 and ok.body in ("", "{}")
    republished = bot.slack.wait_for_calls("views.publish", 2)[-1].params["view"]
    assert "Open a tourism data hub" in words(republished)
    with unit_of_work(bot.services.engine) as session:
        [row] = goal_queries.find_goals(session=session)
    assert (row.goal.text, str(row.goal.due_on), row.track.key) == ("Open a tourism data hub", "2027-01-15", "tourism")


def test_update_a_goal_from_home(bot: Bot) -> None:
    register_brno_with_ana(bot)
    say(bot.services, f"slack:{ANA}", "/goal add Publish the open data strategy")
    home = open_home(bot, 1)
    click_in_view(bot.sender, ANA, home, "Update…")
    modal = bot.slack.wait_for_calls("views.open")[0].params["view"]
    assert modal["private_metadata"] == "1"
    wrong = submit_view(
        bot.sender,
        ANA,
        modal,
        {
            "status": {"value": {"selected_option": {"value": "on-track"}}},
            "learned": {"value": {"value": "Start early"}},
        },
    )
    assert json.loads(wrong.body)["errors"] == {
        "learned": "learned= is for closing a goal: use it with done or dropped."
    }
    done = submit_view(
        bot.sender,
        ANA,
        modal,
        {
            "status": {"value": {"selected_option": {"value": "done"}}},
            "learned": {"value": {"value": "Start procurement early"}},
        },
    )
    assert done.status == 200 and not done.body.strip("{}")
    bot.slack.wait_for_calls("views.publish", 2)
    with unit_of_work(bot.services.engine) as session:
        [row] = goal_queries.find_goals(session=session)
        # Learnings are kept with the day they were told (the reader's day; here the bot's clock's).
        day = bot.services.clock.now().astimezone(bot.services.settings.default_tz).date().isoformat()
        assert (row.goal.status, row.goal.learnings) == ("done", f"{day}: Start procurement early")


def test_a_status_button_in_home_records_and_republishes(bot: Bot) -> None:
    register_brno_with_ana(bot)
    say(bot.services, f"slack:{ANA}", "/goal add Train 50 civil servants")
    home = open_home(bot, 1)
    click_in_view(bot.sender, ANA, home, "At risk")
    republished = bot.slack.wait_for_calls("views.publish", 2)[-1].params["view"]
    assert "at-risk" in words(republished)
