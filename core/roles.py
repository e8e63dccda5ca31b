"""Who may do what. One place, so every command family asks the same question."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    NONE = "none"
    REP = "rep"
    EXPERT = "expert"
    ORGANISER = "organiser"
    ADMIN = "admin"


ORGANISERS = frozenset({Role.ORGANISER, Role.ADMIN})
READERS = frozenset({Role.EXPERT, Role.ORGANISER, Role.ADMIN})
GRANTABLE = (Role.ORGANISER, Role.EXPERT, Role.REP, Role.NONE)


def may_grant(granter: Role, target_current: Role, new_role: Role) -> bool:
    """Admins grant anything but admin (that lives in config); organisers manage reps and experts only."""
    if new_role == Role.ADMIN or target_current == Role.ADMIN:
        return False
    if granter == Role.ADMIN:
        return True
    if granter == Role.ORGANISER:
        return new_role != Role.ORGANISER and target_current != Role.ORGANISER
    return False
