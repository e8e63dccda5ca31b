"""A programme that uses only the console: `citypeers run` with no chat platform set up serves the web dashboard and
the calendar feeds, and says so in one line; the links the console gives open there."""

from __future__ import annotations

import re
import urllib.request

from tests.console.test_console import run
from tests.support.botprocess import PlainProcess

SESSION = """\
/city register Brno country=CZ cohort="City Lab 2027"
/goal add Open data portal for Brno due=2027-06-30 city=Brno
/goal dashboard
/event add Open data lab start="2027-05-04 10:00" remind=1d where="Brno, Czechia"
/event subscribe all=yes
"""
NO_PLATFORM = "no chat platform is set up: serving the web dashboard and calendar feeds (and /healthz) at "


def opened(url: str) -> tuple[int, str, str]:
    with urllib.request.urlopen(url, timeout=15) as response:
        return response.status, response.headers.get("Content-Type", ""), response.read().decode()


def test_a_console_only_programme_opens_its_dashboard_link_from_citypeers_run(database_url, tmp_path):
    bot = PlainProcess(database_url)
    console = run("console", "--db", database_url, stdin=SESSION, cwd=tmp_path,
                  env={"CITYPEERS_PUBLIC_URL": bot.public_url})  # fmt: skip
    assert console.returncode == 0, console.stdout + console.stderr
    dashboard = re.search(r"(http://\S+/dashboard/\S+/)", console.stdout)
    feed = re.search(r"paste (http://\S+\.ics)", console.stdout)
    assert dashboard and feed, console.stdout
    with bot:
        said = [line for line in bot.log().splitlines() if "chat platform" in line]
        assert len(said) == 1 and said[0].endswith(
            NO_PLATFORM + bot.public_url + "; set a platform's settings (see .env.example) to serve it too"
        ), bot.log()
        status, kind, page = opened(dashboard.group(1))
        assert status == 200 and kind.startswith("text/html")
        assert "Brno" in page and "City Lab 2027" in page
        status, kind, calendar = opened(feed.group(1))
        assert status == 200 and kind.startswith("text/calendar") and "SUMMARY:Open data lab" in calendar
        assert bot.sender.get("/healthz").status == 200
        assert bot.sender.get("/slack/events").status == 404  # no platform's route: nothing else is served
        status, _, goals = opened(dashboard.group(1) + "goals")
        assert status == 200 and "Open data portal for Brno" in goals
    assert bot.process is not None and bot.process.returncode == 0, bot.log()
