"""Discord, as bot/platforms.py needs to know it (nothing here imports what talks to Discord)."""

from bot.platforms import Limits, Platform

PLATFORM = Platform(
    name="discord",
    title="Discord",
    settings="bot.discord.settings:DiscordSettings",
    enabled="discord_enabled",
    require="require_discord",
    admins="citypeers_discord_admins",
    adapter="bot.discord.adapter:DiscordAdapter",
    verbs="bot.discord.cli:add_verbs",
    # A DM is two requests (open the DM channel, post) under the global 50 a second, and opening DMs is a bucket
    # of its own (about 10 a second).
    pace=10.0,
    # Content 2,000 (the docs; the spec says 4,000); button label 80, custom_id 100; modal title 45, 5 inputs,
    # label 45, placeholder 100.
    limits=Limits(
        message=2000,
        button_label=80,
        button_payload=100,
        form_title=45,
        field_label=45,
        field_hint=100,
        form_fields=5,
    ),
    escape="bot.discord.render:escape_markdown",
    id_length=20,  # snowflakes: a 64-bit number, at most 20 digits
)
