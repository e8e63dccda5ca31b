"""The delivery ledger as a test reads it: a recording sender behind the real delivery engine."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime

from bot.delivery import Arrival, DeliveryEngine, Outgoing, Pacer, SendOutcome
from handlers.types import Services


@dataclass
class RecordingSender:
    """Stands in for a platform: records what would be posted and answers as scripted, per recipient."""

    answers: dict[str, list[SendOutcome]] = field(default_factory=dict)
    sent: list[tuple[str, str, str]] = field(default_factory=list)
    messages: list[Outgoing] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock)
    hook: object = None  # called inside send, to interleave another worker
    asked: list[str] = field(default_factory=list)  # keys whose arrival the engine asked about

    def send(self, message: Outgoing) -> SendOutcome:
        if self.hook is not None:
            self.hook(message.recipient_kind, message.recipient, message.reply)
        with self.lock:
            scripted = self.answers.get(message.recipient)
            outcome = scripted.pop(0) if scripted else SendOutcome.sent()
            if outcome.status == "sent" or not outcome.certain:
                self.sent.append((message.recipient_kind, message.recipient, message.reply.plain()))
                self.messages.append(message)
            return outcome

    def arrived(self, message: Outgoing, since: datetime) -> Arrival:
        with self.lock:
            self.asked.append(message.key)
            return Arrival.ARRIVED if any(m.key == message.key for m in self.messages) else Arrival.ABSENT

    def texts_to(self, recipient: str) -> list[str]:
        return [text for _, who, text in self.sent if who == recipient]


def engine_for(services: Services, sender: RecordingSender, worker: str = "w1") -> DeliveryEngine:
    return DeliveryEngine(
        services, sender, worker=worker, pacer=Pacer(per_channel=0, per_second=0, sleep=lambda s: None)
    )


def deliver(services: Services) -> list[Outgoing]:
    """Send what the ledger owes now; the messages that went out, in order."""
    sender = RecordingSender()
    engine_for(services, sender).run_due()
    return sender.messages
