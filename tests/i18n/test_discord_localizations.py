"""`citypeers discord sync` registers every command, subcommand and option with its description in Discord's
de, es-ES, fr, it, pl, pt-BR and el, from the one catalogue (pt-BR reads Portuguese: Discord has no pt-PT), and
its name the same English name in every locale, since names are what people type on every platform."""

from __future__ import annotations

from bot.discord.commands import DISCORD_LOCALES, MAX_DESCRIPTION, command_set
from handlers.dispatch import FAMILIES, SUMMARIES

EXPECTED = {"de", "es-ES", "fr", "it", "pl", "pt-BR", "el"}


def every_definition(definitions: list[dict]) -> list[dict]:
    found = []
    for definition in definitions:
        found.append(definition)
        found += every_definition(definition.get("options") or [])
    return found


def test_every_command_subcommand_and_option_carries_the_seven_locales() -> None:
    definitions = every_definition(command_set(FAMILIES, SUMMARIES))
    assert set(DISCORD_LOCALES) == EXPECTED
    assert len(definitions) > 100
    for definition in definitions:
        assert set(definition["description_localizations"]) == EXPECTED, definition["name"]
        assert definition["name_localizations"] == {locale: definition["name"] for locale in EXPECTED}
        for text in definition["description_localizations"].values():
            assert 0 < len(text) <= MAX_DESCRIPTION


def test_descriptions_are_translated_where_the_catalogue_has_them() -> None:
    city = next(d for d in command_set(FAMILIES, SUMMARIES) if d["name"] == "city")
    language = next(d for d in city["options"] if d["name"] == "language")
    translated = {
        locale: text
        for locale, text in language["description_localizations"].items()
        if text != language["description"]
    }
    # German, Polish and Greek are translated in full; a language not yet translated shows the English.
    assert {"de", "pl", "el"} <= set(translated), language["description_localizations"]
