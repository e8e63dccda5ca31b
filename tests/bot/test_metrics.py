"""GET /metrics of a real `citypeers run` against a fake Slack: off without its token, and with it, Prometheus'
text format (read back with prometheus-client's own parser) counting commands, deliveries, 429s and the ledger."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine

from bot.discord.api import DiscordClient
from bot.metrics import Metrics
from handlers.types import Reply
from tests.support.botprocess import BotProcess
from tests.support.discord import GENERAL_CHANNEL_ID, FakeDiscord
from tests.support.fakeslack import FakeSlack

pytestmark = pytest.mark.slow  # real `citypeers run` processes

ADMIN, ANA = "U0ADMIN", "U0ANA"
LABS = "C0LABS"
BRUSSELS = ZoneInfo("Europe/Brussels")
TOKEN = "metrics-token-for-the-test"
FAST = {"citypeers_sweep_seconds": "1"}


@pytest.fixture
def slack():
    with FakeSlack() as fake:
        for user in (ADMIN, ANA):
            fake.set_user(user)
        yield fake


def scrape(bot: BotProcess, path: str = "/metrics", token: str | None = None) -> tuple[int, str]:
    request = urllib.request.Request(f"http://127.0.0.1:{bot.port}{path}")
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def run(bot: BotProcess, user: str, line: str) -> str:
    sent = bot.sender.command(user, line)
    assert sent.status == 200
    (reply,) = bot.slack.wait_for_response(sent.response_token, timeout=30)
    return reply["text"]


def typed(moment: datetime) -> str:
    return moment.astimezone(BRUSSELS).strftime("%Y-%m-%d %H:%M:%S")


def samples(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    """Every sample by its name (counters as `…_total`, histograms' `…_bucket`/`…_count`/`…_sum`)."""
    found: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, []).append((sample.labels, sample.value))
    return found


def value(found, name: str, **labels: str) -> float:
    return sum(v for got, v in found.get(name, []) if all(got.get(k) == want for k, want in labels.items()))


def test_metrics_are_off_until_a_token_is_set_and_the_ledger_is_read_from_the_database(slack, tmp_path):
    database_url = f"sqlite:///{tmp_path / 'citypeers.db'}"
    summit = (datetime.now(UTC) + timedelta(days=30)).replace(microsecond=0)
    with BotProcess(slack, database_url, admins=ADMIN) as bot:
        unknown = scrape(bot, "/no-such-page")
        assert unknown[0] == 404
        for token in (None, "", "anything", TOKEN):
            assert scrape(bot, token=token) == unknown
        reply = run(bot, ADMIN, f'/event add Summit start="{typed(summit)}" remind=7d,1d channel=<#{LABS}|labs>')
        assert reply.startswith("Scheduled"), reply
    # Another process, with the token: it counted nothing yet, but the ledger it reports is the database's.
    with BotProcess(slack, database_url, admins=ADMIN, citypeers_metrics_token=TOKEN) as bot:
        status, text = scrape(bot, token=TOKEN)
    assert status == 200, text
    found = samples(text)
    assert value(found, "citypeers_ledger_pending", kind="reminder", platform="slack") == 2
    [(_, oldest)] = found["citypeers_ledger_oldest_pending_due_timestamp_seconds"]
    assert oldest == (summit - timedelta(days=7)).timestamp()
    assert value(found, "citypeers_commands_total") == 0


def test_metrics_need_the_token_and_count_commands_deliveries_429s_and_the_ledger(slack, database_url):
    with BotProcess(slack, database_url, admins=ADMIN, citypeers_metrics_token=TOKEN, **FAST) as bot:
        unknown = scrape(bot, "/no-such-page")
        assert scrape(bot) == unknown  # no token
        assert scrape(bot, token="wrong-" + TOKEN) == unknown
        assert scrape(bot, token=TOKEN[:-1]) == unknown

        # A reminder due in seconds, which Slack first refuses with a 429; a summit whose reminder is weeks away.
        slack.fail_next("chat.postMessage", status=429, retry_after=1)
        due = datetime.now(UTC) + timedelta(seconds=6)
        start = due + timedelta(minutes=1)
        reply = run(bot, ADMIN, f'/event add City Lab start="{typed(start)}" remind=1m channel=<#{LABS}|labs>')
        assert reply.startswith("Scheduled"), reply
        summit = (datetime.now(UTC) + timedelta(days=30)).replace(microsecond=0)
        reply = run(bot, ADMIN, f'/event add Summit start="{typed(summit)}" remind=7d channel=<#{LABS}|labs>')
        assert reply.startswith("Scheduled"), reply
        assert "Unknown command" in run(bot, ANA, "/event nonsense")
        assert run(bot, ANA, "/city tracks")
        slack.wait_for(
            lambda: any(c.ok and "City Lab" in c.params.get("text", "") for c in slack.calls("chat.postMessage")),
            timeout=30,
            what="the City Lab reminder",
        )
        time.sleep(1.5)  # the outcome is recorded just after Slack's answer
        posts = [c for c in slack.calls("chat.postMessage") if "City Lab" in c.params.get("text", "")]

        status, text = scrape(bot, token=TOKEN)
        assert status == 200, text
    found = samples(text)

    assert value(found, "citypeers_commands_total", family="event", outcome="ok") == 2
    assert value(found, "citypeers_commands_total", family="event", outcome="refused") == 1
    assert value(found, "citypeers_commands_total", family="city", outcome="ok") == 1
    assert value(found, "citypeers_commands_total", outcome="crashed") == 0
    assert value(found, "citypeers_command_duration_seconds_count", family="event") == 3
    assert 0 < value(found, "citypeers_command_duration_seconds_sum", family="event") < 30

    assert value(found, "citypeers_deliveries_total", kind="reminder", platform="slack", outcome="retried") == 1
    assert value(found, "citypeers_deliveries_total", kind="reminder", platform="slack", outcome="sent") == 1
    assert value(found, "citypeers_deliveries_total", outcome="failed") == 0
    lateness_count = value(found, "citypeers_delivery_lateness_seconds_count", kind="reminder")
    assert lateness_count == 1
    # Planned to go a second before it was due (handlers.ledger.plan), refused, sent after the 1 s Retry-After: about
    # at its due time, well within a minute (the histogram counts a message sent early as 0 s late).
    assert [c.status for c in posts] == [429, 200] and posts[1].at - posts[0].at >= 1.0
    assert 0 <= value(found, "citypeers_delivery_lateness_seconds_sum", kind="reminder") < 60
    assert value(found, "citypeers_delivery_lateness_seconds_bucket", kind="reminder", le="60.0") == 1

    assert value(found, "citypeers_platform_rate_limited_total", platform="slack") == 1
    assert value(found, "citypeers_platform_rate_limited_total", platform="discord") == 0

    # The summit's reminder is owed; the City Lab's is not any more.
    assert value(found, "citypeers_ledger_pending", kind="reminder", platform="slack") == 1
    [(_, oldest)] = found["citypeers_ledger_oldest_pending_due_timestamp_seconds"]
    assert oldest <= (summit - timedelta(days=7)).timestamp() + 1
    assert oldest > due.timestamp()
    assert value(found, "citypeers_ledger_readable") == 1


def test_a_command_that_raises_counts_as_crashed_and_an_unreadable_ledger_is_said_so():
    engine = create_engine("sqlite://")  # no tables: the ledger cannot be read
    metrics = Metrics(engine, families=["city", "event"])

    def crash() -> Reply:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        metrics.measure("event", crash)
    assert metrics.measure("/City", lambda: Reply.of("fine")).error is False
    metrics.measure("nosuchfamily", lambda: Reply.fail("Unknown command /nosuchfamily."))
    found = samples(metrics.exposition().decode())
    assert value(found, "citypeers_commands_total", family="event", outcome="crashed") == 1
    assert value(found, "citypeers_commands_total", family="city", outcome="ok") == 1
    assert value(found, "citypeers_commands_total", family="unknown", outcome="refused") == 1
    assert value(found, "citypeers_ledger_readable") == 0
    assert "citypeers_ledger_pending" not in found


def test_discord_429s_are_counted_each_time_the_client_sees_one():
    metrics = Metrics(create_engine("sqlite://"), families=[])
    with FakeDiscord() as discord:
        client = DiscordClient(
            discord.api_url,
            "discord-bot-token",
            sleep=lambda _seconds: None,  # the retry's wait is not what is tested here
            on_rate_limited=lambda: metrics.rate_limited("discord"),
        )
        discord.fail_next("POST /channels/{channel_id}/messages", 429, retry_after=0.5, times=2)
        path = f"/channels/{GENERAL_CHANNEL_ID}/messages"
        client.request("POST", path, body={"content": "Doors open at nine"}, retries=2)
    found = samples(metrics.exposition().decode())
    assert value(found, "citypeers_platform_rate_limited_total", platform="discord") == 2
    assert value(found, "citypeers_platform_rate_limited_total", platform="slack") == 0
