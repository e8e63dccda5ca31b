"""The one protocol every platform implements, and what joins them in `citypeers run`.

A platform adapter (Slack in `bot/slack/`, Discord in `bot/discord/`) does three things and nothing else:
- mounts its routes on the one web app (`bot.web`): where the platform sends commands, clicks and forms;
- renders a neutral `Reply` its own way (Block Kit, Discord components, terminal lines), escaping user text;
- sends a row of the delivery ledger (`Sender`): reminders, broadcasts, notices for other people.
Handlers never see a platform: they get a `Request` whose ids carry the platform as a prefix (`slack:U…`,
`discord:123…`; the console's names carry none) and return a `Reply`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol

from bot.delivery import Arrival, Outgoing, Sender, SendOutcome
from bot.web import Route
from handlers.ledger import platform_of


class Adapter(Protocol):
    platform: str  # the prefix of this platform's ids: "slack", "discord"

    def routes(self) -> Sequence[Route]:
        """The endpoints this platform calls on the web app."""
        ...

    def sender(self) -> Sender:
        """Sends ledger rows whose recipient is on this platform (ids with its prefix)."""
        ...

    def start(self) -> None:
        """Whatever runs beside the routes (Slack's Socket Mode connection); most adapters need nothing."""
        ...

    def stop(self) -> None: ...


class RoutingSender:
    """One sender for the delivery engine: each row goes to the sender of its recipient's platform."""

    def __init__(self, senders: Mapping[str, Sender], *, default: str | None = None) -> None:
        self.senders = dict(senders)
        self.default = default

    @property
    def platforms(self) -> frozenset[str]:
        """The platforms of the rows this process can send: a process claims no other row. Ids without a prefix
        (the console's people, rows from before prefixes) go to the default platform."""
        served = set(self.senders)
        if self.default in self.senders:
            served.add("")
        return frozenset(served)

    def _for(self, message: Outgoing) -> Sender | None:
        first = message.recipient.split(",", 1)[0]
        return self.senders.get(platform_of(first) or (self.default or ""))

    def send(self, message: Outgoing) -> SendOutcome:
        sender = self._for(message)
        if sender is None:
            # Nobody here speaks that platform (its settings are absent): leave it for a process that does.
            return SendOutcome("retry", retry_after=300.0, error="platform not served here")
        return sender.send(message)

    def arrived(self, message: Outgoing, since: datetime) -> Arrival:
        sender = self._for(message)
        return Arrival.LATER if sender is None else sender.arrived(message, since)
