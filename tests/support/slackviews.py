"""What Slack posts when someone presses a button in the Home tab or submits a modal, signed."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlencode

from tests.support.fakeslack import TEAM_ID, Sent, SlackSender


def buttons(view: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every button of a view or message by its label (the first of each label)."""
    found: dict[str, dict[str, Any]] = {}
    for block in view.get("blocks", []):
        for element in block.get("elements", []) if block.get("type") == "actions" else []:
            found.setdefault(element["text"]["text"], element)
    return found


def _post(sender: SlackSender, payload: dict[str, Any]) -> Sent:
    body = urlencode({"payload": json.dumps(payload)}).encode()
    return sender.post(body, "application/x-www-form-urlencoded")


def _user(user_id: str) -> dict[str, str]:
    return {"id": user_id, "username": user_id.lower(), "name": user_id.lower(), "team_id": TEAM_ID}


def click_in_view(sender: SlackSender, user_id: str, view: dict[str, Any], label: str) -> Sent:
    """Press `label` in a published view (the Home tab): no response_url, a trigger_id for a modal."""
    button = buttons(view)[label]
    payload = {
        "type": "block_actions",
        "team": {"id": TEAM_ID, "domain": "citypeers-test"},
        "user": _user(user_id),
        "api_app_id": "A0CITYPEERS",
        "token": "unused-verification-token",
        "container": {"type": "view", "view_id": "V0HOME"},
        "trigger_id": f"{time.time():.6f}.trigger",
        "view": {**view, "id": "V0HOME", "type": view.get("type", "home")},
        "actions": [
            {
                "type": "button",
                "action_id": button["action_id"],
                "block_id": "b0",
                "text": button["text"],
                "value": button.get("value", ""),
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }
    return _post(sender, payload)


def submit_view(sender: SlackSender, user_id: str, view: dict[str, Any], values: dict[str, dict[str, Any]]) -> Sent:
    """Submit a modal (as views.open received it) with `values`: {block_id: {"value": {...element state}}}."""
    payload = {
        "type": "view_submission",
        "team": {"id": TEAM_ID, "domain": "citypeers-test"},
        "user": _user(user_id),
        "api_app_id": "A0CITYPEERS",
        "token": "unused-verification-token",
        "trigger_id": f"{time.time():.6f}.trigger",
        "view": {**view, "id": "V0MODAL", "state": {"values": values}},
    }
    return _post(sender, payload)
