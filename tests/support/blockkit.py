"""Block Kit checks with slack_sdk's own models, so a payload Slack would refuse fails our tests."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block

MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100
SECTION_CHARS = 3000


def block_problems(blocks: Sequence[Any] | None, *, limit: int = MESSAGE_BLOCKS) -> list[str]:
    """Why Slack would refuse these blocks; empty when they are fine."""
    if blocks is None:
        return []
    if not isinstance(blocks, list):
        return [f"blocks is a {type(blocks).__name__}, not a list"]
    problems = [f"{len(blocks)} blocks, more than {limit}"] if len(blocks) > limit else []
    action_ids: list[str] = []
    for index, (raw, parsed) in enumerate(zip(blocks, Block.parse_all(blocks), strict=True)):
        if parsed is None:
            problems.append(f"block {index}: unknown block {raw!r:.80}")
            continue
        try:
            parsed.validate_json()
            parsed.to_dict()  # validates nested elements (button text, values) too
        except SlackObjectFormationError as error:
            problems.append(f"block {index} ({raw.get('type')}): {error}")
        text = raw.get("text")
        if raw.get("type") == "section" and isinstance(text, dict) and not str(text.get("text", "")).strip():
            problems.append(f"block {index}: a section with empty text")
        action_ids.extend(element.get("action_id", "") for element in raw.get("elements", []) if "action_id" in element)
    duplicates = sorted({a for a in action_ids if action_ids.count(a) > 1})
    if duplicates:
        problems.append(f"action_id used twice: {', '.join(duplicates)}")
    return problems


def assert_valid_blocks(blocks: Sequence[Any] | None, *, limit: int = MESSAGE_BLOCKS) -> None:
    problems = block_problems(blocks, limit=limit)
    assert not problems, "; ".join(problems)
