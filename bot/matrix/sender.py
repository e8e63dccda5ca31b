"""The delivery engine's Matrix sender: reminders, broadcasts and notices as Matrix messages, each sent once.

A row's transaction id is made from its ledger key and the room (`txn_of`), so it is the same on every attempt:
after a timeout, a 429 or a crash the homeserver answers a resend with the event it made the first time (Synapse
keeps transaction ids for a day, per device: the device never changes, bot/matrix/bot.py). A send interrupted longer
ago than that is looked for in the room first (our own events carry their transaction id). A message to people goes
to each one's direct room; to a room, to the room. A `calendar` row is no message (Matrix has no event list).
"""

from __future__ import annotations

import logging
from datetime import datetime

from bot.delivery import Arrival, Outgoing, SendOutcome
from bot.matrix.bot import MatrixBot, RateLimited, SendFailed, txn_of
from bot.matrix.render import matrix_id, render
from handlers.ledger import RowKind

log = logging.getLogger(__name__)
PERMANENT = {"M_FORBIDDEN": "forbidden", "M_NOT_FOUND": "room_not_found", "M_UNKNOWN_TOKEN": "unknown_token"}


class MatrixDeliverySender:
    def __init__(self, bot: MatrixBot) -> None:
        self.bot = bot

    def send(self, message: Outgoing) -> SendOutcome:
        if message.kind == RowKind.CALENDAR:
            return SendOutcome.sent()
        rendered = render(message.reply)
        # A reminder to each attendee's direct room: they react ✅ themselves (the text says so); the bot's own
        # reaction on each would double what it sends under the homeserver's limits (0.2 a second on Synapse).
        rendered.place_reactions = not (message.kind == RowKind.REMINDER and message.recipient_kind != "channel")
        try:
            for room in self._rooms(message):
                assert room is not None
                txn = txn_of(f"{message.key}:{room}")
                self.bot.call(self.bot.send(room, rendered, txn), timeout=600)
                for number, attached in enumerate(message.reply.files):
                    send = self.bot.send_file(
                        room, attached.filename, attached.content, attached.mime_type, f"{txn}f{number}"
                    )
                    self.bot.call(send, timeout=120)
        except RateLimited as limited:
            return SendOutcome("retry", retry_after=limited.retry_after, error="ratelimited")
        except SendFailed as failure:
            if failure.errcode in PERMANENT:
                return SendOutcome("failed", error=PERMANENT[failure.errcode])
            if 400 <= failure.status < 500:
                return SendOutcome("failed", error=f"http_{failure.status}")
            return SendOutcome("retry", error=f"http_{failure.status}", certain=False)
        except Exception as error:  # a timeout or a dropped connection: it may have arrived; the txn id keeps it once
            log.warning("Matrix send of %s: %s", message.key, error)
            return SendOutcome("retry", error=type(error).__name__, certain=False)
        return SendOutcome.sent()

    def arrived(self, message: Outgoing, since: datetime) -> Arrival:
        if message.kind == RowKind.CALENDAR:
            return Arrival.ARRIVED
        try:
            for room in self._rooms(message, existing=True):
                if room is None:
                    return Arrival.ABSENT  # no direct room with the person yet: nothing was sent there
                found = self.bot.call(
                    self.bot.sent_before(room, txn_of(f"{message.key}:{room}"), int(since.timestamp() * 1000))
                )
                if found is None:
                    return Arrival.UNKNOWN  # resent under the same transaction id: still once within a day
                if not found:
                    return Arrival.ABSENT
            return Arrival.ARRIVED
        except Exception as error:
            log.warning("cannot look for %s in its room (%s)", message.key, error)
            return Arrival.LATER

    def _rooms(self, message: Outgoing, *, existing: bool = False) -> list[str | None]:
        """The room, or each person's direct room (made when missing, unless `existing`: then None)."""
        if message.recipient_kind == "channel":
            return [matrix_id(message.recipient) or message.recipient]
        people = [matrix_id(person) or person for person in message.recipient.split(",")]
        if existing:
            return [self.bot.direct.get(person) for person in people]
        return [self.bot.call(self.bot.direct_room(person), timeout=600) for person in people]
