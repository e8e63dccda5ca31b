"""The only code of ours that calls the Slack Web API (bolt's ack() and respond() aside).

`SlackNotifier` answers the person at hand (files, views, a DM when there is no response_url) with slack-sdk's
retries; `SlackDeliverySender` sends the delivery ledger's messages (reminders, broadcasts, notices for other
people) and reports what Slack answered, because the delivery engine owns retries there.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry import HttpRequest, HttpResponse, RetryHandler, RetryState
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.delivery import Arrival, Outgoing, SendOutcome
from bot.slack.ids import slacks
from bot.slack.render import ButtonValue, Message, render
from bot.slack.settings import SlackSettings
from handlers.event_reminders import CALENDAR
from handlers.types import Attachment, Reply

log = logging.getLogger(__name__)


class RateLimitCounter(RetryHandler):
    """Retries nothing: tells `on_rate_limited` of every 429 Slack answers (it is asked before the handlers that
    wait 429s out, so each one is counted, retried or not)."""

    def __init__(self, on_rate_limited: Callable[[], None]) -> None:
        super().__init__(max_retry_count=0)
        self.on_rate_limited = on_rate_limited

    def can_retry(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is not None and response.status_code == 429:
            self.on_rate_limited()
        return False


def _counting(on_rate_limited: Callable[[], None] | None) -> list[RetryHandler]:
    return [] if on_rate_limited is None else [RateLimitCounter(on_rate_limited)]


def make_web_client(settings: SlackSettings, *, on_rate_limited: Callable[[], None] | None = None) -> WebClient:
    """A client that waits out 429s (Retry-After) and retries 5xx and dropped connections a few times."""
    return WebClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url,
        # Passing retry_handlers replaces slack-sdk's defaults, so all three are listed.
        retry_handlers=[
            *_counting(on_rate_limited),
            RateLimitErrorRetryHandler(max_retry_count=3),
            ServerErrorRetryHandler(max_retry_count=2),
            ConnectionErrorRetryHandler(max_retry_count=2),
        ],
    )


class SlackNotifier:
    """Answers the person at hand outside a response_url (a button in the Home tab, files into their DM),
    publishes Home tabs and reads user profiles. Messages for other people go through the delivery ledger."""

    def __init__(self, client: WebClient, *, value: ButtonValue | None = None) -> None:
        self.client = client
        self.value = value  # what a button carries (see render.render)
        self._dm_channels: dict[str, str] = {}
        self._lock = threading.Lock()

    def send(self, user_id: str, reply: Reply) -> bool:
        """One direct message to one person; True when Slack took it."""
        return self._post((user_id,), render(reply, value=self.value))

    def upload_files(self, user_id: str, files: Sequence[Attachment]) -> bool:
        """Files of a reply (a CSV export, a chart, a calendar file) into the person's DM; True when all went."""
        if not files:
            return True
        try:
            self.client.files_upload_v2(
                channel=self._open((user_id,)),
                file_uploads=[{"content": f.content, "filename": f.filename, "title": f.filename} for f in files],
            )
            return True
        except (SlackApiError, SlackClientError, OSError) as error:
            reason = error.response.get("error") if isinstance(error, SlackApiError) else type(error).__name__
            log.warning("could not upload %s for %s: %s", [f.filename for f in files], user_id, reason)
            return False

    def open_view(self, trigger_id: str, view: dict[str, Any]) -> None:
        """A modal; the trigger_id of the click that asked for it lives three seconds."""
        self.client.views_open(trigger_id=trigger_id, view=view)

    def publish_home(self, user_id: str, blocks: Sequence[dict[str, Any]]) -> None:
        self.client.views_publish(user_id=user_id, view={"type": "home", "blocks": list(blocks)})

    def user_profile(self, user_id: str) -> tuple[str, str | None, str | None]:
        """(display name, IANA time zone, language such as `pl-PL`) from users.info; raises SlackApiError when
        Slack refuses."""
        user = self.client.users_info(user=user_id, include_locale=True)["user"]
        profile = user.get("profile") or {}
        name = profile.get("display_name") or profile.get("real_name") or user.get("real_name") or user.get("name")
        return str(name or user_id), user.get("tz") or None, user.get("locale") or None

    def _post(self, users: Sequence[str], message: Message) -> bool:
        try:
            channel = self._open(users)
            self.client.chat_postMessage(channel=channel, text=message.text, blocks=message.blocks)
            return True
        except (SlackApiError, SlackClientError, OSError) as error:
            reason = error.response.get("error") if isinstance(error, SlackApiError) else type(error).__name__
            log.warning("could not deliver to %s: %s", ",".join(users), reason)
            return False

    def _open(self, users: Sequence[str]) -> str:
        """The DM (one user) or group DM (several) channel; DM ids never change, so they are remembered."""
        key = ",".join(users)
        with self._lock:
            known = self._dm_channels.get(key) if len(users) == 1 else None
        if known:
            return known
        channel = str(self.client.conversations_open(users=key)["channel"]["id"])
        if len(users) == 1:
            with self._lock:
                self._dm_channels[key] = channel
        return channel


# --- the delivery engine's sender: it owns retries, so its client has none -------------------------

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


def make_delivery_client(settings: SlackSettings, *, on_rate_limited: Callable[[], None] | None = None) -> WebClient:
    return WebClient(
        token=settings.slack_bot_token,
        base_url=settings.slack_api_url,
        retry_handlers=_counting(on_rate_limited),  # the engine retries through the ledger: this only counts 429s
        timeout=15,
    )


# Every message the engine sends carries its ledger key, so after a crash we can find whether it arrived.
METADATA_TYPE = "citypeers_delivery"
# Slack errors after which the message may have been posted all the same.
UNCERTAIN_ERRORS = frozenset({"internal_error", "fatal_error", "request_timeout", "service_unavailable"})


class SlackDeliverySender:
    """Sends the ledger's messages: to a channel, a person's DM with the app, or a group DM (an introduction)."""

    def __init__(self, client: WebClient, *, value: ButtonValue | None = None) -> None:
        self.client = client
        self.value = value  # what a button carries (see render.render)
        self._conversations: dict[str, str] = {}  # "U1" or "U1,U2" -> the DM or group DM channel
        self._lock = threading.Lock()

    def send(self, message: Outgoing) -> SendOutcome:
        if message.kind == CALENDAR:
            return SendOutcome.sent()  # Slack has no event list of its own to keep in step
        # In a channel people in many zones read it: its times are Slack's dates, each reader's own.
        rendered = render(message.reply, value=self.value, channel=message.recipient_kind == "channel")
        metadata = {"event_type": METADATA_TYPE, "event_payload": {"key": message.key}}
        recipient = slack_recipient(message.recipient)
        try:
            # A user id as channel posts to the person's DM with the app (its Messages tab) without opening it.
            channel = self._open(recipient) if message.recipient_kind == "group" else recipient
            try:
                self.client.chat_postMessage(
                    channel=channel, text=rendered.text, blocks=rendered.blocks, metadata=metadata
                )
            except SlackApiError as error:
                if message.recipient_kind != "user" or error.response.get("error") != "channel_not_found":
                    raise
                # A workspace that refuses a user id as channel still lets us open the DM ourselves.
                channel = self._open(recipient)
                self.client.chat_postMessage(
                    channel=channel, text=rendered.text, blocks=rendered.blocks, metadata=metadata
                )
            return SendOutcome.sent()
        except SlackApiError as error:
            return outcome_of(error)
        except (SlackClientError, URLError, OSError) as error:
            # The request may have reached Slack before the connection failed.
            return SendOutcome("retry", error=type(error).__name__, certain=False)

    def arrived(self, message: Outgoing, since: datetime) -> Arrival:
        """Whether a message with this key is in its conversation since `since`, from the message metadata in
        conversations.history (the *:history scopes). Asked only after a send was interrupted."""
        recipient = slack_recipient(message.recipient)
        try:
            channel = self._open(recipient) if message.recipient_kind != "channel" else recipient
            cursor = None
            while True:
                page = self.client.conversations_history(
                    channel=channel,
                    oldest=f"{since.timestamp():.6f}",
                    include_all_metadata=True,
                    limit=200,
                    cursor=cursor,
                )
                messages: list[dict[str, Any]] = page.get("messages", [])
                for found in messages:
                    metadata = found.get("metadata") or {}
                    payload = metadata.get("event_payload") or {}
                    if metadata.get("event_type") == METADATA_TYPE and payload.get("key") == message.key:
                        return Arrival.ARRIVED
                cursor = (page.get("response_metadata") or {}).get("next_cursor")
                if not cursor:
                    return Arrival.ABSENT
        except SlackApiError as error:
            code = error.response.get("error")
            if error.response.status_code == 429 or error.response.status_code >= 500 or code in UNCERTAIN_ERRORS:
                return Arrival.LATER
            log.warning("cannot look for message %s in its conversation (%s)", message.key, code)
            return Arrival.UNKNOWN
        except (SlackClientError, URLError, OSError):
            return Arrival.LATER

    def _open(self, users: str) -> str:
        """The DM (one user) or group DM (several) channel; conversations never change, so they are remembered."""
        with self._lock:
            known = self._conversations.get(users)
        if known:
            return known
        channel = str(self.client.conversations_open(users=users)["channel"]["id"])
        with self._lock:
            self._conversations[users] = channel
        return channel


def slack_recipient(recipient: str) -> str:
    """Slack's id(s) of a ledger recipient: `slack:C1` -> `C1`, `slack:U1,slack:U2` -> `U1,U2`."""
    return ",".join(slacks(part) or part for part in recipient.split(","))


def outcome_of(error: SlackApiError) -> SendOutcome:
    response = error.response
    code = str(response.get("error") or f"http_{response.status_code}")
    if response.status_code == 429:
        retry_after = response.headers.get("Retry-After") or response.headers.get("retry-after") or "1"
        return SendOutcome("retry", retry_after=float(retry_after), error="ratelimited")
    if code in PERMANENT_ERRORS:
        return SendOutcome("failed", error=code)
    return SendOutcome("retry", error=code, certain=not (response.status_code >= 500 or code in UNCERTAIN_ERRORS))
