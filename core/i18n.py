"""Messages in the reader's language: message ids, plurals, contexts, and the language of whoever reads now.

A user-facing sentence is one message id (its English text) with named values, marked where it is written so
`pybabel extract` finds it (`locales/README` of the README's "Languages"):

- `N_("Goal {id} is due {due}.")` marks a class-level string (a module's `Strings`): a `Msg`, a `str` whose
  English text is its id and which is translated when it is used — formatted (`.format`), shown (`str`, f-strings)
  or rendered (as a `Text`'s template);
- `nN_("{n} city", "{n} cities")` marks a sentence with a count: a `Plural`, whose form is chosen by the count
  value (`n` unless `count=` names another) by the language's own plural rule (Polish has three, Greek two);
- `pN_("button", "Join")` / `npN_(...)` add a context where one English word means two things;
- `_`, `ngettext`, `pgettext`, `npgettext` translate at once, for the reader of now.

The reader of now is a context variable: the dispatcher sets it for the person who typed the command, the
delivery ledger for a row's recipient (`reading`). Its `Language` is given by whoever loads catalogues (locales/);
core does no I/O. English is the language with no catalogue: its messages are their ids.

A translation is a template of our own markup like the English one, so it must not bring markup the English has
not: `safe_translation` refuses one that adds `<`, `>`, `&` or `@` (`<!channel>`, `@everyone`, a link), and such a
translation is never used. User values are escaped by each platform after translation, as always.
"""

from __future__ import annotations

import gettext
import re
import string
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

ENGLISH = "en"
_FORMATTER = string.Formatter()


class Msg(str):
    """A message id (its English text), translated for the reader of now whenever it is used."""

    context: str | None = None

    def __new__(cls, text: str, context: str | None = None) -> Msg:
        made = super().__new__(cls, text)
        made.context = context
        return made

    @property
    def msgid(self) -> str:
        return str.__str__(self)

    def translated(self, language: Language | None = None) -> str:
        return (language or current()).gettext(self.msgid, self.context)

    def __str__(self) -> str:
        return self.translated()

    def __format__(self, spec: str) -> str:
        return format(self.translated(), spec)

    def format(self, *args: object, **values: object) -> str:
        return self.translated().format(*args, **values)

    def __reduce__(self) -> tuple[object, ...]:
        return (Msg, (self.msgid, self.context))


@dataclass(frozen=True)
class Plural:
    """A message with a count: `singular` and `plural` are the English forms; `count` names the value that
    chooses the form."""

    singular: str
    plural: str
    context: str | None = None
    count: str = "n"

    def translated(self, n: int, language: Language | None = None) -> str:
        return (language or current()).ngettext(self.singular, self.plural, n, self.context)

    def format(self, **values: object) -> str:
        return self.translated(_count(values[self.count])).format(**values)

    def __str__(self) -> str:  # a Plural shown without its count: its English id, so a slip is seen
        return self.plural


def _count(value: object) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    return int(str(value).replace(",", "").split()[0])


def N_(text: str) -> Msg:  # noqa: N802 - gettext's name for "mark, translate later"
    return Msg(text)


def pN_(context: str, text: str) -> Msg:  # noqa: N802
    return Msg(text, context)


def nN_(singular: str, plural: str, *, count: str = "n") -> Plural:  # noqa: N802
    return Plural(singular, plural, None, count)


def npN_(context: str, singular: str, plural: str, *, count: str = "n") -> Plural:  # noqa: N802
    return Plural(singular, plural, context, count)


Template = str | Plural


# --- the language of whoever reads ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Language:
    """A language CityPeers writes in: its code (`pl`, `pt`), its name in itself, and its messages (a gettext
    catalogue; English has none). Lookups are dictionary reads, made once per message and language."""

    code: str
    name: str
    catalogue: gettext.NullTranslations = field(default_factory=gettext.NullTranslations, compare=False)

    def gettext(self, msgid: str, context: str | None = None) -> str:
        if context is None:
            return self.catalogue.gettext(msgid)
        return self.catalogue.pgettext(context, msgid)

    def ngettext(self, singular: str, plural: str, n: int, context: str | None = None) -> str:
        if context is None:
            return self.catalogue.ngettext(singular, plural, n)
        return self.catalogue.npgettext(context, singular, plural, n)

    @property
    def babel_locale(self) -> str:
        """The locale Babel formats dates, numbers and lists by (`pt-BR` -> `pt_BR`)."""
        return self.code.replace("-", "_")


ENGLISH_LANGUAGE = Language(ENGLISH, "English")
_CURRENT: ContextVar[Language] = ContextVar("citypeers_language", default=ENGLISH_LANGUAGE)


def current() -> Language:
    return _CURRENT.get()


def set_current(language: Language) -> None:
    """The reader of now, from here on in this context (the dispatcher, once it knows who asks)."""
    _CURRENT.set(language)


@contextmanager
def reading(language: Language) -> Iterator[Language]:
    """Whatever is translated inside is for a reader of `language`."""
    token = _CURRENT.set(language)
    try:
        yield language
    finally:
        _CURRENT.reset(token)


def _(text: str) -> str:
    return current().gettext(text)


def pgettext(context: str, text: str) -> str:
    return current().gettext(text, context)


def ngettext(singular: str, plural: str, n: int) -> str:
    return current().ngettext(singular, plural, n)


def npgettext(context: str, singular: str, plural: str, n: int) -> str:
    return current().ngettext(singular, plural, n, context)


def template_text(template: Template, values: Mapping[str, object], language: Language | None = None) -> str:
    """A template as the reader reads it: a message in their language (a plural's form by its count); any other
    string is looked up too, so a sentence written twice is translated in both places."""
    chosen = language or current()
    if isinstance(template, Plural):
        return template.translated(_count(values[template.count]), chosen)
    if isinstance(template, Msg):
        return template.translated(chosen)
    return chosen.gettext(template)


def value_text(value: object, language: Language | None = None) -> object:
    """A value that is one of our messages (a status, a role's name) in the reader's language; others as they are."""
    if isinstance(value, Msg):
        return value.translated(language)
    return value


def render(template: Template, **values: object) -> str:
    """A whole message with its values, for the reader of now (logs, one-line refusals, file headings)."""
    return template_text(template, values).format(**{k: value_text(v) for k, v in values.items()})


def format_list(items: list[str], language: Language | None = None) -> str:
    """`Brno, Porto i Lyon`: a list as the reader's language writes it (CLDR, through Babel); English as it always
    was here (`Brno and Porto`)."""
    chosen = language or current()
    if chosen.code in (ENGLISH, "xx") or len(items) < 2:
        return " and ".join(items)
    from babel.lists import format_list as babel_list

    return str(babel_list(items, locale=chosen.babel_locale))


def format_number(number: int, language: Language | None = None) -> str:
    """`660,000` in English, `660 000` in Polish, `660.000` in German: CLDR's grouping, through Babel."""
    chosen = language or current()
    if chosen.code in (ENGLISH, "xx"):
        return f"{number:,}"
    from babel.numbers import format_decimal

    return str(format_decimal(number, locale=chosen.babel_locale))


# --- what a translation may contain ---------------------------------------------------------------------------

_MARKUP_CHARS = "<>&@"


def placeholders(text: str) -> Counter[str]:
    """The `{name}` values a message uses (a translation must use the same)."""
    found: Counter[str] = Counter()
    try:
        for _literal, name, _spec, _conversion in _FORMATTER.parse(text):
            if name is not None:
                found[name] += 1
    except ValueError:
        found["<malformed>"] += 1
    return found


def _literals(text: str) -> str:
    try:
        return "".join(literal for literal, *_ in _FORMATTER.parse(text))
    except ValueError:
        return text


def _markup(text: str) -> Counter[str]:
    literal = _literals(text)
    return Counter({ch: literal.count(ch) for ch in _MARKUP_CHARS if ch in literal})


_CODE = re.compile(r"`[^`]*`")


def safe_translation(msgid: str, translation: str, *, count: str | None = None) -> str | None:
    """Why `translation` of `msgid` must not be used, or None when it may: it names the same values (a plural's
    form may leave its count out: "jedno miasto"), and brings no character of markup or mention (`<`, `>`, `&`,
    `@`) the English has not."""
    theirs, ours = set(placeholders(translation)), set(placeholders(msgid))
    if theirs != ours and not (count is not None and theirs == ours - {count}):
        return f"its values {sorted(theirs)} are not the English's {sorted(ours)}"
    if _markup(translation) - _markup(msgid):
        return "it brings markup the English has not (<, >, & or @)"
    return None
