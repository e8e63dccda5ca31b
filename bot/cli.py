"""`citypeers run | console | db upgrade`: the command line. Settings are read here, once."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.config import Settings


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="citypeers", description="Peer networking for cities, in Slack.")
    commands = parser.add_subparsers(dest="command", required=True)

    commands.add_parser("run", help="serve Slack (Socket Mode with SLACK_APP_TOKEN, else HTTP on PORT)")

    console = commands.add_parser("console", help="the same commands in a terminal, no Slack needed")
    console.add_argument("--user", default="you", help="who you are in the console (default: you)")
    console.add_argument("--db", help="database URL or SQLite file (default: DATABASE_URL)")
    console.add_argument("--demo", action="store_true", help="load sample cities, tracks and interests")

    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    db_commands.add_parser("upgrade", help="bring the schema to the newest version, keeping the data")

    load = commands.add_parser("import", help="load data in one step: citypeers import cities FILE.csv")
    load.add_argument("what", choices=["cities"], help="what the file holds")
    load.add_argument("file", help="CSV, UTF-8: name,country,population,cohort,mentor,tracks,offers,needs")
    load.add_argument("--db", help="database URL or SQLite file (default: DATABASE_URL)")

    args = parser.parse_args(argv)
    # Settings (pydantic, SQLAlchemy) load only once a command runs: `citypeers --help` answers without them.
    from bot.config import ConfigError, load_settings

    try:
        overrides = {"database_url": args.db} if getattr(args, "db", None) else {}
        settings = load_settings(**overrides)
        logging.basicConfig(level=settings.citypeers_log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
        if settings.citypeers_log_level != "DEBUG":
            logging.getLogger("alembic").setLevel(logging.WARNING)  # schema chatter is not news at every start
        return COMMANDS[args.command](settings, args)
    except ConfigError as error:
        print(f"citypeers: {error}", file=sys.stderr)
        return 2


def run(settings: Settings, args: argparse.Namespace) -> int:
    from datetime import timedelta

    settings.require_slack()
    from bot.app import build_services
    from bot.delivery import Pacer
    from bot.scheduler import Runtime
    from bot.slack.notifier import SlackDeliverySender, make_delivery_client
    from bot.slack.server import serve

    services = build_services(settings)
    pacer = Pacer(per_channel=1.0, per_second=settings.citypeers_send_per_second)
    sender = SlackDeliverySender(make_delivery_client(settings))
    runtime = Runtime(
        services,
        sender,
        pacer=pacer,
        sweep_seconds=settings.citypeers_sweep_seconds,
        claim_hold=timedelta(seconds=settings.citypeers_claim_seconds),
    )
    runtime.start()
    try:
        serve(settings, services, health_checks=[runtime.health])  # /healthz: 503 when delivery is dead
    finally:
        runtime.shutdown()
    return 0


def console(settings: Settings, args: argparse.Namespace) -> int:
    from bot.console import run_console

    return run_console(settings, user=args.user, demo=args.demo)


def db(settings: Settings, args: argparse.Namespace) -> int:
    from storage.db import make_engine, upgrade

    engine = make_engine(settings.database_url)
    upgrade(engine)
    print(f"Database at {engine.url.render_as_string(hide_password=True)} is up to date.")
    return 0


def import_file(settings: Settings, args: argparse.Namespace) -> int:
    from pathlib import Path

    from bot.app import build_services
    from handlers.city_import import ImportFailed, import_cities

    services = build_services(settings)
    try:
        result = import_cities(services, Path(args.file))
    except ImportFailed as failure:
        print("\n".join(failure.problems), file=sys.stderr)
        return 1
    finally:
        services.engine.dispose()
    print(result.summary())
    return 0


COMMANDS = {"run": run, "console": console, "db": db, "import": import_file}

if __name__ == "__main__":
    sys.exit(main())
