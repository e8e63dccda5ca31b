"""Goals through real Slack HTTP: a check-in DM's button records the update, the digest reaches each expert once,
and a city's 200 goals list inside Block Kit's limits (the fake Slack checks every payload)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from core.clock import FakeClock
from handlers.goal import weekly_digest
from handlers.jobs import queue_followups
from handlers.ledger import queue_notices
from storage import goal_queries, queries
from storage.db import unit_of_work
from tests.e2e.conftest import ADMIN, ANA, BOB, Bot
from tests.e2e.test_slack_http import answer, buttons, words

EVE = "U0EVE"
MAX = "U0MAX"


def run_jobs(bot: Bot, job) -> None:  # type: ignore[no-untyped-def]
    """What the scheduler does: the job queues its messages in the ledger, the delivery engine sends them."""
    job(bot.services)
    bot.delivery.run_due()


def krakow_with_ana(bot: Bot) -> None:
    answer(bot, ADMIN, '/city register Kraków country=PL cohort="ICC 2020"')
    answer(bot, ANA, "/city join Kraków")
    answer(bot, ADMIN, f"/city approve <@{ANA}|ana> Kraków")


def test_a_check_in_dms_done_button_records_the_update(bot: Bot, clock: FakeClock) -> None:
    krakow_with_ana(bot)
    added = answer(bot, ANA, "/goal add Open a tourism &lt;!channel&gt; data hub due=2026-12-10")
    assert "Goal *#1* for *Kraków*" in words(added)
    dms_before = len(bot.slack.dms_to(ANA))

    clock.set(datetime(2026, 12, 10, 8, tzinfo=UTC))
    run_jobs(bot, queue_followups)
    checkin = bot.slack.dms_to(ANA)[-1]
    assert len(bot.slack.dms_to(ANA)) == dms_before + 1
    assert "Check-in: goal *#1* of *Kraków* is due today." in words(checkin)
    assert "&lt;!channel&gt;" in words(checkin), "user text is shown, never executed"
    assert [b["text"]["text"] for b in buttons(checkin)][:3] == ["On track", "At risk", "Done"]

    click = bot.sender.click(ANA, checkin, "Done")
    assert click.status == 200
    (outcome,) = bot.slack.wait_for_response(click.response_token)
    assert "Goal *#1* of *Kraków* is now *done*." in words(outcome)
    with unit_of_work(bot.services.engine) as session:
        history = goal_queries.goal_history(session=session, goal_id=1)
        assert [(u.status, u.created_at) for u in history][-1] == ("done", clock.now())
        assert goal_queries.get_goal(session=session, goal_id=1).status == "done"

    # Someone else's click on the same DM changes nothing.
    refused = bot.sender.click(BOB, checkin, "At risk")
    (line,) = bot.slack.wait_for_response(refused.response_token)
    assert "Only Kraków's representatives can change goal #1." in words(line)
    run_jobs(bot, queue_followups)
    assert len(bot.slack.dms_to(ANA)) == dms_before + 1, "a check-in is sent once"


def test_the_weekly_digest_reaches_each_expert_once(bot: Bot, clock: FakeClock) -> None:
    krakow_with_ana(bot)
    bot.slack.set_user(EVE, "eve")
    bot.slack.set_user(MAX, "max", tz="America/New_York")
    for user, name in ((EVE, "eve"), (MAX, "max")):
        answer(bot, ADMIN, f"/city role <@{user}|{name}> expert")
    answer(bot, ANA, "/goal add Train 50 civil servants due=2026-11-30")
    clock.set(datetime(2026, 11, 27, 8, tzinfo=UTC))

    # What the digest job does on each expert's Monday: the digests go to the ledger, the engine sends them.
    with unit_of_work(bot.services.engine) as session:
        queue_notices(session, weekly_digest(bot.services), now=clock.now())
    bot.delivery.run_due()
    for expert in (EVE, MAX):
        digests = [m for m in bot.slack.dms_to(expert) if "Weekly goals digest" in words(m)]
        assert len(digests) == 1, expert
        text = words(digests[0])
        assert "*ICC 2020*" in text
        assert "#1 Kraków · not yet reported · due 2026-11-30 · Train 50 civil servants" in text
    for other in (ANA, ADMIN):
        assert not any("Weekly goals digest" in words(m) for m in bot.slack.dms_to(other))


def test_two_hundred_goals_list_inside_block_kits_limits(bot: Bot, clock: FakeClock) -> None:
    krakow_with_ana(bot)
    with unit_of_work(bot.services.engine) as session:
        city = queries.get_city_by_name(session=session, name="Kraków")
        for i in range(200):
            goal_queries.add_goal(
                session=session,
                city_id=city.id,
                text=f"goal {i + 1}: " + "a long description of what the city commits to " * 9,
                track_id=None,
                due_on=date(2027, 2, 22),
                member_id=None,
                now=clock.now(),
            )
    listed = answer(bot, ANA, "/goal list")
    assert len(listed["blocks"]) <= 50
    assert all(len(block.get("text", {}).get("text", "")) <= 3000 for block in listed["blocks"])
    assert "Goals of Kraków (200)" in words(listed)
    assert "…and 180 more" in words(listed)
    pressable = [b["text"]["text"] for b in buttons(listed)]
    assert pressable.count("Done") == pressable.count("On track") == pressable.count("At risk") == 20
