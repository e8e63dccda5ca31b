"""Discord's settings, taken into bot.config.Settings (see bot/platforms.py): read with every other setting."""

from __future__ import annotations

from pydantic import field_validator

from bot.config import ConfigError, CoreSettings


class DiscordSettings(CoreSettings):
    discord_application_id: str = ""
    discord_public_key: str = ""
    discord_bot_token: str = ""
    discord_api_url: str = "https://discord.com/api/v10"
    citypeers_discord_admins: str = ""  # Discord user ids with the admin role

    @field_validator("discord_public_key")
    @classmethod
    def _discord_key(cls, value: str) -> str:
        value = value.strip()
        if value and (len(value) != 64 or any(ch not in "0123456789abcdefABCDEF" for ch in value)):
            raise ValueError("expected the application's public key: 64 hexadecimal characters")
        return value.lower()

    @field_validator("discord_application_id")
    @classmethod
    def _discord_application(cls, value: str) -> str:
        value = value.strip()
        if value and not (value.isdecimal() and len(value) <= 25):
            raise ValueError("expected the application id, a number such as 1234567890123456789")
        return value

    @field_validator("discord_api_url")
    @classmethod
    def _discord_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("expected an http(s) URL such as https://discord.com/api/v10")
        return value.rstrip("/")

    @property
    def discord_enabled(self) -> bool:
        return bool(self.discord_application_id or self.discord_public_key or self.discord_bot_token)

    def require_discord(self) -> None:
        missing = [
            name
            for name, value in (
                ("DISCORD_APPLICATION_ID", self.discord_application_id),
                ("DISCORD_PUBLIC_KEY", self.discord_public_key),
                ("DISCORD_BOT_TOKEN", self.discord_bot_token),
            )
            if not value
        ]
        if missing:
            raise ConfigError(f"{' and '.join(missing)} not set: Discord needs all three (see .env.example)")
