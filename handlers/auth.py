"""Role checks in one place: every command family asks these, and they refuse in one line."""

from __future__ import annotations

from core.roles import ORGANISERS, Role
from handlers.types import CommandError, Context
from storage import queries
from storage.models import City


def require(context: Context, roles: frozenset[Role], what: str) -> None:
    if context.actor.role not in roles:
        names = sorted(f"{role.value}s" for role in roles)
        who = ", ".join(names[:-1]) + f" and {names[-1]}" if len(names) > 1 else names[0]
        raise CommandError(f"Only {who} can {what}.")


def own_city(context: Context, what: str) -> City:
    """The city the actor represents, or a refusal that says how to become its rep."""
    member = context.actor.member
    city = queries.get_city(session=context.session, city_id=member.city_id) if member.city_id else None
    if city is None:
        raise CommandError(f"You do not represent a city yet, so you cannot {what}. Ask with /city join <name>.")
    return city


def city_to_edit(context: Context, chosen: City | None, what: str) -> City:
    """The city a command changes: the actor's own, or the one named with `city=`, which organisers and admins may
    act for (a city whose representatives all left is still kept). The caller audits such an act."""
    if chosen is None:
        return own_city(context, what)
    if context.actor.role not in ORGANISERS and chosen.id != context.actor.member.city_id:
        raise CommandError(
            f"Only organisers and admins act for another city with city=; you can {what} for your own city.",
            field="city",
        )
    return chosen


def acts_for(context: Context, city: City) -> bool:
    """Whether the actor changes a city as an organiser or admin (audited), not as its representative."""
    return context.actor.role in ORGANISERS and context.actor.member.city_id != city.id
