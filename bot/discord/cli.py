"""Discord's verbs on the command line: `citypeers discord sync [--guild ID]` (bot/platforms.py's `verbs`)."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.discord.settings import DiscordSettings


def add_verbs(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    discord = commands.add_parser("discord", help="Discord maintenance: citypeers discord sync [--guild ID]")
    verbs = discord.add_subparsers(dest="discord_command", required=True)
    sync_verb = verbs.add_parser("sync", help="register the slash commands with Discord")
    sync_verb.add_argument("--guild", help="one server's id: its commands change at once (for testing)")
    sync_verb.set_defaults(run=sync)


def sync(settings: DiscordSettings, args: argparse.Namespace) -> int:
    """`citypeers discord sync [--guild ID]`: register the slash commands generated from the handlers."""
    settings.require_discord()
    from bot.app import build_services
    from bot.discord.adapter import DiscordAdapter
    from bot.discord.api import DiscordError

    services = build_services(settings)
    adapter = DiscordAdapter(settings, services, workers=1)
    try:
        registered = adapter.sync_commands(args.guild)
    except DiscordError as error:
        print(f"citypeers: Discord refused the commands: {error}", file=sys.stderr)
        return 1
    finally:
        adapter.stop()
        services.engine.dispose()
    where = f"guild {args.guild} (at once)" if args.guild else "every server (global; Discord may take a while)"
    print(f"Registered {len(registered or [])} commands for {where}.")
    return 0
