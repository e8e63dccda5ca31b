"""Which language a person reads CityPeers in, and the programme's for channel posts.

A person's own choice (`/city language <code>`) wins; then the language their platform reports (Discord's
interaction `locale`, Slack's users.info locale), kept in `Member.locale` until they choose; then the programme's
(CITYPEERS_DEFAULT_LANGUAGE); then English. A language we have no catalogue for is passed over (`pt-BR` reads
Portuguese, `en-GB` English). A channel post, read by many, is in the programme's language.
"""

from __future__ import annotations

import locales
from core.i18n import ENGLISH, Language
from handlers.types import HandlerSettings, Services
from storage import queries
from storage.db import unit_of_work
from storage.models import Member


def code_for(member: Member | None, platform_locale: str | None, settings: HandlerSettings) -> str:
    """The language code a person reads: chosen, their platform's, the programme's, else English."""
    if member is not None and member.locale_chosen:
        found = locales.find(member.locale)
        if found is not None:
            return found
    for candidate in (platform_locale, member.locale if member is not None else None):
        found = locales.find(candidate)
        if found is not None:
            return found
    return programme_code(settings)


def programme_code(settings: HandlerSettings) -> str:
    return locales.find(settings.default_language) or ENGLISH


def for_member(member: Member | None, platform_locale: str | None, settings: HandlerSettings) -> Language:
    return locales.language(code_for(member, platform_locale, settings))


def programme(settings: HandlerSettings) -> Language:
    """The language of posts many people read (a channel, a group conversation)."""
    return locales.language(programme_code(settings))


def by_code(code: str | None, settings: HandlerSettings) -> Language:
    """A language kept by code (a ledger row's), else the programme's."""
    found = locales.find(code)
    return locales.language(found) if found is not None else programme(settings)


def of_person(services: Services, user_id: str, platform_locale: str | None = None) -> Language:
    """The language a person reads, for what an adapter writes itself (a form, a failure): one member read."""
    with unit_of_work(services.engine) as session:
        member = queries.get_member(session=session, external_id=user_id)
        return for_member(member, platform_locale, services.settings)


def listed() -> str:
    """The languages there are, as a person chooses them: `de (Deutsch), el (Ελληνικά), en (English)`."""
    return ", ".join(f"{code} ({locales.name_of(code)})" for code in locales.codes())
