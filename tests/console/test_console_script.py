"""A scripted console as a user runs it (`printf … | citypeers console`): each command is echoed before its reply,
the exit status says whether any command failed, files are named as saved; `/home`; `citypeers --version`."""

from datetime import datetime, timedelta
from importlib.metadata import version
from zoneinfo import ZoneInfo

import pytest

from tests.console.test_console import run

pytestmark = pytest.mark.slow  # the command line in real processes

# An organiser registers Brno and approves @bob as its representative, who adds a goal.
PROGRAMME = """\
/city register Brno country=CZ
/as @bob
/city join Brno
/as @ana
/city approve @bob Brno
/as @bob
/goal add Open a data hub
"""


def test_each_command_is_echoed_before_its_reply(tmp_path):
    result = run("console", "--user", "ana", "--db", str(tmp_path / "c.db"), stdin=PROGRAMME, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[:4] == [
        "@ana> /city register Brno country=CZ",
        "Registered Brno (CZ).",
        "@ana> /as @bob",
        "You are now @bob.",
    ]
    assert "@bob> /city join Brno" in lines
    assert lines.index("@bob> /goal add Open a data hub") == len(lines) - 3  # its reply follows, two lines


def test_blank_lines_and_comments_are_not_echoed(tmp_path):
    result = run("console", "--db", str(tmp_path / "c.db"), stdin="# set up\n\n/city tracks\n", cwd=tmp_path)
    assert result.stdout.splitlines()[0] == "@you> /city tracks"


def test_a_script_exits_1_when_any_command_failed_and_runs_them_all(tmp_path):
    script = "/city show Atlantis\n/city register Brno country=CZ\n"
    result = run("console", "--db", str(tmp_path / "c.db"), stdin=script, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "@you> /city show Atlantis",
        "error: No city called `Atlantis`. See /city list.",
        "@you> /city register Brno country=CZ",
        "Registered Brno (CZ).",
    ]
    assert result.stderr == ""


def test_console_only_mistakes_fail_a_script_too(tmp_path):
    for line in ("/teleport Brno", "/as nobody"):
        result = run("console", "--db", str(tmp_path / "c.db"), stdin=line + "\n", cwd=tmp_path)
        assert result.returncode == 1, line
        assert result.stdout.splitlines()[1].startswith("error: "), result.stdout


def test_version_comes_from_the_package(tmp_path):
    result = run("--version", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"citypeers {version('citypeers')}\n"


def test_home_shows_the_home_tab_in_the_console(tmp_path):
    script = PROGRAMME + "/home\n/as @newcomer\n/home\n"
    result = run("console", "--user", "ana", "--db", str(tmp_path / "c.db"), stdin=script, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    bob = result.stdout.split("@bob> /home\n")[1].split("@bob> /as @newcomer\n")[0].splitlines()
    assert bob[0] == "CityPeers"
    assert bob[1].startswith("Brno · Czechia (CZ)")
    assert "Open a data hub" in "\n".join(bob)
    assert "  [Add a goal] /goal add" in bob
    assert "Next events" in bob and "No upcoming events." in bob
    assert bob[-1] == "Every command answers `help`: `/city help`, `/match help`, `/goal help`, `/event help`."
    newcomer = result.stdout.split("@newcomer> /home\n")[1].splitlines()
    assert newcomer[0] == "Welcome to CityPeers"


def test_a_file_saved_under_another_name_is_named_so_in_the_reply(tmp_path):
    today = datetime.now(ZoneInfo("Europe/Brussels")).date()
    script = PROGRAMME + (
        "/as @ana\n/goal export\n/goal export\n/goal chart\n/goal chart\n"
        f'/event add Lab start="{today + timedelta(days=30)} 10:00"\n'
        "/event ics 1\n/event ics 1\n"
    )
    result = run("console", "--user", "ana", "--db", str(tmp_path / "c.db"), stdin=script, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    chart = f"Progress of 1 goal per cohort and track · all cohorts · all tracks · {today}: goal-progress-{today}"
    for said, saved, after in [
        (f"Exported 1 goal of 1 city to goals-{today}.csv.", f"goals-{today}.csv", 1),
        (f"Exported 1 goal of 1 city to goals-{today}-2.csv.", f"goals-{today}-2.csv", 1),
        (f"{chart}.png.", f"goal-progress-{today}.png", 2),  # after the line saying what the chart shows
        (f"{chart}-2.png.", f"goal-progress-{today}-2.png", 2),
        ("iCalendar file with 1 event: citypeers-event-1.ics", "citypeers-event-1.ics", 1),
        ("iCalendar file with 1 event: citypeers-event-1-2.ics", "citypeers-event-1-2.ics", 1),
    ]:
        assert said in lines, result.stdout
        assert lines[lines.index(said) + after] == f"  saved {tmp_path / saved}"
        assert (tmp_path / saved).exists()


def test_help_on_a_family_and_a_mistyped_family_reach_the_dispatcher(tmp_path):
    result = run("console", "--db", str(tmp_path / "c.db"), stdin="/help city\n/cty show Brno\n", cwd=tmp_path)
    lines = result.stdout.splitlines()
    assert lines[1].startswith("/city: ") and "`/city show [<name>]`" in result.stdout
    assert "error: Unknown command /cty. Did you mean /city?" in result.stdout
    assert result.returncode == 1  # the slip is a failed command
