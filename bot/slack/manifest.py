"""Slack's usage hints in manifest.yaml, made from each command's declared parameters, as help is.

`python -m bot.slack.manifest` rewrites the `usage_hint:` lines of manifest.yaml (nothing else in it);
tests/test_manifest.py fails when they differ from what the declarations give.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from handlers.dispatch import FAMILIES

MANIFEST = Path(__file__).resolve().parents[2] / "manifest.yaml"
MAX_HINT = 1000  # Slack's schema: usage_hint is at most 1,000 characters
_COMMAND = re.compile(r"^\s*- command: /(\w+)\s*$")
_HINT = re.compile(r"^(\s*usage_hint: ).*$")


def usage_hint(family: str) -> str:
    """Every form of the family's commands after `/family`, as help writes them, then `help`."""
    forms: list[str] = []
    for command in FAMILIES[family].values():
        for form in command.usage.split(" | /"):
            _, _, after = form.lstrip("/").partition(" ")
            forms.append(after)
    hint = " | ".join([*forms, "help"])
    if len(hint) > MAX_HINT:
        raise ValueError(f"/{family}'s usage hint has {len(hint)} characters; Slack takes {MAX_HINT}")
    return hint


def with_hints(text: str) -> str:
    """manifest.yaml's text with each slash command's usage_hint made from the declarations."""
    lines = text.splitlines(keepends=True)
    family: str | None = None
    for index, line in enumerate(lines):
        if match := _COMMAND.match(line):
            family = match.group(1)
        elif family is not None and family in FAMILIES and (match := _HINT.match(line)):
            lines[index] = f"{match.group(1)}{json.dumps(usage_hint(family), ensure_ascii=False)}\n"
    return "".join(lines)


def main() -> int:
    text = MANIFEST.read_text(encoding="utf-8")
    MANIFEST.write_text(with_hints(text), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
