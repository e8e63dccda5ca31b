"""Button commands kept server-side when a platform's payload cannot hold them (Discord's custom_id: 100
characters, Slack's button value: 2,000). The short id is a hash of the command, so rendering the same button
again stores nothing new. A payload is the command itself (after the platform's own prefix) when it fits, else
`s:` and the id; a command starts with "/", so the two never meet."""

from __future__ import annotations

import base64
import hashlib

from core.i18n import N_
from handlers.types import Services
from storage import queries
from storage.db import run_transaction

STORED = "s:"
UNKNOWN_BUTTON = N_("This button has expired; run the command again.")  # a payload command_of cannot resolve
TOKEN_CHARS = 26  # 130 bits of SHA-256 in base32: no two commands meet by chance


def token_of(command: str) -> str:
    digest = hashlib.sha256(command.encode("utf-8", "surrogatepass")).digest()
    return base64.b32encode(digest).decode().lower()[:TOKEN_CHARS]


def store(services: Services, command: str) -> str:
    token = token_of(command)
    now = services.clock.now()
    run_transaction(
        services.engine, lambda session: queries.store_command(session=session, token=token, command=command, now=now)
    )
    return token


def load(services: Services, token: str) -> str | None:
    if not token or len(token) > TOKEN_CHARS:
        return None
    return run_transaction(services.engine, lambda session: queries.stored_command(session=session, token=token))


def payload(services: Services, command: str, limit: int, *, inline: str = "") -> str:
    """What a button carries for `command` within `limit` characters: `inline` + the command, or a stored id."""
    whole = inline + command
    return whole if len(whole) <= limit else STORED + store(services, command)


def command_of(services: Services, value: str, *, inline: str = "") -> str | None:
    """The command a button's payload stands for; None for one we never made (or whose command is gone)."""
    if value.startswith(STORED):
        return load(services, value[len(STORED) :])
    return value[len(inline) :] if value.startswith(inline) else None
