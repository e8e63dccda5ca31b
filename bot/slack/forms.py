"""Slack modals for the neutral forms of handlers/forms.py: a button with `form="goal-add"` opens one, and
submitting it runs the command line the form builds, as the person who submitted it. A mistake is shown in the
modal, under the field it names."""

from __future__ import annotations

from typing import Any

from bot.slack.platform import PLATFORM as SLACK
from handlers.forms import Choices, Field, Form, Strings

Block = dict[str, Any]
CALLBACK_PREFIX = "form:"
TITLE_CHARS = SLACK.limits.form_title  # a view's title
OPTION_CHARS = 75
MAX_OPTIONS = 100


def modal(form: Form, command: str, choices: Choices) -> Block:
    """The modal for `form`, opened by a button that stands for `command`."""
    key = form.key_of(command)
    blocks = [block for block in (_input(spec, choices) for spec in form.fields) if block is not None]
    return {
        "type": "modal",
        "callback_id": CALLBACK_PREFIX + form.name,
        "title": {"type": "plain_text", "text": form.title_for(key)[:TITLE_CHARS]},
        "submit": {"type": "plain_text", "text": str(form.submit)},  # a message: in the reader's language
        "close": {"type": "plain_text", "text": str(Strings.CLOSE)},
        "private_metadata": key,
        "blocks": blocks,
    }


def answers(form: Form, values: object) -> dict[str, str]:
    """What was entered in each field, from a view_submission's `state.values`; empty when blank or malformed.
    Linear in what was sent: the line it ends up in is refused whole by the dispatcher when too long."""
    return {spec.id: _value(values, spec.id) for spec in form.fields}


def _input(spec: Field, choices: Choices) -> Block | None:
    if spec.kind == "choice":
        options = [_option(value, label) for value, label in choices.of(spec)[:MAX_OPTIONS]]
        if not options:
            return None  # nothing to choose from (no tracks configured): the field is left out
        element: Block = {"type": "static_select", "options": options}
    elif spec.kind == "date":
        element = {"type": "datepicker"}
    else:
        element = {"type": "plain_text_input", "multiline": spec.kind == "paragraph"}
        if spec.max_length:
            element["max_length"] = spec.max_length
    block: Block = {
        "type": "input",
        "block_id": spec.id,
        "label": {"type": "plain_text", "text": str(spec.label)},
        "element": {**element, "action_id": "value"},
        "optional": spec.optional,
    }
    if spec.hint:
        block["hint"] = {"type": "plain_text", "text": str(spec.hint)}
    return block


def _option(value: str, text: str) -> Block:
    return {"text": {"type": "plain_text", "text": text[:OPTION_CHARS]}, "value": value}


def _value(values: object, block_id: str) -> str:
    block = values.get(block_id) if isinstance(values, dict) else None
    entry = block.get("value") if isinstance(block, dict) else None
    if not isinstance(entry, dict):
        return ""
    option = entry.get("selected_option")
    if isinstance(option, dict) and option.get("value"):
        return str(option["value"])
    return str(entry.get("value") or entry.get("selected_date") or "").strip()
