"""/city privacy: what CityPeers keeps about people and why, each person's data as a file, and erasing it.

A person is one member row: a Slack member and a Discord member are two people here, since nothing links them
(each exports and erases their own). Admins and organisers can do either for someone else, and that is audited.
A person who leaves the Slack workspace is erased `forget_departed_after` later (organisers are told at once).
"""

from __future__ import annotations

import contextlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session

from core.audit import AuditKind
from core.grammar import UserRef
from core.i18n import N_, nN_
from core.roles import ORGANISERS, Role
from core.text import Mention
from handlers import audit, ledger
from handlers.binding import param
from handlers.types import (
    Attachment,
    Button,
    Command,
    CommandError,
    Context,
    Kind,
    Notice,
    Reply,
    Services,
    UsageError,
    reply_from_dict,
)
from storage import privacy_queries, queries
from storage.db import run_transaction
from storage.models import City, Event, Member

FORMAT = "citypeers-personal-data/1"
PSEUDONYM_PREFIX = "former-"
CONFIRM = "confirm"
SYSTEM_ACTOR = "citypeers"  # who the audit trail says erased someone who left their workspace
ACTIONS = ("export", "forget")


class Strings:
    """Every user-facing line of /city privacy, in one place so it can be translated later."""

    # What is kept, why and for how long: the reply to `/city privacy` and, word for word, the README's
    # "Personal data" section (tests/handlers/test_privacy.py checks they agree).
    POLICY_TITLE = N_("What CityPeers keeps about people")
    POLICY = (
        N_(
            "*Who you are on each platform.* Your user id on the chat platform, the display name the platform gives, "
            "the time zone and language it reports (or the zone you chose with `/city timezone`), your role and the "
            "city you represent. CityPeers needs them to know who may do what and to show times in your zone. They are "
            "kept while you take part; one person on two platforms is two records, one per platform."
        ),
        N_(
            "*What you asked for and did.* Requests to represent a city and who decided them, the events you RSVP'd "
            "to, the goals, goal updates, offers and needs you wrote, introductions you asked for and the outcomes you "
            "reported, events and broadcasts you created. Goals, their history and introductions belong to your city "
            "and stay when you go, with your name replaced by \u201ca former representative\u201d."
        ),
        N_(
            "*Messages to you.* Every message CityPeers sends (reminders, notices, reports, introductions) is written "
            "to its delivery ledger before it is sent, so that none is lost or sent twice; a sent message's text is "
            "kept for the retention period (90 days by default), then deleted."
        ),
        N_("*Links.* Calendar feed and dashboard links are kept only as a hash of their secret token."),
        N_(
            "*The audit trail.* Privileged acts (approvals, role changes, exports, erasures \u2026) name who did them "
            "and whom they were about, for accountability; an erased person is replaced there by a pseudonym."
        ),
        N_(
            "*Your rights.* `/city privacy export` sends you a JSON file of everything linked to you, each field "
            "described in the file. `/city privacy forget` erases you after a confirmation: your member record, RSVPs, "
            "links, join requests, messages still to be sent to you and the text of those sent; if you use CityPeers "
            "again you start afresh. Admins and organisers can do both for someone else, and that is audited. When "
            "the platform tells CityPeers that someone left its workspace or server, organisers are told and the "
            "person is erased after a delay the programme's operator sets (30 days by default); where it does not "
            "tell, an organiser uses `/city privacy forget <@user>`."
        ),
    )
    NOTHING = N_("CityPeers keeps nothing about {who}.")
    EXPORTED = nN_(
        "Everything CityPeers keeps about {who} is in {file} ({n} record).",
        "Everything CityPeers keeps about {who} is in {file} ({n} records).",
    )
    EXPORTED_YOU = nN_(
        "Everything CityPeers keeps about you is in {file} ({n} record).",
        "Everything CityPeers keeps about you is in {file} ({n} records).",
    )
    FORGET_ASK = N_(
        "This erases what CityPeers keeps about {who}: the member record, RSVPs, calendar and dashboard links, join "
        "requests, messages still to be sent and the text of those sent. Goals and introductions stay with the "
        "city, signed \u201ca former representative\u201d. It cannot be undone."
    )
    FORGET_ASK_YOU = N_(
        "This erases what CityPeers keeps about you: the member record, RSVPs, calendar and dashboard links, join "
        "requests, messages still to be sent and the text of those sent. Goals and introductions stay with the "
        "city, signed \u201ca former representative\u201d. It cannot be undone."
    )
    FORGET_BUTTON = N_("Erase")
    FORGOTTEN_YOU = nN_(
        "Done: CityPeers no longer keeps anything about you ({n} record erased or made anonymous). If you "
        "use it again, you start afresh.",
        "Done: CityPeers no longer keeps anything about you ({n} records erased or made anonymous). If you "
        "use it again, you start afresh.",
    )
    FORGOTTEN = nN_(
        "Done: CityPeers no longer keeps anything about {who} ({n} record erased or made anonymous).",
        "Done: CityPeers no longer keeps anything about {who} ({n} records erased or made anonymous).",
    )
    # TRANSLATORS: a section of the personal-data file: what it holds, and where its fields are described.
    SECTION = N_("{what} (fields.{table})")
    OTHERS = N_("Only admins and organisers can export or erase someone else's data.")
    NEITHER = N_("`{value}` is neither export nor forget, nor a person as @name.")
    FORGET_STAFF = N_("Only admins can erase an organiser's or an admin's data; they can erase their own.")
    LEFT = N_(
        "{who} left the {platform} workspace. What CityPeers keeps about them will be erased on {when}; erase it now "
        "with /city privacy forget."
    )
    LEFT_ERASED = N_("Someone ({pseudonym}) left the {platform} workspace; what CityPeers kept about them is erased.")


def policy_markdown() -> str:
    """The README's "Personal data" section body, generated from the same words as `/city privacy`."""
    return "\n\n".join(paragraph.replace("*", "**") for paragraph in Strings.POLICY)


def policy_reply() -> Reply:
    reply = Reply(title=Strings.POLICY_TITLE)
    for paragraph in Strings.POLICY:
        reply.add(paragraph)
    return reply


# --- the export: every record linked to the member, described field by field ---------------------------

# A section of the export for each reference to a member: `table.column` -> (section, what it holds).
SECTIONS: dict[str, tuple[str, str]] = {
    "join_request.member_id": ("join_requests", N_("your requests to represent a city, and how they were decided")),
    "join_request.decided_by_id": ("join_requests_decided", N_("requests of others you approved or rejected")),
    "rsvp.member_id": ("rsvps", N_("the events you said you attend")),
    "goal.created_by_id": ("goals", N_("goals you added for your city")),
    "goal_update.member_id": ("goal_updates", N_("entries of a goal's history you wrote: status and note")),
    "city_item.created_by_id": ("offers_and_needs", N_("what you said your city offers or needs")),
    "introduction.created_by_id": ("introductions", N_("introductions between cities you asked for")),
    "introduction_outcome.answered_by_id": ("introduction_outcomes", N_("what you said came of an introduction")),
    "not_a_fit.created_by_id": ("not_a_fit", N_("cities you asked not to be suggested again")),
    "match_pause.created_by_id": ("match_pauses", N_("pauses of suggestions you set for your city")),
    "match_round.created_by_id": ("match_rounds", N_("matching rounds you ran")),
    "event.created_by_id": ("events", N_("events you created")),
    "event_occurrence.changed_by_id": ("event_dates_changed", N_("single dates of events you moved or cancelled")),
    "broadcast.created_by_id": ("broadcasts", N_("broadcasts you sent or scheduled")),
    "broadcast.cancelled_by_id": ("broadcasts_cancelled", N_("broadcasts you withdrew")),
    "delivery.created_by_id": ("messages_you_caused", N_("messages to others your commands caused (ledger rows)")),
    "calendar_feed.member_id": ("calendar_feeds", N_("your calendar feed links: the token's SHA-256 only")),
    "dashboard_link.member_id": ("dashboard_links", N_("your dashboard links: the token's SHA-256 only")),
}

# What each field of the file means. Rows of a table carry that table's columns, described under its name.
SCHEMA: dict[str, Any] = {
    "format": N_("this file's format and version"),
    "exported_at": N_("when the file was made (UTC, ISO 8601)"),
    "member": N_("your member record on one platform (see fields.member)"),
    "platform": N_("the chat platform of your member record (the start of its id), or console"),
    "cities_represented": N_("the city you represent now and cities a request of yours to represent was approved for"),
    "messages_to_you": N_(
        "rows of the delivery ledger addressed to you or to a conversation you are in (fields.delivery)"
    ),
    "audit": N_("audit trail entries you did or that are about you (fields.audit_entry)"),
    "other_records": N_("any other record that names you, by table.column"),
    "sections": {section: (what, ref.split(".")[0]) for ref, (section, what) in SECTIONS.items()},
    "fields": {
        "member": {
            "id": N_("the record's number"),
            "external_id": N_("platform:user id"),
            "display_name": N_("the name the platform gave last"),
            "tz": N_("your time zone (IANA)"),
            "tz_chosen": N_("true when you chose it with /city timezone"),
            "locale": N_("the language CityPeers writes to you in: the platform's, or the one you chose"),
            "locale_chosen": N_("true when you chose it with /city language"),
            "role": N_("none, rep, expert, organiser or admin"),
            "city_id": N_("the city you represent"),
            "created_at": N_("first contact"),
            "left_at": N_("when the platform said you left, if it did"),
        },
        "city": {"id": N_("the city's number"), "name": N_("its name"), "country": N_("ISO 3166 code")},
        "join_request": {
            "id": N_("number"),
            "member_id": N_("who asked"),
            "city_id": N_("the city"),
            "status": N_("pending, approved or rejected"),
            "created_at": N_("when asked"),
            "decided_by_id": N_("who decided"),
            "decided_at": N_("when"),
        },
        "rsvp": {
            "event_id": N_("the event"),
            "member_id": N_("you"),
            "created_at": N_("when"),
            "event_title": N_("its title"),
        },
        "goal": {
            "id": N_("number"),
            "city_id": N_("its city"),
            "text": N_("the goal"),
            "track_id": N_("its thematic track"),
            "due_on": N_("due date"),
            "status": N_("new, on-track, at-risk, done or dropped"),
            "created_by_id": N_("you"),
            "created_at": N_("added"),
            "updated_at": N_("last change"),
            "closed_at": N_("done or dropped at"),
            "learnings": N_("what was learned"),
        },
        "goal_update": {
            "id": N_("number"),
            "goal_id": N_("the goal"),
            "status": N_("the status it took"),
            "note": N_("your note"),
            "member_id": N_("you"),
            "created_at": N_("when"),
        },
        "city_item": {
            "id": N_("number"),
            "city_id": N_("the city"),
            "kind": N_("offer or need"),
            "text": N_("its words"),
            "created_by_id": N_("you"),
            "created_at": N_("when"),
        },
        "introduction": {
            "id": N_("number"),
            "city_a_id": N_("one city"),
            "city_b_id": N_("the other"),
            "created_by_id": N_("who asked"),
            "round_id": N_("the matching round, if any"),
            "conversation_id": N_("the conversation opened"),
            "reasons": N_("why they were matched"),
            "created_at": N_("when"),
            "followup_due_at": N_("when the follow-up is due"),
            "followup_sent_at": N_("when it was sent"),
        },
        "introduction_outcome": {
            "introduction_id": N_("the introduction"),
            "city_id": N_("the side answering"),
            "met": N_("whether they met"),
            "outcome": N_("what came of it"),
            "answered_by_id": N_("you"),
            "answered_at": N_("when"),
        },
        "not_a_fit": {
            "city_id": N_("your city"),
            "other_city_id": N_("the city"),
            "created_by_id": N_("you"),
            "created_at": N_("when"),
        },
        "match_pause": {
            "city_id": N_("the city"),
            "until": N_("until"),
            "created_by_id": N_("you"),
            "created_at": N_("when"),
        },
        "match_round": {
            "id": N_("number"),
            "cohort_id": N_("cohort"),
            "created_by_id": N_("you"),
            "created_at": N_("when"),
        },
        "event": N_("title, description, start_at, end_at, tz, location, channel_id, rrule, remind, status"),
        "event_occurrence": N_(
            "one date changed: event_id, original_at, status, start_at, end_at, location, changed_at"
        ),
        "broadcast": N_("channel_id, channel_name, text, send_at, created_at, reported_at, cancelled_at"),
        "delivery": {
            "id": N_("number"),
            "key": N_("what, which, when, to whom (unique)"),
            "kind": N_("reminder, broadcast, notice, report, calendar or joinreqs"),
            "platform": N_("the recipient's platform"),
            "event_id": N_("the event, for a reminder"),
            "broadcast_id": N_("the broadcast"),
            "occurrence_at": N_("the event's date"),
            "offset_minutes": N_("how long before it"),
            "recipient": N_("a user id, several joined by commas (a conversation) or a channel"),
            "recipient_kind": N_("user, group or channel"),
            "body": N_("the message's text as it reads; a reminder's is written from the event when it is sent"),
            "due_at": N_("when it is due"),
            "status": N_("pending, sending, sent, failed, missed or withdrawn"),
            "sent_at": N_("when it was sent"),
            "late": N_("sent after its time"),
            "attempts": N_("tries"),
            "error": N_("why it failed"),
            "locale": N_("the language it is written in, fixed when it is first sent"),
        },
        "calendar_feed": {
            "id": N_("number"),
            "token_hash": N_("SHA-256 of the link's secret"),
            "scope": N_("rsvp or all"),
            "created_at": N_("made"),
            "revoked_at": N_("revoked"),
        },
        "dashboard_link": {
            "id": N_("number"),
            "token_hash": N_("SHA-256 of the link's secret"),
            "revoked_at": N_("revoked"),
        },
        "audit_entry": {
            "at": N_("when"),
            "actor": N_("who acted"),
            "platform": N_("where"),
            "what": N_("the kind of act"),
            "object_kind": N_("what it was done to"),
            "object_id": N_("which"),
            "object_name": N_("its name"),
            "subject": N_("whom it was about"),
            "before": N_("what changed, before"),
            "after": N_("and after"),
        },
    },
}


def _in_reader_language(schema: Any) -> Any:
    """The file's description in the language of whoever reads it (each a message; a section's with its table)."""
    if isinstance(schema, dict):
        return {key: _in_reader_language(value) for key, value in schema.items()}
    if isinstance(schema, tuple):
        what, table = schema
        return Strings.SECTION.format(what=what, table=table)
    return str(schema)


def _row(model: Any) -> dict[str, Any]:
    return {column.name: privacy_queries.plain(getattr(model, column.name)) for column in model.__table__.columns}


def _message(delivery: Any) -> dict[str, Any]:
    """A ledger row as its reader would: the body a reply was kept as (JSON) becomes the text it reads as."""
    row = _row(delivery)
    body = row.get("body")
    if isinstance(body, str) and body.startswith("{"):
        with contextlib.suppress(ValueError, KeyError, TypeError):
            row["body"] = reply_from_dict(json.loads(body)).plain()
    return row


def build_export(session: Session, member: Member, now: datetime) -> dict[str, Any]:
    """Everything linked to one member row, as JSON-able data, with its own description (`schema`)."""
    pointing = privacy_queries.rows_pointing_at(session=session, member_id=member.stored_id)
    sections: dict[str, Any] = {}
    other: dict[str, Any] = {}
    for ref, rows in pointing.items():
        if ref.startswith("member."):
            continue
        if ref in SECTIONS:
            sections[SECTIONS[ref][0]] = rows
        elif rows:
            other[ref] = rows
    for rsvp in sections.get("rsvps", []):
        event = session.get(Event, rsvp["event_id"])
        rsvp["event_title"] = event.title if event else None
    cities: dict[int, City] = {}
    if member.city_id and (city := session.get(City, member.city_id)):
        cities[city.stored_id] = city
    for request in sections.get("join_requests", []):
        if request["status"] == "approved" and (city := session.get(City, request["city_id"])):
            cities[city.stored_id] = city
    messages = privacy_queries.deliveries_to(session=session, external_id=member.external_id)
    return {
        "format": FORMAT,
        "exported_at": now.isoformat(),
        "platform": ledger.platform_of(member.external_id) or "console",
        "member": _row(member),
        "cities_represented": [{"id": c.id, "name": c.name, "country": c.country} for c in cities.values()],
        **{section: sections.get(section, []) for section, _ in SECTIONS.values()},
        "messages_to_you": [_message(row) for row in messages],
        "audit": audit.entries_about(session, member.external_id),
        "other_records": other,
        "schema": _in_reader_language(SCHEMA),
    }


def record_count(data: dict[str, Any]) -> int:
    lists = [value for key, value in data.items() if isinstance(value, list) and key != "cities_represented"]
    return 1 + sum(len(items) for items in lists) + sum(len(rows) for rows in data["other_records"].values())


# --- the command ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PrivacyArguments:
    action: str | None = param(
        Kind.CHOICE,
        N_("export: a file of everything kept about you; forget: erase it; empty: what is kept and why"),
        choices=ACTIONS,
    )
    user: UserRef | None = param(
        Kind.USER, N_("Admins and organisers: someone else (yourself if not given)"), invalid=Strings.NEITHER
    )
    # The Erase button's word (`/city privacy forget confirm`): help does not show it, a person presses it.
    confirm: bool = param(
        Kind.FLAG, N_("Erase at once, without asking first"), word=CONFIRM, placeholder="", line_only=True
    )


def privacy(context: Context, args: PrivacyArguments) -> Reply:
    action, ref = args.action, args.user
    if action is None:
        if ref is not None or args.confirm:
            raise UsageError()
        return policy_reply()
    target = context.actor.member
    if ref is not None and ref.user_id != context.actor.user_id:
        if context.actor.role not in ORGANISERS:
            raise CommandError(Strings.OTHERS)
        found = queries.get_member(session=context.session, external_id=ref.user_id)
        if found is None:
            return Reply.of(Strings.NOTHING, who=f"@{ref.name}")
        target = found
    if action == "export":
        return export(context, target)
    if not _may_erase(context, target):
        raise CommandError(Strings.FORGET_STAFF)
    if not args.confirm:
        return forget_question(context, target)
    return forget(context, target)


def _may_erase(context: Context, member: Member) -> bool:
    """Organisers cannot take away an organiser's or an admin's role (/city role), so they cannot erase one either;
    admins erase anyone, and everyone themselves."""
    if _is_self(context, member) or context.actor.role == Role.ADMIN:
        return True
    staff = member.role in (Role.ORGANISER, Role.ADMIN) or member.external_id in context.services.settings.admins
    return not staff


def _is_self(context: Context, member: Member) -> bool:
    return member.external_id == context.actor.user_id


def export(context: Context, member: Member) -> Reply:
    data = build_export(context.session, member, context.now)
    platform = data["platform"]
    filename = f"citypeers-personal-data-{platform}-{context.now.date().isoformat()}.json"
    content = json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False).encode("utf-8")
    records = record_count(data)
    if _is_self(context, member):
        reply = Reply.of(Strings.EXPORTED_YOU, file=filename, n=records)
    else:
        who = Mention(member.external_id, member.display_name)
        reply = Reply.of(Strings.EXPORTED, who=who, file=filename, n=records)
    reply.files.append(Attachment(filename, content, "application/json"))
    context.record(
        AuditKind.PRIVACY_EXPORT, "member", member.external_id, member.display_name, subject=member.external_id
    )
    return reply


def forget_question(context: Context, member: Member) -> Reply:
    own = _is_self(context, member)
    line = "/city privacy forget confirm" if own else f"/city privacy forget <@{member.external_id}> confirm"
    if own:
        reply = Reply.of(Strings.FORGET_ASK_YOU)
    else:
        reply = Reply.of(Strings.FORGET_ASK, who=Mention(member.external_id, member.display_name))
    reply.sections[-1].buttons.append(Button(Strings.FORGET_BUTTON, line, "danger"))
    return reply


def forget(context: Context, member: Member) -> Reply:
    own = _is_self(context, member)
    who = Mention(member.external_id, member.display_name)
    _, erased = erase(context.session, member, context.now, by=None if own else context.actor.member)
    count = erased.members + sum(erased.rows_deleted.values()) + sum(erased.references_cleared.values())
    count += erased.deliveries_emptied + sum(erased.texts_scrubbed.values())
    if own:
        return Reply.of(Strings.FORGOTTEN_YOU, n=count)
    # The reply names the person for the organiser who asked; it is shown, never stored.
    return Reply.of(Strings.FORGOTTEN, who=f"@{who.name}", n=count)


def erase(
    session: Session, member: Member, now: datetime, *, by: Member | None, departed: bool = False
) -> tuple[str, privacy_queries.Erased]:
    """Forget one member and write the one audit entry of it, naming them only by a fresh pseudonym (the entry
    must not undo the erasure). `by` None: the person themselves, or CityPeers itself when they `departed`."""
    pseudonym = PSEUDONYM_PREFIX + secrets.token_hex(4)
    person_platform = ledger.platform_of(member.external_id) or audit.CONSOLE
    erased = privacy_queries.forget_member(session=session, member=member, pseudonym=pseudonym)
    acting = SYSTEM_ACTOR if departed else pseudonym  # a transient member: the entry's who, never stored as a member
    actor = by if by is not None else Member(external_id=acting, display_name="", role=Role.NONE, created_at=now)
    after = {
        "rows_deleted": erased.rows_deleted,
        "references_cleared": erased.references_cleared,
        "messages_withdrawn": erased.deliveries_withdrawn,
        "messages_emptied": erased.deliveries_emptied,
        "texts_scrubbed": erased.texts_scrubbed,
    }
    audit.record(
        session,
        actor=actor,
        what=AuditKind.PRIVACY_FORGET,
        object_kind="member",
        object_id=pseudonym,
        subject=pseudonym,
        after=after,
        now=now,
        platform=None if by is not None else person_platform,
    )
    return pseudonym, erased


# --- people who leave ------------------------------------------------------------------------------------


def member_left(services: Services, external_id: str, *, platform_name: str) -> str:
    """The platform says this person left (Slack: deactivated). Organisers are told; the person is erased
    `forget_departed_after` later (at once when it is zero). Returns what
    was done: `unknown`, `already`, `erased` or `scheduled`."""
    delay = services.settings.forget_departed_after

    def decide(session: Session) -> str:
        member = queries.get_member(session=session, external_id=external_id)
        if member is None:
            return "unknown"
        if member.left_at is not None:
            return "already"
        now = services.clock.now()
        organisers = _organisers(session, services, besides=external_id)
        if delay.total_seconds() <= 0:
            pseudonym, _ = erase(session, member, now, by=None, departed=True)
            notice = Reply.of(Strings.LEFT_ERASED, pseudonym=pseudonym, platform=platform_name)
            ledger.queue_notices(session, [Notice(organisers, notice)] if organisers else [], now=now)
            return "erased"
        member.left_at = now
        who = Mention(member.external_id, member.display_name)
        when = (now + delay).date().isoformat()
        notice = Reply.of(Strings.LEFT, who=who, platform=platform_name, when=when)
        line = f"/city privacy forget <@{member.external_id}> confirm"
        notice.sections[-1].buttons.append(Button(Strings.FORGET_BUTTON, line, "danger"))
        ledger.queue_notices(session, [Notice(organisers, notice)] if organisers else [], now=now)
        return "scheduled"

    result = run_transaction(services.engine, decide)
    for hook in services.on_commit:
        hook()
    return result


def member_returned(services: Services, external_id: str) -> None:
    """The platform says a person who left is back (Slack: reactivated): nothing is erased for that departure."""

    def undo(session: Session) -> None:
        member = queries.get_member(session=session, external_id=external_id)
        if member is not None and member.left_at is not None:
            member.left_at = None

    run_transaction(services.engine, undo)


def forget_departed(services: Services) -> int:
    """Erase the members who left `forget_departed_after` ago or more (the scheduler's job); how many."""
    delay = services.settings.forget_departed_after

    def due(session: Session) -> list[int]:
        before = services.clock.now() - delay
        return [m.stored_id for m in privacy_queries.departed_members(session=session, before=before)]

    erased = 0
    for member_id in run_transaction(services.engine, due):

        def erase_one(session: Session, member_id: int = member_id) -> int:
            member = session.get(Member, member_id)
            if member is None or member.left_at is None:
                return 0  # erased or back meanwhile
            erase(session, member, services.clock.now(), by=None, departed=True)
            return 1

        erased += run_transaction(services.engine, erase_one)
    return erased


def _organisers(session: Session, services: Services, *, besides: str) -> tuple[str, ...]:
    staff = queries.members_with_roles(session=session, roles=[Role.ORGANISER, Role.ADMIN])
    ids = [m.external_id for m in staff] + sorted(services.settings.admins)
    return tuple(uid for uid in dict.fromkeys(ids) if uid != besides)


# Declared here, listed in handlers.city's COMMANDS: `/city privacy [export|forget] [<@user>]`.
COMMAND = Command(
    "privacy",
    "/city privacy",
    N_("What is kept about people and why; export: a JSON file of yours; forget: erase it."),
    privacy,
    arguments=PrivacyArguments,
)
