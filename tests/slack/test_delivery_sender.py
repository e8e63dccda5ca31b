"""The delivery engine's Slack sender over real HTTP against the fake Slack: what each answer becomes."""

from slack_sdk import WebClient

from bot.delivery import Outgoing
from bot.slack.notifier import SlackDeliverySender
from handlers.types import Reply
from tests.support.fakeslack import FakeSlack


def sender_for(slack: FakeSlack) -> SlackDeliverySender:
    return SlackDeliverySender(WebClient(token="xoxb-test", base_url=slack.api_url, retry_handlers=[]))


def test_outcomes_of_slack_answers():
    with FakeSlack() as slack:
        sender = sender_for(slack)
        assert sender.send(Outgoing("k", "channel", "C0LABS", Reply.of("hello"))).status == "sent"
        slack.fail_next("chat.postMessage", status=429, retry_after=7)
        limited = sender.send(Outgoing("k", "channel", "C0LABS", Reply.of("hello")))
        assert (limited.status, limited.retry_after) == ("retry", 7.0)
        slack.fail_next("chat.postMessage", status=503, retry_after=None)
        assert sender.send(Outgoing("k", "channel", "C0LABS", Reply.of("hello"))).status == "retry"
        slack.fail_next("chat.postMessage", error="is_archived")
        archived = sender.send(Outgoing("k", "channel", "C0LABS", Reply.of("hello")))
        assert (archived.status, archived.error) == ("failed", "is_archived")
        assert not slack.problems, slack.problems


def test_a_refused_user_id_channel_falls_back_to_opening_the_dm():
    with FakeSlack() as slack:
        sender = sender_for(slack)
        slack.fail_next("chat.postMessage", error="channel_not_found")
        assert sender.send(Outgoing("k", "user", "U0ANA", Reply.of("your reminder"))).status == "sent"
        assert [m["text"] for m in slack.dms_to("U0ANA")] == ["your reminder"]
        slack.fail_next("chat.postMessage", error="channel_not_found")
        gone = sender.send(Outgoing("k", "channel", "C0GONE", Reply.of("hello")))
        assert (gone.status, gone.error) == ("failed", "channel_not_found")
        assert not slack.problems, slack.problems
