"""A person's home page: their city, its goals, the next events and the top matches, as one Reply.

Each part is what the matching command answers, asked as that person, so the Home shows exactly what typing
would, with the same permissions. Parts are cut to a few items so the whole page stays within a Home tab.
"""

from __future__ import annotations

from core.i18n import N_
from handlers import languages
from handlers.dispatch import handle
from handlers.types import Button, Reply, Request, Services
from storage import queries
from storage.db import unit_of_work

HOME_GOALS = 12
HOME_EVENTS = 3
HOME_MATCHES = 3


class Strings:
    TITLE = N_("CityPeers")
    WELCOME_TITLE = N_("Welcome to CityPeers")
    WELCOME = N_(
        "CityPeers connects cities in peer programmes: collaborators that fit, reminders of City Labs and "
        "meetings, and your three-month goals.\n"
        "To start, ask to represent your city with `/city join <name>` (see `/city list`); an organiser approves."
    )
    GOALS = N_("Goals")
    EVENTS = N_("*Next events*")
    MATCHES = N_("*Cities to work with*")
    MORE = N_("_More in {command}_")
    ADD_GOAL = N_("Add a goal")
    NO_EVENTS = N_("_No upcoming events._")
    COMMANDS = N_("Every command answers `help`: `/city help`, `/match help`, `/goal help`, `/event help`.")
    LANGUAGE = N_("You read CityPeers in *{name}*; `/city language <code>` chooses another: {languages}.")


def home(services: Services, *, user_id: str, user_name: str, tz: str | None, locale: str | None = None) -> Reply:
    """The page, in the person's language (what each part answers is in it already: handle localizes)."""
    page = _page(services, user_id=user_id, user_name=user_name, tz=tz, locale=locale)
    with unit_of_work(services.engine) as session:
        member = queries.get_member(session=session, external_id=user_id)
        language = languages.for_member(member, locale, services.settings)
    commands = page.sections.pop()  # the last line stays the one about help
    page.add(Strings.LANGUAGE, name=language.name, languages=languages.listed())
    page.sections.append(commands)
    return page.localize(language)


def _page(services: Services, *, user_id: str, user_name: str, tz: str | None, locale: str | None) -> Reply:
    def ask(family: str, text: str) -> Reply:
        request = Request(user_id=user_id, user_name=user_name, command=family, text=text, tz=tz, locale=locale)
        return handle(services, request)

    page = Reply(title=Strings.TITLE)
    card = ask("city", "show")
    if card.error:
        page.title = Strings.WELCOME_TITLE
        page.add(Strings.WELCOME)
    else:
        page.sections.extend(card.sections[:2])  # the city's summary and tracks
        goals = ask("goal", "list")
        heading = goals.title if goals.title and not goals.error else Strings.GOALS
        page.add(
            "*{heading}*", heading=heading, buttons=[Button(Strings.ADD_GOAL, "/goal add", "primary", form="goal-add")]
        )
        page.sections.extend(goals.sections[:HOME_GOALS])
        if len(goals.sections) > HOME_GOALS:
            page.add(Strings.MORE, command="/goal list")
    events = ask("event", "list")
    page.add(Strings.EVENTS)
    if events.error or not events.title:
        page.add(Strings.NO_EVENTS)
    else:
        page.sections.extend(events.sections[:HOME_EVENTS])
    if not card.error:
        matches = ask("match", str(HOME_MATCHES))
        page.add(Strings.MATCHES)
        page.sections.extend(matches.sections[:HOME_MATCHES] if matches.sections else [])
    page.add(Strings.COMMANDS)
    return page


def track_choices(services: Services) -> list[tuple[str, str]]:
    """(key, name) of the active tracks, for a form's menu."""
    with unit_of_work(services.engine) as session:
        return [(track.key, track.name) for track in queries.active_tracks(session=session)]


def autocomplete(services: Services, kind: str, typed: str, *, limit: int) -> list[tuple[str, str]]:
    """(value, label) of cities (`kind="city"`), cohorts (`"cohort"`) or tracks (`"track"`) whose name starts with
    what is typed, then those that contain it; for a platform's autocomplete."""
    typed = " ".join(typed.casefold().split())[:80]
    with unit_of_work(services.engine) as session:
        if kind == "city":
            return [(name, name) for name in queries.city_names_matching(session=session, typed=typed, limit=limit)]
        if kind == "cohort":
            found = [(name, name) for name in queries.all_cohort_names(session=session)]
        else:
            found = [(t.key, t.name) for t in queries.active_tracks(session=session)]
    starts = [item for item in found if item[1].casefold().startswith(typed) or item[0].casefold().startswith(typed)]
    inside = [item for item in found if typed in item[1].casefold() and item not in starts]
    return (starts + inside)[:limit]
