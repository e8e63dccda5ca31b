"""The same goals give the same counts wherever one looks: /goal list, /goal chart, the digest, the dashboard and
both CSVs each count a goal once, by its standing (core.goals): an open goal past its due date is overdue, not
also on track or at risk. On SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from datetime import UTC, datetime

from core.goals import STANDINGS, status_label
from handlers import dashboard as data
from handlers.goal import weekly_digest
from storage.db import unit_of_work
from tests.dashboard.test_dashboard_data import get, token_of
from tests.handlers.conversation import ask, say

# as every view words them, back to the standing they name
STANDING_OF = {status_label(value): value for value in STANDINGS}
EXPECTED = {"done": 1, "on-track": 2, "at-risk": 1, "new": 1, "overdue": 3, "dropped": 1}


def programme(services, clock) -> None:
    say(services, "ana", '/city register Kraków country=PL cohort="ICC 2020"')
    say(services, "ana", '/city register Łódź country=PL cohort="ICC 2020"')
    for user, city in (("bob", "Kraków"), ("lea", "Łódź")):
        say(services, user, f"/city join {city}")
        say(services, "ana", f"/city approve @{user} {city}")
    say(services, "ana", "/city role @eve expert")
    for user, line in (
        ("bob", "/goal add Open a tourism data hub due=2026-12-01"),  # 1: not reported, then past due
        ("bob", "/goal add Train 50 civil servants due=2026-12-02"),  # 2: on track, then past due
        ("bob", "/goal add Retrofit three schools due=2026-12-03"),  # 3: at risk, then past due
        ("lea", "/goal add Open data portal"),  # 4: at risk
        ("lea", "/goal add Green procurement rules"),  # 5: on track
        ("lea", "/goal add Bike sharing pilot"),  # 6: done
        ("lea", "/goal add Port logistics study"),  # 7: dropped
        ("bob", "/goal add Skills academy"),  # 8: not reported
        ("lea", "/goal add Heat network plan due=2026-12-10"),  # 9: on track, due after the day we look
        ("bob", "/goal update 2 on-track"),
        ("bob", "/goal update 3 at-risk contractor late"),
        ("lea", "/goal update 4 at-risk"),
        ("lea", "/goal update 5 on-track"),
        ("lea", '/goal update 6 done learned="start small"'),
        ("lea", "/goal update 7 dropped"),
        ("lea", "/goal update 9 on-track"),
    ):
        assert "#" in say(services, user, line), line
    clock.set(datetime(2026, 12, 5, 9, tzinfo=UTC))


def test_every_view_counts_the_same_goals_alike(services, clock):
    programme(services, clock)

    # /goal list: each line's status, or overdue where the line says so
    lines = say(services, "eve", "/goal list all").splitlines()
    assert lines[0] == "Goals of all cities (9)"
    listed = Counter(
        "overdue" if "(overdue)" in line else STANDING_OF[line.split(" · ")[2]]
        for line in lines[1:]
        if line.startswith("#")  # not a goal's "learned:" line
    )
    assert listed == EXPECTED

    # /goal chart: the summary under the picture
    summary = ask(services, "eve", "/goal chart").sections[1].text.plain()
    found = re.fullmatch(
        r"(\d+)/(\d+) done · open: (\d+) on track, (\d+) at risk, (\d+) not yet reported, (\d+) overdue · "
        r"(\d+) dropped, not counted as work\.",
        summary,
    )
    assert found, summary
    done, counted, on_track, at_risk, new, overdue, dropped = map(int, found.groups())
    charted = {"done": done, "on-track": on_track, "at-risk": at_risk, "new": new, "overdue": overdue}
    assert charted | {"dropped": dropped} == EXPECTED and counted == 9 - dropped

    # the weekly digest: its overdue goals, and each changed goal's status as listed
    [notice] = weekly_digest(services)
    digest = notice.reply.plain()
    assert "Overdue_ (3)" in digest or "Overdue (3)" in digest, digest
    assert sorted(re.findall(r"#(\d+) \S+ · ([^·]+) · due", digest.split("Overdue")[1].split("Changed")[0])) == [
        ("1", "not yet reported"),
        ("2", "on-track"),
        ("3", "at-risk"),
    ]

    # the dashboard's overview
    token = token_of(say(services, "eve", "/goal dashboard"))
    with unit_of_work(services.engine) as session:
        who = data.viewer(session, token, services.settings, clock.now())
        overview = data.overview(session, who, clock.now())
    assert overview.totals == EXPECTED

    # both CSVs: the same columns, and the same counts in their standing column
    [exported] = ask(services, "eve", "/goal export").files
    status, _, body = get(services, f"/dashboard/{token}/goals.csv")
    assert status == "200 OK"
    tables = [list(csv.DictReader(io.StringIO(content.decode("utf-8-sig")))) for content in (exported.content, body)]
    assert list(tables[0][0]) == list(tables[1][0])
    for rows in tables:
        assert Counter(STANDING_OF[row["standing"]] for row in rows) == EXPECTED
        assert Counter(row["overdue"] for row in rows) == {"yes": 3, "no": 6}
        assert {row["id"]: row["latest_note"] for row in rows}["3"] == "contractor late"
    by_id = [{row["id"]: row for row in rows} for rows in tables]
    for goal_id in by_id[0]:  # the same goal reads the same in both, column by column
        assert by_id[0][goal_id] == by_id[1][goal_id]
