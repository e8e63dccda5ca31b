"""The audit trail: who did which privileged act, on which platform, to what, before and after, when.

A command declares its acts with `context.record(...)`; the dispatcher writes them with `write` in the command's
own transaction, so a refused or failed command records nothing. Code that acts outside a command (the CSV import
of the command line) calls `record` in its own transaction. Rows are never changed; retention deletes old ones.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlmodel import Session

from core.audit import AuditKind, AuditRecord
from handlers.ledger import platform_of
from storage import audit_queries
from storage.models import AuditEntry, Event, Member

CLI_ACTOR = "cli"  # who the command line's acts are by: whoever runs `citypeers`, with the server's rights
CONSOLE = "console"  # the platform of a console name (no `slack:`/`discord:` prefix)


def platform_for(external_id: str) -> str:
    if external_id == CLI_ACTOR:
        return CLI_ACTOR
    return platform_of(external_id) or CONSOLE


def record(
    session: Session,
    *,
    actor: Member | None,
    what: AuditKind,
    object_kind: str,
    object_id: object,
    now: datetime,
    object_name: str = "",
    subject: str | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    platform: str | None = None,
) -> AuditEntry:
    """Append one entry in `session`'s transaction. `actor` None is the command line; `platform` defaults to the
    actor's (`slack`, `discord`, `console`, `cli`)."""
    external_id = actor.external_id if actor is not None else CLI_ACTOR
    return audit_queries.add_entry(
        session=session,
        at=now,
        actor_id=actor.id if actor is not None else None,
        actor=external_id,
        platform=platform if platform is not None else platform_for(external_id),
        what=AuditKind(what).value,
        object_kind=object_kind,
        object_id=str(object_id),
        object_name=object_name,
        subject=subject,
        before=before,
        after=after,
    )


def event_fields(event: Event) -> dict[str, Any]:
    """What an event is, for its entries' before and after (its description aside: free text nobody audits)."""

    def instant(value: datetime | None) -> str | None:
        return value.isoformat() if value is not None else None

    return {
        "title": event.title,
        "start": instant(event.start_at),
        "end": instant(event.end_at),
        "all_day": event.all_day,
        "tz": event.tz,
        "where": event.location,
        "repeat": event.rrule,
        "remind": event.remind,
        "channel": event.channel_id,
        "status": event.status,
    }


def changed(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the fields that differ, on each side."""
    keys = [key for key in after if before.get(key) != after[key]]
    return {key: before.get(key) for key in keys}, {key: after[key] for key in keys}


def write(session: Session, records: Iterable[AuditRecord], *, actor: Member, now: datetime) -> None:
    """The dispatcher's one write of what a command declared (see Context.record)."""
    for item in records:
        record(
            session,
            actor=actor,
            what=item.what,
            object_kind=item.object_kind,
            object_id=item.object_id,
            object_name=item.object_name,
            subject=item.subject,
            before=item.before,
            after=item.after,
            now=now,
        )


def entry_as_dict(entry: AuditEntry) -> dict[str, Any]:
    """An entry as JSON-able fields (a privacy export's "audit entries about them")."""
    return {
        "id": entry.id,
        "at": entry.at.isoformat(),
        "actor": entry.actor,
        "platform": entry.platform,
        "what": entry.what,
        "object_kind": entry.object_kind,
        "object_id": entry.object_id,
        "object_name": entry.object_name,
        "subject": entry.subject,
        "before": entry.before,
        "after": entry.after,
    }


def entries_about(session: Session, external_id: str) -> list[dict[str, Any]]:
    """Every entry the person did or was the subject of, oldest first, as dicts (see `entry_as_dict`)."""
    return [entry_as_dict(e) for e in audit_queries.entries_about(session=session, external_id=external_id)]
