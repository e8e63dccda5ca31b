"""What turns the homeserver's refusals at start-up, or a missing library, into one line naming a setting."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.config import StartupFailure

if TYPE_CHECKING:
    from bot.matrix.settings import MatrixSettings

INSTALL = "pip install -c constraints.txt -e '.[matrix]'"


def failure(error: BaseException, settings: MatrixSettings, phase: str) -> StartupFailure | None:
    text = str(error) or type(error).__name__
    name = type(error).__name__
    if isinstance(error, ModuleNotFoundError) and (error.name or "").split(".")[0] in (
        "mautrix",
        "olm",
        "aiosqlite",
        "asyncpg",
        "Crypto",
        "unpaddedbase64",
        "base58",
    ):
        return StartupFailure("MATRIX_HOMESERVER", f"Matrix needs its libraries, not installed here: {INSTALL}")
    if name in ("MForbidden", "MUnknownToken") or "M_FORBIDDEN" in text or "M_UNKNOWN_TOKEN" in text:
        setting = "MATRIX_ACCESS_TOKEN" if settings.matrix_access_token else "MATRIX_PASSWORD"
        return StartupFailure(setting, f"the homeserver refused the bot's login ({text})")
    if isinstance(error, OSError | TimeoutError) or "Cannot connect" in text or "ClientConnector" in name:
        return StartupFailure("MATRIX_HOMESERVER", f"cannot reach {settings.matrix_homeserver} ({text})")
    if isinstance(error, ValueError) and "token is" in text:
        return StartupFailure("MATRIX_USER_ID", text)
    return None
