"""The interaction routes: the callback that answers an interaction, then the webhook's @original and follow-ups,
which live 15 minutes on the interaction's token."""

from __future__ import annotations

import time
from typing import Any

from tests.support.discord.constants import INTERACTION_DEADLINE, RESPONSE_FLAGS
from tests.support.discord.routes import Files, Outcome, Params
from tests.support.discord.rules import interaction_findings, message_limits
from tests.support.discord.schema import Findings
from tests.support.discord.state import State, error, public


def callback(state: State, out: Findings, params: Params, query: Params, body: Any, files: Files) -> Outcome:
    interaction = state.interactions.get(params["token"])
    if interaction is None or str(interaction.payload.get("id")) != params["interaction_id"]:
        out.warn("callback for an unknown interaction")
        return 404, error(10062), False
    if interaction.answer is not None:
        out.warn(f"interaction answered twice (first by {interaction.answered_by})")
        return 400, error(40060), False
    if time.monotonic() - interaction.created > INTERACTION_DEADLINE:
        out.warn(f"callback after Discord's {INTERACTION_DEADLINE:.0f} s: the interaction is gone")
        return 404, error(10062), False
    findings = interaction_findings(body, interaction.type)
    for problem in findings.refused:
        out.refuse(problem, findings.code)
    for problem in findings.policy:
        out.warn(problem)
    if out.refused:
        return 400, None, False
    interaction.answer, interaction.answered_by = body, "callback"
    interaction.original_id = interaction.original_id or state.new_id()
    if files:
        data = body.get("data") or {}
        interaction.events.append(
            (
                "original",
                interaction.original_id,
                state.webhook_message(interaction, data, files, interaction.original_id),
            )
        )
    state.sync_component_message(interaction)
    if query.get("with_response") in ("true", "True", "1"):
        return 200, {"interaction": {"id": interaction.payload["id"], "type": interaction.type}}, False
    return 204, None, False


def get_original(state: State, out: Findings, params: Params, query: Params, body: Any, files: Files) -> Outcome:
    interaction, refusal = state.interaction(out, params)
    if refusal:
        return (*refusal, False)
    assert interaction is not None
    original, _ = state.original(interaction)
    return (200, public(original), False) if original else (404, error(10008), False)


def edit_original(state: State, out: Findings, params: Params, query: Params, body: Any, files: Files) -> Outcome:
    interaction, refusal = state.interaction(out, params)
    if refusal:
        return (*refusal, False)
    assert interaction is not None
    message_limits(body, out, "edit of @original", create=False, flags_allowed=RESPONSE_FLAGS)
    if out.refused:
        return 400, None, False
    interaction.original_id = interaction.original_id or state.new_id()
    interaction.events.append(
        ("original", interaction.original_id, state.webhook_message(interaction, body, files, interaction.original_id))
    )
    state.sync_component_message(interaction)
    original, _ = state.original(interaction)
    return 200, public(original or {}), False


def delete_original(state: State, out: Findings, params: Params, query: Params, body: Any, files: Files) -> Outcome:
    interaction, refusal = state.interaction(out, params)
    if refusal:
        return (*refusal, False)
    assert interaction is not None
    interaction.events.append(("delete-original", interaction.original_id, {}))
    return 204, None, False


def followup(state: State, out: Findings, params: Params, query: Params, body: Any, files: Files) -> Outcome:
    interaction, refusal = state.interaction(out, params)
    if refusal:
        return (*refusal, False)
    assert interaction is not None
    message_limits(body, out, "follow-up", create=True, flags_allowed=RESPONSE_FLAGS, has_files=bool(files))
    if out.refused:
        return 400, None, False
    message = state.webhook_message(interaction, body, files, state.new_id())
    interaction.events.append(("followup", message["id"], message))
    return 200, public(message), False


def get_followup(state: State, out: Findings, params: Params, query: Params, body: Any, files: Files) -> Outcome:
    interaction, refusal = state.interaction(out, params)
    if refusal:
        return (*refusal, False)
    assert interaction is not None
    message = state.followup(interaction, params["message_id"])
    return (200, public(message), False) if message else (404, error(10008), False)


def edit_followup(state: State, out: Findings, params: Params, query: Params, body: Any, files: Files) -> Outcome:
    interaction, refusal = state.interaction(out, params)
    if refusal:
        return (*refusal, False)
    assert interaction is not None
    message = state.followup(interaction, params["message_id"])
    if message is None:
        return 404, error(10008), False
    message_limits(body, out, "follow-up edit", create=False, flags_allowed=RESPONSE_FLAGS)
    if out.refused:
        return 400, None, False
    edited = state.edit(message, body, files, default_parse=["users"])
    interaction.events.append(("edit-followup", message["id"], edited))
    return 200, public(edited), False


def delete_followup(state: State, out: Findings, params: Params, query: Params, body: Any, files: Files) -> Outcome:
    interaction, refusal = state.interaction(out, params)
    if refusal:
        return (*refusal, False)
    assert interaction is not None
    interaction.events.append(("delete-followup", params["message_id"], {}))
    return 204, None, False


# commands

ACTIONS = {
    "callback": callback,
    "get_original": get_original,
    "edit_original": edit_original,
    "delete_original": delete_original,
    "followup": followup,
    "get_followup": get_followup,
    "edit_followup": edit_followup,
    "delete_followup": delete_followup,
}
