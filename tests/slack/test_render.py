"""Block Kit rendering: escaping, mentions, Slack's limits, and a 200-city list that still fits."""

from __future__ import annotations

from bot.slack.render import MESSAGE_BLOCKS, SECTION_CHARS, render, split_text
from core.text import Mention, Text
from handlers.dispatch import handle
from handlers.types import Button, Reply, Request, Section, Services
from storage import queries
from storage.db import unit_of_work
from tests.support.blockkit import assert_valid_blocks


def texts(blocks: list[dict]) -> list[str]:
    return [b["text"]["text"] for b in blocks if b["type"] == "section"]


def test_user_values_are_escaped_and_only_mentions_ping() -> None:
    reply = Reply.of("{who} offers *{what}*", who=Mention("slack:U1", "ana"), what="<!channel> & <https://x.example|y>")
    message = render(reply)
    assert texts(message.blocks) == ["<@U1> offers *&lt;!channel&gt; &amp; &lt;https://x.example|y&gt;*"]
    assert message.text == "@ana offers &lt;!channel&gt; &amp; &lt;https://x.example|y&gt;"


def test_an_error_starts_with_a_warning_sign_in_blocks_and_fallback() -> None:
    message = render(Reply.fail("Name the city."))
    assert texts(message.blocks) == [":warning: Name the city."]
    assert message.text == ":warning: Name the city."


def test_title_is_a_plain_header_of_at_most_150_characters() -> None:
    message = render(Reply(title="x" * 400, sections=[Section(Text("body"))]))
    header = message.blocks[0]
    assert header["type"] == "header" and header["text"]["type"] == "plain_text"
    assert len(header["text"]["text"]) == 150 and header["text"]["text"].endswith("…")
    assert_valid_blocks(message.blocks)


def test_buttons_follow_their_section_with_unique_action_ids_and_the_command_as_value() -> None:
    reply = Reply()
    reply.add(
        "First", buttons=[Button("Approve", "/city approve <@U1> Brno", "primary"), Button("Reject", "/x", "danger")]
    )
    reply.add("Second", buttons=[Button("A very long label " * 10, "/city show Brno", "weird")])
    blocks = render(reply).blocks
    assert [b["type"] for b in blocks] == ["section", "actions", "section", "actions"]
    elements = blocks[1]["elements"] + blocks[3]["elements"]
    assert [e["action_id"] for e in elements] == ["cmd-0", "cmd-1", "cmd-2"]
    assert [e["value"] for e in elements] == ["/city approve <@U1> Brno", "/x", "/city show Brno"]
    assert [e.get("style") for e in elements] == ["primary", "danger", None]
    assert len(elements[2]["text"]["text"]) <= 75 and elements[2]["text"]["text"].endswith("label A…")
    assert_valid_blocks(blocks)


def test_more_sections_than_blocks_end_with_and_n_more() -> None:
    reply = Reply(title="Many", sections=[Section(Text("item {n}", n=n)) for n in range(80)])
    blocks = render(reply).blocks
    assert len(blocks) == MESSAGE_BLOCKS
    assert blocks[-1] == {"type": "context", "elements": [{"type": "mrkdwn", "text": "…and 32 more"}]}
    assert texts(blocks)[-1] == "item 47"
    assert_valid_blocks(blocks)


def test_a_long_section_is_split_on_lines_and_a_huge_one_counts_the_lines_left_out() -> None:
    lines = [f"line {n:05d} " + "x" * 80 for n in range(2000)]  # about 190,000 characters
    blocks = render(Reply(sections=[Section(Text("{v}", v="\n".join(lines)))])).blocks
    assert len(blocks) == MESSAGE_BLOCKS
    shown = "\n".join(texts(blocks)).split("\n")
    assert shown == lines[: len(shown)], "every line whole, in order"
    assert blocks[-1]["elements"][0]["text"] == f"…and {2000 - len(shown)} more"
    assert_valid_blocks(blocks)


def test_an_over_long_line_is_never_cut_inside_an_entity_or_a_mention() -> None:
    chunks = split_text("&amp;" * 1000 + " <@U0123456789>" * 300)
    assert all(len(chunk) <= SECTION_CHARS for chunk in chunks)
    joined = "".join(chunks).replace(" ", "")
    assert joined == ("&amp;" * 1000 + "<@U0123456789>" * 300)
    for chunk in chunks:
        rest = chunk.replace("&amp;", "").replace("<@U0123456789>", "").strip()
        assert rest == "", f"a cut entity in {chunk[:40]}…{chunk[-40:]}"


def test_a_long_fallback_is_cut_at_a_line_and_escaped() -> None:
    reply = Reply(sections=[Section(Text("{v}", v=f"<b> {n:04d} " + "y" * 60)) for n in range(200)])
    text = render(reply).text
    assert len(text) < 3600 and text.endswith("…") and "<b>" not in text and text.startswith("&lt;b&gt; 0000")


def test_two_hundred_cities_fit_one_message(services: Services) -> None:
    with unit_of_work(services.engine) as session:
        for n in range(200):
            name = f"City {n:03d} of the Intelligent Cities Challenge, a rather long name"
            queries.add_city(
                session=session,
                name=name,
                country="CZ",
                population=None,
                mentor=False,
                cohort=None,
                now=services.clock.now(),
            )
    reply = handle(services, Request(user_id="U1", user_name="ana", command="city", text="list"))
    assert reply.title == "200 cities"
    blocks = render(reply).blocks
    assert len(blocks) <= MESSAGE_BLOCKS
    assert all(len(text) <= SECTION_CHARS for text in texts(blocks))
    shown = "\n".join(texts(blocks))
    assert all(f"City {n:03d} of" in shown for n in range(200))
    assert_valid_blocks(blocks)


def test_a_familys_command_reaches_one_listener_only():
    """bolt runs the next matching listener when the first has not acked in time: a catch-all that also matched
    /city ran slow commands twice. The catch-all takes only commands without a family of their own."""
    from bot.slack.listeners import OTHER_COMMAND
    from handlers.dispatch import FAMILIES

    assert not any(OTHER_COMMAND.match(f"/{family}") for family in FAMILIES)
    assert OTHER_COMMAND.match("/nosuch") and OTHER_COMMAND.match("/cityhall")
