"""Slack refusing a token, or not answering, at start-up: one line naming the setting (bot/platforms.py's
`startup_failure`); and the quiet that keeps slack-sdk's own lines about it out of the log meanwhile."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

from bot.config import StartupFailure
from bot.slack.settings import SlackSettings

# slack-sdk logs each failed attempt and retry as it goes; at start-up the outcome is told in one line instead.
CLIENT_LOG = "slack_sdk.web.base_client"


def failure(error: BaseException, settings: SlackSettings, phase: str) -> StartupFailure | None:
    """Slack refusing a token (bolt's auth.test when the adapter is built, Socket Mode's connection when it starts)
    or not answering, as one line naming the setting; None for anything else."""
    from urllib.error import URLError

    from slack_sdk.errors import SlackApiError

    token_setting = "SLACK_APP_TOKEN" if phase == "start" else "SLACK_BOT_TOKEN"
    if not isinstance(error, SlackApiError) and isinstance(error.__context__, SlackApiError):
        error = error.__context__  # bolt raises BoltError while handling auth.test's SlackApiError
    if isinstance(error, SlackApiError):
        status = error.response.status_code
        if status == 429 or status >= 500:
            return StartupFailure("SLACK_API_URL", f"Slack at {settings.slack_api_url} answered HTTP {status}")
        return StartupFailure(token_setting, f"was refused by Slack ({error.response.get('error')})", joiner=" ")
    if isinstance(error, URLError | OSError):
        reason = error.reason if isinstance(error, URLError) else error
        if isinstance(reason, OSError):
            cause = reason.strerror or ("timed out" if isinstance(reason, TimeoutError) else str(reason))
        else:
            cause = str(reason)
        cause = cause[:1].lower() + cause[1:]
        return StartupFailure("SLACK_API_URL", f"cannot reach Slack at {settings.slack_api_url} ({cause})")
    return None


@contextlib.contextmanager
def quiet(*names: str) -> Iterator[None]:
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
