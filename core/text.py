"""Platform-neutral rich text: a template of our own markup plus user values kept apart.

Templates use our own markup, `*bold*` and `_italic_` (each platform's renderer turns it into its own); user values
are inserted by the renderer of each platform after it has escaped them in that platform's markup (bot/<platform>),
so user text can never become markup, or a ping.
"""

from __future__ import annotations

import difflib
import re
import string
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from core.i18n import Template, pN_, template_text, value_text

_FORMATTER = string.Formatter()

# Letters NFKD does not take apart into a base letter and a mark, spelled as people type them without the key.
_FOLD_LETTERS = str.maketrans(
    {
        "Ł": "l", "ł": "l", "Ø": "o", "ø": "o", "ß": "ss", "ẞ": "ss", "Đ": "d", "đ": "d", "Ð": "d", "ð": "d",
        "Þ": "th", "þ": "th", "Æ": "ae", "æ": "ae", "Œ": "oe", "œ": "oe", "ı": "i", "Ħ": "h", "ħ": "h",
        "Ŀ": "l", "ŀ": "l", "Ŧ": "t", "ŧ": "t", "ĸ": "k", "Ŋ": "ng", "ŋ": "ng",
    }
)  # fmt: skip


def fold_name(name: str) -> str:
    """The one key a name is known by, whatever its case, accents, spaces, hyphens or punctuation.

    `Saint-Étienne`, `saint etienne` and `SAINT_ETIENNE` are all `saint etienne`; `Łódź` is `lodz`; Greek and
    Cyrillic keep their letters (`Αθήνα` is `αθηνα`). Linear in the name.
    """
    decomposed = unicodedata.normalize("NFKD", name.translate(_FOLD_LETTERS).casefold())
    folded = "".join(ch for ch in decomposed if unicodedata.category(ch) not in ("Mn", "Me"))
    return " ".join("".join(ch if ch.isalnum() or unicodedata.category(ch) == "Mc" else " " for ch in folded).split())


@dataclass(frozen=True)
class Text:
    """`Text("*{city}* joined", city=name)`: the template is ours, the values are the user's.

    The template is a message (core.i18n: a `Msg`, a `Plural` chosen by a count among the values, or a plain
    string), rendered in the language of whoever reads now; `handlers.types.Reply.localize` fixes it for a reader.
    """

    template: Template
    values: dict[str, object] = field(default_factory=dict)

    def __init__(self, template: Template, **values: object) -> None:
        object.__setattr__(self, "template", template)
        object.__setattr__(self, "values", values)

    def render(self, show: Callable[[object], str], markup: Callable[[str], str] = lambda s: s) -> str:
        """Render with `show` turning each user value into safe text and `markup` the template's own."""
        out: list[str] = []
        for literal, name, spec, conversion in _FORMATTER.parse(template_text(self.template, self.values)):
            out.append(markup(literal))
            if name is not None:
                value = value_text(self.values[name])
                if isinstance(value, Text):  # a message within a message: its words ours, its values the user's
                    out.append(value.render(show, markup))
                    continue
                if conversion:
                    value = _FORMATTER.convert_field(value, conversion)
                out.append(show(format(value, spec) if spec else value))
        return "".join(out)

    def plain(self) -> str:
        """The text with user values as typed and our markup removed (terminal, logs, fallbacks)."""
        return self.render(plain_value, strip_markup)


class Sentence(Text):
    """A Text that starts a sentence (a list of reasons on a line of its own): its first letter is a capital when
    its template, in the reader's language, starts with a letter; a value keeps its own case (a city's name)."""

    def render(self, show: Callable[[object], str], markup: Callable[[str], str] = lambda s: s) -> str:
        template = template_text(self.template, self.values)
        if template[:1].isalpha():
            written = super().render(show, markup)
            return written[:1].upper() + written[1:]
        literal, name, _spec, _conversion = next(iter(_FORMATTER.parse(template)), ("", None, "", None))
        first = self.values.get(name) if name is not None and not literal else None
        if isinstance(first, Text):  # it starts with a message of its own (the first of a list): that one starts it
            values = {**self.values, str(name): Sentence(first.template, **first.values)}
            return Text(template, **values).render(show, markup)
        return super().render(show, markup)


# The separators of a list are words of the reader's language too: Greek writes a semicolon `·` (its `;` is a
# question mark), so reasons joined by "; " would read as questions.
_SEPARATORS = {"; ": pN_("list separator", "; "), ", ": pN_("list separator", ", ")}


def joined(parts: list[Text], separator: str = "; ") -> Text:
    """Several messages one after another (reasons, pairs of a list), each translated and escaped as its own; the
    separator is translated too when it is one of the catalogue's (`_SEPARATORS`)."""
    values: dict[str, object] = {f"part{i}": p for i, p in enumerate(parts)}
    if separator in _SEPARATORS:
        values["sep"] = Text(_SEPARATORS[separator])
        separator = "{sep}"
    return Text(separator.join(f"{{part{i}}}" for i in range(len(parts))), **values)


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


@dataclass(frozen=True)
class ChannelMention:
    """A channel we name on purpose (`slack:C123`; a console channel's id is its name): each platform renders it as
    its own channel link, plain text as `#name`."""

    channel_id: str
    name: str

    def __str__(self) -> str:
        return f"#{self.name}"


MOMENT_STYLES = ("F", "f")  # with the weekday, or without (Discord's letters; each adapter maps them)


@dataclass(frozen=True)
class Moment:
    """An instant (or a span, with `end`) that a platform may show in each reader's own zone; as text, the form
    core.dates gives it in `zone`. `style` says whether the weekday is shown (F) or not (f)."""

    instant: datetime
    zone: ZoneInfo
    style: str = "F"
    end: datetime | None = None
    language: str | None = None  # whose words and order its text takes (a Babel locale); None: the reader of now

    def __post_init__(self) -> None:
        if self.instant.utcoffset() is None or (self.end is not None and self.end.utcoffset() is None):
            raise ValueError("a Moment needs aware datetimes")
        if self.style not in MOMENT_STYLES:
            raise ValueError(f"a Moment's style is one of {MOMENT_STYLES}, not {self.style!r}")

    @property
    def same_day(self) -> bool:
        """A span that starts and ends on one day in `zone` (its text names the day once)."""
        return (
            self.end is not None and self.instant.astimezone(self.zone).date() == self.end.astimezone(self.zone).date()
        )

    def __str__(self) -> str:
        from core.dates import format_instant, format_span  # core.dates reads names with fold_name from here

        return (
            format_instant(self.instant, self.zone, language=self.language)
            if self.end is None
            else format_span(self.instant, self.end, self.zone, language=self.language)
        )


def plain_value(value: object) -> str:
    return str(value)


CLOSE_ENOUGH = 0.75  # difflib's ratio above which a typed name is taken for a slip of another


def closest_names(typed: str, names: Iterable[str], *, n: int = 1, cutoff: float = CLOSE_ENOUGH) -> list[str]:
    """The names (as stored) nearest to `typed` once both are folded, best first: `Krakov` finds `Kraków`."""
    by_key: dict[str, str] = {}
    for name in names:
        by_key.setdefault(fold_name(name), name)
    key = fold_name(typed)
    if not key:
        return []
    # A name typed short (`icc` for `ICC 2020`) is a slip too, though too short for difflib's ratio.
    starts = [k for k in by_key if k.startswith(key + " ")]
    close = difflib.get_close_matches(key, list(by_key), n=n, cutoff=cutoff)
    return [by_key[k] for k in dict.fromkeys(starts + close)][:n]
