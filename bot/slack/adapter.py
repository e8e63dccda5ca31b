"""The Slack adapter: bolt's route on the web app (or a Socket Mode connection), Block Kit rendering (render.py),
and the Slack sender of the delivery ledger (notifier.py). See bot/adapters.py."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from slack_bolt.adapter.socket_mode import SocketModeHandler

from bot.slack.app import build_slack_app
from bot.slack.notifier import SlackDeliverySender, make_delivery_client
from bot.slack.render import stored_value
from bot.slack.server import slack_routes
from bot.slack.settings import SlackSettings
from bot.slack.startup import CLIENT_LOG, quiet
from bot.web import Route
from handlers.types import Services

log = logging.getLogger(__name__)


class SlackAdapter:
    platform = "slack"

    def __init__(self, settings: SlackSettings, services: Services) -> None:
        self.settings = settings
        self.services = services
        with quiet(CLIENT_LOG):  # bolt checks the token with auth.test here; a refusal is told in one line
            self.app = build_slack_app(settings, services)
        self._socket: SocketModeHandler | None = None

    def routes(self) -> Sequence[Route]:
        # In Socket Mode Slack sends nothing over HTTP; the web app still serves /healthz and the others.
        return [] if self.settings.slack_app_token else slack_routes(self.app)

    def sender(self) -> SlackDeliverySender:
        client = make_delivery_client(self.settings, on_rate_limited=lambda: self.services.meter.rate_limited("slack"))
        return SlackDeliverySender(client, value=stored_value(self.services))

    def start(self) -> None:
        if self.settings.slack_app_token:
            self._socket = SocketModeHandler(self.app, self.settings.slack_app_token)
            with quiet(CLIENT_LOG, "slack_bolt.App"):  # Socket Mode logs a refused app token as it raises
                self._socket.connect()
            log.info("connected to Slack in Socket Mode (no public URL needed)")

    def stop(self) -> None:
        if self._socket is not None:
            self._socket.close()
        # Commands already acknowledged still get their replies before the process ends.
        self.app.listener_runner.listener_executor.shutdown(wait=True)
