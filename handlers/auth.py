"""Role checks in one place: every command family asks these, and they refuse in one line.

Each refusal is a whole message of the catalogue, named by what was asked (`"create events"`): never "Only {who}
can {what}." put together from pieces, which no other language could say.
"""

from __future__ import annotations

from collections.abc import Mapping

from core.i18n import N_, Msg
from core.roles import ORGANISERS, READERS, Role
from handlers.types import CommandError, Context
from storage import queries
from storage.models import City

ADMINS = frozenset({Role.ADMIN})


class Strings:
    """Who may do what, one message per act and the roles that may do it."""

    ONLY: Mapping[tuple[frozenset[Role], str], Msg] = {
        (ORGANISERS, "create events"): N_("Only admins and organisers can create events."),
        (ORGANISERS, "change reminders"): N_("Only admins and organisers can change reminders."),
        (ORGANISERS, "change events"): N_("Only admins and organisers can change events."),
        (ORGANISERS, "cancel events"): N_("Only admins and organisers can cancel events."),
        (ORGANISERS, "broadcast"): N_("Only admins and organisers can broadcast."),
        (ORGANISERS, "run matching rounds"): N_("Only admins and organisers can run matching rounds."),
        (ORGANISERS, "register cities"): N_("Only admins and organisers can register cities."),
        (ORGANISERS, "review requests to represent a city"): N_(
            "Only admins and organisers can review requests to represent a city."
        ),
        (ORGANISERS, "approve representatives"): N_("Only admins and organisers can approve representatives."),
        (ORGANISERS, "decline requests"): N_("Only admins and organisers can decline requests."),
        (ORGANISERS, "grant roles"): N_("Only admins and organisers can grant roles."),
        (READERS, "see matching statistics"): N_("Only admins, experts and organisers can see matching statistics."),
        (READERS, "see the collaboration network"): N_(
            "Only admins, experts and organisers can see the collaboration network."
        ),
        (READERS, "export goals"): N_("Only admins, experts and organisers can export goals."),
        (READERS, "chart goals"): N_("Only admins, experts and organisers can chart goals."),
        (READERS, "open the dashboard"): N_("Only admins, experts and organisers can open the dashboard."),
        (ADMINS, "read the audit trail"): N_("Only admins can read the audit trail."),
    }
    NOT_A_REP: Mapping[str, Msg] = {
        "pause matching": N_(
            "You do not represent a city yet, so you cannot pause matching. Ask with /city join <name>."
        ),
        "resume matching": N_(
            "You do not represent a city yet, so you cannot resume matching. Ask with /city join <name>."
        ),
        "ask for matches": N_(
            "You do not represent a city yet, so you cannot ask for matches. Ask with /city join <name>."
        ),
        "ask for introductions": N_(
            "You do not represent a city yet, so you cannot ask for introductions. Ask with /city join <name>."
        ),
        "keep a not-a-fit list": N_(
            "You do not represent a city yet, so you cannot keep a not-a-fit list. Ask with /city join <name>."
        ),
        "add goals": N_("You do not represent a city yet, so you cannot add goals. Ask with /city join <name>."),
        "list goals": N_("You do not represent a city yet, so you cannot list goals. Ask with /city join <name>."),
        "set interests": N_(
            "You do not represent a city yet, so you cannot set interests. Ask with /city join <name>."
        ),
        "add offers": N_("You do not represent a city yet, so you cannot add offers. Ask with /city join <name>."),
        "add needs": N_("You do not represent a city yet, so you cannot add needs. Ask with /city join <name>."),
        "remove offers": N_(
            "You do not represent a city yet, so you cannot remove offers. Ask with /city join <name>."
        ),
        "remove needs": N_("You do not represent a city yet, so you cannot remove needs. Ask with /city join <name>."),
        "show it": N_("You do not represent a city yet, so you cannot show it. Ask with /city join <name>."),
    }
    FOR_OWN_CITY: Mapping[str, Msg] = {
        "add goals": N_(
            "Only organisers and admins act for another city with city=; you can add goals for your own city."
        ),
        "set interests": N_(
            "Only organisers and admins act for another city with city=; you can set interests for your own city."
        ),
        "add offers": N_(
            "Only organisers and admins act for another city with city=; you can add offers for your own city."
        ),
        "add needs": N_(
            "Only organisers and admins act for another city with city=; you can add needs for your own city."
        ),
        "remove offers": N_(
            "Only organisers and admins act for another city with city=; you can remove offers for your own city."
        ),
        "remove needs": N_(
            "Only organisers and admins act for another city with city=; you can remove needs for your own city."
        ),
    }


def require(context: Context, roles: frozenset[Role], what: str) -> None:
    """Refuse unless the actor has one of `roles`; `what` names the act (a key of Strings.ONLY)."""
    if context.actor.role not in roles:
        raise CommandError(Strings.ONLY[(roles, str.__str__(what))])


def own_city(context: Context, what: str) -> City:
    """The city the actor represents, or a refusal that says how to become its rep."""
    member = context.actor.member
    city = queries.get_city(session=context.session, city_id=member.city_id) if member.city_id else None
    if city is None:
        raise CommandError(Strings.NOT_A_REP[what])
    return city


def city_to_edit(context: Context, chosen: City | None, what: str) -> City:
    """The city a command changes: the actor's own, or the one named with `city=`, which organisers and admins may
    act for (a city whose representatives all left is still kept). The caller audits such an act."""
    if chosen is None:
        return own_city(context, what)
    if context.actor.role not in ORGANISERS and chosen.id != context.actor.member.city_id:
        raise CommandError(Strings.FOR_OWN_CITY[what], field="city")
    return chosen


def acts_for(context: Context, city: City) -> bool:
    """Whether the actor changes a city as an organiser or admin (audited), not as its representative."""
    return context.actor.role in ORGANISERS and context.actor.member.city_id != city.id
