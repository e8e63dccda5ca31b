"""Slack, as bot/platforms.py needs to know it (nothing here imports Slack's libraries)."""

from bot.platforms import Limits, Platform

PLATFORM = Platform(
    name="slack",
    title="Slack",
    settings="bot.slack.settings:SlackSettings",
    enabled="slack_enabled",
    require="require_slack",
    admins="citypeers_admins",
    adapter="bot.slack.adapter:SlackAdapter",
    startup_failure="bot.slack.startup:failure",
    # chat.postMessage: 1 a second per channel and "several hundred a minute" for the workspace; we take 300.
    pace=5.0,
    # Block Kit: section text 3,000; button text 75 and value 2,000; view title 24; input label 2,000, hint 150;
    # 100 blocks in a view.
    limits=Limits(
        message=3000,
        button_label=75,
        button_payload=2000,
        form_title=24,
        field_label=2000,
        field_hint=150,
        form_fields=100,
    ),
    escape="bot.slack.markup:escape",
    unprefixed=True,  # the first platform: its ids were stored bare before ids carried their platform
    id_length=32,  # U…, C…, G…, D…: about eleven characters, Enterprise Grid's W… no longer
)
