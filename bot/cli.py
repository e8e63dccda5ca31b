"""`citypeers run | console | db upgrade | import | backup`, and each platform's own verbs (`discord sync`): the
command line, settings read once."""

from __future__ import annotations

import argparse
import gc
import logging
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.config import Settings, StartupFailure


def main(argv: Sequence[str] | None = None) -> int:
    from bot.platforms import add_verbs, platforms

    titles = [found.title for found in platforms()]
    where = ", ".join(titles[:-1]) + (" and " if len(titles) > 1 else "") + titles[-1] if titles else "a terminal"
    parser = argparse.ArgumentParser(prog="citypeers", description=f"Peer networking for cities, in {where}.")
    parser.add_argument("--version", action=_Version, help="show the installed version and exit")
    commands = parser.add_subparsers(dest="command", required=True)

    commands.add_parser("run", help=f"serve each of {where} that is set up, with the dashboard, over HTTP on PORT")
    add_verbs(commands)

    console = commands.add_parser("console", help="the same commands in a terminal, no chat platform needed")
    console.add_argument("--user", default="you", help="who you are in the console (default: you)")
    console.add_argument("--db", help="database URL or SQLite file (default: DATABASE_URL)")
    console.add_argument("--demo", action="store_true", help="load sample cities, tracks and interests")

    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    db_commands.add_parser("upgrade", help="bring the schema to the newest version, keeping the data")

    backup = commands.add_parser(
        "backup", help="copy the SQLite database, while the bot runs, to a new FILE (PostgreSQL: use pg_dump)"
    )
    backup.add_argument("file", help="the copy to write; an existing file is never overwritten")
    backup.add_argument("--db", help="database URL or SQLite file (default: DATABASE_URL)")

    load = commands.add_parser("import", help="load data in one step: citypeers import cities FILE.csv")
    load.add_argument("what", choices=["cities"], help="what the file holds")
    load.add_argument("file", help="CSV, UTF-8: name,country,population,cohort,mentor,tracks,offers,needs")
    load.add_argument("--db", help="database URL or SQLite file (default: DATABASE_URL)")

    args = parser.parse_args(argv)
    global _program
    _program = argv is None
    # Start-up builds many objects that live as long as the process (modules, SQLAlchemy's mappers, pydantic's
    # schemas) and little garbage, so the cyclic collector only costs time then (a tenth of a console command):
    # it is off until the command is ready (started()) or done.
    collecting = gc.isenabled()
    gc.disable()
    # Settings (pydantic, SQLAlchemy) load only once a command runs: `citypeers --help` answers without them.
    from bot.config import ConfigError, StartupFailure, load_settings

    try:
        overrides = {"database_url": args.db} if getattr(args, "db", None) else {}
        settings = load_settings(**overrides)
        configure_logging(settings.citypeers_log_level)
        return (getattr(args, "run", None) or COMMANDS[args.command])(settings, args)
    except ConfigError as error:
        print(f"citypeers: {error}", file=sys.stderr)
        return 2
    except StartupFailure as failure:  # a database or platform the settings name cannot be used: one line
        if failure.setting == "DATABASE_URL" and getattr(args, "db", None):
            failure = failure.named("--db")
        print(f"citypeers: {failure}", file=sys.stderr)
        return 1
    finally:
        if collecting:  # as the caller had it
            gc.enable()
        else:
            gc.disable()
        if _program:
            # The program ends next: the interpreter's last collections would walk every object start-up built,
            # for nothing (a fifth of a console command). Exit handlers still run, and what is not in a reference
            # cycle is still freed.
            gc.freeze()


def configure_logging(level: str) -> None:
    """Routine work logs nothing at INFO: what is logged is news (a start, a stop, a failure, a message given up)."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    if level != "DEBUG":
        # Schema chatter at every start; two lines per sweep (every 15 s, some 11,500 a day) from the scheduler.
        for name in ("alembic", "apscheduler"):
            logging.getLogger(name).setLevel(logging.WARNING)
    # Its notice that it is building its font cache (the first chart) is not ours to tell.
    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
    # We give bolt our own client on purpose; its warning that SLACK_BOT_TOKEN (read from the environment by bolt
    # itself) goes unused is noise at every start.
    logging.getLogger("slack_bolt.App").addFilter(_not_about_the_given_client)
    if _program:  # the process's environment is the program's to set, not a calling test's
        from bot.config import use_matplotlib_cache

        use_matplotlib_cache()


def _not_about_the_given_client(record: logging.LogRecord) -> bool:
    return not str(record.msg).startswith("As you gave `client` as well")


class _Version(argparse.Action):
    """`citypeers --version`: the installed package's version (pyproject.toml), looked up only when asked."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, help=str(kwargs.get("help", "")))

    def __call__(self, parser: argparse.ArgumentParser, *_args: object, **_kwargs: object) -> None:
        from importlib.metadata import PackageNotFoundError, version

        try:
            number = version("citypeers")
        except PackageNotFoundError:  # a source tree that was never installed
            number = "unknown (not installed)"
        print(f"citypeers {number}")  # on standard output, as argparse's own version action does
        parser.exit()


# Whether main() runs as the program (its arguments from the command line), so the process's objects are its own
# to freeze; a caller in the same process (a test) keeps its heap as it was.
_program = False


def started() -> None:
    """A command calls this once it is set up, before its long work: collecting resumes, and when main() is the
    program what start-up built, which lives as long as the process, is left out of later collections."""
    if _program:
        gc.freeze()
    gc.enable()


def run(settings: Settings, args: argparse.Namespace) -> int:
    """Serve every platform whose settings are present, on one web app, with one delivery runtime; with none, the
    web dashboard and calendar feeds alone (a programme that uses only the console follows their links)."""
    from datetime import timedelta

    settings.require_platforms()
    from bot.adapters import RoutingSender
    from bot.app import build_adapters, build_services, enabled_platforms, start_adapters
    from bot.calendar_feed import feed_route
    from bot.dashboard import dashboard_route
    from bot.metrics import Metrics, metrics_route
    from bot.scheduler import Runtime
    from bot.web import database_check, serve

    services = build_services(settings, metered=bool(settings.citypeers_metrics_token))
    try:
        adapters = build_adapters(settings, services)
    except BaseException:
        services.engine.dispose()
        raise
    served = enabled_platforms(settings)
    sender = RoutingSender(
        {adapter.platform: adapter.sender() for adapter in adapters},
        # Ids stored before ids carried their platform are that platform's.
        default=next((found.name for found in served if found.unprefixed), None),
    )
    runtime = Runtime(
        services,
        sender,
        paces=sending_paces(settings, {found.name: found.pace for found in served}, sender.default),
        sweep_seconds=settings.citypeers_sweep_seconds,
        claim_hold=timedelta(seconds=settings.citypeers_claim_seconds),
    )
    runtime.start()
    serving = False
    try:
        start_adapters(settings, adapters)
        routes = [route for adapter in adapters for route in adapter.routes()]
        routes += [feed_route(services), dashboard_route(services)]
        if isinstance(services.meter, Metrics):  # GET /metrics is off (404) without its token
            routes.append(metrics_route(services.meter, settings.citypeers_metrics_token))
        if not served:
            logging.getLogger(__name__).info(
                "no chat platform is set up: serving the web dashboard and calendar feeds (and /healthz) at %s; "
                "set a platform's settings (see .env.example) to serve it too",
                settings.public_url,
            )
        started()
        serving = True
        # /healthz: 503 when the database, the scheduler or the delivery engine is not well.
        try:
            serve(
                settings.host,
                settings.port,
                threads=settings.web_threads,
                routes=routes,
                checks=[database_check(services.engine), runtime.health],
            )
        except OSError as error:
            failure = listen_failure(error, settings)
            if failure is None:
                raise
            serving = False
            raise failure from None
    finally:
        for adapter in adapters:
            adapter.stop()
        runtime.shutdown()
        services.engine.dispose()
        if serving:  # a start that failed is told in one line by main()
            logging.getLogger(__name__).info("stopped")
    return 0


def sending_paces(settings: Settings, paces: dict[str, float], default: str | None) -> dict[str, float]:
    """Messages a second this process sends each platform's rows at, and the ledger plans them by: the platform's
    own pace, or CITYPEERS_SEND_PER_SECOND when set (a workspace with other limits, a proxy, several processes
    sharing the pace); rows whose ids carry no platform go at the default platform's."""
    chosen = settings.citypeers_send_per_second
    sending = {platform: chosen or pace for platform, pace in paces.items()}
    if default in sending:
        sending[""] = sending[default]
    return sending


def listen_failure(error: OSError, settings: Settings) -> StartupFailure | None:
    """The web server could not bind: PORT taken or not ours to use, or HOST not an address of this machine."""
    import errno

    from bot.config import StartupFailure

    setting = {errno.EADDRINUSE: "PORT", errno.EACCES: "PORT", errno.EADDRNOTAVAIL: "HOST"}.get(error.errno or 0)
    if setting is None:
        return None
    cause = (error.strerror or str(error)).lower()
    return StartupFailure(setting, f"cannot listen on {settings.host}:{settings.port} ({cause})")


def console(settings: Settings, args: argparse.Namespace) -> int:
    from bot.console import run_console

    return run_console(settings, user=args.user, demo=args.demo, started=started)


def db(settings: Settings, args: argparse.Namespace) -> int:
    from bot.app import open_database

    engine = open_database(settings.database_url)
    print(f"Database at {engine.url.render_as_string(hide_password=True)} is up to date.")
    return 0


def import_file(settings: Settings, args: argparse.Namespace) -> int:
    from pathlib import Path

    from bot.app import build_services
    from handlers.city_import import ImportFailed, import_cities

    services = build_services(settings)
    started()  # a large file makes garbage to collect
    try:
        result = import_cities(services, Path(args.file))
    except ImportFailed as failure:
        print("\n".join(failure.problems), file=sys.stderr)
        return 1
    finally:
        services.engine.dispose()
    print(result.summary())
    return 0


def backup(settings: Settings, args: argparse.Namespace) -> int:
    """`citypeers backup FILE`: SQLite's online backup into a new file, consistent while the bot writes; one line.
    A platform's own SQLite files (Matrix's device and keys) are copied too, beside it as FILE.<platform>."""
    from bot.app import enabled_platforms
    from bot.backup import BackupFailed, backup_sqlite

    copies = [(settings.database_url, str(args.file))]
    for found in enabled_platforms(settings):
        if found.stores:
            copies += [(f"sqlite:///{path}", f"{args.file}.{found.name}") for path in found.load("stores")(settings)]
    status = 0
    for source, target in copies:
        try:
            print(backup_sqlite(source, target))
        except BackupFailed as failure:
            print(f"citypeers: backup: {failure}", file=sys.stderr)
            status = 1
    return status


COMMANDS = {"run": run, "console": console, "db": db, "import": import_file, "backup": backup}

if __name__ == "__main__":
    sys.exit(main())
