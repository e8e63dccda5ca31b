"""What the audit trail records: the kinds of privileged act, and one act as a value a command hands back."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class AuditKind(StrEnum):
    """Every privileged act the audit trail knows. The `audit_entry.what` CHECK lists exactly these values, so a new
    kind is a migration as well as a line here."""

    APPROVE = "approve"  # a request to represent a city approved
    REJECT = "reject"
    ROLE = "role"  # a role granted or removed
    CITY_REGISTER = "city-register"
    CITY_EDIT = "city-edit"  # interests, offers or needs changed by an organiser or an admin
    EVENT_ADD = "event-add"
    EVENT_EDIT = "event-edit"  # including one date (`on=`) and reminder offsets
    EVENT_CANCEL = "event-cancel"  # the whole event, or one date (`on=`)
    BROADCAST = "broadcast"
    BROADCAST_CANCEL = "broadcast-cancel"
    ROUND = "round"  # a matching round (never a dry run)
    IMPORT = "import"  # `citypeers import cities`
    EXPORT = "export"  # `/goal export`
    PRIVACY_EXPORT = "privacy-export"
    PRIVACY_FORGET = "privacy-forget"


JSONValue = Any  # whatever json.dumps takes: dicts, lists, str, int, float, bool, None


@dataclass(frozen=True)
class AuditRecord:
    """One act, as a command declares it; the dispatcher adds who, on which platform and when, and writes it in the
    command's own transaction (so a refused or failed command records nothing).

    `object_kind` and `object_id` name what was acted on (`city`, `42`; `member`, `slack:U1`); `object_name` is
    how people know it (a city's or event's name). `subject` is the external id of the person the act is about, if
    any (the rep approved, the member whose role changed, the person exported): their export finds it by that.
    `before` and `after` are what changed, as JSON, or None when nothing existed before (or remains after)."""

    what: AuditKind
    object_kind: str
    object_id: str
    object_name: str = ""
    subject: str | None = None
    before: dict[str, JSONValue] | None = None
    after: dict[str, JSONValue] | None = None
