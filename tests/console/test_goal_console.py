"""/goal in the console as a user runs it: add, list, update, export to a CSV file, chart to a PNG file."""

import csv
import io
import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from storage import goal_queries
from storage.db import make_engine, unit_of_work
from tests.console.test_console import run

pytestmark = pytest.mark.slow  # the command line in real processes

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_goals_in_the_console(tmp_path):
    # The console runs on the real clock: dates are given relative to today (the default zone's).
    today = datetime.now(ZoneInfo("Europe/Brussels")).date()
    due = today + timedelta(days=60)
    later = today + timedelta(days=80)
    session = f"""\
/city register Kraków country=PL cohort="ICC 2020"
/city register Łódź country=PL cohort="ICC 2020"
/as @bob
/city join Kraków
/as @ana
/city approve @bob Kraków
/city role @eve expert
/as @bob
/goal add Open a tourism data hub due={due} track=tourism with=Łódź
/goal add =SUM(A1:A9) tonnes of CO2 less due={later}
/goal add nothing due=yesterday
/goal list
/goal update 1 at-risk procurement is slow
/goal update 2 done learned="start early"
/as @eve
/goal update 1 done
/goal list Kraków
/goal export
"""
    result = run("console", "--user", "ana", "--db", str(tmp_path / "goals.db"), stdin=session, cwd=tmp_path)
    assert result.returncode == 1, result.stderr  # two commands were refused, as they were meant to be
    assert "Traceback" not in result.stderr
    out = result.stdout
    expected_lines = [
        "Goal #1 for Kraków: Open a tourism data hub",
        f"Due {due} · track Green and digital transition in tourism. Report with /goal update 1 on-track|at-risk|done.",
        # nobody represents Łódź: no introduction is offered, as none could be made
        "You named Łódź as a collaborator; it has no representative yet, so nobody to introduce.",
        "  [Not a fit] /match notfit Łódź",
        "Goal #2 for Kraków: =SUM(A1:A9) tonnes of CO2 less",
        "error: `yesterday` is not a date like 2020-09-28 10:00 or 28/09/2020.",
        "Goals of Kraków (2)",
        f"#1 · not yet reported · due {due} · tourism · Open a tourism data hub",
        "with Łódź",
        "  [On track] /goal update 1 on-track",
        "  [At risk] /goal update 1 at-risk",
        "  [Done] /goal update 1 done",
        f"#2 · not yet reported · due {later} · =SUM(A1:A9) tonnes of CO2 less",
        "Goal #1 of Kraków is now at-risk: procurement is slow",
        "Goal #2 of Kraków is now done.",
        "Key learnings kept: start early",
        "error: Only Kraków's representatives can change goal #1.",
        f"#1 · at-risk · due {due} · tourism · Open a tourism data hub",
        f"learned: {today.isoformat()}: start early",  # kept with its day
    ]
    lines = out.splitlines()
    for line in expected_lines:
        assert line in lines, line
    assert any(line.startswith("Exported 2 goals of 1 city to goals-") for line in lines)

    engine = make_engine(str(tmp_path / "goals.db"))
    with unit_of_work(engine) as session:
        history = goal_queries.goal_history(session=session, goal_id=1)
        assert [(u.status, u.note) for u in history] == [("new", None), ("at-risk", "procurement is slow")]
        assert goal_queries.get_goal(session=session, goal_id=1).due_on == date.fromisoformat(str(due))
    engine.dispose()


def test_export_and_chart_are_written_as_files_in_the_current_directory(tmp_path):
    session = """\
/city register Kraków country=PL cohort="ICC 2020"
/city register Łódź country=PL cohort="ICC 2020"
/as @bob
/city join Kraków
/as @ana
/city approve @bob Kraków
/city role @eve expert
/as @bob
/goal add Open a tourism data hub track=tourism with=Łódź
/goal add =SUM(A1:A9) tonnes of CO2 less
/goal update 2 done learned="start early"
/as @eve
/goal export
/goal chart
"""
    result = run("console", "--user", "ana", "--db", str(tmp_path / "goals.db"), stdin=session, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    [exported] = list(tmp_path.glob("goals-*.csv"))
    assert exported.name in out
    rows = list(csv.DictReader(io.StringIO(exported.read_bytes().decode("utf-8-sig"))))
    assert [(r["id"], r["city"], r["status"], r["goal"]) for r in rows] == [
        ("1", "Kraków", "not yet reported", "Open a tourism data hub"),
        ("2", "Kraków", "done", "'=SUM(A1:A9) tonnes of CO2 less"),
    ]
    assert rows[0]["collaborators"] == "Łódź"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d: start early", rows[1]["key_learnings"])  # kept with its day

    [chart] = list(tmp_path.glob("goal-progress-*.png"))
    assert chart.name in out
    assert chart.read_bytes().startswith(PNG_MAGIC)
