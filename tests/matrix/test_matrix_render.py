"""A Reply as a Matrix message, and a typed command as the neutral line the handlers read: no homeserver needed."""

from __future__ import annotations

from bot.matrix.bot import neutral_line, txn_of
from bot.matrix.render import render, typed_form
from core.text import Mention
from handlers.types import Button, Reply


def test_user_text_is_shown_never_applied_and_only_the_people_meant_are_mentioned():
    reply = Reply.of(
        "*{city}* joined by {who}: {said}",
        city="Brno <b>",
        who=Mention("matrix:@ana:example.org", "Ana"),
        said="@room <img src=x> &amp; <@matrix:@zed:example.org|Zed>",
    )
    message = render(reply)
    content = message.content()
    assert content["msgtype"] == "m.text" and content["format"] == "org.matrix.custom.html"
    assert content["m.mentions"] == {"user_ids": ["@ana:example.org"]}  # not Zed (typed), never the room
    assert content["formatted_body"] == (
        '<strong>Brno &lt;b&gt;</strong> joined by <a href="https://matrix.to/#/@ana:example.org">Ana</a>: '
        "@room &lt;img src=x&gt; &amp;amp; Zed"
    )
    assert content["body"] == "Brno <b> joined by Ana: @room <img src=x> &amp; Zed"


def test_a_mention_of_another_platforms_person_is_a_name():
    message = render(Reply.of("{who}", who=Mention("slack:U1", "Ana")))
    assert message.mentions == [] and message.body == "Ana" and message.html == "@Ana"


def test_buttons_are_typed_forms_and_a_choice_is_offered_as_reactions():
    reply = Reply.of("Bruno asks to represent Brno.")
    reply.sections[0].buttons = [
        Button("Approve", "/city approve <@matrix:@bruno:example.org> Brno", "primary"),
        Button("Reject", "/city reject <@matrix:@bruno:example.org> Brno", "danger"),
        Button("Update…", "/goal update 3", form="goal-update"),
    ]
    message = render(reply)
    assert "✅ Approve: !city approve @bruno:example.org Brno" in message.body
    assert "❌ Reject: !city reject @bruno:example.org Brno" in message.body
    assert "Update…: !goal update 3 …" in message.body
    assert message.reactions == {
        "✅": "/city approve <@matrix:@bruno:example.org> Brno",
        "❌": "/city reject <@matrix:@bruno:example.org> Brno",
    }
    assert typed_form("/city approve <@slack:U1|ana> Brno") == "!city approve @ana Brno"


def test_an_answer_is_threaded_on_its_command():
    relates = render(Reply.of("ok")).content(thread_of="$cmd")["m.relates_to"]
    assert relates == {
        "rel_type": "m.thread",
        "event_id": "$cmd",
        "is_falling_back": True,
        "m.in_reply_to": {"event_id": "$cmd"},
    }


def test_typed_ids_and_pills_reach_the_handlers_as_neutral_references():
    assert neutral_line("!city approve @bruno:example.org Brno", None) == (
        "!city approve <@matrix:@bruno:example.org|bruno> Brno"
    )
    pill = '!city approve <a href="https://matrix.to/#/@bruno:example.org">Bruno B</a> Brno &amp; co'
    assert neutral_line("!city approve Bruno B Brno & co", pill) == (
        "!city approve <@matrix:@bruno:example.org|Bruno B> Brno & co"
    )
    assert neutral_line("> quoted\n!help", None) == "!help"  # a reply's fallback is not the command
    assert neutral_line("write to @room now", None) == "write to @room now"


def test_a_transaction_id_is_the_same_for_the_same_row_and_differs_between_rows():
    assert txn_of("reminder:1:x:matrix:@a:b") == txn_of("reminder:1:x:matrix:@a:b")
    assert txn_of("reminder:1:x:matrix:@a:b") != txn_of("reminder:1:x:matrix:@c:b")
    assert txn_of("k").isalnum()
