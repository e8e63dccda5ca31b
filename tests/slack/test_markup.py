from bot.slack.markup import escape, unescape


def test_escape_round_trip():
    for raw in ["a & b", "<!here>", "&amp;"]:
        assert unescape(escape(raw)) == raw
    assert escape("<!channel> & <https://x|y>") == "&lt;!channel&gt; &amp; &lt;https://x|y&gt;"
