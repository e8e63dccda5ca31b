"""Discord's ids for the fake's one guild, message flags, option types, and the documented limits the fake keeps."""

API_PREFIX = "/api/v10"
APPLICATION_ID = "1310000000000000001"
BOT_USER_ID = APPLICATION_ID  # an application's bot user has the application's id
BOT_USERNAME = "citypeers"
GUILD_ID = "1310000000000000100"
GENERAL_CHANNEL_ID = "1310000000000000200"
DISCORD_EPOCH_MS = 1_420_070_400_000

# Message flags (docs: resources/message, "Message Flags").
SUPPRESS_EMBEDS = 1 << 2
EPHEMERAL = 1 << 6
LOADING = 1 << 7
SUPPRESS_NOTIFICATIONS = 1 << 12
IS_VOICE_MESSAGE = 1 << 13
IS_COMPONENTS_V2 = 1 << 15
MESSAGE_FLAGS = SUPPRESS_EMBEDS | SUPPRESS_NOTIFICATIONS | IS_VOICE_MESSAGE | IS_COMPONENTS_V2
RESPONSE_FLAGS = MESSAGE_FLAGS | EPHEMERAL  # interaction responses and follow-ups may also be ephemeral

# Option types (docs: interactions/application-commands).
SUB_COMMAND, SUB_COMMAND_GROUP, STRING, INTEGER, BOOLEAN, USER, CHANNEL = range(1, 8)
NUMBER = 10

# Documented limits the schema leaves out, or states differently (the docs win).
CONTENT_CHARS = 2000  # the schema says 4,000 for channel messages
ACTION_ROWS = 5
BUTTONS_PER_ROW = 5
BUTTON_LABEL_CHARS = 80
CUSTOM_ID_CHARS = 100
MODAL_TITLE_CHARS = 45
MODAL_COMPONENTS = 5  # the schema says 40
EMBEDS = 10
EMBED_TOTAL_CHARS = 6000
V2_COMPONENTS = 40
CHOICE_VALUE_CHARS = 100  # the schema says 6,000
ACTIVE_EVENTS = 100
INTERACTION_DEADLINE = 3.0  # seconds to the first answer
TOKEN_LIFETIME = 15 * 60.0  # an interaction token's follow-ups
DEFAULT_MEMBER_PERMISSIONS = "2248473465835073"
APP_PERMISSIONS = "2248473465835073"
