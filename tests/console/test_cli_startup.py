"""Start-up failures as a user meets them: a real `citypeers` process, one line on stderr naming the setting and
the cause, and a non-zero exit; never a traceback."""

import socket

import pytest
from sqlalchemy.engine import make_url

from tests.conftest import POSTGRES_URL
from tests.console.test_console import run
from tests.support.botprocess import free_port
from tests.support.fakeslack import FakeSlack

pytestmark = pytest.mark.slow  # the command line in real processes


def slack_env(api_url: str, tmp_path) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": "xoxb-revoked",
        "SLACK_SIGNING_SECRET": "secret",
        "SLACK_API_URL": api_url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'run.db'}",
        "HOST": "127.0.0.1",
        "PORT": str(free_port()),
    }


def one_line(result) -> str:  # type: ignore[no-untyped-def]
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_a_revoked_slack_token_is_one_line(tmp_path):
    with FakeSlack() as slack:
        slack.fail_next("auth.test", error="invalid_auth", times=5)
        result = run("run", cwd=tmp_path, env=slack_env(slack.api_url, tmp_path))
    assert one_line(result) == "citypeers: SLACK_BOT_TOKEN was refused by Slack (invalid_auth)"


def test_a_refused_socket_mode_token_is_one_line(tmp_path):
    with FakeSlack() as slack:  # it answers not_authed to any token that is not a bot's
        env = {**slack_env(slack.api_url, tmp_path), "SLACK_BOT_TOKEN": "xoxb-ok", "SLACK_APP_TOKEN": "xapp-1-revoked"}
        result = run("run", cwd=tmp_path, env=env)
    assert one_line(result) == "citypeers: SLACK_APP_TOKEN was refused by Slack (not_authed)"


def test_an_unreachable_slack_is_one_line(tmp_path):
    api_url = f"http://127.0.0.1:{free_port()}/api/"  # nothing listens there
    result = run("run", cwd=tmp_path, env=slack_env(api_url, tmp_path))
    assert one_line(result) == f"citypeers: SLACK_API_URL: cannot reach Slack at {api_url} (connection refused)"


@pytest.mark.parametrize(
    "args",
    [("run",), ("console",), ("db", "upgrade"), ("import", "cities", "cities.csv")],
    ids=["run", "console", "db-upgrade", "import"],
)
def test_an_unreachable_postgresql_is_one_line(args, tmp_path):
    (tmp_path / "cities.csv").write_text("name,country\nBrno,CZ\n")
    port = free_port()  # closed: connections are refused
    env = {**slack_env("http://127.0.0.1:9/api/", tmp_path), "DATABASE_URL": f"postgresql://u@127.0.0.1:{port}/x"}
    result = run(*args, cwd=tmp_path, env=env)
    assert (
        one_line(result) == f"citypeers: DATABASE_URL: cannot reach PostgreSQL at 127.0.0.1:{port} (connection refused)"
    )


def test_a_db_option_in_a_missing_directory_is_one_line(tmp_path):
    missing = tmp_path / "nonexistent" / "dir"
    result = run("console", "--db", str(missing / "x.db"), stdin="/city list\n", cwd=tmp_path)
    assert one_line(result) == f"citypeers: --db: directory {missing} does not exist"
    assert not missing.exists()


def test_a_database_url_in_a_missing_directory_is_one_line(tmp_path):
    missing = tmp_path / "nonexistent"
    result = run("db", "upgrade", cwd=tmp_path, env={"DATABASE_URL": f"sqlite:///{missing}/x.db"})
    assert one_line(result) == f"citypeers: DATABASE_URL: directory {missing} does not exist"


def test_a_postgresql_that_refuses_the_connection_says_why(tmp_path):
    url = make_url(POSTGRES_URL).set(database="citypeers_no_such_database")
    env = {"DATABASE_URL": url.render_as_string(hide_password=False)}
    result = run("db", "upgrade", cwd=tmp_path, env=env)
    assert one_line(result) == (
        f"citypeers: DATABASE_URL: PostgreSQL at {url.host}:{url.port or 5432} refused the connection "
        '(database "citypeers_no_such_database" does not exist)'
    )


def test_a_db_option_naming_a_directory_is_one_line(tmp_path):
    result = run("console", "--db", str(tmp_path), stdin="/city list\n", cwd=tmp_path)
    assert one_line(result) == f"citypeers: --db: {tmp_path} is a directory, not a database file"


def test_a_port_in_use_is_one_line(tmp_path):
    with FakeSlack() as slack, socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run("run", cwd=tmp_path, env={**slack_env(slack.api_url, tmp_path), "PORT": str(port)})
    assert one_line(result) == f"citypeers: PORT: cannot listen on 127.0.0.1:{port} (address already in use)"
