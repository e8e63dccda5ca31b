"""Role checks in one place: every command family asks these, and they refuse in one line."""

from __future__ import annotations

from core.roles import Role
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
