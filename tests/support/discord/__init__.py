"""A fake Discord over real HTTP: the REST routes CityPeers calls, and signed interactions sent to the bot.

`FakeDiscord` listens on 127.0.0.1 at a free port; point the bot's DISCORD_API_URL at `fake.api_url`. It records
every call (`calls`), checks every body against Discord's OpenAPI schema and against the documented limits the
schema leaves out (`problems`: tests assert it stays empty), and misbehaves on demand (`fail_next`, `hold_next`,
`close_dms`, `deny_permission`). `FakeDiscord(rate_limits=DiscordLimits())` enforces per-route buckets and the
global 50 requests a second as Discord does, with Discord's headers and 429 body. `DiscordInteractions` posts
interactions to the bot signed with Ed25519 as Discord signs them, and checks what the bot answers. Tests and
bench scripts both use it; it imports nothing of the bot.

Where things are:
- fake.py          FakeDiscord: life cycle, set-up, what happened, waiting, misbehaviour, serving one request
- routes.py        the route table: each route's OpenAPI path, its action and its rate-limit bucket
- channels.py      the channel actions (DMs, messages); webhooks.py interaction callbacks, @original and follow-ups;
                   guilds.py commands and scheduled events
- state.py         what the fake holds, and how Discord builds messages, edits and pings
- schema.py        Discord's OpenAPI schema (openapi.json, MIT) as a validator; where the documentation wins
- rules.py         the documented limits the schema leaves out, and the mentions policy
- ratelimits.py    per-route buckets, the global limit, Discord's headers
- server.py        the HTTP server and body parsing (JSON, multipart)
- interactions.py  DiscordInteractions and the bot's Answer
"""

from tests.support.discord.constants import (
    APPLICATION_ID,
    DISCORD_EPOCH_MS,
    EPHEMERAL,
    GENERAL_CHANNEL_ID,
    GUILD_ID,
    LOADING,
)
from tests.support.discord.fake import Call, FakeDiscord
from tests.support.discord.interactions import Answer, DiscordInteractions
from tests.support.discord.ratelimits import DiscordLimits
from tests.support.discord.rules import interaction_response_problems

__all__ = [
    "APPLICATION_ID",
    "DISCORD_EPOCH_MS",
    "EPHEMERAL",
    "GENERAL_CHANNEL_ID",
    "GUILD_ID",
    "LOADING",
    "Answer",
    "Call",
    "DiscordInteractions",
    "DiscordLimits",
    "FakeDiscord",
    "interaction_response_problems",
]
