"""A homeserver that refuses the bot at start, or cannot be reached, stops `citypeers run` with one line naming the
setting, never a traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.matrix.conftest import MatrixProcess

pytestmark = pytest.mark.slow  # starts `citypeers run` processes against a homeserver


def run_once(bot: MatrixProcess) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "run"],
        cwd=bot.workdir,
        env=bot.env,
        capture_output=True,
        text=True,
        timeout=90,
    )


@pytest.mark.parametrize(
    ("settings", "line"),
    [
        ({"matrix_password": "not-the-password"}, "citypeers: MATRIX_PASSWORD: the homeserver refused the bot's login"),
        (
            {"matrix_password": "", "matrix_access_token": "syt_not_a_token", "matrix_device_id": "ABC"},
            "citypeers: MATRIX_ACCESS_TOKEN: the homeserver refused the bot's login",
        ),
        ({"matrix_homeserver": "http://127.0.0.1:9"}, "citypeers: MATRIX_HOMESERVER: cannot reach http://127.0.0.1:9"),
    ],
    ids=["password", "token", "unreachable"],
)
def test_a_refusal_at_start_is_one_line_naming_the_setting(synapse, bot_account, tmp_path, settings, line):
    bot = MatrixProcess(synapse, bot_account, f"sqlite:///{tmp_path / 'citypeers.db'}", **settings)
    finished = run_once(bot)
    assert finished.returncode == 1
    assert finished.stderr.strip().splitlines()[-1].startswith(line), finished.stderr
    assert "Traceback" not in finished.stderr
