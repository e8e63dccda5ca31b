"""A sentence that holds other messages (a match's reasons, an introduction's people and lists) keeps each one a
whole message: kept in the ledger as ids and values, it is written in its recipient's language when sent, with
every value still escaped by the platform."""

from __future__ import annotations

import locales
from core import i18n
from core.text import Mention, Sentence, Text, joined
from handlers.match import Strings
from handlers.types import Reply, reply_from_dict, reply_to_dict


def _reasons() -> Text:
    return joined(
        [
            Text(Strings.REASON_TRACKS["you"], tracks="Tourism"),
            Text(Strings.REASON_THEY_OFFER["you"], city="Porto", offer="<!channel> data"),
        ]
    )


def test_a_list_of_reasons_starts_its_line_with_a_capital_in_english_as_before() -> None:
    line = Text(Strings.RESULT, rank=1, city="Porto", country="PT", score="5.4", reasons=Sentence("{r}", r=_reasons()))
    assert line.plain() == (
        "1. Porto (PT) · score 5.4\nYou both work on Tourism; Porto offers <!channel> data, which you need"
    )


def test_messages_within_a_message_survive_the_ledger_and_are_written_for_the_recipient() -> None:
    reply = Reply.of(Strings.INTRO_WHY, reasons=_reasons())
    bob, eve = Text("{who}", who=Mention("U1", "bob")), Text("{who}", who=Mention("U2", "eve"))
    reply.add(Strings.INTRO_MEET, people_a=joined([bob], ", "), a="Brno", country_a="Czechia", people_b=eve, b="Porto",
              country_b="Portugal")  # fmt: skip
    kept = reply_from_dict(reply_to_dict(reply))
    assert kept.plain() == reply.plain()
    assert kept.plain().startswith("Why: you both work on Tourism; Porto offers <!channel> data, which you need.")
    pseudo = kept.localize(locales.language("xx")).plain()
    for english in ("Why", "both work on", "offers", "which you need", "meet"):
        assert english not in pseudo  # seen if left: the English above has each of them
    assert "<!channel> data" in pseudo and "@bob" in pseudo and "@eve" in pseudo  # values stay values
    with i18n.reading(locales.language("xx")):
        assert "both work on" not in kept.plain()


def test_a_list_is_separated_as_the_readers_language_writes_it() -> None:
    reasons = Reply.of(Strings.INTRO_WHY, reasons=_reasons())
    assert "Tourism; Porto" in reasons.plain()  # English joins reasons with a semicolon
    greek = reasons.localize(locales.language("el")).plain()
    assert "Tourism · " in greek or "Tourism· " in greek  # Greek's semicolon is the raised dot
    assert ";" not in greek  # Greek's ';' is a question mark: no reason may read as a question
    kept = reply_from_dict(reply_to_dict(reasons))
    assert kept.localize(locales.language("el")).plain() == greek  # the separator is kept as a message, not text
