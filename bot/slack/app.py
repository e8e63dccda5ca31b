"""The bolt App: request verification on, our Web API client, our listeners."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from slack_bolt import App
from slack_sdk import WebClient

from bot.slack.listeners import register
from bot.slack.notifier import SlackNotifier, make_web_client
from bot.slack.render import stored_value
from bot.slack.settings import SlackSettings
from handlers.types import Services


def build_slack_app(settings: SlackSettings, services: Services, *, client: WebClient | None = None) -> App:
    """A sync bolt App; its auth.test at start-up goes to settings.slack_api_url like every other call."""
    client = client or make_web_client(settings, on_rate_limited=lambda: services.meter.rate_limited("slack"))
    app = App(
        name="citypeers",
        client=client,
        signing_secret=settings.slack_signing_secret,
        request_verification_enabled=True,
        # Listeners run here after ack(); bolt's default of 5 threads would queue acks behind slow work.
        listener_executor=ThreadPoolExecutor(max_workers=2 * settings.web_threads, thread_name_prefix="listener"),
    )
    register(app, services, SlackNotifier(client, value=stored_value(services)))
    return app
