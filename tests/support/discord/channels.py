"""The channel routes: a channel, a DM channel opened, messages posted, listed, read, edited and deleted."""

from __future__ import annotations

import time
from typing import Any

from tests.support.discord.constants import MESSAGE_FLAGS
from tests.support.discord.routes import Files, Outcome, Params
from tests.support.discord.rules import message_limits
from tests.support.discord.schema import Findings
from tests.support.discord.state import State, error, public, user


def get_channel(state: State, out: Findings, params: Params, query: Params, body: Any, files: Files) -> Outcome:
    channel, refusal = state.find_channel(params["channel_id"])
    if refusal:
        return (*refusal, False)
    assert channel is not None
    if channel.type == 1:
        recipient = user(channel.recipient or "")
        return 200, {"id": channel.id, "type": 1, "last_message_id": None, "recipients": [recipient]}, False
    answer = {
        "id": channel.id,
        "type": channel.type,
        "guild_id": channel.guild_id,
        "name": channel.name,
        "position": 0,
        "permission_overwrites": [],
        "nsfw": False,
        "topic": None,
        "last_message_id": None,
        "parent_id": None,
        "rate_limit_per_user": 0,
        "flags": 0,
    }
    return 200, answer, False


def open_dm(state: State, out: Findings, params: Params, query: Params, body: Any, files: Files) -> Outcome:
    recipient = str(body.get("recipient_id") or "")
    if out.refused or not recipient:
        return 400, error(50035), False
    channel = state.dm_channel(recipient)
    return (
        200,
        {"id": channel, "type": 1, "last_message_id": None, "flags": 0, "recipients": [user(recipient)]},
        False,
    )


def create_message(state: State, out: Findings, params: Params, query: Params, body: Any, files: Files) -> Outcome:
    channel, refusal = state.find_channel(params["channel_id"])
    if refusal:
        return (*refusal, False)
    assert channel is not None
    where = "message"
    message_limits(body, out, where, create=True, flags_allowed=MESSAGE_FLAGS, has_files=bool(files))
    if out.refused:
        return 400, None, False
    if channel.type == 1 and channel.recipient in state.closed_dms:
        return 403, error(state.closed_dms[channel.recipient]), False
    if channel.type == 0 and state.guild_denied(channel.guild_id, "SEND_MESSAGES"):
        return 403, error(50013), False
    if channel.type == 0 and files and state.guild_denied(channel.guild_id, "ATTACH_FILES"):
        return 403, error(50013), False
    nonce = body.get("nonce")
    now = time.monotonic()
    if nonce is not None and body.get("enforce_nonce"):
        seen = state.nonces.get(str(nonce))
        if seen and now - seen[0] <= state.nonce_window:
            _, first_channel, first_id = seen
            if first_channel != channel.id:
                out.warn(
                    f"nonce {nonce!r} was used in channel {first_channel} too: Discord dedupes by author and "
                    "nonce, so it answered that message and posted nothing here"
                )
            first = next(m for m in state.messages[first_channel] if m["id"] == first_id)
            return 200, public(first), True
    message = state.message(channel.id, body, files, default_parse=["users", "roles", "everyone"])
    state.messages.setdefault(channel.id, []).append(message)
    if nonce is not None:
        state.nonces[str(nonce)] = (now, channel.id, message["id"])
    return 200, public(message), False


def list_messages(state: State, out: Findings, params: Params, query: Params, body: Any, files: Files) -> Outcome:
    channel, refusal = state.find_channel(params["channel_id"])
    if refusal:
        return (*refusal, False)
    assert channel is not None
    try:
        limit = int(query.get("limit", 50))
    except ValueError:
        limit = 0
    if not 1 <= limit <= 100:
        out.refuse(f"limit {query.get('limit')!r}: Discord allows 1-100")
        return 400, None, False
    if channel.type == 0 and state.guild_denied(channel.guild_id, "READ_MESSAGE_HISTORY"):
        return 200, [], False
    messages = state.messages.get(channel.id, [])
    if "after" in query:
        picked = [m for m in messages if int(m["id"]) > int(query["after"])][:limit]
    elif "before" in query:
        picked = [m for m in messages if int(m["id"]) < int(query["before"])][-limit:]
    else:
        picked = messages[-limit:]
    return 200, [public(m) for m in reversed(picked)], False


def get_message(state: State, out: Findings, params: Params, query: Params, body: Any, files: Files) -> Outcome:
    message, refusal = state.channel_message(params)
    return (*refusal, False) if refusal else (200, public(message or {}), False)


def edit_message(state: State, out: Findings, params: Params, query: Params, body: Any, files: Files) -> Outcome:
    message, refusal = state.channel_message(params)
    if refusal:
        return (*refusal, False)
    assert message is not None
    message_limits(body, out, "message edit", create=False, flags_allowed=MESSAGE_FLAGS)
    if out.refused:
        return 400, None, False
    edited = state.edit(message, body, files, default_parse=["users", "roles", "everyone"])
    stored = state.messages[message["channel_id"]]
    stored[stored.index(message)] = edited
    return 200, public(edited), False


def delete_message(state: State, out: Findings, params: Params, query: Params, body: Any, files: Files) -> Outcome:
    message, refusal = state.channel_message(params)
    if refusal:
        return (*refusal, False)
    state.messages[params["channel_id"]].remove(message)
    return 204, None, False


# interactions: callbacks and webhooks

ACTIONS = {
    "get_channel": get_channel,
    "open_dm": open_dm,
    "create_message": create_message,
    "list_messages": list_messages,
    "get_message": get_message,
    "edit_message": edit_message,
    "delete_message": delete_message,
}
