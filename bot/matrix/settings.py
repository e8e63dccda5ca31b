"""Matrix's settings, taken into bot.config.Settings (see bot/platforms.py): read with every other setting."""

from __future__ import annotations

import re

from pydantic import field_validator

from bot.config import ConfigError, CoreSettings

USER_ID = re.compile(r"@[a-z0-9._=\-/+]+:[A-Za-z0-9.\-\[\]:]+")


class MatrixSettings(CoreSettings):
    matrix_homeserver: str = ""  # https://matrix.example.org: the client API's base URL
    matrix_user_id: str = ""  # @citypeers:example.org, a bot account (not an appservice)
    matrix_password: str = ""  # used once, at the first start; then the device's token is kept in MATRIX_STORE
    matrix_access_token: str = ""  # instead of a password, where the homeserver logs in through SSO
    matrix_device_id: str = ""  # the device of that token
    # Where the device, its token, the sync position and the encryption keys are kept (SQLite); `citypeers backup`
    # copies it beside the database's backup.
    matrix_store: str = "citypeers-matrix.db"
    matrix_pickle_key: str = "citypeers"  # encrypts the device's keys inside MATRIX_STORE
    # Homeservers whose users may invite the bot into a room (comma-separated); empty: the bot's own.
    matrix_homeservers: str = ""
    citypeers_matrix_admins: str = ""  # Matrix user ids with the admin role (@ana:example.org)

    @field_validator("matrix_homeserver")
    @classmethod
    def _homeserver(cls, value: str) -> str:
        value = value.strip()
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("expected the homeserver's URL such as https://matrix.example.org")
        return value.rstrip("/")

    @field_validator("matrix_user_id")
    @classmethod
    def _user(cls, value: str) -> str:
        value = value.strip()
        if value and not USER_ID.fullmatch(value):
            raise ValueError("expected a Matrix user id such as @citypeers:example.org")
        return value

    @field_validator("citypeers_matrix_admins")
    @classmethod
    def _admins(cls, value: str) -> str:
        for part in value.split(","):
            if part.strip() and not USER_ID.fullmatch(part.strip()):
                raise ValueError(f"`{part.strip()}` is not a Matrix user id such as @ana:example.org")
        return value

    @property
    def matrix_enabled(self) -> bool:
        return bool(self.matrix_homeserver or self.matrix_user_id or self.matrix_access_token)

    @property
    def matrix_server_name(self) -> str:
        return self.matrix_user_id.split(":", 1)[1] if ":" in self.matrix_user_id else ""

    @property
    def matrix_allowed_servers(self) -> frozenset[str]:
        listed = {part.strip().lower() for part in self.matrix_homeservers.split(",") if part.strip()}
        return frozenset(listed or {self.matrix_server_name.lower()})

    def require_matrix(self) -> None:
        missing = [
            name
            for name, value in (("MATRIX_HOMESERVER", self.matrix_homeserver), ("MATRIX_USER_ID", self.matrix_user_id))
            if not value
        ]
        if missing:
            raise ConfigError(f"{' and '.join(missing)} not set: Matrix needs both (see .env.example)")
        if not self.matrix_password and not self.matrix_access_token:
            raise ConfigError("MATRIX_PASSWORD or MATRIX_ACCESS_TOKEN not set: Matrix needs one (see .env.example)")
        if self.matrix_access_token and not self.matrix_device_id:
            raise ConfigError("MATRIX_DEVICE_ID not set: a MATRIX_ACCESS_TOKEN comes with its device's id")


def stores(settings: MatrixSettings) -> list[str]:
    """The bot's device, token, sync position and keys: what `citypeers backup` copies beside the database."""
    from pathlib import Path

    return [str(Path(settings.matrix_store).resolve())]
