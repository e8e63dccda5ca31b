"""The platforms CityPeers serves: each is one folder under bot/ whose `platform.py` declares it as `PLATFORM`.

A declaration says everything the rest of the program needs to know of a platform, and nothing else names one:
- `name`: the prefix of its ids (`slack:U123`), its metrics label, and the `platform` of its ledger rows;
- `settings`: the pydantic fields it adds to bot.config.Settings, with their checks, and the names on Settings of
  whether it is set up (`enabled`), of the check `citypeers run` makes (`require`) and of its admins' ids (`admins`);
- `adapter`: the class that mounts its routes, renders a Reply and sends ledger rows (bot/adapters.py);
- `startup_failure`: what turns its refusals at start-up into one line naming a setting (optional);
- `verbs`: what it adds to the command line (`citypeers discord sync`), optional;
- `pace`: messages a second it lets a bot send overall (the ledger plans every send by it);
- `limits`: how long its messages, buttons and forms may be; `escape`: how user text is made safe in its markup;
- `id_length`: its longest id, so the database's id columns are known to hold it (tests/storage);
- `stores`: SQLite files of its own beside the database (Matrix's device and keys), which `citypeers backup` copies
  too, optional.

Declarations are light (no platform library is imported): `citypeers --help` reads them. What they name by
"module:attribute" is imported when it is used, only for a platform that is set up.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Limits:
    """What one platform allows, in characters unless said."""

    message: int  # one message's text
    button_label: int
    button_payload: int  # what a button carries back (longer commands are stored: handlers/stored_commands.py)
    form_title: int
    field_label: int
    field_hint: int
    form_fields: int  # fields in one form


@dataclass(frozen=True)
class Platform:
    name: str
    title: str  # as people write it
    settings: str  # "module:Class", a pydantic BaseSettings whose fields bot.config.Settings takes in
    enabled: str  # the Settings attribute saying its settings are present
    require: str  # the Settings method that checks them for `citypeers run` (ConfigError on what is wrong)
    admins: str  # the Settings attribute listing its admins' ids, comma-separated, without the prefix
    adapter: str  # "module:Class", built as Class(settings, services)
    pace: float
    limits: Limits
    escape: str  # "module:function", (user text) -> the text shown, never executed, in its markup
    id_length: int
    startup_failure: str | None = None  # "module:function", (error, settings, phase) -> StartupFailure | None
    verbs: str | None = None  # "module:function", (argparse subparsers) -> None; each verb sets `run`
    stores: str | None = None  # "module:function", (settings) -> paths of its own SQLite files to back up
    unprefixed: bool = False  # ids stored before ids carried their platform (migration 0007) are this one's

    def load(self, what: str) -> Any:
        """The object a declaration names by "module:attribute", imported now."""
        module, _, attribute = str(getattr(self, what)).partition(":")
        return getattr(importlib.import_module(module), attribute)

    def prefixed(self, native_id: str) -> str:
        return f"{self.name}:{native_id}"


@cache
def platforms() -> tuple[Platform, ...]:
    """Every platform, found as a folder of bot/ holding a `platform.py`, in the order of their names.

    The folders are read, not imported: asking importlib for `bot.<name>.platform` imports the package `bot.<name>`
    first, and a package that is not a platform (bot/dashboard: Jinja2, SQLAlchemy, the handlers) would then load
    with `citypeers --help`. Only the declarations found are imported, with their (light) packages."""
    import bot

    folders = {path.parent.name for where in bot.__path__ for path in Path(where).glob("*/platform.py")}
    return tuple(importlib.import_module(f"bot.{name}.platform").PLATFORM for name in sorted(folders))


def platform(name: str) -> Platform:
    for found in platforms():
        if found.name == name:
            return found
    raise KeyError(name)


def names() -> tuple[str, ...]:
    return tuple(found.name for found in platforms())


def add_verbs(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Each platform's own verbs on the command line."""
    for found in platforms():
        if found.verbs:
            add: Callable[[argparse._SubParsersAction[argparse.ArgumentParser]], None] = found.load("verbs")
            add(commands)
