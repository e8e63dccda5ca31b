"""The Matrix adapter: a bot device syncing beside the web app, its renderer and its sender (see bot/adapters.py).

Matrix calls nothing on our web app (routes: none); the bot syncs from the homeserver in a thread of its own
(bot/matrix/bot.py) and each command runs on a worker thread through the same dispatcher as every platform.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bot.matrix.bot import Incoming, MatrixBot, txn_of
from bot.matrix.render import render
from bot.matrix.sender import MatrixDeliverySender
from bot.web import Route
from handlers.dispatch import FAMILIES, HELP, handle
from handlers.types import Reply, Request, Services
from storage import seen_events
from storage.db import unit_of_work

if TYPE_CHECKING:
    from bot.matrix.settings import MatrixSettings

log = logging.getLogger(__name__)
SEEN_PREFIX = "matrix:"  # event ids in the seen_event table, apart from Slack's and Discord's


class Strings:
    FAILED = "Something went wrong on our side; nothing was changed (ref {ref})."
    FILE_SENT = "Sent to you in a direct message: {name}."


class MatrixAdapter:
    platform = "matrix"

    def __init__(self, settings: MatrixSettings, services: Services) -> None:
        self.settings = settings
        self.services = services
        self.bot = MatrixBot(
            settings,
            self.run,
            families=frozenset([*FAMILIES, HELP]),
            on_rate_limited=lambda: services.meter.rate_limited("matrix"),
        )

    def routes(self) -> Sequence[Route]:
        return []

    def sender(self) -> MatrixDeliverySender:
        return MatrixDeliverySender(self.bot)

    def start(self) -> None:
        self.bot.start()

    def stop(self) -> None:
        self.bot.stop()

    def run(self, incoming: Incoming) -> None:
        """Answer a command (or a reaction that stands for one) once, in a thread on it."""
        if not self._first_sighting(incoming.event_id):
            log.info("Matrix event %s was handled already: not run again", incoming.event_id)
            return
        try:
            reply = self.reply_to(incoming)
        except Exception:
            ref = secrets.token_hex(3)
            log.exception("unexpected error ref=%s in a Matrix command", ref)
            reply = Reply.fail(Strings.FAILED.format(ref=ref))
        try:
            self.answer(incoming, reply)
        except Exception:
            log.exception("could not answer Matrix event %s", incoming.event_id)

    def reply_to(self, incoming: Incoming) -> Reply:
        family, _, text = incoming.line.lstrip("/").partition(" ")
        request = Request(user_id=f"{SEEN_PREFIX}{incoming.sender}", user_name=incoming.name, command=family, text=text)
        return self.services.meter.measure(family, lambda: handle(self.services, request))

    def answer(self, incoming: Incoming, reply: Reply) -> None:
        files, reply.files = reply.files, []
        bot = self.bot
        room = incoming.room_id
        if files:  # a file is one person's (an export, a calendar): it goes to their direct room
            direct = room if incoming.direct else bot.call(bot.direct_room(incoming.sender))
            for number, attached in enumerate(files):
                txn = txn_of(f"file:{incoming.event_id}:{number}")
                bot.call(bot.send_file(direct, attached.filename, attached.content, attached.mime_type, txn), 120)
                if direct != room:
                    reply.add(Strings.FILE_SENT, name=attached.filename)
        bot.call(
            bot.send(
                room,
                render(reply),
                txn_of(f"answer:{incoming.event_id}"),
                thread_of=incoming.thread_of,
                reply_to=incoming.reply_to,
            ),
            600,
        )

    def _first_sighting(self, event_id: str) -> bool:
        with unit_of_work(self.services.engine) as session:
            return seen_events.first_sighting(
                session=session, event_id=f"{SEEN_PREFIX}{event_id}", now=self.services.clock.now()
            )
