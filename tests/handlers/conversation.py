"""Tests that read like conversations: `say(services, "ana", "/city show Brno")` returns the reply text."""

from __future__ import annotations

from handlers.dispatch import handle
from handlers.types import Reply, Request, Services


def ask(services: Services, user: str, line: str) -> Reply:
    command, _, text = line.lstrip("/").partition(" ")
    return handle(services, Request(user_id=user, user_name=user, command=command, text=text))


def say(services: Services, user: str, line: str) -> str:
    return ask(services, user, line).plain()
