"""The catalogue CI keeps: the template holds every marked message, and no translation loses a value or brings
markup of its own (a hostile one is left out, and nothing it says can ping anyone on any platform)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

import locales
from core import i18n
from core.i18n import N_, Msg, Plural, nN_
from core.text import Text

ROOT = Path(__file__).resolve().parents[2]


def messages(path: Path) -> set[tuple[str | None, object]]:
    with path.open("rb") as source:
        return {(m.context, m.id) for m in read_po(source) if m.id}


def test_the_template_holds_every_marked_message_and_no_other(tmp_path: Path) -> None:
    fresh = tmp_path / "fresh.pot"
    environment = {**os.environ, "POT": str(fresh), "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    subprocess.run(["bash", ".ci/i18n", "extract"], cwd=ROOT, env=environment, check=True)
    current, made = messages(locales.TEMPLATE), messages(fresh)
    assert made - current == set(), "messages marked but not in the template: run `bash .ci/i18n extract`"
    assert current - made == set(), "messages in the template no code marks: run `bash .ci/i18n extract`"


@pytest.mark.parametrize("code", [code for code in locales.codes() if code != "en"])
def test_each_translation_keeps_the_values_of_its_english_and_brings_no_markup(code: str) -> None:
    with locales.po_path(code).open("rb") as source:
        catalogue = read_po(source, locale=code)
    refused = {str(m.id): why for m in catalogue if (why := locales.refused(m))}
    assert refused == {}
    template = messages(locales.TEMPLATE)
    assert {(m.context, m.id) for m in catalogue if m.id} <= template, f"run `bash .ci/i18n update` for {code}"


@pytest.mark.parametrize("code", [code for code in locales.codes() if code != "en"])
def test_each_language_has_cldr_plural_forms(code: str) -> None:
    """Polish has three forms (1, 2–4, 5+), Greek and German two, Spanish, Italian, French and Portuguese three
    (CLDR's `many`, for a million): each file's header says its language's rule, as CLDR gives it through Babel."""
    from babel.messages.plurals import get_plural

    with locales.po_path(code).open("rb") as source:
        catalogue = read_po(source, locale=code)
    assert catalogue.plural_forms == get_plural(code).plural_forms
    assert (code, catalogue.num_plurals) in {
        ("pl", 3),
        ("el", 2),
        ("de", 2),
        ("es", 3),
        ("it", 3),
        ("fr", 3),
        ("pt", 3),
    }
    polish = locales.language("pl")
    if code == "pl":
        forms = [polish.catalogue.plural(n) for n in (1, 2, 4, 5, 12, 22, 25)]  # type: ignore[attr-defined]
        assert forms == [0, 1, 1, 2, 2, 1, 2]


def test_a_hostile_translation_is_left_out_and_its_english_shown(tmp_path: Path) -> None:
    po = tmp_path / "citypeers.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Language: pl\\n"\n"Plural-Forms: nplurals=3; plural=(n==1 ? 0 : n%10>=2 && n%10<=4 && '
        '(n%100<10 || n%100>=20) ? 1 : 2);\\n"\n\n'
        'msgid "Goal {id} is due."\nmsgstr "<!channel> Cel {id} @everyone."\n\n'
        'msgid "Hello {who}."\nmsgstr "Cześć {who} i {extra}."\n\n'
        'msgid "{n} city"\nmsgid_plural "{n} cities"\nmsgstr[0] "{n} miasto"\nmsgstr[1] "{n} miasta"\n'
        'msgstr[2] "{n} miast @here"\n\n'
        'msgid "Fine {id}."\nmsgstr "Dobrze {id}."\n',
        encoding="utf-8",
    )
    polish = locales.load("pl", po)
    assert polish.gettext("Fine {id}.") == "Dobrze {id}."  # a good one is used: the file was read
    assert polish.gettext("Goal {id} is due.") == "Goal {id} is due."
    assert polish.gettext("Hello {who}.") == "Hello {who}."
    assert polish.ngettext("{n} city", "{n} cities", 5) == "{n} cities"


def test_no_translation_can_ping_on_any_platform(tmp_path: Path) -> None:
    """Even a translation that slipped past the loader: our templates' literals reach Slack and Discord as they
    are, so the loader is the guard; here it is shown to be the one place that stops them."""
    from bot.discord.render import render as discord_render
    from bot.slack.render import render as slack_render
    from handlers.types import Reply

    po = tmp_path / "citypeers.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Language: de\\n"\n"Plural-Forms: nplurals=2; plural=(n != 1);\\n"\n\n'
        'msgid "Offer added: {text}"\nmsgstr "<!channel> @everyone Angebot hinzugefügt: {text}"\n\n'
        'msgid "Need added: {text}"\nmsgstr "Bedarf hinzugefügt: {text}"\n',
        encoding="utf-8",
    )
    german = locales.load("de", po)
    hostile_value = "<!channel> @everyone <@U1>"
    for template in (N_("Offer added: {text}"), N_("Need added: {text}")):
        reply = Reply.of(template, text=hostile_value).localize(german)
        slack = slack_render(reply)
        discord = discord_render(reply, custom_id=lambda button: None)
        for shown in (slack.text, str(slack.blocks)):
            assert "<!" not in shown  # Slack pings by <!channel>, <!here>, <!everyone>
        assert re.search(r"(?<!\\)@everyone|(?<!\\)<", discord.content) is None  # Discord's, unescaped
    # Shown to be seen if present: the same words as a template of ours (not a translation) do carry them.
    assert "<!channel>" in str(slack_render(Reply.of("<!channel> {x}", x="1")).blocks)
    assert re.search(
        r"(?<!\\)@everyone", discord_render(Reply.of("@everyone {x}", x="1"), custom_id=lambda b: None).content
    )


def test_plural_forms_follow_each_language() -> None:
    cities = nN_("{n} city", "{n} cities")
    assert [cities.translated(n) for n in (1, 2, 5)] == ["{n} city", "{n} cities", "{n} cities"]
    assert Text(cities, n=3).plain() == "3 cities"
    assert isinstance(Msg("x"), str) and Plural("a", "b").format(n=1) == "a"


def test_pseudo_language_accents_lengthens_and_keeps_values_and_commands() -> None:
    shown = locales.pseudo("Goal {id} is due; see `/goal list`.")
    assert shown.startswith(locales.OPEN) and shown.endswith(locales.CLOSE)
    assert "{id}" in shown and "`/goal list`" in shown and "Goal" not in shown
    assert len(shown) > len("Goal {id} is due; see `/goal list`.") * 1.2


def test_the_reader_of_now_is_set_for_a_block_and_restored() -> None:
    polish = locales.language("pl")
    message = N_("`{typed}` is no language CityPeers is written in; there are {languages}.")
    with i18n.reading(polish):
        assert message.format(typed="zz", languages="en").startswith("`zz` nie jest")
    assert message.format(typed="zz", languages="en").startswith("`zz` is no language")
