"""What a running `citypeers` writes to its log: routine work (scheduler sweeps, a library's caches) is not news."""

import os
import subprocess
import time

import pytest

from tests.console.test_console import CITYPEERS
from tests.support.botprocess import BotProcess
from tests.support.fakeslack import FakeSlack

pytestmark = pytest.mark.slow  # the command line in real processes


def test_run_logs_no_scheduler_line_at_info(tmp_path):
    with FakeSlack() as slack:
        bot = BotProcess(slack, f"sqlite:///{tmp_path / 'run.db'}", citypeers_sweep_seconds="1")
        with bot:
            time.sleep(3)  # a real wait for the subprocess: a couple of one-second sweeps
        log = bot.log()
    assert "INFO" in log, "the log is read at INFO (it says the server started)"
    assert "apscheduler" not in log, log
    assert "WARNING" not in log, log  # bolt's warning that the token in the environment is unused, at every start


def test_a_console_chart_prints_no_matplotlib_notice(tmp_path):
    # A home that is a file: matplotlib can make no cache there and, left alone, says so on every start.
    home = tmp_path / "home"
    home.write_text("")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "DISCORD_", "CITYPEERS_", "DATABASE_URL", "MPLCONFIGDIR", "XDG_"))
    }
    env.update(HOME=str(home), TMPDIR=str(tmp_path))
    session = """\
/city register Brno country=CZ
/as @bob
/city join Brno
/as @ana
/city approve @bob Brno
/as @bob
/goal add Open a data hub
/as @ana
/goal chart
"""
    result = subprocess.run(
        [CITYPEERS, "console", "--user", "ana", "--db", str(tmp_path / "c.db")],
        input=session,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )
    assert list(tmp_path.glob("goal-progress-*.png")), result.stdout
    assert "matplotlib" not in result.stderr.lower(), result.stderr  # its temporary-cache and font-cache notices
    assert "fontmanager" not in (result.stdout + result.stderr).lower()
