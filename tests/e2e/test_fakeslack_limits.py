"""The fake Slack's opt-in rate-limit mode: Slack's chat.postMessage limits, answered with 429 and Retry-After.

The buckets are driven with explicit instants; over HTTP the rates are so slow that no refill can happen
during the test, so nothing here depends on how fast the machine is.
"""

from __future__ import annotations

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from tests.support.fakeslack import FakeSlack, RateLimits, _Limiter


def test_a_channel_gets_its_burst_then_one_message_a_second():
    limiter = _Limiter(RateLimits(channel_burst=3, workspace_burst=100), 100.0)
    assert [limiter.take("C1", 100.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.take("C1", 100.0) == pytest.approx(1.0)
    assert limiter.take("C2", 100.0) == 0.0  # another channel has its own allowance
    assert limiter.take("C1", 100.5) == pytest.approx(0.5)
    assert limiter.take("C1", 101.0) == 0.0
    assert limiter.take("C1", 101.0) == pytest.approx(1.0)


def test_the_workspace_limit_spans_channels():
    limiter = _Limiter(RateLimits(workspace_per_minute=300, workspace_burst=2), 50.0)
    start = limiter._workspace.stamp
    assert limiter.take("C1", start) == 0.0
    assert limiter.take("C2", start) == 0.0
    assert limiter.take("C3", start) == pytest.approx(0.2)  # 300 a minute: a token every 0.2 s
    assert limiter.take("C3", start + 0.2) == 0.0


def test_over_the_limit_slack_answers_429_with_retry_after_and_counts_it():
    limits = RateLimits(per_channel_per_second=0.001, channel_burst=1, workspace_per_minute=0.06, workspace_burst=2)
    with FakeSlack(rate_limits=limits) as slack:
        client = WebClient(token="xoxb-test", base_url=slack.api_url, retry_handlers=[])
        assert client.chat_postMessage(channel="C1", text="one")["ok"]
        with pytest.raises(SlackApiError) as refused:
            client.chat_postMessage(channel="C1", text="again")  # the channel's one-message burst is spent
        assert refused.value.response.status_code == 429
        assert int(refused.value.response.headers["Retry-After"]) >= 1
        assert client.chat_postMessage(channel="C2", text="two")["ok"]
        with pytest.raises(SlackApiError):
            client.chat_postMessage(channel="C3", text="three")  # the workspace's burst of two is spent
        assert client.users_info(user="U1")["ok"]  # other methods are not limited by this mode
        assert slack.rate_limited == 2
        assert [c.status for c in slack.calls("chat.postMessage")] == [200, 429, 200, 429]
        assert [m["text"] for m in slack.messages_in("C1")] == ["one"]


def test_without_rate_limits_nothing_is_refused():
    with FakeSlack() as slack:
        client = WebClient(token="xoxb-test", base_url=slack.api_url, retry_handlers=[])
        for n in range(20):
            assert client.chat_postMessage(channel="C1", text=str(n))["ok"]
        assert slack.rate_limited == 0
