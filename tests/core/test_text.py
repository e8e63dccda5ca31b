from core.text import Mention, Text, strip_markup


def slack(value: object) -> str:
    """A platform's renderer as Text sees one: its own mention, user text escaped in its markup (Slack's here)."""
    escaped = str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return f"<@{value.user_id}>" if isinstance(value, Mention) else escaped


def test_user_values_are_escaped_and_our_markup_is_not():
    text = Text("*{city}* offers {offer}", city="Brno", offer="<!channel> & <https://x|y>")
    assert text.render(slack) == "*Brno* offers &lt;!channel&gt; &amp; &lt;https://x|y&gt;"


def test_mentions_render_per_platform():
    text = Text("{who} joined", who=Mention("U1", "ana"))
    assert text.render(slack) == "<@U1> joined"
    assert text.plain() == "@ana joined"


def test_plain_drops_markup_but_keeps_user_text_exactly():
    text = Text("*{name}* is _new_ (dry_run)", name="*Brno_*")
    assert text.plain() == "*Brno_* is new (dry_run)"


def test_strip_markup():
    assert strip_markup("*bold*") == "bold"
