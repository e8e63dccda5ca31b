"""A platform is one folder under bot/: its `platform.py` declares it, and the settings, the command line, the
adapters, metrics, the ledger's pace and the database's id columns follow the registry. Nothing in core/ or
handlers/ names a platform."""

from __future__ import annotations

import argparse
import ast
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlmodel import SQLModel

import bot
from bot import platforms as registry
from bot.config import ConfigError, CoreSettings, _with_every_platform, load_settings
from bot.platforms import Platform, platforms
from handlers.forms import FORMS
from storage.models import PLATFORM_ID_LENGTH, PLATFORM_NAME_LENGTH

ROOT = Path(__file__).resolve().parents[2]
# Every column that holds a platform's id with its prefix (a person, a channel, a conversation, an event id).
ID_COLUMNS = (
    "member.external_id",
    "introduction.conversation_id",
    "event.channel_id",
    "broadcast.channel_id",
    "seen_event.event_id",
    "audit_entry.actor",
    "audit_entry.object_id",
    "audit_entry.subject",
)
PLATFORM_COLUMNS = ("delivery.platform", "audit_entry.platform")


def test_each_folder_with_a_declaration_is_a_platform_and_only_those():
    folders = sorted(path.parent.name for path in (ROOT / "bot").glob("*/platform.py"))
    assert [found.name for found in platforms()] == folders == ["discord", "matrix", "slack"]
    assert all(isinstance(found, Platform) for found in platforms())


@pytest.mark.parametrize("found", platforms(), ids=lambda found: found.name)
def test_what_a_declaration_names_exists_and_fits(found):
    settings = found.load("settings")
    assert issubclass(settings, CoreSettings)
    assert callable(found.load("adapter")) and callable(found.load("escape"))
    for optional in ("startup_failure", "verbs"):
        if getattr(found, optional):
            assert callable(found.load(optional))
    assert re.fullmatch(r"[a-z]+", found.name) and len(found.name) <= PLATFORM_NAME_LENGTH
    assert len(found.prefixed("x" * found.id_length)) <= PLATFORM_ID_LENGTH
    assert found.pace > 0


def test_the_database_holds_the_longest_id_any_platform_may_have():
    """255 characters (Matrix's user and room ids) with the longest prefix, in every column that holds an id."""
    tables = SQLModel.metadata.tables
    for where in ID_COLUMNS:
        table, column = where.split(".")
        assert tables[table].c[column].type.length >= PLATFORM_ID_LENGTH, where
    assert PLATFORM_ID_LENGTH >= PLATFORM_NAME_LENGTH + 1 + 255
    for where in PLATFORM_COLUMNS:
        table, column = where.split(".")
        assert tables[table].c[column].type.length >= PLATFORM_NAME_LENGTH, where
    assert tables["delivery"].c["recipient"].type.length is None  # several ids, for a group


@pytest.mark.parametrize("found", platforms(), ids=lambda found: found.name)
def test_the_forms_fit_every_platforms_limits(found):
    limits = found.limits
    for form in FORMS.values():
        assert len(form.title_for("9" * 9)) <= limits.form_title, (found.name, form.name)
        assert len(form.fields) <= limits.form_fields, (found.name, form.name)
        for field in form.fields:
            assert len(field.label) <= limits.field_label, (found.name, field.label)
            assert len(field.hint or "") <= limits.field_hint, (found.name, field.hint)


def test_settings_admins_and_checks_come_from_each_platform():
    settings = load_settings(_env_file=None, citypeers_admins="U1,U2", citypeers_discord_admins="80351110224678912")
    assert settings.admins == {"slack:U1", "slack:U2", "discord:80351110224678912"}
    assert settings.platforms_enabled == []
    half = load_settings(_env_file=None, discord_bot_token="token")
    assert half.platforms_enabled == ["discord"]
    with pytest.raises(ConfigError, match="DISCORD_APPLICATION_ID and DISCORD_PUBLIC_KEY not set"):
        half.require_platforms()


# --- `citypeers --help` reads the declarations and nothing heavier ----------------------------------------------

# What a platform's adapter, the settings and the handlers bring in: none of it is needed to print the help.
HEAVY = (
    "slack_bolt",
    "slack_sdk",
    "cryptography",
    "sqlalchemy",
    "sqlmodel",
    "pydantic",
    "waitress",
    "handlers",
    "storage",
)
LOADED = """
import sys
from bot.cli import main
{before}
try:
    main(["--help"])
except SystemExit:
    pass
print("loaded:", *sorted({{name.split(".")[0] for name in sys.modules}} & set(sys.argv[1:])))
"""


def heavy_modules_after_help(before: str = "") -> set[str]:
    """The HEAVY modules loaded in a fresh Python once `citypeers --help` has run (after `before`)."""
    done = subprocess.run(
        [sys.executable, "-c", LOADED.format(before=before), *HEAVY], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "usage: citypeers" in done.stdout
    return set(done.stdout.strip().splitlines()[-1].removeprefix("loaded:").split())


@pytest.mark.slow  # fresh Python processes
def test_help_imports_no_platform_library_nor_the_dashboard_nor_the_database():
    # The probe sees each of them when they are loaded: every platform's adapter, the dashboard and the database.
    every = "import bot.config, bot.dashboard\nfor found in __import__('bot.platforms').platforms.platforms():\n"
    every += "    found.load('adapter')"
    assert heavy_modules_after_help(every) == set(HEAVY)
    assert heavy_modules_after_help() == set()


# --- one more platform is one more folder ------------------------------------------------------------------

ELSEWHERE = {
    "platform.py": """
        from bot.platforms import Limits, Platform

        PLATFORM = Platform(
            name="elsewhere",
            title="Elsewhere",
            settings="bot.elsewhere.settings:ElsewhereSettings",
            enabled="elsewhere_enabled",
            require="require_elsewhere",
            admins="citypeers_elsewhere_admins",
            adapter="bot.elsewhere.settings:ElsewhereSettings",
            verbs="bot.elsewhere.settings:add_verbs",
            pace=0.2,
            limits=Limits(4000, 80, 255, 80, 80, 80, 10),
            escape="html:escape",
            id_length=255,
        )
    """,
    "settings.py": """
        from bot.config import ConfigError, CoreSettings


        class ElsewhereSettings(CoreSettings):
            elsewhere_homeserver: str = ""
            citypeers_elsewhere_admins: str = ""

            @property
            def elsewhere_enabled(self) -> bool:
                return bool(self.elsewhere_homeserver)

            def require_elsewhere(self) -> None:
                if not self.elsewhere_homeserver.startswith("https://"):
                    raise ConfigError("ELSEWHERE_HOMESERVER: expected an https URL")


        def add_verbs(commands):
            commands.add_parser("elsewhere", help="Elsewhere's own verb").set_defaults(run=lambda s, a: 0)
    """,
    "__init__.py": '"""A platform that is not there: written by a test."""\n',
}


@pytest.fixture
def elsewhere(tmp_path, monkeypatch):
    """A folder `elsewhere` beside bot/'s own, holding a declaration and its settings, and nothing else."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    for name, source in ELSEWHERE.items():
        (folder / name).write_text(textwrap.dedent(source), encoding="utf-8")
    monkeypatch.setattr(bot, "__path__", [*bot.__path__, str(tmp_path)])
    registry.platforms.cache_clear()
    yield
    registry.platforms.cache_clear()


def test_a_new_platform_is_one_folder_and_everything_follows(elsewhere, monkeypatch):
    assert registry.names() == ("discord", "elsewhere", "matrix", "slack")
    settings_class = _with_every_platform()
    settings = settings_class(_env_file=None, elsewhere_homeserver="http://x", citypeers_elsewhere_admins="@ana:x")
    assert settings.platforms_enabled == ["elsewhere"]
    assert settings.admins == {"elsewhere:@ana:x"}
    with pytest.raises(ConfigError, match="ELSEWHERE_HOMESERVER"):
        settings.require_platforms()
    commands = argparse.ArgumentParser().add_subparsers(dest="command")
    registry.add_verbs(commands)
    assert {"discord", "elsewhere"} <= set(commands.choices)

    from bot.metrics import Metrics

    metrics = Metrics(engine=None, families=())  # type: ignore[arg-type]
    assert 'citypeers_platform_rate_limited_total{platform="elsewhere"} 0.0' in metrics.exposition().decode()


# --- nothing in core/ or handlers/ names a platform ----------------------------------------------------------


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def platform_names_in_code(source: str, path: str) -> list[str]:
    """Strings in the code (what people read, what is compared or stored) that name a platform; docstrings and
    comments, which explain, are not code."""
    words = [found.name for found in platforms()] + [found.title for found in platforms()]
    named = re.compile(r"\b(" + "|".join(map(re.escape, words)) + r")\b", re.IGNORECASE)
    tree = ast.parse(source, path)
    docs = _docstrings(tree)
    return [
        f"{path}:{node.lineno}: {node.value[:80]!r}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docs
        and named.search(node.value)
    ]


def test_the_check_sees_a_platform_named_in_a_user_text_and_not_in_a_docstring():
    source = 'def f():\n    """Slack sends it so."""\n    # Discord too\n    return "Ask your Slack admin"\n'
    assert platform_names_in_code(source, "<x>") == ["<x>:4: 'Ask your Slack admin'"]
    assert platform_names_in_code('PREFIX = "discord:"\n', "<y>")
    city = (ROOT / "handlers/city.py").read_text(encoding="utf-8")
    slipped = city.replace('TZ_SET = N_("', 'TZ_SET = N_("In Discord: ', 1)
    assert slipped != city and platform_names_in_code(slipped, "handlers/city.py")


def test_nothing_in_core_or_handlers_names_a_platform():
    found = [
        problem
        for top in ("core", "handlers")
        for path in sorted((ROOT / top).rglob("*.py"))
        for problem in platform_names_in_code(path.read_text(encoding="utf-8"), path.relative_to(ROOT).as_posix())
    ]
    assert found == []


def test_each_platform_is_sent_and_planned_at_its_own_pace_unless_the_setting_says_otherwise():
    from bot.cli import sending_paces

    declared = {found.name: found.pace for found in platforms()}
    assert declared == {"discord": 10.0, "matrix": 0.2, "slack": 5.0}
    own = sending_paces(load_settings(_env_file=None), declared, "slack")
    assert own == {"discord": 10.0, "matrix": 0.2, "slack": 5.0, "": 5.0}  # ids without a prefix: their platform's
    chosen = sending_paces(load_settings(_env_file=None, citypeers_send_per_second=2.5), declared, None)
    assert chosen == {"discord": 2.5, "matrix": 2.5, "slack": 2.5}
