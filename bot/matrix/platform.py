"""Matrix, as bot/platforms.py needs to know it (nothing here imports mautrix)."""

from bot.platforms import Limits, Platform

PLATFORM = Platform(
    name="matrix",
    title="Matrix",
    settings="bot.matrix.settings:MatrixSettings",
    enabled="matrix_enabled",
    require="require_matrix",
    admins="citypeers_matrix_admins",
    adapter="bot.matrix.adapter:MatrixAdapter",
    startup_failure="bot.matrix.startup:failure",
    # Synapse's default for a user's messages (rc_message): 0.2 a second after a burst of 10. A homeserver that
    # exempts the bot (Synapse's admin API override_ratelimit) lets CITYPEERS_SEND_PER_SECOND raise it.
    pace=0.2,
    # No buttons and no forms in Matrix: buttons are shown as the command to type (and a few as reactions), forms
    # as their typed line. A message may be up to 65,536 bytes of JSON, HTML and plain text both: 16,000
    # characters leaves room for the two and their escaping.
    limits=Limits(
        message=16000,
        button_label=100,
        button_payload=4000,
        form_title=255,
        field_label=255,
        field_hint=255,
        form_fields=100,
    ),
    escape="bot.matrix.render:escape_html",
    stores="bot.matrix.settings:stores",
    id_length=255,  # user and room ids: at most 255 bytes (the spec's limit)
)
