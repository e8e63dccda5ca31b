"""Modals that ask for the rest of a command: a button with `form="goal-add"` opens one, and submitting it
runs the command line it builds, as the person who submitted it. Errors are shown inside the modal."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from core.goals import Status

Block = dict[str, Any]
CALLBACK_PREFIX = "form:"
NOTE_CHARS = 500
GOAL_CHARS = 500
GOAL_ID_CHARS = 20  # a goal id from a button's value; Slack's private_metadata holds at most 3,000 characters


class Strings:
    GOAL_ADD_TITLE = "Add a goal"
    GOAL_UPDATE_TITLE = "Update goal {id}"
    SUBMIT_ADD = "Add"
    SUBMIT_UPDATE = "Save"
    CLOSE = "Cancel"
    GOAL_TEXT = "What will your city achieve in the next three months?"
    GOAL_TEXT_HINT = "Tangible and checkable, e.g. “Publish the open data strategy”."
    DUE = "Due (three months from today if empty)"
    TRACK = "Track"
    STATUS = "Status"
    NOTE = "Note (optional)"
    LEARNED = "Key learnings (when closing it)"


@dataclass(frozen=True)
class Form:
    """A modal and how its answers become one command line."""

    view: Callable[[str, list[tuple[str, str]]], Block]  # (the button's command, tracks) -> the modal
    command: Callable[[dict[str, Any], str], str]  # (submitted values, private_metadata) -> the line to run
    block_for: Callable[[str], str]  # (the error line) -> the block to show it under


def _quote(value: str) -> str:
    """A key=value option value, quoted when it has spaces; a double quote inside becomes a single one."""
    value = " ".join(value.split()).replace('"', "'")
    return f'"{value}"' if " " in value else value


def _input(block_id: str, label: str, element: Block, *, optional: bool = False, hint: str | None = None) -> Block:
    block: Block = {
        "type": "input",
        "block_id": block_id,
        "label": {"type": "plain_text", "text": label},
        "element": {**element, "action_id": "value"},
        "optional": optional,
    }
    if hint:
        block["hint"] = {"type": "plain_text", "text": hint}
    return block


def _option(value: str, text: str) -> Block:
    return {"text": {"type": "plain_text", "text": text[:75]}, "value": value}


def _modal(callback: str, title: str, submit: str, blocks: list[Block], metadata: str = "") -> Block:
    return {
        "type": "modal",
        "callback_id": CALLBACK_PREFIX + callback,
        "title": {"type": "plain_text", "text": title[:24]},
        "submit": {"type": "plain_text", "text": submit},
        "close": {"type": "plain_text", "text": Strings.CLOSE},
        "private_metadata": metadata,
        "blocks": blocks,
    }


def _value(values: dict[str, Any], block_id: str) -> str:
    """What was entered in a block: text, a chosen option, or a date; empty when left blank or malformed.

    Linear in what was sent: the command line it ends up in is refused whole by the dispatcher if too long.
    """
    block = values.get(block_id) if isinstance(values, dict) else None
    entry = block.get("value") if isinstance(block, dict) else None
    if not isinstance(entry, dict):
        return ""
    option = entry.get("selected_option")
    if isinstance(option, dict) and option.get("value"):
        return str(option["value"])
    return str(entry.get("value") or entry.get("selected_date") or "").strip()


# --- /goal add ----------------------------------------------------------------------------------------


def _goal_add_view(command: str, tracks: list[tuple[str, str]]) -> Block:
    blocks = [
        _input(
            "text",
            Strings.GOAL_TEXT,
            {"type": "plain_text_input", "multiline": True, "max_length": GOAL_CHARS},
            hint=Strings.GOAL_TEXT_HINT,
        ),
        _input("due", Strings.DUE, {"type": "datepicker"}, optional=True),
    ]
    if tracks:
        options = [_option(key, name) for key, name in tracks[:100]]
        blocks.append(_input("track", Strings.TRACK, {"type": "static_select", "options": options}, optional=True))
    return _modal("goal-add", Strings.GOAL_ADD_TITLE, Strings.SUBMIT_ADD, blocks)


def _goal_add_command(values: dict[str, Any], metadata: str) -> str:
    line = f"/goal add {' '.join(_value(values, 'text').split())}"
    if due := _value(values, "due"):
        line += f" due={due}"
    if track := _value(values, "track"):
        line += f" track={_quote(track)}"
    return line


def _goal_add_block(error: str) -> str:
    lowered = error.lower()
    return "due" if "due" in lowered or "date" in lowered else "track" if "track" in lowered else "text"


# --- /goal update <id> --------------------------------------------------------------------------------


def _goal_update_view(command: str, tracks: list[tuple[str, str]]) -> Block:
    words = command.split()
    goal_id = words[-1][:GOAL_ID_CHARS] if words else ""
    statuses = [_option(status.value, status.value.replace("-", " ").capitalize()) for status in Status]
    blocks = [
        _input("status", Strings.STATUS, {"type": "static_select", "options": statuses}),
        _input("note", Strings.NOTE, {"type": "plain_text_input", "max_length": NOTE_CHARS}, optional=True),
        _input(
            "learned",
            Strings.LEARNED,
            {"type": "plain_text_input", "multiline": True, "max_length": NOTE_CHARS},
            optional=True,
        ),
    ]
    title = Strings.GOAL_UPDATE_TITLE.format(id=goal_id)
    return _modal("goal-update", title, Strings.SUBMIT_UPDATE, blocks, metadata=goal_id)


def _goal_update_command(values: dict[str, Any], metadata: str) -> str:
    line = f"/goal update {metadata} {_value(values, 'status')}"
    if note := _value(values, "note"):
        line += f" {' '.join(note.split())}"
    if learned := _value(values, "learned"):
        line += f" learned={_quote(learned)}"
    return line


def _goal_update_block(error: str) -> str:
    lowered = error.lower()
    return "learned" if "learn" in lowered else "note" if "note" in lowered else "status"


FORMS: dict[str, Form] = {
    "goal-add": Form(_goal_add_view, _goal_add_command, _goal_add_block),
    "goal-update": Form(_goal_update_view, _goal_update_command, _goal_update_block),
}
