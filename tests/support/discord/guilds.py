"""The guild routes: the application's slash commands (global or a guild's) and scheduled events."""

from __future__ import annotations

from typing import Any

from tests.support.discord.constants import ACTIVE_EVENTS, BOT_USER_ID
from tests.support.discord.routes import Files, Outcome, Params
from tests.support.discord.rules import commands_limits, event_limits
from tests.support.discord.schema import Findings
from tests.support.discord.state import State, bot_user, error


def _event_denied(state: State, guild_id: str) -> bool:
    return state.guild_denied(guild_id, "CREATE_EVENTS", "MANAGE_EVENTS")


def get_commands(state: State, out: Findings, params: Params, query: Params, body: Any, files: Files) -> Outcome:
    if params["application_id"] != state.application_id:
        return 403, error(50001), False
    return 200, [dict(c) for c in state.commands.get(params.get("guild_id"), [])], False


def put_commands(state: State, out: Findings, params: Params, query: Params, body: Any, files: Files) -> Outcome:
    if params["application_id"] != state.application_id:
        out.warn(f"commands of application {params['application_id']}, not {state.application_id}")
        return 403, error(50001), False
    guild_id = params.get("guild_id")
    commands_limits(body, out, "commands")
    if out.refused:
        return 400, None, False
    registered = []
    for command in body or []:
        kind = command.get("type") or 1
        key = (guild_id, kind, command["name"])
        command_id = state.command_ids.setdefault(key, state.new_id())
        full = {
            "id": command_id,
            "application_id": state.application_id,
            "version": state.new_id(),
            "type": kind,
            "name": command["name"],
            "description": command.get("description") or "",
            "default_member_permissions": command.get("default_member_permissions"),
            "nsfw": False,
            **{k: v for k, v in command.items() if k not in ("type", "name", "description")},
        }
        if guild_id:
            full["guild_id"] = guild_id
        registered.append(full)
    state.commands[guild_id] = registered
    return 200, [dict(c) for c in registered], False


# scheduled events


def list_events(state: State, out: Findings, params: Params, query: Params, body: Any, files: Files) -> Outcome:
    return 200, [dict(e) for e in state.events_of(params["guild_id"]).values()], False


def get_event(state: State, out: Findings, params: Params, query: Params, body: Any, files: Files) -> Outcome:
    event = state.events_of(params["guild_id"]).get(params["event_id"])
    return (200, dict(event), False) if event else (404, error(10070), False)


def create_event(state: State, out: Findings, params: Params, query: Params, body: Any, files: Files) -> Outcome:
    guild_id = params["guild_id"]
    if _event_denied(state, guild_id):
        return 403, error(50013), False
    event_limits(body, out, "scheduled event")
    if out.refused:
        return 400, None, False
    events = state.events_of(guild_id)
    if sum(1 for e in events.values() if e["status"] in (1, 2)) >= ACTIVE_EVENTS:
        return 400, error(30038), False
    event_id = state.new_id()
    event = {
        "id": event_id,
        "guild_id": guild_id,
        "channel_id": None,
        "creator_id": BOT_USER_ID,
        "creator": bot_user(),
        "description": None,
        "scheduled_end_time": None,
        "entity_id": None,
        "image": None,
        "recurrence_rule": None,
        **body,
        "status": 1,
        "user_count": 0,
    }
    events[event_id] = event
    return 200, dict(event), False


def edit_event(state: State, out: Findings, params: Params, query: Params, body: Any, files: Files) -> Outcome:
    guild_id = params["guild_id"]
    if _event_denied(state, guild_id):
        return 403, error(50013), False
    event = state.events_of(guild_id).get(params["event_id"])
    if event is None:
        return 404, error(10070), False
    event_limits(body, out, "scheduled event edit", current=event)
    if out.refused:
        return 400, None, False
    event.update(body)
    return 200, dict(event), False


def delete_event(state: State, out: Findings, params: Params, query: Params, body: Any, files: Files) -> Outcome:
    guild_id = params["guild_id"]
    if _event_denied(state, guild_id):
        return 403, error(50013), False
    if state.events_of(guild_id).pop(params["event_id"], None) is None:
        return 404, error(10070), False
    return 204, None, False


def event_users(state: State, out: Findings, params: Params, query: Params, body: Any, files: Files) -> Outcome:
    """The members interested in an event: none here (CityPeers never asks; its tests check that it does not)."""
    if params["event_id"] not in state.events_of(params["guild_id"]):
        return 404, error(10070), False
    return 200, [], False


ACTIONS = {
    "get_commands": get_commands,
    "put_commands": put_commands,
    "list_events": list_events,
    "get_event": get_event,
    "create_event": create_event,
    "edit_event": edit_event,
    "delete_event": delete_event,
    "event_users": event_users,
}
