"""Personal data over real HTTP: the export arrives as a file in the person's DM, and a person deactivated in the
workspace (Slack's signed `user_change` event with `deleted: true`) is reported to organisers at once and erased
`CITYPEERS_FORGET_DEPARTED_DAYS` later; one reactivated before then is kept."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import timedelta

from core.clock import FakeClock
from handlers import privacy
from storage import queries
from storage.db import unit_of_work
from tests.e2e.conftest import ADMIN, ANA, BOB, Bot
from tests.e2e.test_slack_http import answer, register_brno_with_ana, words
from tests.handlers.test_privacy import scan

ANA_ID = f"slack:{ANA}"


def deactivated(user: str, *, deleted: bool = True) -> dict[str, object]:
    """The event Slack sends when a workspace admin deactivates (or reactivates) a member."""
    profile = {"display_name": "ana", "real_name": "Ana Novak"}
    return {"type": "user_change", "user": {"id": user, "name": "ana", "deleted": deleted, "profile": profile}}


def test_the_export_arrives_as_a_json_file_in_the_persons_dm(bot: Bot) -> None:
    register_brno_with_ana(bot)
    body = answer(bot, ANA, "/city privacy export")
    assert "is in your direct messages" in words(body)
    ((name, content),) = bot.slack.files_in(bot.slack.channel_of(ANA))
    data = json.loads(content)
    assert name.startswith("citypeers-personal-data-slack-") and data["member"]["external_id"] == ANA_ID
    assert data["cities_represented"][0]["name"] == "Brno"


def test_a_person_who_leaves_the_workspace_is_reported_then_erased_after_the_delay(bot: Bot, clock: FakeClock) -> None:
    register_brno_with_ana(bot)
    answer(bot, ANA, "/goal add Open the mobility data")
    before = len(bot.slack.dms_to(ADMIN))
    assert bot.sender.event(deactivated(ANA), event_id="EvLeft1").status == 200
    (told,) = bot.slack.wait_for_dm(ADMIN, before + 1)[before:]
    assert "left the Slack workspace" in told["text"] and "will be erased on 2026-12-22" in told["text"]
    assert "/city privacy forget" in json.dumps(told["blocks"])  # an Erase button, for now
    assert scan(bot.services, ANA_ID), "kept until the delay is over"

    clock.advance(timedelta(days=29))
    assert privacy.forget_departed(bot.services) == 0
    clock.advance(timedelta(days=1, minutes=1))
    assert privacy.forget_departed(bot.services) == 1  # the scheduler's hourly job
    assert scan(bot.services, ANA_ID) == []
    assert "Open the mobility data" in words(answer(bot, ADMIN, "/goal list Brno"))
    assert "Representatives:* _none yet_" in words(answer(bot, ADMIN, "/city show Brno"))


def test_a_person_reactivated_before_the_delay_is_kept_and_profile_edits_change_nothing(
    bot: Bot, clock: FakeClock
) -> None:
    register_brno_with_ana(bot)
    answer(bot, BOB, "/city show Brno")
    assert bot.sender.event(deactivated(BOB, deleted=False), event_id="EvEdit1").status == 200
    before = len(bot.slack.dms_to(ADMIN))
    assert bot.sender.event(deactivated(ANA), event_id="EvLeft2").status == 200
    bot.slack.wait_for_dm(ADMIN, before + 1)
    assert bot.sender.event(deactivated(ANA, deleted=False), event_id="EvBack2").status == 200
    until(lambda: _left_at(bot) is None, "the departure forgotten")
    clock.advance(timedelta(days=31))
    assert privacy.forget_departed(bot.services) == 0
    assert "Brno" in words(answer(bot, ANA, "/city show"))


def until(predicate: Callable[[], bool], what: str, timeout: float = 5.0) -> None:
    """Events are handled after Slack has its answer: wait for what the listener does."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def _left_at(bot: Bot) -> object:
    with unit_of_work(bot.services.engine) as session:
        member = queries.get_member(session=session, external_id=ANA_ID)
        return member.left_at if member else "gone"
