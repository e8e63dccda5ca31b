"""The catalogue of every message CityPeers writes, and the languages it is translated into.

One gettext domain, `citypeers`: the template `locales/citypeers.pot` (made by `pybabel extract`, see
`.ci/i18n`), and one `locales/<code>/LC_MESSAGES/citypeers.po` per language. The `.po` files are read when a
language is first asked for (Babel's `read_po`), turned into gettext's own catalogue in memory and kept for the
life of the process: no build step, and a translator's edit is what runs. A message whose translation is fuzzy,
empty, names other values than the English or brings markup the English has not (core.i18n.safe_translation) is
left out, so its reader gets the English.

`xx` is a pseudo-language made from the template: every message accented, bracketed and a third longer, so a
session in it shows any English left unmarked and any label too long for a platform. It is never listed.
"""

from __future__ import annotations

import functools
import gettext
import io
import logging
from pathlib import Path

from core.i18n import ENGLISH, ENGLISH_LANGUAGE, Language, placeholders, safe_translation

log = logging.getLogger(__name__)

DIRECTORY = Path(__file__).resolve().parent
DOMAIN = "citypeers"
TEMPLATE = DIRECTORY / f"{DOMAIN}.pot"
PSEUDO = "xx"


def po_path(code: str) -> Path:
    return DIRECTORY / code / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.cache
def codes() -> tuple[str, ...]:
    """The languages there are: English, and each with a catalogue (`de`, `pt`, `pt_BR` as on disk)."""
    found = sorted(path.parent.parent.name for path in DIRECTORY.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))
    return (ENGLISH, *(code for code in found if code != ENGLISH))


@functools.lru_cache(maxsize=256)
def find(typed: str | None) -> str | None:
    """The language a code names, as we have it: `pt-BR` finds `pt_BR` if there is one, else `pt`; `DE` is `de`;
    `xx` is the pseudo-language. None when there is none. Asked for every command (the reader's choice, their
    platform's locale, the programme's), so each answer is kept: the languages there are do not change while the
    process runs (`codes()` is read once)."""
    if not typed:
        return None
    wanted = typed.strip().replace("-", "_")
    if wanted.casefold() == PSEUDO:
        return PSEUDO
    by_folded = {code.casefold(): code for code in codes()}
    exact = by_folded.get(wanted.casefold())
    if exact is not None:
        return exact
    return by_folded.get(wanted.split("_", 1)[0].casefold())


@functools.cache
def name_of(code: str) -> str:
    """A language's name in itself (`Polski`, `Ελληνικά`), from CLDR."""
    if code == ENGLISH:
        return "English"
    if code == PSEUDO:
        return "Pseudo"
    from babel import Locale, UnknownLocaleError

    try:
        locale = Locale.parse(code)
    except (ValueError, UnknownLocaleError):
        return code
    name = locale.get_display_name(locale) or code
    return name[:1].upper() + name[1:]


@functools.cache
def language(code: str) -> Language:
    """A language by its code as `find` gives it, its catalogue read once and kept."""
    if code == ENGLISH:
        return ENGLISH_LANGUAGE
    if code == PSEUDO:
        return Language(PSEUDO, name_of(PSEUDO), _compiled(pseudo_catalogue()))
    return load(code, po_path(code))


def load(code: str, path: Path) -> Language:
    """A language from its `.po` file, each translation that may not be used (`refused`) left out."""
    from babel.messages.pofile import read_po

    with path.open("rb") as source:
        catalogue = read_po(source, locale=code, domain=DOMAIN)
    for message in list(catalogue):
        why = refused(message)
        if why:
            log.warning("%s: the translation of %r is not used: %s", code, message.id, why)
            catalogue.delete(message.id, message.context)
    return Language(code, name_of(code), _compiled(catalogue))


def refused(message: object) -> str | None:
    """Why a catalogue message's translation may not be used (core.i18n.safe_translation), or None."""
    ids = message.id  # type: ignore[attr-defined]
    strings = message.string  # type: ignore[attr-defined]
    if not ids or not strings or message.fuzzy:  # type: ignore[attr-defined]  # a fuzzy one is never used
        return None
    if isinstance(ids, (list, tuple)):
        for translated in strings:
            why = translated and safe_translation(ids[1], translated, count=_count_of(ids[1]))
            if why:
                return why
        return None
    return safe_translation(ids, strings) if strings else None


def _count_of(plural: str) -> str | None:
    """The value a plural message counts by: `n` when it names one, else its only value."""
    names = set(placeholders(plural))
    return "n" if "n" in names else next(iter(names)) if len(names) == 1 else None


def _compiled(catalogue: object) -> gettext.GNUTranslations:
    """gettext's own catalogue (dictionary lookups, the language's plural rule) from Babel's, in memory."""
    from babel.messages.mofile import write_mo

    buffer = io.BytesIO()
    write_mo(buffer, catalogue)  # type: ignore[arg-type]  # leaves fuzzy messages out
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


# --- the pseudo-language --------------------------------------------------------------------------------------

_ACCENTED = str.maketrans(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "àƀçđéƒĝĥîĵķĺɱñöþǫŕšţûṽŵẋýžÀƁÇĐÉƑĜĤÎĴĶĹṀÑÖÞǪŔŠŢÛṼŴẊÝŽ",
)
OPEN, CLOSE = "⟦", "⟧"


def pseudo(text: str) -> str:
    """`Goal {id} is due.` -> `⟦Ĝöàĺ {id} îš đûé.·····⟧`: letters accented outside `{values}` and `code` spans,
    a third longer, bracketed."""
    out: list[str] = []
    depth = 0
    in_code = False
    for ch in text:
        if ch == "`":
            in_code = not in_code
        elif not in_code and ch == "{":
            depth += 1
        elif not in_code and ch == "}":
            depth -= 1
        out.append(ch if depth or in_code or ch == "}" else ch.translate(_ACCENTED))
    letters = sum(ch.isalpha() for ch in text)
    return OPEN + "".join(out) + "·" * (letters // 3) + CLOSE


@functools.cache
def pseudo_catalogue() -> object:
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import read_po

    with TEMPLATE.open("rb") as source:
        template = read_po(source)
    catalogue = Catalog(locale="en", domain=DOMAIN)
    for message in template:
        if not message.id:
            continue
        if isinstance(message.id, (list, tuple)):
            string: str | tuple[str, ...] = tuple(pseudo(form) for form in message.id)
        else:
            string = pseudo(message.id)
        catalogue.add(message.id, string, context=message.context)
    return catalogue
