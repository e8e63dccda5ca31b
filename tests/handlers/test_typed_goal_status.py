"""A goal nobody reported on is "not yet reported", not on track: in lists, Home, the digest and the CSV."""

import csv
import io
from datetime import UTC, datetime

import pytest

from core.goals import NEW, OPEN, STATUSES, Status, may_move, status_label
from handlers.goal import weekly_digest
from handlers.home import home
from tests.handlers.conversation import ask, say
from tests.support.snapshot import snapshot


@pytest.fixture
def krakow(services):
    """bob represents Kraków, which has one goal nobody reported on and one reported on track; eve is an expert."""
    say(services, "ana", '/city register Kraków country=PL cohort="ICC 2020"')
    say(services, "bob", "/city join Kraków")
    say(services, "ana", "/city approve @bob Kraków")
    say(services, "ana", "/city role @eve expert")
    say(services, "bob", "/goal add Open a tourism data hub due=2026-12-01")
    say(services, "bob", "/goal add Train 50 civil servants due=2026-12-02")
    say(services, "bob", "/goal update 2 on-track")
    return services


def test_typed_new_goals_are_not_yet_reported_in_lists(krakow):
    assert say(krakow, "bob", "/goal list").splitlines() == [
        "Goals of Kraków (2)",
        "#1 · not yet reported · due 2026-12-01 · Open a tourism data hub",
        "#2 · on-track · due 2026-12-02 · Train 50 civil servants",
    ]
    # Still open: its reps get the buttons to report on it.
    assert [b.command for b in ask(krakow, "bob", "/goal list").sections[0].buttons][:1] == ["/goal update 1 on-track"]


def test_typed_new_goals_are_not_yet_reported_on_home(krakow):
    page = home(krakow, user_id="bob", user_name="bob", tz=None).plain()
    assert "#1 · not yet reported · due 2026-12-01" in page
    assert "#2 · on-track · due 2026-12-02" in page


def test_typed_new_goals_are_not_yet_reported_in_the_digest_and_in_the_csv(krakow, clock):
    clock.set(datetime(2026, 11, 23, 7, tzinfo=UTC))
    [notice] = weekly_digest(krakow)
    digest = notice.reply.plain()
    assert "• #1 Kraków · not yet reported · due 2026-12-01 · Open a tourism data hub" in digest
    assert "• #2 Kraków · on-track · due 2026-12-02 · Train 50 civil servants" in digest
    [attachment] = ask(krakow, "eve", "/goal export").files
    rows = list(csv.DictReader(io.StringIO(attachment.content.decode("utf-8-sig"))))
    assert [(r["id"], r["status"]) for r in rows] == [("1", "not yet reported"), ("2", "on-track")]


def test_typed_new_overdue_goals_are_overdue(krakow, clock):
    clock.set(datetime(2026, 12, 3, 9, tzinfo=UTC))
    assert say(krakow, "eve", "/goal list overdue").splitlines() == [
        "Overdue goals of all cities (2)",
        "#1 · Kraków · not yet reported · due 2026-12-01 (overdue) · Open a tourism data hub",
        "#2 · Kraków · on-track · due 2026-12-02 (overdue) · Train 50 civil servants",
    ]


@pytest.mark.parametrize("typed", ["new", "not yet reported", "NEW"])
def test_typed_nobody_sets_a_goal_back_to_new(krakow, typed):
    before = snapshot(krakow.engine)
    reply = ask(krakow, "bob", f"/goal update 2 {typed}")
    assert reply.error
    assert reply.plain().startswith("The status is one of on-track, at-risk, done or dropped, not ")
    assert snapshot(krakow.engine) == before


def test_typed_new_is_open_and_not_a_status_anyone_reports():
    assert NEW in OPEN and NEW not in set(Status)
    assert STATUSES == ("new", "on-track", "at-risk", "done", "dropped")
    assert may_move(NEW, Status.DONE) and may_move(NEW, Status.ON_TRACK)
    assert status_label(NEW) == "not yet reported" and status_label("at-risk") == "at-risk"


def test_typed_goal_chart_of_an_unknown_cohort_lists_the_cohorts(krakow):
    assert say(krakow, "eve", "/goal chart cohort=icc") == (
        "No cohort called `icc`. Did you mean ICC 2020? Cohorts: ICC 2020."
    )
    assert ask(krakow, "eve", "/goal chart cohort=icc-2020").files
