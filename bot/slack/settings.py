"""Slack's settings, taken into bot.config.Settings (see bot/platforms.py): read with every other setting."""

from __future__ import annotations

from pydantic import field_validator

from bot.config import ConfigError, CoreSettings


class SlackSettings(CoreSettings):
    slack_bot_token: str = ""
    slack_signing_secret: str = ""
    slack_app_token: str = ""
    slack_api_url: str = "https://slack.com/api/"
    citypeers_admins: str = ""  # Slack user ids with the admin role

    @field_validator("slack_api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("expected an http(s) URL such as https://slack.com/api/")
        return value if value.endswith("/") else value + "/"

    @property
    def slack_enabled(self) -> bool:
        return bool(self.slack_bot_token or self.slack_signing_secret or self.slack_app_token)

    def require_slack(self) -> None:
        """`citypeers run` needs tokens; say which are missing and where to go without them."""
        missing = [] if self.slack_bot_token else ["SLACK_BOT_TOKEN"]
        if not self.slack_app_token and not self.slack_signing_secret:
            missing.append("SLACK_SIGNING_SECRET (or SLACK_APP_TOKEN for Socket Mode)")
        if missing:
            raise ConfigError(
                f"{' and '.join(missing)} not set: see .env.example, or try CityPeers without Slack: citypeers console"
            )
        if not self.slack_bot_token.startswith("xoxb-"):
            raise ConfigError("SLACK_BOT_TOKEN: expected a bot token starting with xoxb-")
        if self.slack_app_token and not self.slack_app_token.startswith("xapp-"):
            raise ConfigError("SLACK_APP_TOKEN: expected an app-level token starting with xapp-")
