"""/goal chart names what it shows (rows, cohort, track, day), marks overdue and not-yet-reported goals, keeps
dropped goals out of the work counted, and shows cities: a bar per city (by=city), or one city's tracks (city=)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

import handlers.goal
from handlers.files.chart import ChartWords, ProgressBar, progress_chart
from tests.handlers.conversation import ask, say
from tests.handlers.test_goal import PNG_MAGIC, programme  # noqa: F401 - the fixture

LATER = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)


@pytest.fixture
def goals(programme, clock):  # noqa: F811 - the fixture imported above
    """Kraków: #1 on tourism, not yet reported; #2 on upskilling, on track but due 2026-12-01, so overdue on
    5 December. Łódź: #3 done, #4 dropped. The clock then stands at 2026-12-05."""
    say(programme, "bob", "/goal add Open a tourism data hub track=tourism")
    say(programme, "bob", "/goal add Reskill 200 civil servants track=upskilling due=2026-12-01")
    say(programme, "bob", "/goal update 2 on-track")
    say(programme, "lea", "/goal add Green procurement")
    say(programme, "lea", "/goal update 3 done")
    say(programme, "lea", "/goal add Bike lanes")
    say(programme, "lea", "/goal update 4 dropped")
    clock.set(LATER)
    return programme


@pytest.fixture
def drawn(monkeypatch):
    """What the handler asked the chart to draw: its title and its bars."""
    calls: list[dict[str, object]] = []

    def record(bars, *, title, words, fmt="png"):
        calls.append({"title": title, "bars": list(bars)})
        return progress_chart(bars, title=title, words=words, fmt=fmt)

    monkeypatch.setattr(handlers.goal, "progress_chart", record)
    return calls


def test_the_reply_and_the_title_name_what_is_shown_and_dropped_goals_are_not_open_work(goals, drawn):
    reply = ask(goals, "eve", "/goal chart")
    assert reply.plain().splitlines() == [
        "Progress of 4 goals per cohort and track · all cohorts · all tracks · 2026-12-05: "
        "goal-progress-2026-12-05.png.",
        "1/3 done · open: 0 on track, 0 at risk, 1 not yet reported, 1 overdue · 1 dropped, not counted as work.",
    ]
    [call] = drawn
    assert call["title"] == "Goal progress per cohort and track · all cohorts · all tracks · 2026-12-05"
    assert call["bars"] == [
        ProgressBar("ICC 2020 · no track", done=1, dropped=1),
        ProgressBar("ICC 2020 · tourism", not_reported=1),
        ProgressBar("ICC 2020 · upskilling", overdue=1),
    ]
    assert reply.files[0].content.startswith(PNG_MAGIC)


def test_by_city_draws_one_bar_per_city(goals, drawn):
    lines = say(goals, "olga", "/goal chart by=city").splitlines()
    assert (
        lines[0]
        == "Progress of 4 goals per city · all cohorts · all tracks · 2026-12-05: goal-progress-2026-12-05.png."
    )
    [call] = drawn
    assert call["title"] == "Goal progress per city · all cohorts · all tracks · 2026-12-05"
    assert call["bars"] == [
        ProgressBar("Kraków", not_reported=1, overdue=1),
        ProgressBar("Łódź", done=1, dropped=1),
    ]


def test_one_city_is_shown_track_by_track(goals, drawn):
    lines = say(goals, "eve", "/goal chart city=krakow").splitlines()
    assert lines == [
        "Progress of 2 goals of Kraków per track · all cohorts · all tracks · 2026-12-05: "
        "goal-progress-2026-12-05.png.",
        "0/2 done · open: 0 on track, 0 at risk, 1 not yet reported, 1 overdue · 0 dropped, not counted as work.",
    ]
    [call] = drawn
    assert call["title"] == "Goal progress of Kraków per track · all cohorts · all tracks · 2026-12-05"
    assert call["bars"] == [
        ProgressBar("all tracks", not_reported=1, overdue=1),
        ProgressBar("tourism", not_reported=1),
        ProgressBar("upskilling", overdue=1),
    ]


def test_a_cohort_and_a_track_are_named(goals, drawn):
    lines = say(goals, "eve", '/goal chart cohort="icc 2020" track=upskilling').splitlines()
    assert lines[0] == (
        "Progress of 1 goal per track · cohort ICC 2020 · track upskilling · 2026-12-05: goal-progress-2026-12-05.png."
    )
    assert drawn[0]["bars"] == [ProgressBar("upskilling", overdue=1)]
    assert say(goals, "eve", "/goal chart cohort=Mission") == "No goals to chart yet."


@pytest.mark.parametrize(
    "line, expected",
    [
        ("/goal chart city=Kraków by=city", "Give city=<name> or by=city, not both."),
        ("/goal chart by=track", "`by=` takes city, not `track`."),
        ("/goal chart city=Atlantis", "No city called `Atlantis`."),
    ],
)
def test_mistakes_are_one_line(goals, line, expected):
    reply = ask(goals, "eve", line)
    assert reply.error and expected in reply.plain() and reply.files == []


def test_the_picture_writes_its_title_marks_and_done_counts_without_dropped_goals():
    words = ChartWords(
        segments=handlers.goal.Strings.CHART_SEGMENTS,
        axis="goals",
        bar_end=handlers.goal.Strings.CHART_BAR_END,
        dropped=handlers.goal.Strings.CHART_BAR_DROPPED,
    )
    bars = [ProgressBar("Kraków", not_reported=1, overdue=1), ProgressBar("Łódź", done=1, dropped=1)]
    svg = progress_chart(bars, title="Goal progress per city · 2026-12-05", words=words, fmt="svg").decode()
    for text in ("Goal progress per city · 2026-12-05", "not yet reported", "overdue",
                 "0/2 done", "1/1 done · 1 dropped"):  # fmt: skip
        assert text in svg, text
    png = progress_chart(bars, title="t", words=words)
    assert png == progress_chart(bars, title="t", words=words)  # the same bars, the same bytes
