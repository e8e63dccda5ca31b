"""Platform-neutral rich text: a template of our own markup plus user values kept apart.

Templates use Slack-style `*bold*` and `_italic_`; user values are inserted by the renderer of each
platform after it has escaped them, so user text can never become markup (or a `<!channel>` ping).
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable
from dataclasses import dataclass, field

_FORMATTER = string.Formatter()


def escape_mrkdwn(value: str) -> str:
    """Escape Slack's three control characters so user text is shown, never executed."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape_mrkdwn(value: str) -> str:
    return value.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


@dataclass(frozen=True)
class Text:
    """`Text("*{city}* joined", city=name)`: the template is ours, the values are the user's."""

    template: str
    values: dict[str, object] = field(default_factory=dict)

    def __init__(self, template: str, **values: object) -> None:
        object.__setattr__(self, "template", template)
        object.__setattr__(self, "values", values)

    def render(self, show: Callable[[object], str], markup: Callable[[str], str] = lambda s: s) -> str:
        """Render with `show` turning each user value into safe text and `markup` the template's own."""
        out: list[str] = []
        for literal, name, spec, conversion in _FORMATTER.parse(self.template):
            out.append(markup(literal))
            if name is not None:
                value = self.values[name]
                if conversion:
                    value = _FORMATTER.convert_field(value, conversion)
                out.append(show(format(value, spec) if spec else value))
        return "".join(out)

    def plain(self) -> str:
        """The text with user values as typed and our markup removed (terminal, logs, fallbacks)."""
        return self.render(plain_value, strip_markup)


_MARKERS = re.compile(r"\*|(?:^|(?<=[\s(]))_|_(?=$|[\s).,:;!?])")


def strip_markup(literal: str) -> str:
    """Drop our `*bold*`/`_italic_` markers, keeping underscores inside words such as `dry_run`."""
    return _MARKERS.sub("", literal)


@dataclass(frozen=True)
class Mention:
    """A person we name on purpose: each platform renders it as its own mention."""

    user_id: str
    name: str

    def __str__(self) -> str:
        return f"@{self.name}"


def plain_value(value: object) -> str:
    return str(value)
