"""The audit trail: who did which privileged act, on which platform, to what, before and after, when.

A command declares its acts with `context.record(...)`; the dispatcher writes them with `write` in the command's
own transaction, so a refused or failed command records nothing. Code that acts outside a command (the CSV import
of the command line) calls `record` in its own transaction. Rows are never changed; retention deletes old ones.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from core import i18n
from core.audit import AuditKind, AuditRecord
from core.dates import format_instant
from core.grammar import UserRef
from core.i18n import N_, Msg, Plural, nN_, pN_
from core.roles import Role
from core.text import Mention, Text
from handlers.auth import require
from handlers.binding import param
from handlers.files.csv import table_csv
from handlers.ledger import platform_of
from handlers.types import Attachment, Button, CommandError, Context, Kind, Reply
from storage import audit_queries, queries
from storage.models import AuditEntry, Event, Member

PAGE = 20  # entries a page; a More button carries the next page's command
MAX_CHANGES = 160  # characters of a line's "what changed"
ADMINS = frozenset({Role.ADMIN})
CSV_COLUMNS = (
    "id",
    "at_utc",
    "actor",
    "actor_name",
    "platform",
    "what",
    "object_kind",
    "object_id",
    "object_name",
    "subject",
    "before",
    "after",
)


class Strings:
    """Every user-facing line of /city audit, in one place so it can be translated later."""

    WHAT = N_("read the audit trail")
    # Each way the filters combine is a sentence of its own (since a day, by a person, of a kind): a key says
    # which are given, (since, by, of kind).
    TITLE: Mapping[tuple[bool, bool, bool], Msg] = {
        (False, False, False): N_("Audit trail, newest first: {first}–{last} of {total}"),
        (False, False, True): N_("Audit trail of kind {what}, newest first: {first}–{last} of {total}"),
        (False, True, False): N_("Audit trail by {who}, newest first: {first}–{last} of {total}"),
        (False, True, True): N_("Audit trail by {who} of kind {what}, newest first: {first}–{last} of {total}"),
        (True, False, False): N_("Audit trail since {day}, newest first: {first}–{last} of {total}"),
        (True, False, True): N_("Audit trail since {day} of kind {what}, newest first: {first}–{last} of {total}"),
        (True, True, False): N_("Audit trail since {day} by {who}, newest first: {first}–{last} of {total}"),
        (True, True, True): N_(
            "Audit trail since {day} by {who} of kind {what}, newest first: {first}–{last} of {total}"
        ),
    }
    EMPTY: Mapping[tuple[bool, bool, bool], Msg] = {
        (False, False, False): N_("No audit entries."),
        (False, False, True): N_("No audit entries of kind {what}."),
        (False, True, False): N_("No audit entries by {who}."),
        (False, True, True): N_("No audit entries by {who} of kind {what}."),
        (True, False, False): N_("No audit entries since {day}."),
        (True, False, True): N_("No audit entries since {day} of kind {what}."),
        (True, True, False): N_("No audit entries since {day} by {who}."),
        (True, True, True): N_("No audit entries since {day} by {who} of kind {what}."),
    }
    PAST_END: Mapping[tuple[bool, bool, bool], Plural] = {
        (False, False, False): nN_(
            "Page {page} is past the last of {total} entry.",
            "Page {page} is past the last of {total} entries.",
            count="total",
        ),
        (False, False, True): nN_(
            "Page {page} is past the last of {total} entry of kind {what}.",
            "Page {page} is past the last of {total} entries of kind {what}.",
            count="total",
        ),
        (False, True, False): nN_(
            "Page {page} is past the last of {total} entry by {who}.",
            "Page {page} is past the last of {total} entries by {who}.",
            count="total",
        ),
        (False, True, True): nN_(
            "Page {page} is past the last of {total} entry by {who} of kind {what}.",
            "Page {page} is past the last of {total} entries by {who} of kind {what}.",
            count="total",
        ),
        (True, False, False): nN_(
            "Page {page} is past the last of {total} entry since {day}.",
            "Page {page} is past the last of {total} entries since {day}.",
            count="total",
        ),
        (True, False, True): nN_(
            "Page {page} is past the last of {total} entry since {day} of kind {what}.",
            "Page {page} is past the last of {total} entries since {day} of kind {what}.",
            count="total",
        ),
        (True, True, False): nN_(
            "Page {page} is past the last of {total} entry since {day} by {who}.",
            "Page {page} is past the last of {total} entries since {day} by {who}.",
            count="total",
        ),
        (True, True, True): nN_(
            "Page {page} is past the last of {total} entry since {day} by {who} of kind {what}.",
            "Page {page} is past the last of {total} entries since {day} by {who} of kind {what}.",
            count="total",
        ),
    }
    FILE: Mapping[tuple[bool, bool, bool], Plural] = {
        (False, False, False): nN_(
            "The {total} entry is in {file}.",
            "All {total} entries are in {file}.",
            count="total",
        ),
        (False, False, True): nN_(
            "The {total} entry of kind {what} is in {file}.",
            "All {total} entries of kind {what} are in {file}.",
            count="total",
        ),
        (False, True, False): nN_(
            "The {total} entry by {who} is in {file}.",
            "All {total} entries by {who} are in {file}.",
            count="total",
        ),
        (False, True, True): nN_(
            "The {total} entry by {who} of kind {what} is in {file}.",
            "All {total} entries by {who} of kind {what} are in {file}.",
            count="total",
        ),
        (True, False, False): nN_(
            "The {total} entry since {day} is in {file}.",
            "All {total} entries since {day} are in {file}.",
            count="total",
        ),
        (True, False, True): nN_(
            "The {total} entry since {day} of kind {what} is in {file}.",
            "All {total} entries since {day} of kind {what} are in {file}.",
            count="total",
        ),
        (True, True, False): nN_(
            "The {total} entry since {day} by {who} is in {file}.",
            "All {total} entries since {day} by {who} are in {file}.",
            count="total",
        ),
        (True, True, True): nN_(
            "The {total} entry since {day} by {who} of kind {what} is in {file}.",
            "All {total} entries since {day} by {who} of kind {what} are in {file}.",
            count="total",
        ),
    }
    LINE = N_("{when} · {who} · {what} · {object}")
    LINE_CHANGED = N_("{when} · {who} · {what} · {object} · {changes}")
    MORE = N_("More")
    WHAT_BAD = N_("`what=` is one of: {kinds}; not `{value}`.")
    WHO_BAD = N_("`who=` names a person as @name, not `{value}`.")
    PAGE_BAD = N_("`page=` expects a whole number of at least 1, not `{value}`.")
    COMMAND_LINE = N_("the command line")
    # What was acted on: its kind's label (OBJECT_KINDS), its name, its number, and for whom.
    OBJECT = N_("{kind} {name}")
    OBJECT_NUMBERED = N_("{kind} {name} (#{number})")
    OBJECT_FOR = N_("{kind} {name} for {who}")
    OBJECT_NUMBERED_FOR = N_("{kind} {name} (#{number}) for {who}")
    # One field of what changed: before and after, or the one side there is.
    CHANGE = N_("{field}: {old} → {new}")
    FIELD = N_("{field}: {value}")
    NONE = pN_("audit value", "none")
    YES = pN_("audit value", "yes")
    NO = pN_("audit value", "no")


# TRANSLATORS: an audit entry's kind is also what `/city audit what=` takes, typed in English: keep the code as it
# is written here (in `backticks`) and, if you like, add its meaning beside it, e.g. "`city-register` (registro)".
KINDS: Mapping[str, Msg] = {
    "approve": pN_("audit kind", "approve"),
    "reject": pN_("audit kind", "reject"),
    "role": pN_("audit kind", "role"),
    "city-register": pN_("audit kind", "city-register"),
    "city-edit": pN_("audit kind", "city-edit"),
    "event-add": pN_("audit kind", "event-add"),
    "event-edit": pN_("audit kind", "event-edit"),
    "event-cancel": pN_("audit kind", "event-cancel"),
    "broadcast": pN_("audit kind", "broadcast"),
    "broadcast-cancel": pN_("audit kind", "broadcast-cancel"),
    "round": pN_("audit kind", "round"),
    "import": pN_("audit kind", "import"),
    "export": pN_("audit kind", "export"),
    "privacy-export": pN_("audit kind", "privacy-export"),
    "privacy-forget": pN_("audit kind", "privacy-forget"),
}
# The kinds of thing acted on, as the handlers record them (`object_kind`).
OBJECT_KINDS: Mapping[str, Msg] = {
    "city": pN_("audit object", "city"),
    "event": pN_("audit object", "event"),
    "broadcast": pN_("audit object", "broadcast"),
    "member": pN_("audit object", "member"),
    "goal": pN_("audit object", "goal"),
    "goals": pN_("audit object", "goals"),
    "file": pN_("audit object", "file"),
    "round": pN_("audit object", "round"),
}
# Every field the handlers write in an entry's before and after, as words.
FIELDS: Mapping[str, Msg] = {
    "all_day": pN_("audit field", "all day"),
    "cancelled_at": pN_("audit field", "cancelled at"),
    "channel": pN_("audit field", "channel"),
    "characters": pN_("audit field", "characters"),
    "cities": pN_("audit field", "cities"),
    "city_id": pN_("audit field", "city id"),
    "cohort": pN_("audit field", "cohort"),
    "cohort_id": pN_("audit field", "cohort id"),
    "country": pN_("audit field", "country"),
    "end": pN_("audit field", "end"),
    "for": pN_("audit field", "for"),
    "goal": pN_("audit field", "goal"),
    "goals": pN_("audit field", "goals"),
    "groups": pN_("audit field", "groups"),
    "interests": pN_("audit field", "interests"),
    "mentor": pN_("audit field", "mentor"),
    "messages_emptied": pN_("audit field", "messages emptied"),
    "messages_withdrawn": pN_("audit field", "messages withdrawn"),
    "need": pN_("audit field", "need"),
    "needs": pN_("audit field", "needs"),
    "number": pN_("audit field", "number"),
    "offer": pN_("audit field", "offer"),
    "offers": pN_("audit field", "offers"),
    "on": pN_("audit field", "on"),
    "population": pN_("audit field", "population"),
    "references_cleared": pN_("audit field", "references cleared"),
    "remind": pN_("audit field", "remind"),
    "repeat": pN_("audit field", "repeat"),
    "role": pN_("audit field", "role"),
    "rows_deleted": pN_("audit field", "rows deleted"),
    "send_at": pN_("audit field", "send at"),
    "start": pN_("audit field", "start"),
    "status": pN_("audit field", "status"),
    "texts_scrubbed": pN_("audit field", "texts scrubbed"),
    "title": pN_("audit field", "title"),
    "tz": pN_("audit field", "tz"),
    "where": pN_("audit field", "where"),
}
# Values that are codes, not anyone's text: a role's and a status's (of an event or a goal), by the field they are in.
CODE_FIELDS = frozenset({"role", "status"})
CODE_VALUES: Mapping[str, Msg] = {
    "none": pN_("audit value", "none"),
    "rep": pN_("audit value", "rep"),
    "expert": pN_("audit value", "expert"),
    "organiser": pN_("audit value", "organiser"),
    "admin": pN_("audit value", "admin"),
    "scheduled": pN_("audit value", "scheduled"),
    "cancelled": pN_("audit value", "cancelled"),
    "on-track": pN_("audit value", "on-track"),
    "at-risk": pN_("audit value", "at-risk"),
    "done": pN_("audit value", "done"),
    "dropped": pN_("audit value", "dropped"),
}


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


# --- /city audit ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditFilters:
    since: date | None = param(Kind.DATE, N_("Only entries from this day on (yours), e.g. 2027-01-31"), key="since")
    who: UserRef | None = param(Kind.USER, N_("Only the acts of this person"), key="who", invalid=Strings.WHO_BAD)
    what: str | None = param(
        Kind.CHOICE,
        N_("Only acts of this kind"),
        key="what",
        choices=tuple(kind.value for kind in AuditKind),
        placeholder="<kind>",
        invalid=Strings.WHAT_BAD,
        invalid_values={"kinds": ", ".join(kind.value for kind in AuditKind)},
    )
    page: int | None = param(
        Kind.NUMBER,
        N_("Which page of 20 entries (1 if not given)"),
        key="page",
        placeholder="<n>",
        invalid=Strings.PAGE_BAD,
    )


def audit_command(context: Context, args: AuditFilters) -> Reply:
    """`/city audit [since=<date>] [who=<@user>] [what=<kind>] [page=<n>]`: admins only; newest first, a page at a
    time, each line in the reader's zone; the first page comes with a CSV of every entry the filters select."""
    require(context, ADMINS, Strings.WHAT)
    since = datetime.combine(args.since, time(), tzinfo=context.zone) if args.since is not None else None
    day_typed = args.since.isoformat() if args.since is not None else ""
    actor = args.who.user_id if args.who is not None else None
    whats = [args.what] if args.what is not None else None
    page = args.page if args.page is not None else 1
    if page < 1:
        raise CommandError(Strings.PAGE_BAD.format(value=page), field="page")
    session = context.session
    found = audit_queries.find_entries(
        session=session, since=since, actor=actor, whats=whats, offset=(page - 1) * PAGE, limit=PAGE + 1
    )
    filters, values = _filters(context, day_typed, actor, whats)
    total = audit_queries.count_entries(session=session, since=since, actor=actor, whats=whats)
    if not found and total:
        return Reply.of(Strings.PAST_END[filters], page=page, total=total, **values)
    if not found:
        return Reply.of(Strings.EMPTY[filters], **values)
    shown_entries = found[:PAGE]
    names = _names(session, {entry.actor for entry in shown_entries} | {entry.subject or "" for entry in shown_entries})
    first = (page - 1) * PAGE + 1
    last = first + len(shown_entries) - 1
    reply = Reply.of(Strings.TITLE[filters], first=first, last=last, total=total, **values)
    for entry in shown_entries:
        line = {
            "when": format_instant(entry.at, context.zone),
            "who": _who(entry.actor, names),
            "what": KINDS.get(entry.what, entry.what),
            "object": _object(entry, names),
        }
        changes = _changes(entry, context.zone)
        if changes:
            reply.add_text(Text(Strings.LINE_CHANGED, changes=changes, **line))
        else:
            reply.add_text(Text(Strings.LINE, **line))
    if len(found) > PAGE:
        reply.sections[-1].buttons = [Button(Strings.MORE, _page_command(args, page + 1))]
    if page == 1:
        every = audit_queries.find_entries(session=session, since=since, actor=actor, whats=whats)
        filename = f"audit-{context.now.astimezone(context.zone).date().isoformat()}.csv"
        names = _names(session, {entry.actor for entry in every})
        reply.files.append(Attachment(filename, audit_csv(every, names), "text/csv"))
        reply.add_text(Text(Strings.FILE[filters], total=total, file=filename, **values))
    return reply


def _filters(
    context: Context, day: str, actor: str | None, whats: list[str] | None
) -> tuple[tuple[bool, bool, bool], dict[str, object]]:
    """Which filters are given (the key of the sentences that name them), and their values."""
    values: dict[str, object] = {}
    if day:
        values["day"] = day
    if actor is not None:
        values["who"] = _who(actor, _names(context.session, {actor}))
    if whats:
        values["what"] = whats[0]
    return (bool(day), actor is not None, bool(whats)), values


def _page_command(args: AuditFilters, page: int) -> str:
    """The command of another page: the same filters, each as the grammar reads it back."""
    parts = ["/city audit"]
    if args.since is not None:
        parts.append(f"since={args.since.isoformat()}")
    if args.who is not None:
        parts.append(f"who=<@{args.who.user_id}>")
    if args.what is not None:
        parts.append(f"what={args.what}")
    parts.append(f"page={page}")
    return " ".join(parts)


def _names(session: Session, external_ids: set[str]) -> dict[str, str]:
    """Today's display names of the people named by external id (someone forgotten has none)."""
    return queries.display_names(session=session, external_ids=external_ids)


def _who(external_id: str, names: dict[str, str]) -> object:
    if external_id == CLI_ACTOR:
        return Strings.COMMAND_LINE
    return Mention(external_id, names.get(external_id, external_id))


def _object(entry: AuditEntry, names: dict[str, str]) -> str:
    """`city Brno (#3)`, `event City Lab (#12)`, `member @ana`: the kind in the reader's language."""
    kind = OBJECT_KINDS.get(entry.object_kind, entry.object_kind)
    if entry.object_kind == "member":
        return i18n.render(Strings.OBJECT, kind=kind, name=f"@{names.get(entry.object_id, entry.object_id)}")
    name = entry.object_name or entry.object_id
    numbered = bool(entry.object_name) and entry.object_id != entry.object_name
    values: dict[str, object] = {"kind": kind, "name": name, "number": entry.object_id}
    if entry.subject and entry.what != "role":
        values["who"] = f"@{names.get(entry.subject, entry.subject)}"
        return i18n.render(Strings.OBJECT_NUMBERED_FOR if numbered else Strings.OBJECT_FOR, **values)
    return i18n.render(Strings.OBJECT_NUMBERED if numbered else Strings.OBJECT, **values)


def _changes(entry: AuditEntry, zone: ZoneInfo) -> str:
    """`role: rep → organiser; start: … → …`, cut to MAX_CHANGES; instants in the reader's zone, named."""
    before, after = entry.before or {}, entry.after or {}
    parts = []
    for key in dict.fromkeys([*before, *after]):
        old, new = before.get(key), after.get(key)
        field = _words(key)
        if key in before and key in after:
            if old == new:
                continue
            parts.append(
                i18n.render(Strings.CHANGE, field=field, old=_value(old, zone, key), new=_value(new, zone, key))
            )
        else:
            parts.append(i18n.render(Strings.FIELD, field=field, value=_value(new if key in after else old, zone, key)))
    text = "; ".join(parts)
    return text if len(text) <= MAX_CHANGES else text[: MAX_CHANGES - 1] + "…"


# An instant as the trail keeps it (ISO 8601 with its offset, as machine files keep it too).
_INSTANT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(?::\d\d(?:\.\d+)?)?(?:[+-]\d\d:\d\d|Z)")


def _words(key: str) -> str:
    """A field's name as words in the reader's language: `rows_deleted` reads `rows deleted`; a key no handler
    writes (a table's name in a count) as words of its own."""
    label = FIELDS.get(key)
    return label.translated() if label is not None else key.replace("_", " ")


def _value(value: object, zone: ZoneInfo, key: str = "") -> str:
    if value is None:
        return Strings.NONE.translated()
    if isinstance(value, bool):
        return (Strings.YES if value else Strings.NO).translated()
    if isinstance(value, list):
        return ", ".join(_value(item, zone, key) for item in value) or Strings.NONE.translated()
    if isinstance(value, dict):  # counts by kind (`{"join_request": 1}`): in words, never as a Python value
        counts = ", ".join(f"{_words(str(name))} {_value(item, zone)}" for name, item in value.items())
        return counts or Strings.NONE.translated()
    if isinstance(value, str) and _INSTANT.fullmatch(value):
        return format_instant(datetime.fromisoformat(value.replace("Z", "+00:00")), zone)
    if key in CODE_FIELDS and str(value) in CODE_VALUES:
        return CODE_VALUES[str(value)].translated()
    return str(value)


def audit_csv(entries: list[AuditEntry], names: dict[str, str]) -> bytes:
    """Oldest first; before and after as JSON; rendered by handlers.files.csv (spreadsheet-safe UTF-8)."""

    def as_json(value: dict[str, Any] | None) -> str:
        return json.dumps(value, ensure_ascii=False, sort_keys=True) if value is not None else ""

    rows = (
        (
            entry.id,
            entry.at.isoformat(timespec="seconds"),
            entry.actor,
            names.get(entry.actor, ""),
            entry.platform,
            entry.what,
            entry.object_kind,
            entry.object_id,
            entry.object_name,
            entry.subject or "",
            as_json(entry.before),
            as_json(entry.after),
        )
        for entry in sorted(entries, key=lambda e: (e.at, e.id or 0))
    )
    return table_csv(CSV_COLUMNS, rows)
