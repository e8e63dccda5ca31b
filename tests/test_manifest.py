"""manifest.yaml passes Slack's published schema and declares what the bot listens for."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from bot.slack.manifest import usage_hint, with_hints
from handlers.dispatch import FAMILIES

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = Path(__file__).resolve().parent / "support" / "slack" / "manifest.schema.1.0.0.json"
REQUEST_URL = "https://citypeers.example.org/slack/events"


def manifest() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "manifest.yaml").read_text(encoding="utf-8"))


def test_the_manifest_passes_slacks_schema() -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    errors = sorted(validator_class(schema).iter_errors(manifest()), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors)


def test_every_command_is_declared_escaped_and_sent_to_our_endpoint() -> None:
    commands = {c["command"]: c for c in manifest()["features"]["slash_commands"]}
    assert {"/city", "/match", "/goal", "/event"} <= commands.keys()
    assert {f"/{family}" for family in FAMILIES} <= commands.keys(), "a command family Slack would never send us"
    for name, command in commands.items():
        # should_escape makes Slack send <@U…|name> for people, which the grammar reads.
        assert command.get("should_escape") is True, f"{name} must have should_escape: true"
        assert command["url"] == REQUEST_URL and command.get("usage_hint"), name


def test_interactivity_events_and_home_tab_match_the_listeners() -> None:
    data = manifest()
    assert data["settings"]["interactivity"] == {"is_enabled": True, "request_url": REQUEST_URL}
    assert data["settings"]["event_subscriptions"]["request_url"] == REQUEST_URL
    assert "app_home_opened" in data["settings"]["event_subscriptions"]["bot_events"]
    assert data["features"]["app_home"]["home_tab_enabled"] is True
    assert data["features"]["app_home"]["messages_tab_enabled"] is True
    scopes = set(data["oauth_config"]["scopes"]["bot"])
    assert {"commands", "chat:write", "im:write", "mpim:write", "users:read"} <= scopes


def test_usage_hints_are_made_from_the_declared_parameters() -> None:
    """Each hint lists every form help shows (`python -m bot.slack.manifest` rewrites them)."""
    hints = {c["command"]: c["usage_hint"] for c in manifest()["features"]["slash_commands"]}
    for family in FAMILIES:
        assert hints[f"/{family}"] == usage_hint(family), f"/{family}: run python -m bot.slack.manifest"
    assert "add <text> [due=<date>]" in hints["/goal"] and "broadcast cancel <id>" in hints["/event"]


def test_a_hint_that_drifts_from_the_declarations_is_rewritten() -> None:
    text = (ROOT / "manifest.yaml").read_text(encoding="utf-8")
    drifted = text.replace(json.dumps(usage_hint("goal")), '"add <text> | help"')
    assert drifted != text and with_hints(drifted) == text
