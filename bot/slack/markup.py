"""Slack's mrkdwn: its three control characters escaped in every user string, so `<!channel>` is shown, not sent."""

from __future__ import annotations


def escape(value: str) -> str:
    """Escape Slack's three control characters so user text is shown, never executed."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape(value: str) -> str:
    return value.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
