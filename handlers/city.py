"""The /city family: register cities, link reps to them, declare interests, offers and needs."""

from __future__ import annotations

import functools
import gettext
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import pycountry
from sqlmodel import Session

import locales
from core import i18n
from core.audit import AuditKind
from core.dates import format_instant, zone_note
from core.grammar import UserRef, shown
from core.i18n import N_, Msg, format_number, nN_, pN_
from core.roles import GRANTABLE, ORGANISERS, READERS, Role, may_grant
from core.text import Mention, Text, closest_names
from core.tracks import TrackSpec
from handlers import audit, languages, ledger, privacy
from handlers.auth import acts_for, city_to_edit, own_city, require
from handlers.binding import NoArguments, param
from handlers.ledger import RowKind
from handlers.types import (
    Button,
    Command,
    CommandError,
    Context,
    HandlerSettings,
    Kind,
    Notice,
    Reply,
    Section,
    UsageError,
    Variant,
)
from storage import dashboard_queries, ledger_queries, queries
from storage.models import City, Cohort, Delivery, Member, Track, name_key

SUMMARY = N_("cities, their representatives, interests, offers and needs")
MAX_NAME = 80
MAX_ITEM = 500
MAX_ITEMS = 20
MAX_COHORTS_LISTED = 20  # an unknown cohort lists those that exist, up to this many
MAX_REQUESTS_LISTED = 10  # two blocks each: a message holds 50
REQUESTS_KIND = RowKind.JOIN_REQUESTS.value  # the delivery that tells an organiser of waiting requests


class Strings:
    """Every user-facing line of /city, in one place so it can be translated later."""

    NAME_REQUIRED = N_("Name the city.")
    NAME_BAD = N_("A city name is 1 to {max} characters without < > or line breaks.")
    COUNTRY_REQUIRED = N_("`country=` is required: an ISO 3166 two-letter code such as CZ or PT.")
    COUNTRY_BAD = N_("`country=` expects an ISO 3166 two-letter code such as CZ or PT, not `{value}`.")
    POPULATION_BAD = N_("`population=` expects a whole number of at least 1, not `{value}`.")
    EXISTS = N_("{name} is already registered.")
    EXISTS_AS = N_("{typed} is already registered. It is written {name}.")
    NAME_NO_LETTERS = N_("A name needs at least one letter or digit.")
    NO_CITY = N_("No city called `{name}`. See /city list.")
    NO_CITY_CLOSE = N_("No city called `{name}`. Did you mean {close}?")
    REGISTERED = N_("Registered *{name}* ({country}).")
    # Errors are single plain lines: no markup, since they carry what the user typed.
    ALREADY_REP = N_("You already represent {name}.")
    ALREADY_REP_THEM = N_("{who} already represents {name}.")
    ALREADY_ASKED = N_("You already asked to represent {name}; an organiser will answer.")
    JOIN_SENT = N_("Asked to represent *{name}*. An organiser will approve it; you will hear back here.")
    JOIN_NOBODY = N_("Asked to represent *{name}*, but no organiser is set up yet to approve it.")
    JOIN_NOTICE = N_("{who} asks to represent *{name}*.")
    REQUESTS_TITLE = N_("{count} requests to represent a city")
    REQUESTS_MORE = N_("…and {count} more: /city requests")
    NO_REQUESTS = N_("No requests to represent a city are waiting.")
    STILL_WAITING = N_("{count} more waiting.")
    REVIEW = N_("Review requests")
    USER_REQUIRED = N_("Name the person as @name.")
    APPROVED = N_("{who} now represents *{name}*.")
    APPROVED_YOU = N_("You now represent *{name}* (approved by {by}).")
    REJECTED = N_("{who}'s request to represent *{name}* is declined.")
    REJECTED_YOU = N_("Your request to represent *{name}* was declined by {by}.")
    NO_REQUEST = N_("{who} has no open request to represent {name}.")
    NOT_ASKED = N_("{who} has not asked to represent {name}: they ask with /city join {name}, and you approve it then.")
    ROLE_OWN = N_("Nobody changes their own role; another admin or organiser can.")
    ROLE_REP_NO_CITY = N_(
        "A rep represents a city: reps are made by approving their request to represent it "
        "(they type /city join <name>, then /city approve <@user> <name>)."
    )
    ACT_FOR = N_("Organisers: the city to act for (a city whose representatives left is still kept)")
    ROLE_CONFIG_ADMIN = N_("{who} is an admin in the bot's configuration; roles cannot change that.")
    ROLE_REFUSED = N_("You cannot make {who} {role}: admins grant organiser, organisers manage experts and reps.")
    ROLE_SET = N_("{who} is now {role}.")
    ROLE_SET_YOU = N_("{by} made you {role} in CityPeers.")
    ROLE_NONE = N_("{who} no longer has a role and represents no city.")
    ROLE_NONE_YOU = N_("{by} removed your role in CityPeers.")
    ROLE_NONE_CITY_YOU = N_("{by} removed your role in CityPeers: you no longer represent {city}.")
    ROLE_ALREADY = N_("{who} is already {role}; nothing changed.")
    ROLE_ALREADY_NONE = N_("{who} has no role already; nothing changed.")
    INTERESTS_SET = N_("*{name}* works on: {tracks}.")
    OFFER_ADDED = N_("Added to what *{name}* offers: {text}")
    NEED_ADDED = N_("Added to what *{name}* needs: {text}")
    ITEM_TOO_LONG = N_("Keep it under {max} characters.")
    ITEM_FULL = N_("{name} already lists {max} of these; remove one with `/city {kind} remove <number>`.")
    OFFER_REMOVED = N_("Removed from what *{name}* offers: {text}")
    NEED_REMOVED = N_("Removed from what *{name}* needs: {text}")
    ITEM_NOT_FOUND = N_("There is no number {number}; see /city show.")
    REMOVE_WHICH = N_("Say which to remove by its number, as in /city {kind} remove 1: {items}")
    REMOVE_NO_OFFER = N_("{name} lists no offers yet, so there is nothing to remove.")
    REMOVE_NO_NEED = N_("{name} lists no needs yet, so there is nothing to remove.")
    # A city's card: its facts after its name, each a message of its own, between middle dots.
    FACT_COUNTRY = N_("{country} ({code})")
    FACT_POPULATION = N_("population {population}")
    FACT_COHORT = N_("cohort {cohort}")
    FACT_MENTOR = N_("mentor city")
    TRACKS_LABEL = N_("*Tracks:*")
    OFFERS_LABEL = N_("*Offers:*")
    NEEDS_LABEL = N_("*Needs:*")
    REPS_LABEL = N_("*Representatives:*")
    CITIES = nN_("{n} city", "{n} cities")
    CITIES_ON_TRACK = nN_("{n} city (track {track})", "{n} cities (track {track})")
    CITIES_IN_COHORT = nN_("{n} city (cohort {cohort})", "{n} cities (cohort {cohort})")
    CITIES_ON_TRACK_IN_COHORT = nN_(
        "{n} city (track {track}, cohort {cohort})", "{n} cities (track {track}, cohort {cohort})"
    )
    NO_TRACKS_YET = N_("no tracks yet")
    MENTOR = N_("mentor")
    TRACKS_TITLE = N_("Thematic tracks (use the key or the name)")
    TRACK_LINE = nN_("`{key}` {name} · {n} city", "`{key}` {name} · {n} cities")
    TZ_SHOW_CHOSEN = N_(
        "Times are shown to you in *{zone}* (it is {now} there). You chose it; `/city timezone auto` gives it back "
        "to your platform."
    )
    TZ_SHOW_PLATFORM = N_(
        "Times are shown to you in *{zone}* (it is {now} there). It comes from your platform; "
        "`/city timezone <Area/City>` chooses another."
    )
    TZ_SHOW_DEFAULT = N_(
        "Times are shown to you in *{zone}* (it is {now} there). It is the programme's default; "
        "`/city timezone <Area/City>` chooses yours."
    )
    APPROVE = pN_("button", "Approve")
    REJECT = pN_("button", "Reject")
    # TRANSLATORS: the roles people have; `/city role` takes them in English, as typed.
    ROLES = {
        "organiser": pN_("role", "organiser"),
        "expert": pN_("role", "expert"),
        "rep": pN_("role", "rep"),
        "admin": pN_("role", "admin"),
        "none": pN_("role", "none"),
    }
    SHOW_WHOM = N_("You do not represent a city: name one (/city show <name>) or ask to join (/city join <name>).")
    NONE_YET = N_("_none yet_")
    LIST_EMPTY = N_("No cities match. Organisers add them with /city register.")
    NO_COHORT = N_("No cohort called `{name}`.")
    COHORT_CLOSE = N_("Did you mean {close}?")
    COHORTS = N_("Cohorts: {names}.")
    NO_COHORTS = N_("There are no cohorts yet; /city register … cohort=<name> makes one.")
    TZ_SET = N_("Times are now shown to you in *{zone}*: it is {now} there.")
    TZ_AUTO = N_(
        "Times now follow the time zone your platform reports, if it reports one, else {default}: it is {now} there."
    )
    LANGUAGE_SET = N_("CityPeers now writes to you in *{name}*; `/city language auto` gives it back to your platform.")
    LANGUAGE_AUTO = N_(
        "CityPeers now writes to you in the language your platform reports, else the programme's: *{name}*."
    )
    LANGUAGE_CHOSEN = N_(
        "CityPeers writes to you in *{name}* (`{code}`): you chose it; `/city language auto` gives it back to your "
        "platform. Languages: {languages}."
    )
    LANGUAGE_PLATFORM = N_(
        "CityPeers writes to you in *{name}* (`{code}`), the language your platform reports; "
        "`/city language <code>` chooses another: {languages}."
    )
    LANGUAGE_DEFAULT = N_(
        "CityPeers writes to you in *{name}* (`{code}`), the programme's language; "
        "`/city language <code>` chooses yours: {languages}."
    )
    LANGUAGE_UNKNOWN = N_("`{typed}` is no language CityPeers is written in; there are {languages}.")


# --- shared helpers ----------------------------------------------------------------------------------


def city_by_name(context: Context, name: str) -> City:
    name = name.strip()
    if not name:
        raise UsageError(Strings.NAME_REQUIRED)
    if len(name) > MAX_NAME:  # no name is this long (registering refuses it), however it folds
        raise CommandError(Strings.NO_CITY.format(name=shown(name)))
    city = queries.get_city_by_name(session=context.session, name=name)
    if city is None:
        close = closest_names(name, queries.all_city_names(session=context.session))
        if close:
            raise CommandError(Strings.NO_CITY_CLOSE.format(name=shown(name), close=close[0]))
        raise CommandError(Strings.NO_CITY.format(name=shown(name)))
    return city


def cohort_by_name(context: Context, name: str) -> Cohort:
    """A cohort by its folded name; an unknown one is refused with the nearest and the cohorts that exist."""
    cohort = queries.get_cohort_by_name(session=context.session, name=name)
    if cohort is None:
        names = queries.all_cohort_names(session=context.session)
        parts = [Strings.NO_COHORT.format(name=shown(name))]
        if close := closest_names(name, names, cutoff=0.6):
            parts.append(Strings.COHORT_CLOSE.format(close=close[0]))
        listed = ", ".join(names[:MAX_COHORTS_LISTED]) + (", …" if len(names) > MAX_COHORTS_LISTED else "")
        parts.append(Strings.COHORTS.format(names=listed) if names else Strings.NO_COHORTS)
        raise CommandError(" ".join(parts), field="cohort")
    return cohort


def checked_name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise UsageError(Strings.NAME_REQUIRED)
    if len(name) > MAX_NAME or any(ch in name for ch in "<>") or not name.isprintable():
        raise CommandError(Strings.NAME_BAD.format(max=MAX_NAME))
    if not name_key(name):  # nothing to tell it from another name by
        raise CommandError(Strings.NAME_NO_LETTERS)
    return name


def checked_country(value: str | None) -> str:
    if not value:
        raise CommandError(Strings.COUNTRY_REQUIRED)
    country = pycountry.countries.get(alpha_2=value.strip().upper()) if len(value.strip()) == 2 else None
    if country is None:
        raise CommandError(Strings.COUNTRY_BAD.format(value=value))
    return country.alpha_2


def country_name(code: str) -> str:
    """A country's name in the reader's language, from pycountry's own ISO 3166 catalogues."""
    country = pycountry.countries.get(alpha_2=code)
    english = getattr(country, "common_name", None) or (country.name if country else code)
    return _countries(i18n.current().code).gettext(english)


@functools.cache
def _countries(language: str) -> gettext.NullTranslations:
    return gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[language], fallback=True)


def member_for(context: Context, user_id: str, name: str) -> Member:
    return queries.ensure_member(
        session=context.session, external_id=user_id, display_name=name, role=Role.NONE, now=context.now
    )


def mention(member: Member) -> Mention:
    return Mention(member.external_id, member.display_name)


def organiser_ids(context: Context) -> tuple[str, ...]:
    staff = queries.members_with_roles(session=context.session, roles=[Role.ORGANISER, Role.ADMIN])
    ids = [m.external_id for m in staff] + sorted(context.services.settings.admins)
    return tuple(dict.fromkeys(ids))


def configured_tracks(context: Context) -> list[TrackSpec]:
    return [TrackSpec(t.key, t.name) for t in queries.active_tracks(session=context.session)]


# --- commands ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RegisterCity:
    name: str = param(
        Kind.TEXT, N_("The city's name, as people know it, e.g. Brno"), required=True, missing=Strings.NAME_REQUIRED
    )
    country: str = param(
        Kind.TEXT,
        N_("Its country, as a two-letter code: CZ, PT, DE"),
        required=True,
        key="country",
        placeholder="<XX>",
        missing=Strings.COUNTRY_REQUIRED,
    )
    population: int | None = param(
        Kind.NUMBER,
        N_("How many people live there"),
        key="population",
        placeholder="<n>",
        invalid=Strings.POPULATION_BAD,
    )
    mentor: bool = param(Kind.YESNO, N_("A mentor city, which shares its experience with others"), key="mentor")
    cohort: str | None = param(
        Kind.COHORT, N_("The cohort it belongs to; a new name starts a cohort"), key="cohort", may_be_new=True
    )


def register(context: Context, args: RegisterCity) -> Reply:
    require(context, ORGANISERS, "register cities")
    name = checked_name(args.name)
    country = checked_country(args.country)
    population, mentor = args.population, args.mentor
    if population is not None and population < 1:
        raise CommandError(Strings.POPULATION_BAD.format(value=population), field="population")
    if existing := queries.get_city_by_name(session=context.session, name=name):
        if existing.name == name:
            raise CommandError(Strings.EXISTS.format(name=name))
        raise CommandError(Strings.EXISTS_AS.format(typed=name, name=existing.name))
    cohort = None
    if args.cohort:
        cohort = queries.get_or_add_cohort(session=context.session, name=checked_name(args.cohort), now=context.now)
    city = queries.add_city(
        session=context.session,
        name=name,
        country=country,
        population=population,
        mentor=mentor,
        cohort=cohort,
        now=context.now,
    )
    after = {"country": country, "population": population, "mentor": mentor, "cohort": cohort.name if cohort else None}
    context.record(AuditKind.CITY_REGISTER, "city", city.id, name, after=after)
    return Reply.of(Strings.REGISTERED, name=name, country=country)


@dataclass(frozen=True)
class JoinCity:
    name: City = param(Kind.CITY, N_("The city you represent"), required=True, missing=Strings.NAME_REQUIRED)


def join(context: Context, args: JoinCity) -> Reply:
    city = args.name
    member = context.actor.member
    if member.city_id == city.id:
        raise CommandError(Strings.ALREADY_REP.format(name=city.name))
    if queries.pending_join_request(session=context.session, member_id=member.stored_id, city_id=city.stored_id):
        raise CommandError(Strings.ALREADY_ASKED.format(name=city.name))
    request = queries.add_join_request(
        session=context.session, member_id=member.stored_id, city_id=city.stored_id, now=context.now
    )
    organisers = tuple(uid for uid in organiser_ids(context) if uid != member.external_id)
    if not organisers:
        return Reply.of(Strings.JOIN_NOBODY, name=city.name)
    tell_organisers(context, organisers, request.stored_id)
    return Reply.of(Strings.JOIN_SENT, name=city.name)


def tell_organisers(context: Context, organisers: tuple[str, ...], request_id: int) -> None:
    """Each organiser gets one message listing the requests waiting when it is sent: on a City Lab morning,
    hundreds of requests make a few messages per organiser, not hundreds (Slack allows one a second per DM)."""
    session = context.session
    for organiser in organisers:
        if ledger_queries.pending_delivery(session=session, kind=REQUESTS_KIND, recipient=organiser) is not None:
            continue  # a message not yet sent will list this request too
        ledger.queue(
            session,
            kind=RowKind.JOIN_REQUESTS,
            key=ledger.join_requests_key(request_id, organiser),
            recipient=organiser,
            due=context.now,
            created_by=context.actor.member.id,  # a failure to reach an organiser is reported to the asker
        )


def pending_requests_reply(session: Session) -> Reply:
    """The requests waiting for an organiser, oldest first, each with Approve and Reject."""
    waiting = queries.pending_join_requests(session=session, limit=MAX_REQUESTS_LISTED)
    total = queries.count_pending_join_requests(session=session)
    if not waiting:
        return Reply.of(Strings.NO_REQUESTS)
    reply = Reply(title=Strings.REQUESTS_TITLE.format(count=total) if total > 1 else None)
    for _request, member, city in waiting:
        ref = f"<@{member.external_id}> {city.name}"
        reply.add(
            Strings.JOIN_NOTICE,
            who=mention(member),
            name=city.name,
            buttons=[
                Button(Strings.APPROVE, f"/city approve {ref}", "primary"),
                Button(Strings.REJECT, f"/city reject {ref}", "danger"),
            ],
        )
    if total > len(waiting):
        reply.add(Strings.REQUESTS_MORE, count=total - len(waiting))
    return reply


def requests(context: Context, args: NoArguments) -> Reply:
    require(context, ORGANISERS, "review requests to represent a city")
    return pending_requests_reply(context.session)


def still_waiting(context: Context, reply: Reply) -> Reply:
    """After a decision, say how many requests still wait, with a button to see them: deciding from a message
    that listed several replaces it."""
    count = queries.count_pending_join_requests(session=context.session)
    if count:
        reply.add(Strings.STILL_WAITING, count=count, buttons=[Button(Strings.REVIEW, "/city requests")])
    return reply


@dataclass(frozen=True)
class PersonAndCity:
    """`<@user> <city name>`: someone who asked to represent a city, and the city."""

    user: UserRef = param(
        Kind.USER, N_("Who asked to represent the city"), required=True, missing=Strings.USER_REQUIRED
    )
    name: City = param(Kind.CITY, N_("The city they asked to represent"), required=True, missing=Strings.NAME_REQUIRED)


def approve(context: Context, args: PersonAndCity) -> Reply:
    require(context, ORGANISERS, "approve representatives")
    member, city = member_for(context, args.user.user_id, args.user.name), args.name
    if member.city_id == city.id:
        raise CommandError(Strings.ALREADY_REP_THEM.format(who=f"@{member.display_name}", name=city.name))
    request = queries.pending_join_request(session=context.session, member_id=member.stored_id, city_id=city.stored_id)
    if request is None:  # nobody becomes a rep who did not ask
        raise CommandError(Strings.NOT_ASKED.format(who=f"@{member.display_name}", name=city.name))
    request.status = "approved"
    request.decided_by_id = context.actor.member.id
    request.decided_at = context.now
    before = {"city_id": member.city_id, "role": member.role}
    member.city_id = city.id
    if member.role == Role.NONE:
        member.role = Role.REP
    after = {"city_id": city.id, "role": member.role}
    context.record(
        AuditKind.APPROVE, "city", city.id, city.name, subject=member.external_id, before=before, after=after
    )
    reply = Reply.of(Strings.APPROVED, who=mention(member), name=city.name)
    you = Reply.of(Strings.APPROVED_YOU, name=city.name, by=mention(context.actor.member))
    reply.notices.append(Notice((member.external_id,), you))
    return still_waiting(context, reply)


def reject(context: Context, args: PersonAndCity) -> Reply:
    require(context, ORGANISERS, "decline requests")
    member, city = member_for(context, args.user.user_id, args.user.name), args.name
    request = queries.pending_join_request(session=context.session, member_id=member.stored_id, city_id=city.stored_id)
    if request is None:
        raise CommandError(Strings.NO_REQUEST.format(who=f"@{member.display_name}", name=city.name))
    request.status = "rejected"
    request.decided_by_id = context.actor.member.id
    request.decided_at = context.now
    context.record(AuditKind.REJECT, "city", city.id, city.name, subject=member.external_id)
    reply = Reply.of(Strings.REJECTED, who=mention(member), name=city.name)
    you = Reply.of(Strings.REJECTED_YOU, name=city.name, by=mention(context.actor.member))
    reply.notices.append(Notice((member.external_id,), you))
    return still_waiting(context, reply)


@dataclass(frozen=True)
class GrantRole:
    user: UserRef = param(Kind.USER, N_("Who gets the role"), required=True, missing=Strings.USER_REQUIRED)
    role: str = param(
        Kind.CHOICE,
        N_("What they may do; none removes their role and city"),
        required=True,
        choices=tuple(granted.value for granted in GRANTABLE),
    )


def role(context: Context, args: GrantRole) -> Reply:
    require(context, ORGANISERS, "grant roles")
    ref, new_role = args.user, Role(args.role)  # a role GRANTABLE: the choices are those
    if ref.user_id == context.actor.user_id:
        raise CommandError(Strings.ROLE_OWN)
    if ref.user_id in context.services.settings.admins:
        raise CommandError(Strings.ROLE_CONFIG_ADMIN.format(who=f"@{ref.name}"))
    member = member_for(context, ref.user_id, ref.name)
    if new_role == Role.REP and member.city_id is None:
        raise CommandError(Strings.ROLE_REP_NO_CITY)
    if not may_grant(context.actor.role, Role(member.role), new_role):
        raise CommandError(
            Strings.ROLE_REFUSED.format(who=f"@{member.display_name}", role=Strings.ROLES[new_role.value])
        )
    if member.role == new_role and (new_role != Role.NONE or member.city_id is None):  # nothing to change or tell
        template = Strings.ROLE_ALREADY_NONE if new_role == Role.NONE else Strings.ROLE_ALREADY
        return Reply.of(template, who=mention(member), role=Strings.ROLES[new_role.value])
    was = Role(member.role)
    before = {"role": member.role, "city_id": member.city_id}
    represented = queries.get_city(session=context.session, city_id=member.city_id) if member.city_id else None
    member.role = new_role
    if new_role == Role.NONE:
        member.city_id = None
    after = {"role": member.role, "city_id": member.city_id}
    if was in READERS and new_role not in READERS:  # their dashboard links close with the role
        dashboard_queries.revoke_links(session=context.session, member_id=member.stored_id, now=context.now)
    context.record(AuditKind.ROLE, "member", member.external_id, subject=member.external_id, before=before, after=after)
    if new_role == Role.NONE:  # the person is told, as when given a role
        reply = Reply.of(Strings.ROLE_NONE, who=mention(member))
        told = Strings.ROLE_NONE_CITY_YOU if represented else Strings.ROLE_NONE_YOU
        you = Reply.of(told, by=mention(context.actor.member), city=represented.name if represented else "")
        reply.notices.append(Notice((member.external_id,), you))
        return reply
    reply = Reply.of(Strings.ROLE_SET, who=mention(member), role=Strings.ROLES[new_role.value])
    you = Reply.of(Strings.ROLE_SET_YOU, by=mention(context.actor.member), role=Strings.ROLES[new_role.value])
    reply.notices.append(Notice((member.external_id,), you))
    return reply


def audit_edit(
    context: Context,
    city: City,
    *,
    before: Mapping[str, object] | None = None,
    after: Mapping[str, object] | None = None,
) -> None:
    """An organiser's or admin's edit of a city is audited; acting for a city they do not represent says for which."""
    if context.actor.role not in ORGANISERS:
        return
    if acts_for(context, city):
        after = {**(after or {}), "for": city.name}
    context.record(AuditKind.CITY_EDIT, "city", city.id, city.name, before=before, after=after)


@dataclass(frozen=True)
class SetInterests:
    tracks: list[Track] = param(Kind.TRACKS, N_("Your city's thematic tracks, separated by commas"), required=True)
    city: City | None = param(Kind.CITY, Strings.ACT_FOR, key="city")


def interests(context: Context, args: SetInterests) -> Reply:
    if not args.tracks:  # only separators: no track named
        raise UsageError()
    city = city_to_edit(context, args.city, "set interests")
    chosen = args.tracks
    held = queries.city_tracks(session=context.session, city_ids=[city.stored_id]).get(city.stored_id, [])
    before = {"interests": [t.key for t in held]}
    audit_edit(context, city, before=before, after={"interests": [t.key for t in chosen]})
    queries.set_city_tracks(session=context.session, city_id=city.stored_id, track_ids=[t.stored_id for t in chosen])
    return Reply.of(Strings.INTERESTS_SET, name=city.name, tracks="; ".join(t.name for t in chosen))


@dataclass(frozen=True)
class AddOffer:
    text: str = param(Kind.TEXT, N_("Something your city can share with others"), required=True)
    city: City | None = param(Kind.CITY, Strings.ACT_FOR, key="city")


@dataclass(frozen=True)
class AddNeed:
    text: str = param(Kind.TEXT, N_("Something your city is looking for"), required=True)
    city: City | None = param(Kind.CITY, Strings.ACT_FOR, key="city")


@dataclass(frozen=True)
class RemoveItem:
    # Without a readable number the command answers with the numbered items to choose from.
    number: int | None = param(
        Kind.NUMBER, N_("Which one, by its number in /city show"), required=True, asked_by_command=True
    )
    city: City | None = param(Kind.CITY, Strings.ACT_FOR, key="city")


def _add_item(kind: str) -> Callable[[Context, AddOffer | AddNeed], Reply]:
    def run(context: Context, args: AddOffer | AddNeed) -> Reply:
        city = city_to_edit(context, args.city, "add offers" if kind == "offer" else "add needs")
        text = " ".join(args.text.split())
        if not text:
            raise UsageError()
        if len(text) > MAX_ITEM:
            raise CommandError(Strings.ITEM_TOO_LONG.format(max=MAX_ITEM))
        if len(queries.city_items(session=context.session, city_id=city.stored_id, kind=kind)) >= MAX_ITEMS:
            raise CommandError(Strings.ITEM_FULL.format(name=city.name, max=MAX_ITEMS, kind=kind))
        queries.add_city_item(
            session=context.session,
            city_id=city.stored_id,
            kind=kind,
            text=text,
            member_id=context.actor.member.id,
            now=context.now,
        )
        audit_edit(context, city, after={kind: text})
        return Reply.of(Strings.OFFER_ADDED if kind == "offer" else Strings.NEED_ADDED, name=city.name, text=text)

    return run


def _remove_item(kind: str) -> Callable[[Context, RemoveItem], Reply]:
    def run(context: Context, args: RemoveItem) -> Reply:
        city = city_to_edit(context, args.city, "remove offers" if kind == "offer" else "remove needs")
        items = queries.city_items(session=context.session, city_id=city.stored_id, kind=kind)
        if args.number is None:  # `remove one` is a slip, not an offer: the numbered items to choose from
            if not items:
                raise CommandError(
                    Strings.REMOVE_NO_OFFER if kind == "offer" else Strings.REMOVE_NO_NEED, name=city.name
                )
            numbered = "; ".join(f"{i}. {item.text}" for i, item in enumerate(items, start=1))
            raise CommandError(Strings.REMOVE_WHICH.format(kind=kind, items=numbered))
        if not 1 <= args.number <= len(items):
            raise CommandError(Strings.ITEM_NOT_FOUND.format(number=args.number))
        item = items[args.number - 1]
        queries.delete_city_item(session=context.session, item=item)
        audit_edit(context, city, before={kind: item.text}, after={kind: None})
        removed = Strings.OFFER_REMOVED if kind == "offer" else Strings.NEED_REMOVED
        return Reply.of(removed, name=city.name, text=item.text)

    return run


@dataclass(frozen=True)
class ShowCity:
    name: City | None = param(Kind.CITY, N_("The city to show (yours if not given)"))


def show(context: Context, args: ShowCity) -> Reply:
    if args.name is not None:
        city = args.name
    else:
        if context.actor.member.city_id is None:
            raise CommandError(Strings.SHOW_WHOM)
        city = own_city(context, "show it")
    return city_card(context, city)


def city_card(context: Context, city: City) -> Reply:
    session = context.session
    # The card's first line is its facts, each a whole message in the reader's language, between middle dots; the
    # values stay values (a cohort's name is typed by people), so the template is the facts' templates joined.
    facts = [str(Strings.FACT_COUNTRY)]
    values: dict[str, object] = {"name": city.name, "country": country_name(city.country), "code": city.country}
    if city.population:
        facts.append(str(Strings.FACT_POPULATION))
        values["population"] = format_number(city.population)
    if city.cohort_id:
        facts.append(str(Strings.FACT_COHORT))
        values["cohort"] = queries.cohort_names(session=session, cohort_ids=[city.cohort_id])[city.cohort_id]
    if city.mentor:
        facts.append(str(Strings.FACT_MENTOR))
    reply = Reply.of("*{name}* · " + " · ".join(facts), **values)
    tracks = queries.city_tracks(session=session, city_ids=[city.stored_id])[city.stored_id]
    reply.sections.append(labelled_list(Strings.TRACKS_LABEL, [t.name for t in tracks], numbered=False))
    for kind, label in (("offer", Strings.OFFERS_LABEL), ("need", Strings.NEEDS_LABEL)):
        items = queries.city_items(session=session, city_id=city.stored_id, kind=kind)
        reply.sections.append(labelled_list(label, [item.text for item in items], numbered=True))
    reps = queries.reps_of(session=session, city_id=city.stored_id)
    reply.sections.append(labelled_list(Strings.REPS_LABEL, [mention(m) for m in reps], numbered=False))
    return reply


def labelled_list(label: Msg, items: list[object], *, numbered: bool) -> Section:
    """`*Offers:*` then one line per item; user values stay values so they are escaped."""
    if not items:
        return Section(Text(f"{label} {Strings.NONE_YET}"))
    values = {f"v{i}": item for i, item in enumerate(items)}
    if numbered:
        lines = [f"{i + 1}. {{v{i}}}" for i in range(len(items))]
        return Section(Text(f"{label}\n" + "\n".join(lines), **values))
    return Section(Text(f"{label} " + ", ".join(f"{{v{i}}}" for i in range(len(items))), **values))


@dataclass(frozen=True)
class ListCities:
    track: Track | None = param(Kind.TRACK, N_("Only cities working on this thematic track"), key="track")
    cohort: Cohort | None = param(Kind.COHORT, N_("Only the cities of this cohort"), key="cohort")


def list_cities(context: Context, args: ListCities) -> Reply:
    session = context.session
    track_id = cohort_id = None
    if args.track is not None:
        track_id = args.track.id
    if args.cohort is not None:
        cohort_id = args.cohort.id
    cities = queries.list_cities(session=session, track_id=track_id, cohort_id=cohort_id)
    if not cities:
        return Reply.of(Strings.LIST_EMPTY)
    tracks = queries.city_tracks(session=session, city_ids=[c.stored_id for c in cities])
    counted = (
        Strings.CITIES_ON_TRACK_IN_COHORT
        if args.track and args.cohort
        else Strings.CITIES_ON_TRACK
        if args.track
        else Strings.CITIES_IN_COHORT
        if args.cohort
        else Strings.CITIES
    )
    reply = Reply(
        title=counted.format(
            n=len(cities),
            track=args.track.name if args.track else "",
            cohort=args.cohort.name if args.cohort else "",
        )
    )
    values: dict[str, object] = {}
    lines = []
    for i, city in enumerate(cities):
        values[f"n{i}"] = city.name
        keys = ", ".join(t.key for t in tracks[city.stored_id]) or str(Strings.NO_TRACKS_YET)
        mentor = f" · {Strings.MENTOR}" if city.mentor else ""
        lines.append(f"*{{n{i}}}* ({city.country}){mentor} · {keys}")
    reply.sections.append(Section(Text("\n".join(lines), **values)))
    return reply


@dataclass(frozen=True)
class ChooseZone:
    zone: ZoneInfo | None = param(
        Kind.ZONE,
        N_("A zone like Europe/Brussels, or auto for your platform's; empty shows yours"),
        placeholder="<Area/City>|auto",
    )
    auto: bool = param(Kind.FLAG, N_("Follow the zone your platform reports again"), placeholder="")


def timezone(context: Context, args: ChooseZone) -> Reply:
    """Show, choose or give back to the platform the zone every time is shown in."""
    member = context.actor.member
    if args.auto and args.zone is not None:
        raise UsageError()
    if args.auto:
        member.tz, member.tz_chosen = None, False
        zone = context.services.settings.default_tz
        return Reply.of(Strings.TZ_AUTO, default=zone.key, now=format_instant(context.now, zone))
    if args.zone is not None:
        zone = args.zone
        member.tz, member.tz_chosen = zone.key, True
        reply = Reply.of(Strings.TZ_SET, zone=zone.key, now=format_instant(context.now, zone))
        if note := zone_note(zone.key, context.now):  # `CEST`: which zone it was read as, as tz= and start= say
            reply.add("{note}", note=note)
        return reply
    zone = context.zone
    shown_as = (
        Strings.TZ_SHOW_CHOSEN
        if member.tz_chosen
        else Strings.TZ_SHOW_PLATFORM
        if member.tz
        else Strings.TZ_SHOW_DEFAULT
    )
    return Reply.of(shown_as, zone=zone.key, now=format_instant(context.now, zone))


@dataclass(frozen=True)
class ChooseLanguage:
    code: str | None = param(
        Kind.TEXT,
        N_("A language code like pl, el, de or es, or auto for your platform's; empty shows yours"),
        placeholder="<code>|auto",
    )


def language(context: Context, args: ChooseLanguage) -> Reply:
    """Show, choose or give back to the platform the language CityPeers writes to the person in."""
    member = context.actor.member
    settings = context.services.settings
    typed = " ".join((args.code or "").split())
    there = languages.listed()
    if typed.casefold() == "auto":
        member.locale, member.locale_chosen = context.platform_locale, False
        chosen = languages.for_member(member, context.platform_locale, settings)
        i18n.set_current(chosen)
        return Reply.of(Strings.LANGUAGE_AUTO, name=chosen.name)
    if typed:
        found = locales.find(typed)
        if found is None:
            raise CommandError(Strings.LANGUAGE_UNKNOWN, field="code", typed=typed, languages=there)
        member.locale, member.locale_chosen = found, True
        chosen = locales.language(found)
        i18n.set_current(chosen)
        return Reply.of(Strings.LANGUAGE_SET, name=chosen.name)
    code = languages.code_for(member, context.platform_locale, settings)
    if member.locale_chosen and locales.find(member.locale) == code:
        shown_as = Strings.LANGUAGE_CHOSEN
    elif locales.find(context.platform_locale or member.locale) == code:
        shown_as = Strings.LANGUAGE_PLATFORM
    else:
        shown_as = Strings.LANGUAGE_DEFAULT
    return Reply.of(shown_as, name=locales.name_of(code), code=code, languages=there)


def tracks(context: Context, args: NoArguments) -> Reply:
    counts = queries.track_city_counts(session=context.session)
    reply = Reply(title=Strings.TRACKS_TITLE)
    for track in queries.active_tracks(session=context.session):
        count = counts.get(track.stored_id, 0)
        reply.add(Strings.TRACK_LINE, key=track.key, name=track.name, n=count)
    return reply


COMMANDS: dict[str, Command] = {
    c.name: c
    for c in (
        Command(
            "register",
            "/city register",
            N_("Organisers: register a city (country is an ISO 3166 two-letter code)."),
            register,
            arguments=RegisterCity,
        ),
        Command("join", "/city join", N_("Ask to represent a city; an organiser approves."), join, arguments=JoinCity),
        Command(
            "approve", "/city approve", N_("Organisers: approve a representative."), approve, arguments=PersonAndCity
        ),
        Command(
            "reject", "/city reject", N_("Organisers: decline a request to represent."), reject, arguments=PersonAndCity
        ),
        Command(
            "requests",
            "/city requests",
            N_("Organisers: the requests to represent a city that wait, with Approve and Reject."),
            requests,
            aliases=("pending",),
            arguments=NoArguments,
        ),
        Command(
            "role",
            "/city role",
            N_("Admins and organisers: give someone a role (none removes it and the city link)."),
            role,
            arguments=GrantRole,
        ),
        Command(
            "interests",
            "/city interests",
            N_("Reps: set your city's thematic tracks (see /city tracks); organisers for any city with city=."),
            interests,
            aliases=("interest",),
            arguments=SetInterests,
        ),
        Command(
            "offer",
            "/city offer",
            N_("Reps: add something your city can share; organisers for any city with city=."),
            _add_item("offer"),
            aliases=("offers",),
            arguments=AddOffer,
            variants=(
                Variant(
                    "offer-remove",
                    "remove",
                    N_("Reps: remove one of your city's offers by its number in /city show."),
                    arguments=RemoveItem,
                    run=_remove_item("offer"),
                ),
            ),
        ),
        Command(
            "need",
            "/city need",
            N_("Reps: add something your city is looking for; organisers for any city with city=."),
            _add_item("need"),
            aliases=("needs",),
            arguments=AddNeed,
            variants=(
                Variant(
                    "need-remove",
                    "remove",
                    N_("Reps: remove one of your city's needs by its number in /city show."),
                    arguments=RemoveItem,
                    run=_remove_item("need"),
                ),
            ),
        ),
        Command("show", "/city show", N_("A city's profile; your own city by default."), show, arguments=ShowCity),
        Command(
            "list",
            "/city list",
            N_("Every city, or those on a track or in a cohort."),
            list_cities,
            arguments=ListCities,
        ),
        Command("tracks", "/city tracks", N_("The thematic tracks cities can work on."), tracks, arguments=NoArguments),
        Command(
            "timezone",
            "/city timezone",
            N_("The time zone every time is shown to you in (auto: your platform's, where it gives one)."),
            timezone,
            aliases=("tz", "zone"),
            arguments=ChooseZone,
        ),
        Command(
            "language",
            "/city language",
            N_("The language CityPeers writes to you in (auto: your platform's)."),
            language,
            aliases=("lang",),
            arguments=ChooseLanguage,
        ),
        privacy.COMMAND,
        Command(
            "audit",
            "/city audit",
            N_("Admins: who did which privileged act, newest first, with a CSV of the entries."),
            audit.audit_command,
            arguments=audit.AuditFilters,
        ),
    )
}


def _render_requests(session: Session, _delivery: Delivery, _settings: HandlerSettings, _now: datetime) -> Reply:
    return pending_requests_reply(session)


def _requests_missed(session: Session, _delivery: Delivery, _settings: HandlerSettings, _now: datetime) -> bool:
    """Organisers decided every request before the message went out."""
    return queries.count_pending_join_requests(session=session) == 0


ledger.register(ledger.Kind(RowKind.JOIN_REQUESTS, _render_requests, _requests_missed))
