"""Slack's ids and mentions at the boundary: our ids carry the platform (`slack:U123`), Slack's do not.

Slack writes people and channels in command text as `<@U123|ana>` and `<#C123|general>` (the manifest asks it to
escape them); handlers read neutral references that carry the platform, `<@slack:U123|ana>`."""

from __future__ import annotations

import re

PREFIX = "slack:"
_USER = re.compile(r"<@([UW][A-Z0-9]{1,30})((?:\|[^>]{0,100})?)>")
_CHANNEL = re.compile(r"<#([CGD][A-Z0-9]{1,30})((?:\|[^>]{0,100})?)>")


def ours(slack_id: str) -> str:
    """`U123` -> `slack:U123`."""
    return PREFIX + slack_id


def slacks(external_id: str) -> str | None:
    """`slack:U123` -> `U123`; None for another platform's id (or a console name)."""
    return external_id[len(PREFIX) :] if external_id.startswith(PREFIX) else None


def neutral(text: str) -> str:
    """Slack's mentions in typed text as neutral references (ids already neutral are left as they are)."""
    text = _USER.sub(lambda m: f"<@{PREFIX}{m.group(1)}{m.group(2)}>", text)
    return _CHANNEL.sub(lambda m: f"<#{PREFIX}{m.group(1)}{m.group(2)}>", text)
