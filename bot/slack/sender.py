"""Sends the delivery engine's messages to Slack and says what Slack answered, without retrying itself.

The engine owns retries (Retry-After, backoff, giving up), so this client has no retry handlers: a 429 or
a 5xx comes back as an outcome instead of sleeping inside the call.
"""

from __future__ import annotations

import logging
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.config import Settings
from bot.delivery import SendOutcome
from bot.slack.render import render
from handlers.types import Reply

log = logging.getLogger(__name__)

# Errors that will not go away by trying again: record them and tell the organiser.
PERMANENT_ERRORS = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "user_not_found",
        "user_disabled",
        "account_inactive",
        "cannot_dm_bot",
        "restricted_action",
        "msg_too_long",
        "invalid_blocks",
        "invalid_auth",
        "not_authed",
        "token_revoked",
        "missing_scope",
    }
)


def make_delivery_client(settings: Settings) -> WebClient:
    return WebClient(token=settings.slack_bot_token, base_url=settings.slack_api_url, retry_handlers=[], timeout=15)


class SlackSender:
    def __init__(self, client: WebClient) -> None:
        self.client = client

    def send(self, recipient_kind: str, recipient: str, reply: Reply) -> SendOutcome:
        """Post to a channel, or to a person's DM with the app (a user id as channel opens it)."""
        message = render(reply)
        try:
            self.client.chat_postMessage(channel=recipient, text=message.text, blocks=message.blocks)
            return SendOutcome.sent()
        except SlackApiError as error:
            return outcome_of(error)
        except (SlackClientError, URLError, OSError) as error:
            return SendOutcome("retry", error=type(error).__name__)


def outcome_of(error: SlackApiError) -> SendOutcome:
    response = error.response
    code = str(response.get("error") or f"http_{response.status_code}")
    if response.status_code == 429:
        retry_after = response.headers.get("Retry-After") or response.headers.get("retry-after") or "1"
        return SendOutcome("retry", retry_after=float(retry_after), error="ratelimited")
    if code in PERMANENT_ERRORS:
        return SendOutcome("failed", error=code)
    return SendOutcome("retry", error=code)
