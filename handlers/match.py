"""The /match family: explained recommendations, introductions, rounds, pauses, follow-ups and stats.

Scoring lives in `core.matching`; this module loads what cities declared, keeps one match index per
database current (reloading only the cities whose profile revision moved), and words the reasons.
"""

from __future__ import annotations

import threading
import weakref
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlmodel import Session

from core.audit import AuditKind
from core.dates import format_day, format_instant
from core.goals import answer_label
from core.i18n import ENGLISH, N_, current, nN_
from core.matching import (
    Match,
    MentorOn,
    NotYetIntroduced,
    Profile,
    Reason,
    SharedTracks,
    SimilarGoals,
    TheyOffer,
    YouOffer,
)
from core.network import City as NetworkCity
from core.network import Network, Tie, TieKind, analyse, neighbourhood
from core.roles import ORGANISERS, READERS, Role
from core.rounds import LeftOut, LeftOutReason, plan_round
from core.text import Mention, Sentence, Text, joined
from handlers.auth import own_city, require
from handlers.binding import NoArguments, param
from handlers.city import configured_tracks, country_name
from handlers.types import (
    Attachment,
    Button,
    Command,
    CommandError,
    Context,
    Kind,
    Notice,
    Reply,
    Section,
    Services,
)
from storage import match_queries as mq
from storage import queries
from storage.db import unit_of_work
from storage.models import City, Cohort, Introduction, Member, Track

if TYPE_CHECKING:
    from core.match_index import MatchIndex

SUMMARY = N_("collaborators for your city, with reasons; introductions and matching rounds")
DEFAULT_COUNT = 5
MAX_COUNT = 20
REINTRODUCE_AFTER = timedelta(days=90)  # the same pair is not introduced twice within this, unless asked again
FOLLOWUP_AFTER = timedelta(days=14)  # the "did you meet?" DM; a setting later
MAX_CONVERSATION = 8  # conversations.open takes at most 8 people
MAX_REASONS = 4
MIN_PAUSE = timedelta(days=1)  # shorter is no pause at all, and `0d` would silently end the one running
MAX_PAUSE = timedelta(days=366)
OUTCOMES = ("shared-practice", "joint-proposal", "site-visit", "nothing-yet")


class Strings:
    """Every user-facing line of /match, in one place so it can be translated later."""

    NO_CITY_NAMED = N_("You do not represent a city: name one with city=<name>.")
    CITY_OPTION_REFUSED = N_("Only experts, organisers and admins can ask for another city's matches.")
    CITY_OPTION_WRITE_REFUSED = N_("Only organisers and admins can act for another city.")
    COUNT_BAD = N_("Ask for 1 to {max} cities, not `{value}`.")
    SELF_PAUSED = N_("{name} paused matching until {until}. /match resume restarts it.")
    HEADER = N_("Cities for *{name}*, best first:")
    HEADER_TRACK = N_("Cities for *{name}* on {track}, best first:")
    RESULT = N_("*{rank}. {city}* ({country}) · score {score}\n{reasons}")
    RESULT_NO_REPS = N_(
        "*{rank}. {city}* ({country}) · score {score}\n{reasons}\n"
        "_{city} has no representative yet: there is nobody to introduce._"
    )
    RESULT_INTRODUCED = N_(
        "*{rank}. {city}* ({country}) · score {score}\n{reasons}\n"
        "_Introduced on {date} (introduction {intro_id}); how it went is not answered yet._"
    )
    RESULT_ANSWERED = N_(
        "*{rank}. {city}* ({country}) · score {score}\n{reasons}\n"
        "_Introduced on {date} (introduction {intro_id}): {answer}._"
    )
    INTRODUCE = N_("Introduce us")
    INTRODUCE_AGAIN = N_("Introduce us again")
    NOT_A_FIT = N_("Not a fit")
    FOLLOW_UP = N_("How did it go?")
    EMPTY_DECLARE = N_("No matches for *{name}* yet: declare {missing} to get some.")
    EMPTY_SOME = N_("No other city has anything in common with *{name}* yet; declaring {missing} widens the search.")
    EMPTY_NOBODY = N_(
        "No other city shares a track, an offer or a need with *{name}* yet. More tracks (/city interests), "
        "offers (/city offer) and needs (/city need) widen the search."
    )
    EMPTY_TRACK = N_("No city on {track} has anything in common with *{name}* yet.")
    DECLARE_TRACKS = N_("tracks (/city interests <track>, ...)")
    DECLARE_OFFERS = N_("offers (/city offer <text>)")
    DECLARE_NEEDS = N_("needs (/city need <text>)")
    # TRANSLATORS: what a city has not declared yet, listed with "or" in the reader's language

    # Why a city is suggested: one message per reason, from the asker's side ("you") or a third person's.
    REASON_TRACKS = {"you": N_("you both work on {tracks}"), "they": N_("both work on {tracks}")}
    REASON_THEY_OFFER = {
        "you": N_("{city} offers *{offer}*, which you need"),
        "they": N_("{city} offers *{offer}*, which {asker} needs"),
    }
    REASON_YOU_OFFER = {
        "you": N_("you offer *{offer}*, which {city} needs"),
        "they": N_("{asker} offers *{offer}*, which {city} needs"),
    }
    REASON_GOALS = {
        "you": N_("your goal _{mine}_ is close to theirs: _{theirs}_"),
        "they": N_("{asker}'s goal _{mine}_ is close to {city}'s: _{theirs}_"),
    }
    REASON_MENTOR = {
        "you": N_("{city} is a mentor city on {tracks}"),
        "they": N_("{city} is a mentor city on {tracks}"),
    }
    REASON_FRESH = {"you": N_("you have not been introduced yet"), "they": N_("they have not been introduced yet")}
    REASON_ASKED = N_("introduced on request")
    REASON_ROUND = N_("matched in round {number} for {scope}")
    WHY_PAIR = N_("*{a}* and *{b}*: {reasons}")

    SAME_CITY = N_("That is your own city.")
    INTRO_RECENT = N_(
        "{a} and {b} were introduced on {date} (introduction {id}); add again=yes to introduce them again."
    )
    INTRO_PAUSED = N_("{name} paused matching until {until}.")
    INTRO_NO_REPS = N_("{name} has no representative yet, so there is nobody to introduce.")
    INTRO_DONE = N_("Introduced *{a}* and *{b}* (introduction {id}): one conversation with {count} people is opening.")
    INTRO_MEET = N_("{people_a} of *{a}* ({country_a}), meet {people_b} of *{b}* ({country_b}).")
    INTRO_ALSO = N_("…and {people} of *{name}* ({country}).")
    INTRO_WHY = N_("*Why:* {reasons}.")
    INTRO_SIDE = N_("*{name}* offers: {offers}\n*{name}* needs: {needs}")
    INTRO_NOTHING = N_("nothing listed yet")
    INTRO_ID = N_(
        "This is introduction {id}. Once you have talked, `/match outcome {id} met joint-proposal` (or "
        "shared-practice, site-visit, nothing-yet), or `/match outcome {id} not-met`, tells me how it went."
    )
    INTRO_IDS = N_(
        "These are introductions {pairs}. Once you have talked, `/match outcome` with the number, then "
        "`met joint-proposal` (or shared-practice, site-visit, nothing-yet) or `not-met`, tells me how each went."
    )
    INTRO_ID_PAIR = N_("{id} ({a} + {b})")
    INTRO_NEXT = N_("Introduced by {by}. Say hello and find a date; in {days} days I will ask how it went.")

    NOTFIT_DONE = N_("*{name}* will no longer be suggested to *{city}*. `/match fit {name}` undoes it.")
    NOTFIT_ALREADY = N_("*{name}* is already off *{city}*'s suggestions.")
    NOTFIT_LIST = N_("Not suggested to *{city}*: {names}. `/match fit <name>` brings one back.")
    NOTFIT_NONE = N_("*{city}* has no cities on its not-a-fit list.")
    FIT_DONE = N_("*{name}* can be suggested to *{city}* again.")
    FIT_NOT_LISTED = N_("*{name}* is not on *{city}*'s not-a-fit list.")

    PAUSE_BOUNDS = N_(
        "A pause is at least {least} day and at most {most} days, e.g. /match pause 2w; /match resume ends a pause."
    )
    PAUSED = N_("*{name}* is paused until {until}: no suggestions, no rounds. `/match resume` restarts it.")
    PAUSED_ALREADY = N_("*{name}* is already paused until {until}; nothing changed.")
    PAUSE_MOVED = N_("*{name}* was paused until {before}; now until {until}. `/match resume` restarts it.")
    RESUMED = N_("*{name}* is back in suggestions and rounds.")
    NOT_PAUSED = N_("*{name}* was not paused.")

    ROUND_TOO_FEW = N_(
        "A round needs at least two cities that have a representative and are not paused; found {count}."
    )
    # A round's groups: {pairs} is ROUND_PAIRS, {trios} ROUND_TRIOS, each counted in its own words.
    ROUND_DRY = N_("Dry run for {scope}, nothing sent: {pairs}.")
    ROUND_DRY_TRIOS = N_("Dry run for {scope}, nothing sent: {pairs} and {trios}.")
    ROUND_DRY_ONLY_TRIOS = N_("Dry run for {scope}, nothing sent: {trios}.")
    ROUND_DONE = N_("Round {number} for {scope}: {pairs}; introductions sent.")
    ROUND_DONE_TRIOS = N_("Round {number} for {scope}: {pairs} and {trios}; introductions sent.")
    ROUND_DONE_ONLY_TRIOS = N_("Round {number} for {scope}: {trios}; introductions sent.")
    ROUND_PAIRS = nN_("{n} pair", "{n} pairs")
    ROUND_TRIOS = nN_("{n} trio", "{n} trios")
    ROUND_GROUP = N_("*{names}* · {reasons}")
    ROUND_GROUP_SENT = N_("*{names}* · introduction {ids} · {reasons}")
    ROUND_GROUP_SENT_TRIO = N_("*{names}* · introductions {ids} · {reasons}")
    ROUND_NO_REASON = N_("no declared common ground yet")
    ROUND_PAUSED = N_("Paused, not paired: {names}.")
    ROUND_PAUSED_CITY = N_("{name} (until {until})")
    ROUND_NONE = N_("No new pair is possible in {scope} this round; nothing was sent.")
    ROUND_OUT_ALONE = N_("Not paired: *{name}* is the only city this round could pair.")
    ROUND_OUT_MET_ALL = N_("Not paired: *{name}* has met all {count} other cities in this round.")
    ROUND_OUT_NOT_FIT_ALL = N_("Not paired: *{name}* is marked not a fit with all {count} other cities in this round.")
    ROUND_OUT_MET_OR_NOT_FIT = N_(
        "Not paired: of the {count} other cities in this round, *{name}* has met {met} and is marked not a fit "
        "with {not_fit}."
    )
    ROUND_OUT_MET_ONLY = N_("Not paired: *{name}* has already met the only other city in this round.")
    ROUND_OUT_NOT_FIT_ONLY = N_("Not paired: *{name}* is marked not a fit with the only other city in this round.")
    ROUND_OUT_ONE_PARTNER = N_("Not paired: the only city *{name}* could meet this round has no room for it: {why}.")
    ROUND_OUT_PARTNERS = N_(
        "Not paired: none of the {count} cities *{name}* could meet this round has room for it: {why}."
    )
    ROUND_TAKEN_MET = N_("{partner} is paired with {other}, whom {name} has met")
    ROUND_TAKEN_NOT_FIT = N_("{partner} is paired with {other}, marked not a fit with {name}")
    ROUND_TAKEN_TRIO = N_("{partner} is already in a group of three")
    ROUND_NO_REPS = N_("No representative yet, not paired: {names}.")
    ALL_CITIES = N_("all cities")
    COHORT_SCOPE = N_("cohort {name}")

    OUTCOME_BAD = N_("Answer met or not-met, then one of shared-practice, joint-proposal, site-visit, nothing-yet.")
    INTRO_NUMBER = N_("Give the introduction's number, from its follow-up.")
    NO_INTRO = N_("There is no introduction number {id}.")
    NOT_YOURS = N_("Introduction {id} is between {a} and {b}; only their representatives answer for it.")
    OUTCOME_SAVED = N_("Thanks: recorded for *{city}* and *{other}*: {answer}.")
    FOLLOWUP = N_(
        "Introduction {id}: on {date}, *{city}* was introduced to *{other}*. Did you meet, and what came of it?"
    )
    BUTTON_NOT_MET = N_("Not met yet")
    BUTTON_OUTCOME = {
        "shared-practice": N_("Met: shared practice"),
        "joint-proposal": N_("Met: joint proposal"),
        "site-visit": N_("Met: site visit"),
        "nothing-yet": N_("Met: nothing yet"),
    }

    STATS_HEAD = N_("Matching in {scope}: {made} introductions ({rounds} from rounds), {met} met.")
    STATS_OUTCOMES = N_(
        "Outcomes: {shared} shared practice, {joint} joint proposal, {visit} site visit, {nothing} nothing yet."
    )
    STATS_FOLLOWUPS = N_("Follow-ups sent: {sent}; answered by at least one side: {answered}.")
    STATS_NO_FOLLOWUPS = N_("Follow-ups sent: 0.")
    STATS_ANSWERED_EARLY = N_("Answered before any follow-up was sent: {count}.")
    STATS_LONELY = N_("No introduction yet ({count}): {names}.")
    STATS_ALL_INTRODUCED = N_("Every city has had an introduction.")
    STATS_NO_REPS = N_("No representative yet, so left out of rounds: {names}.")
    STATS_PAUSED = N_("Paused: {names}.")

    MAP_WHAT = N_("see the collaboration network")
    MAP_SINCE_AHEAD = N_("since= is a day up to today ({today}), not {day}.")
    MAP_EMPTY = N_("There are no cities to draw in {scope} · {track} yet.")
    MAP_HEAD = N_("Collaboration network of {scope} · {track} · {day}: {cities}, {edges}: {file}.")
    MAP_TITLE = N_("Collaboration network · {scope} · {track} · {day}")
    MAP_TITLE_SINCE = N_("Collaboration network · {scope} · {track} · {day} · new since {since}")
    MAP_ALL_TRACKS = N_("all tracks")
    MAP_TRACK = N_("track {track}")
    MAP_TIES = N_(
        "Ties: {met} introductions that met, {introduced} introduced and {paired} paired in rounds not met yet, "
        "{goals} goals shared with with=."
    )
    MAP_NO_TIES = N_("No ties yet: no city has been introduced, paired or named in a goal's with=.")
    MAP_CLUSTERS = N_("Clusters ({count}): {clusters}.")
    MAP_CLUSTER = N_("{size} cities: {names}")
    MAP_ONE_CLUSTER = N_("One cluster joins every tied city ({size}): {names}.")
    MAP_ISOLATED = N_("Isolated, with no tie ({count}): {names}.")
    MAP_NONE_ISOLATED = N_("No city is isolated.")
    MAP_BRIDGES = N_("Bridges, ties whose loss would split the network ({count}): {bridges}.")
    MAP_BRIDGE = N_("{a}–{b} (cuts off {cut})")
    MAP_NO_BRIDGES = N_("No bridges: every tie has another way round.")
    MAP_ARTICULATION = N_("Articulation cities, whose loss would split the network ({count}): {names}.")
    MAP_BETWEEN = N_("Connecting most others (betweenness): {names}.")
    MAP_TRACK_SHARES = N_("Share of each track's ties that leave it: {shares}.")
    MAP_TRACK_SHARE = N_("{track} {leaving}/{touching} ({percent} %)")
    MAP_SINCE = N_("Since {since}: {new}; joined the network: {names}.")
    MAP_SINCE_NONE_JOINED = N_("Since {since}: {new}; no city joined the network.")
    MAP_MORE = N_("…and {more} more")
    MAP_NAMED_MORE = N_("{names} …and {more} more")
    MAP_CITIES = nN_("{n} city", "{n} cities")
    MAP_EDGES = nN_("{n} tie between them", "{n} ties between them")
    MAP_NEW = nN_("{n} new tie", "{n} new ties")
    MAP_LEGEND_TIE = N_("tie (wider: more weight)")
    MAP_LEGEND_BRIDGE = N_("bridge")
    MAP_LEGEND_NEW = N_("new since {since}")
    MAP_LEGEND_ARTICULATION = N_("articulation city")
    MAP_LEGEND_JOINED = N_("joined since {since}")
    MAP_NO_GROUP = N_("no track")


# --- the index: built once per database, reloaded city by city -------------------------------------------


class _IndexCache:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.index: MatchIndex | None = None
        self.revision = -1


_caches: weakref.WeakKeyDictionary[Engine, _IndexCache] = weakref.WeakKeyDictionary()
_caches_lock = threading.Lock()


PROFILE_CHUNK = 1000  # cities read at a time when building the index, so their rows never all live at once


def load_profiles(session: Session, city_ids: Sequence[int] | None = None) -> list[Profile]:
    """What the cities declared, as core profiles (every city when `city_ids` is None)."""
    return list(iter_profiles(session, city_ids))


def iter_profiles(session: Session, city_ids: Sequence[int] | None = None) -> Iterator[Profile]:
    """`load_profiles` a chunk of cities at a time, by id: building the index holds one chunk's rows only."""
    ids = mq.city_ids(session=session) if city_ids is None else sorted(city_ids)
    for start in range(0, len(ids), PROFILE_CHUNK):
        yield from _profiles(session, ids[start : start + PROFILE_CHUNK])


def _profiles(session: Session, city_ids: Sequence[int]) -> list[Profile]:
    rows = mq.city_profile_rows(session=session, city_ids=city_ids)
    tracks: dict[int, set[str]] = {city_id: set() for city_id, *_ in rows}
    for city_id, key in mq.interest_keys(session=session, city_ids=city_ids):
        tracks.setdefault(city_id, set()).add(key)
    items: dict[tuple[int, str], list[str]] = {}
    for city_id, kind, text in mq.item_texts(session=session, city_ids=city_ids):
        items.setdefault((city_id, kind), []).append(text)
    goals = mq.open_goal_texts(session=session, city_ids=city_ids)
    return [
        Profile(
            city_id=city_id,
            name=name,
            tracks=frozenset(tracks.get(city_id, ())),
            offers=tuple(items.get((city_id, "offer"), ())),
            needs=tuple(items.get((city_id, "need"), ())),
            goals=tuple(goals.get(city_id, ())),
            mentor=mentor,
            cohort=cohort_id,
        )
        for city_id, name, mentor, cohort_id in rows
    ]


def _cache_for(engine: Engine) -> _IndexCache:
    with _caches_lock:
        cache = _caches.get(engine)
        if cache is None:
            cache = _caches[engine] = _IndexCache()
        return cache


class _CurrentIndex:
    """`with current_index(context) as index:` — the index, brought up to date and held for this use."""

    def __init__(self, session: Session, engine: Engine) -> None:
        self.session, self.cache = session, _cache_for(engine)

    def __enter__(self) -> MatchIndex:
        self.cache.lock.acquire()
        try:
            return _bring_up_to_date(self.cache, self.session)
        except BaseException:
            self.cache.lock.release()
            raise

    def __exit__(self, *_exc: object) -> None:
        self.cache.lock.release()


def current_index(context: Context) -> _CurrentIndex:
    return _CurrentIndex(context.session, context.services.engine)


def _bring_up_to_date(cache: _IndexCache, session: Session) -> MatchIndex:
    revision = mq.profile_revision(session=session)
    stale = cache.index is not None and revision != cache.revision
    changed = mq.changed_city_ids(session=session, since=cache.revision) if stale else []
    if cache.index is None or len(changed) > max(100, len(cache.index) // 2):  # a first use, or an import
        from core.match_index import MatchIndex  # numpy and scipy load with the first /match

        cache.index = MatchIndex(iter_profiles(session))
    elif stale:
        found = load_profiles(session, changed)
        for profile in found:
            cache.index.upsert(profile)
        for city_id in set(changed) - {p.city_id for p in found}:
            cache.index.remove(city_id)
    cache.revision = revision
    return cache.index


# --- wording -----------------------------------------------------------------------------------------------


def compose(parts: Sequence[tuple[str, dict[str, object]]], separator: str = "; ") -> Text:
    """Several (message, values) one after another: each stays a whole message, translated for whoever reads it
    (a notice for its recipient) with its values escaped by each platform."""
    return joined([Text(template, **values) for template, values in parts], separator)


def reason_parts(
    reasons: Iterable[Reason], *, asker: str, city: str, track_names: dict[str, str], you: bool
) -> list[tuple[str, dict[str, object]]]:  # each a message (Strings.REASON_*) and its values
    """Plain words for each reason, from the asker's side ("you") or a third person's."""
    side = "you" if you else "they"
    names = {"asker": asker, "city": city}
    parts: list[tuple[str, dict[str, object]]] = []
    for reason in reasons:
        if isinstance(reason, SharedTracks):
            tracks = ", ".join(track_names.get(k, k) for k in reason.tracks)
            parts.append((Strings.REASON_TRACKS[side], {"tracks": tracks}))
        elif isinstance(reason, TheyOffer):
            parts.append((Strings.REASON_THEY_OFFER[side], {**names, "offer": reason.offer}))
        elif isinstance(reason, YouOffer):
            parts.append((Strings.REASON_YOU_OFFER[side], {**names, "offer": reason.offer}))
        elif isinstance(reason, SimilarGoals):
            parts.append((Strings.REASON_GOALS[side], {**names, "mine": reason.mine, "theirs": reason.theirs}))
        elif isinstance(reason, MentorOn):
            tracks = ", ".join(track_names.get(k, k) for k in reason.tracks)
            parts.append((Strings.REASON_MENTOR[side], {"city": city, "tracks": tracks}))
        elif isinstance(reason, NotYetIntroduced):
            parts.append((Strings.REASON_FRESH[side], {}))
    return parts[:MAX_REASONS]


def reasons_as_data(reasons: Iterable[Reason]) -> list[dict[str, object]]:
    """Reasons as JSON-ready dicts for the introduction record."""
    return [{"kind": type(reason).__name__, **asdict(reason)} for reason in reasons]


def _track_names(context: Context) -> dict[str, str]:
    return {t.key: t.name for t in configured_tracks(context)}


def _quote(name: str) -> str:
    return f"'{name}'" if '"' in name else f'"{name}"'


def _when(context: Context, moment: datetime) -> str:
    """A pause's end in the reader's zone, named: `Tue 22 Dec 2026, 10:00 CET`, as every time a person reads."""
    return format_instant(moment, context.zone)


def _mentions(members: Sequence[Member]) -> Text:
    """People named one after another, each as their platform mentions them."""
    return joined([Text("{who}", who=Mention(m.external_id, m.display_name)) for m in members], ", ")


def _or_list(items: Sequence[str]) -> str:
    """`a or b or c` in English as always; CLDR's own "or" list in other languages (Babel)."""
    code = current().code
    if code in (ENGLISH, "xx") or len(items) < 2:
        return " or ".join(items)
    from babel.lists import format_list

    return str(format_list(list(items), style="or", locale=code.replace("-", "_")))


# --- whose city ----------------------------------------------------------------------------------------------


def _acting_city(context: Context, named: City | None, what: str, *, readers: bool) -> tuple[City, bool]:
    """The city a command is for (`named` with city=, else the actor's own), and whether the actor speaks as its rep
    ("you")."""
    mine = context.actor.member.city_id
    if named is not None:
        city = named
        if city.id != mine:
            allowed = READERS if readers else ORGANISERS
            if context.actor.role not in allowed:
                raise CommandError(Strings.CITY_OPTION_REFUSED if readers else Strings.CITY_OPTION_WRITE_REFUSED)
            return city, False
        return city, True
    if mine is None and context.actor.role in READERS:
        raise CommandError(Strings.NO_CITY_NAMED)
    return own_city(context, what), True


# --- /match top ----------------------------------------------------------------------------------------------


# Organisers (and, to read, experts) may act for a city other than their own: `city=`, named for_city on Discord.
ACT_FOR = N_("Organisers: the city to act for, if not your own")


@dataclass(frozen=True)
class TopMatches:
    count: int | None = param(
        Kind.NUMBER,
        N_("How many cities to suggest (5 if not given)"),
        placeholder="<n>",
        invalid=Strings.COUNT_BAD,
        invalid_values={"max": MAX_COUNT},
    )
    track: Track | None = param(Kind.TRACK, N_("Only cities working on this thematic track"), key="track")
    for_city: City | None = param(
        Kind.CITY, N_("Organisers and experts: the city to suggest for, if not your own"), key="city"
    )


def top(context: Context, args: TopMatches) -> Reply:
    count = DEFAULT_COUNT if args.count is None else args.count
    if not 1 <= count <= MAX_COUNT:
        raise CommandError(Strings.COUNT_BAD, max=MAX_COUNT, value=count)
    city, you = _acting_city(context, args.for_city, "ask for matches", readers=True)
    track = args.track
    session = context.session
    pause = mq.get_pause(session=session, city_id=city.stored_id, now=context.now)
    if pause is not None:
        raise CommandError(Strings.SELF_PAUSED.format(name=city.name, until=_when(context, pause.until)))
    exclude = mq.not_fit_ids(session=session, city_id=city.stored_id) | mq.paused_city_ids(
        session=session, now=context.now
    )
    introduced = mq.introduced_ids(session=session, city_id=city.stored_id)
    with current_index(context) as index:
        found = index.matches(
            city.stored_id,
            limit=count,
            exclude=exclude,
            introduced=introduced,
            track=track.key if track else None,
        )
        profile = index.profile(city.stored_id)
    if not found:
        return _empty_answer(city, profile, track.name if track else None)
    reply = Reply.of(
        Strings.HEADER_TRACK if track else Strings.HEADER, name=city.name, track=track.name if track else ""
    )
    countries = {c.id: c.country for c in mq.cities(session=session, city_ids=[m.city_id for m in found])}
    names = _track_names(context)
    known = partners_of(session, city.stored_id, [m.city_id for m in found])
    for rank, match in enumerate(found, start=1):
        state, values, buttons = partner_offer(context, known[match.city_id], match.name, city, you=you)
        section = _result_section(context, city, match, rank, countries, names, you=you, state=state, values=values)
        section.buttons = buttons
        reply.sections.append(section)
    return reply


class PartnerState(StrEnum):
    NEW = "new"  # not introduced yet, and someone to introduce
    NO_REPS = "no-reps"  # nobody represents it: no introduction can be made
    INTRODUCED = "introduced"  # introduced, and this city has not said how it went
    ANSWERED = "answered"  # introduced, and this city said how it went


RESULT_WORDS = {  # a result line, as a whole message for each state of the partner
    PartnerState.NEW: Strings.RESULT,
    PartnerState.NO_REPS: Strings.RESULT_NO_REPS,
    PartnerState.INTRODUCED: Strings.RESULT_INTRODUCED,
    PartnerState.ANSWERED: Strings.RESULT_ANSWERED,
}


@dataclass(frozen=True)
class Partner:
    """Another city as a list of possible partners sees it: can it be introduced, or was it already?"""

    represented: bool
    introduction: Introduction | None  # the latest introduction between the two cities
    answer: tuple[bool, str] | None  # what the asking city said came of it


def partners_of(session: Session, city_id: int, other_ids: Sequence[int]) -> dict[int, Partner]:
    """Each of `other_ids` as a partner of `city_id`: a few queries for the whole list."""
    represented = mq.represented_city_ids(session=session, city_ids=list(other_ids), role=Role.REP.value)
    last = mq.last_introductions(session=session, city_id=city_id, other_city_ids=other_ids)
    answers = {
        o.introduction_id: (o.met, o.outcome)
        for o in mq.outcomes(session=session, introduction_ids=[i.stored_id for i in last.values()])
        if o.city_id == city_id
    }
    return {
        other: Partner(
            other in represented, last.get(other), answers.get(last[other].stored_id) if other in last else None
        )
        for other in other_ids
    }


def partner_offer(
    context: Context, partner: Partner, name: str, city: City, *, you: bool
) -> tuple[PartnerState, dict[str, object], list[Button]]:
    """What a list says beside a possible partner of `city` and which buttons it offers, the same in /match, on
    Home and after /goal add with=: *Introduce us* only when there is someone to introduce and the two were not
    introduced; once introduced, when, and a follow-up (how did it go?) instead. Only buttons the reader may press:
    a city's reps act for it, organisers for any city (`city=`), experts only read."""
    may_act = you or context.actor.role in ORGANISERS
    suffix = "" if you else f" city={_quote(city.name)}"
    not_a_fit = [Button(Strings.NOT_A_FIT, f"/match notfit {name}{suffix}", "danger")] if may_act else []
    intro = partner.introduction
    if intro is None:
        if not partner.represented:
            return PartnerState.NO_REPS, {}, not_a_fit
        introduce = [Button(Strings.INTRODUCE, f"/match intro {name}{suffix}", "primary")] if may_act else []
        return PartnerState.NEW, {}, introduce + not_a_fit
    values: dict[str, object] = {"date": format_day(intro.created_at, context.zone), "intro_id": intro.id}
    if partner.answer is None:
        follow = (
            [Button(Strings.FOLLOW_UP, f"/match outcome {intro.id}", "primary", form="match-outcome")] if you else []
        )
        return PartnerState.INTRODUCED, values, follow + not_a_fit
    values["answer"] = answer_label(partner.answer)
    again = []
    if may_act and partner.represented and context.now - intro.created_at >= REINTRODUCE_AFTER:
        again = [Button(Strings.INTRODUCE_AGAIN, f"/match intro {name} again=yes{suffix}")]
    return PartnerState.ANSWERED, values, again + not_a_fit


def _result_section(
    context: Context,
    city: City,
    match: Match,
    rank: int,
    countries: dict[int | None, str],
    names: dict[str, str],
    *,
    you: bool,
    state: PartnerState = PartnerState.NEW,
    values: Mapping[str, object] = {},  # noqa: B006 - read only
) -> Section:
    reasons = compose(reason_parts(match.reasons, asker=city.name, city=match.name, track_names=names, you=you))
    text = Text(
        RESULT_WORDS[state],
        rank=rank,
        city=match.name,
        country=countries.get(match.city_id, ""),
        score=f"{match.score:.1f}",
        reasons=Sentence(reasons.template, **reasons.values),  # on a line of its own: it starts with a capital
        **values,
    )
    return Section(text)


def _empty_answer(city: City, profile: Profile | None, track: str | None) -> Reply:
    if track is not None:
        return Reply.of(Strings.EMPTY_TRACK, name=city.name, track=track)
    missing = []
    if profile is None or not profile.tracks:
        missing.append(Strings.DECLARE_TRACKS)
    if profile is None or not profile.offers:
        missing.append(Strings.DECLARE_OFFERS)
    if profile is None or not profile.needs:
        missing.append(Strings.DECLARE_NEEDS)
    if len(missing) == 3:
        return Reply.of(Strings.EMPTY_DECLARE, name=city.name, missing=_or_list([str(m) for m in missing]))
    if missing:
        return Reply.of(Strings.EMPTY_SOME, name=city.name, missing=_or_list([str(m) for m in missing]))
    return Reply.of(Strings.EMPTY_NOBODY, name=city.name)


# --- /match intro --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Introduce:
    other: City = param(Kind.CITY, N_("The city to introduce yours to"), required=True, name="name")
    again: bool = param(Kind.YESNO, N_("Introduce them again, though they were introduced before"), key="again")
    for_city: City | None = param(Kind.CITY, ACT_FOR, key="city")


def intro(context: Context, args: Introduce) -> Reply:
    city, _ = _acting_city(context, args.for_city, "ask for introductions", readers=False)
    other, again = args.other, args.again
    session = context.session
    if other.id == city.id:
        raise CommandError(Strings.SAME_CITY)
    pause = mq.get_pause(session=session, city_id=other.stored_id, now=context.now)
    if pause is not None:
        raise CommandError(Strings.INTRO_PAUSED.format(name=other.name, until=_when(context, pause.until)))
    last = mq.last_introduction(session=session, city_id=city.stored_id, other_city_id=other.stored_id)
    if last is not None and context.now - last.created_at < REINTRODUCE_AFTER and not again:
        raise CommandError(
            Strings.INTRO_RECENT.format(
                a=city.name, b=other.name, date=format_day(last.created_at, context.zone), id=last.id
            )
        )
    reps = mq.reps_of_cities(session=session, city_ids=[city.stored_id, other.stored_id])
    for side in (city, other):
        if not reps[side.stored_id]:
            raise CommandError(Strings.INTRO_NO_REPS.format(name=side.name))
    with current_index(context) as index:
        match = index.explain(city.stored_id, other.stored_id, introduced=last is not None)
    reasons = {frozenset((city.stored_id, other.stored_id)): match.reasons if match else ()}
    notice, rows = introduce(context, [city, other], reasons, reps, unexplained=Text(Strings.REASON_ASKED))
    reply = Reply.of(Strings.INTRO_DONE, a=city.name, b=other.name, id=rows[0].id, count=len(notice.recipients))
    reply.notices.append(notice)
    return reply


PairReasons = Mapping[frozenset[int], Sequence[Reason]]


def introduce(
    context: Context,
    group: Sequence[City],
    reasons: PairReasons,
    reps: dict[int, list[Member]],
    *,
    unexplained: Text,
    round_id: int | None = None,
) -> tuple[Notice, list[Introduction]]:
    """Record the introduction(s) of a pair or trio and build the one message for their shared conversation.

    Every city of the group must have someone to introduce: a pair is only recorded as introduced (and so never
    paired again by a round) when its people are actually put in touch. `unexplained` is what the message says
    when no pair had a scored reason: something true about how they came together, never a made-up reason.
    """
    for city in group:
        if not reps.get(city.stored_id):
            raise CommandError(Strings.INTRO_NO_REPS.format(name=city.name))
    rows = [
        mq.add_introduction(
            session=context.session,
            city_id=a.stored_id,
            other_city_id=b.stored_id,
            member_id=context.actor.member.id,
            reasons=reasons_as_data(reasons.get(frozenset((a.stored_id, b.stored_id)), ())),
            now=context.now,
            followup_due_at=context.now + FOLLOWUP_AFTER,
            round_id=round_id,
        )
        for a, b in _pairs_of(group)
    ]
    message = intro_message(context, group, rows, reasons, reps, unexplained=unexplained)
    return Notice(_conversation(group, reps), message, together=True), rows


def _pairs_of(group: Sequence[City]) -> list[tuple[City, City]]:
    return [(a, b) for i, a in enumerate(group) for b in group[i + 1 :]]


def _conversation(group: Sequence[City], reps: dict[int, list[Member]]) -> tuple[str, ...]:
    """Everyone's reps, taking turns city by city so each city is in even when the cap bites."""
    queues = [list(reps.get(city.stored_id, [])) for city in group]
    people: list[str] = []
    while any(queues) and len(people) < MAX_CONVERSATION:
        for queue in queues:
            if queue and len(people) < MAX_CONVERSATION:
                people.append(queue.pop(0).external_id)
    return tuple(dict.fromkeys(people))


def group_reasons(
    context: Context, group: Sequence[tuple[int, str]], reasons: PairReasons, *, separator: str
) -> Text | None:
    """The scored reasons of a pair, or of each pair of a trio that has some ("A and B: ..."); None when none."""
    names = _track_names(context)
    lines: list[Text] = []
    for i, (a, a_name) in enumerate(group):
        for b, b_name in group[i + 1 :]:
            parts = reason_parts(reasons.get(frozenset((a, b)), ()), asker=a_name, city=b_name, track_names=names,
                                 you=False)  # fmt: skip
            if not parts:
                continue
            why = compose(parts)
            if len(group) == 2:
                return why
            lines.append(Text(Strings.WHY_PAIR, a=a_name, b=b_name, reasons=why))
    return joined(lines, separator) if lines else None


def intro_message(
    context: Context,
    group: Sequence[City],
    rows: Sequence[Introduction],
    reasons: PairReasons,
    reps: dict[int, list[Member]],
    *,
    unexplained: Text,
) -> Reply:
    a, b = group[0], group[1]
    reply = Reply.of(
        Strings.INTRO_MEET,
        people_a=_mentions(reps.get(a.stored_id, [])),
        a=a.name,
        country_a=country_name(a.country),
        people_b=_mentions(reps.get(b.stored_id, [])),
        b=b.name,
        country_b=country_name(b.country),
    )
    for extra in group[2:]:
        reply.add(Strings.INTRO_ALSO, people=_mentions(reps.get(extra.stored_id, [])), name=extra.name,
                  country=country_name(extra.country))  # fmt: skip
    why = group_reasons(context, [(c.stored_id, c.name) for c in group], reasons, separator=" · ") or unexplained
    reply.add(Strings.INTRO_WHY, reasons=why)
    for city in group:
        reply.sections.append(_side_section(context, city))
    reply.sections.append(Section(_ids_line(group, rows)))
    reply.add(Strings.INTRO_NEXT, by=Mention(context.actor.member.external_id, context.actor.member.display_name),
              days=FOLLOWUP_AFTER.days)  # fmt: skip
    return reply


def _ids_line(group: Sequence[City], rows: Sequence[Introduction]) -> Text:
    """The number(s) `/match outcome` needs: one for a pair, one per pair of a trio."""
    if len(rows) == 1:
        return Text(Strings.INTRO_ID, id=rows[0].id)
    names = {c.id: c.name for c in group}
    listed = compose(
        [(Strings.INTRO_ID_PAIR, {"id": r.id, "a": names[r.city_a_id], "b": names[r.city_b_id]}) for r in rows], ", "
    )
    return Text(Strings.INTRO_IDS, pairs=listed)


def _side_section(context: Context, city: City) -> Section:
    lists: list[Text] = []
    for kind in ("offer", "need"):
        items = queries.city_items(session=context.session, city_id=city.stored_id, kind=kind)
        if items:
            lists.append(joined([Text("{item}", item=item.text) for item in items], "; "))
        else:
            lists.append(Text(Strings.INTRO_NOTHING))
    return Section(Text(Strings.INTRO_SIDE, name=city.name, offers=lists[0], needs=lists[1]))


# --- /match notfit and fit -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NotFit:
    other: City | None = param(Kind.CITY, N_("The city to stop suggesting; leave empty to see the list"), name="name")
    for_city: City | None = param(Kind.CITY, ACT_FOR, key="city")


def notfit(context: Context, args: NotFit) -> Reply:
    city, _ = _acting_city(context, args.for_city, "keep a not-a-fit list", readers=False)
    session = context.session
    if args.other is None:
        listed = mq.not_fit_ids(session=session, city_id=city.stored_id)
        if not listed:
            return Reply.of(Strings.NOTFIT_NONE, city=city.name)
        names = ", ".join(sorted(c.name for c in mq.cities(session=session, city_ids=sorted(listed))))
        return Reply.of(Strings.NOTFIT_LIST, city=city.name, names=names)
    other = args.other
    if other.id == city.id:
        raise CommandError(Strings.SAME_CITY)
    added = mq.add_not_fit(session=session, city_id=city.stored_id, other_city_id=other.stored_id,
                           member_id=context.actor.member.id, now=context.now)  # fmt: skip
    return Reply.of(Strings.NOTFIT_DONE if added else Strings.NOTFIT_ALREADY, name=other.name, city=city.name)


@dataclass(frozen=True)
class Fit:
    other: City = param(Kind.CITY, N_("The city to suggest again"), required=True, name="name")
    for_city: City | None = param(Kind.CITY, ACT_FOR, key="city")


def fit(context: Context, args: Fit) -> Reply:
    city, _ = _acting_city(context, args.for_city, "keep a not-a-fit list", readers=False)
    other = args.other
    removed = mq.remove_not_fit(session=context.session, city_id=city.stored_id, other_city_id=other.stored_id)
    return Reply.of(Strings.FIT_DONE if removed else Strings.FIT_NOT_LISTED, name=other.name, city=city.name)


# --- /match pause and resume -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pause:
    duration: timedelta = param(Kind.DURATION, N_("For how long, e.g. 2w or 30d"), required=True)


def pause(context: Context, args: Pause) -> Reply:
    duration = args.duration
    if not MIN_PAUSE <= duration <= MAX_PAUSE:
        raise CommandError(Strings.PAUSE_BOUNDS.format(least=MIN_PAUSE.days, most=MAX_PAUSE.days))
    city = own_city(context, "pause matching")
    until = context.now + duration
    running = mq.get_pause(session=context.session, city_id=city.stored_id, now=context.now)
    if running is not None and abs(running.until - until) < timedelta(minutes=1):  # the same pause: nothing changes
        return Reply.of(Strings.PAUSED_ALREADY, name=city.name, until=_when(context, running.until))
    before = running.until if running is not None else None  # set_pause moves this very row
    mq.set_pause(session=context.session, city_id=city.stored_id, until=until, member_id=context.actor.member.stored_id,
                 now=context.now)  # fmt: skip
    if before is not None:
        return Reply.of(Strings.PAUSE_MOVED, name=city.name, before=_when(context, before),
                        until=_when(context, until))  # fmt: skip
    return Reply.of(Strings.PAUSED, name=city.name, until=_when(context, until))


def resume(context: Context, args: NoArguments) -> Reply:
    city = own_city(context, "resume matching")
    was_paused = mq.get_pause(session=context.session, city_id=city.stored_id, now=context.now) is not None
    mq.delete_pause(session=context.session, city_id=city.stored_id)
    return Reply.of(Strings.RESUMED if was_paused else Strings.NOT_PAUSED, name=city.name)


# --- /match round ----------------------------------------------------------------------------------------------


ROUND_PARTNERS_NAMED = 5  # a left-out city's possible partners named before "…and n more"


def _cohort_scope(cohort: Cohort | None) -> tuple[int | None, str]:
    if cohort is None:
        return None, Strings.ALL_CITIES
    return cohort.id, Strings.COHORT_SCOPE.format(name=cohort.name)


def _scope_words(cohort: Cohort | None) -> Text:
    """The round's scope as a message of its own, for an introduction written in its recipients' language."""
    return Text(Strings.ALL_CITIES) if cohort is None else Text(Strings.COHORT_SCOPE, name=cohort.name)


ROUND_SAID = {  # (dry run, with pairs, with trios): the whole sentence
    (True, True, False): Strings.ROUND_DRY,
    (True, True, True): Strings.ROUND_DRY_TRIOS,
    (True, False, True): Strings.ROUND_DRY_ONLY_TRIOS,
    (False, True, False): Strings.ROUND_DONE,
    (False, True, True): Strings.ROUND_DONE_TRIOS,
    (False, False, True): Strings.ROUND_DONE_ONLY_TRIOS,
}


@dataclass(frozen=True)
class Round:
    cohort: Cohort | None = param(
        Kind.COHORT, N_("The cohort whose cities are paired (all cities if not given)"), key="cohort"
    )
    dry: bool = param(Kind.YESNO, N_("Only show the pairs; introduce nobody"), key="dry")


def round_(context: Context, args: Round) -> Reply:
    require(context, ORGANISERS, "run matching rounds")
    dry = args.dry
    cohort_id, scope = _cohort_scope(args.cohort)
    session = context.session
    # ids and names only: a round of thousands of cities needs City rows only for the groups it introduces
    everyone = mq.city_names(session=session, cohort_id=cohort_id)
    names = dict(everyone)
    pauses = {c: until for c, until in mq.pauses_until(session=session, now=context.now).items() if c in names}
    # Only cities someone can be introduced for: a pair with nobody on one side is no introduction.
    represented = mq.represented_city_ids(session=session, city_ids=list(names), role=Role.REP.value)
    by_id = {city_id: name for city_id, name in everyone if city_id not in pauses and city_id in represented}
    if len(by_id) < 2:
        raise CommandError(Strings.ROUND_TOO_FEW.format(count=len(by_id)))
    ids: list[int] = list(by_id)
    # Never a pair introduced before, nor one where either city said the other is not a fit.
    met = mq.met_pairs(session=session, city_ids=ids)
    not_fit = mq.not_fit_pairs(session=session, city_ids=ids)
    with current_index(context) as index:
        plan = plan_round(list(names), index.round_edges(ids), met=met, not_fit=not_fit, paused=pauses,
                          unrepresented=set(names) - set(represented))  # fmt: skip
        explained: dict[frozenset[int], Sequence[Reason]] = {}
        for group in plan.groups:
            for i, a in enumerate(group):
                for b in group[i + 1 :]:
                    match = index.explain(a, b)
                    explained[frozenset((a, b))] = match.reasons if match else ()
    reps = mq.reps_of_cities(session=session, city_ids=[c for group in plan.groups for c in group])
    trios = sum(1 for g in plan.groups if len(g) == 3)
    pair_count = len(plan.groups) - trios
    counted = {"pairs": Text(Strings.ROUND_PAIRS, n=pair_count), "trios": Text(Strings.ROUND_TRIOS, n=trios)}
    rows: dict[int, City] = {}
    if not plan.groups:  # nobody can meet anybody new: no round to number, nothing sent or audited
        reply = Reply.of(Strings.ROUND_NONE, scope=scope)
        for text in left_out_lines(context, plan.left_out, names, met):
            reply.sections.append(Section(text))
        return reply
    if dry:
        reply = Reply.of(ROUND_SAID[True, pair_count > 0, trios > 0], scope=scope, **counted)
        match_round, unexplained = None, Text(Strings.ROUND_NO_REASON)
    else:
        match_round = mq.add_round(session=session, cohort_id=cohort_id, member_id=context.actor.member.id,
                                   now=context.now)  # fmt: skip
        number = mq.count_rounds(session=session, cohort_id=cohort_id)
        reply = Reply.of(ROUND_SAID[False, pair_count > 0, trios > 0], number=number, scope=scope, **counted)
        unexplained = Text(Strings.REASON_ROUND, number=number, scope=_scope_words(args.cohort))
        grouped = [c for group in plan.groups for c in group]
        rows = {c.stored_id: c for c in mq.cities(session=session, city_ids=grouped)}
    for group in plan.groups:
        why = group_reasons(context, [(c, by_id[c]) for c in group], explained, separator=" · ")
        why = why or Text(Strings.ROUND_NO_REASON)
        label = " + ".join(by_id[c] for c in group)
        template, values = Strings.ROUND_GROUP, {"names": label, "reasons": why}
        if match_round is not None:
            notice, made = introduce(context, [rows[c] for c in group], explained, reps, unexplained=unexplained,
                                     round_id=match_round.id)  # fmt: skip
            reply.notices.append(notice)
            template = Strings.ROUND_GROUP_SENT_TRIO if len(made) > 1 else Strings.ROUND_GROUP_SENT
            values["ids"] = ", ".join(str(r.id) for r in made)
        reply.sections.append(Section(Text(template, **values)))
    if match_round is not None:  # a dry run changes nothing and is not audited
        groups = [[by_id[c] for c in group] for group in plan.groups]
        after = {"cohort_id": cohort_id, "number": number, "groups": groups}
        context.record(AuditKind.ROUND, "round", match_round.id, str(scope), after=after)
    for text in left_out_lines(context, plan.left_out, names, met):
        reply.sections.append(Section(text))
    return reply


def left_out_lines(
    context: Context, left_out: Sequence[LeftOut], names: Mapping[int, str], met: set[frozenset[int]]
) -> list[Text]:
    """Why each city is not in a group, from the round's codes: one line for those without a representative,
    one for the paused (with until when), one each for the rest, saying whom they met or who is taken."""
    lines: list[Text] = []
    by_reason: dict[LeftOutReason, list[LeftOut]] = {}
    for out in left_out:
        by_reason.setdefault(out.reason, []).append(out)
    if no_reps := by_reason.get(LeftOutReason.NO_REPRESENTATIVE):
        lines.append(Text(Strings.ROUND_NO_REPS, names=", ".join(names[o.city_id] for o in no_reps)))
    if paused := by_reason.get(LeftOutReason.PAUSED):
        listed = compose(
            [
                (Strings.ROUND_PAUSED_CITY, {"name": names[o.city_id], "until": _when(context, o.until)})
                for o in paused
                if o.until is not None  # every PAUSED one has it
            ],
            ", ",
        )
        lines.append(Text(Strings.ROUND_PAUSED, names=listed))
    for out in sorted(
        (o for o in left_out if o.reason not in (LeftOutReason.NO_REPRESENTATIVE, LeftOutReason.PAUSED)),
        key=lambda o: names[o.city_id],
    ):
        name = names[out.city_id]
        if out.reason is LeftOutReason.ALONE:
            lines.append(Text(Strings.ROUND_OUT_ALONE, name=name))
        elif out.reason is LeftOutReason.MET_EVERYONE:
            template = (
                Strings.ROUND_OUT_MET_ALL if not out.not_fit else
                Strings.ROUND_OUT_NOT_FIT_ALL if not out.met else Strings.ROUND_OUT_MET_OR_NOT_FIT
            )  # fmt: skip
            if out.others == 1:
                template = Strings.ROUND_OUT_MET_ONLY if not out.not_fit else Strings.ROUND_OUT_NOT_FIT_ONLY
            lines.append(Text(template, name=name, count=out.others, met=out.met, not_fit=out.not_fit))
        else:
            shown = out.partners[:ROUND_PARTNERS_NAMED]
            parts: list[tuple[str, dict[str, object]]] = []
            for taken in shown:
                values: dict[str, object] = {"partner": names[taken.partner], "name": name}
                if not taken.blockers:
                    parts.append((Strings.ROUND_TAKEN_TRIO, values))
                    continue
                blocker = taken.blockers[0]
                values["other"] = names[blocker]
                was_met = frozenset((out.city_id, blocker)) in met
                parts.append((Strings.ROUND_TAKEN_MET if was_met else Strings.ROUND_TAKEN_NOT_FIT, values))
            if len(out.partners) > len(shown):
                parts.append((Strings.MAP_MORE, {"more": len(out.partners) - len(shown)}))
            why = compose(parts, "; ")
            template = Strings.ROUND_OUT_ONE_PARTNER if len(out.partners) == 1 else Strings.ROUND_OUT_PARTNERS
            lines.append(Text(template, name=name, count=len(out.partners), why=why))
    return lines


# --- /match stats ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stats:
    cohort: Cohort | None = param(Kind.COHORT, N_("Only this cohort's cities"), key="cohort")


def stats(context: Context, args: Stats) -> Reply:
    require(context, READERS, "see matching statistics")
    cohort_id, scope = _cohort_scope(args.cohort)
    session = context.session
    cities = queries.list_cities(session=session, cohort_id=cohort_id)
    ids = [c.stored_id for c in cities]
    intros = mq.introductions(session=session, city_ids=ids if cohort_id is not None else None)
    answers = mq.outcomes(session=session, introduction_ids=[i.stored_id for i in intros])
    # Each side answers for itself; the figures are per introduction: met when either side met, each kind of
    # outcome once however many sides reported it.
    met_ids = {a.introduction_id for a in answers if a.met}
    kinds = Counter(kind for _, kind in {(a.introduction_id, a.outcome) for a in answers if a.met})
    reply = Reply.of(Strings.STATS_HEAD, scope=scope, made=len(intros), rounds=sum(1 for i in intros if i.round_id),
                     met=len(met_ids))  # fmt: skip
    reply.add(Strings.STATS_OUTCOMES, shared=kinds["shared-practice"], joint=kinds["joint-proposal"],
              visit=kinds["site-visit"], nothing=kinds["nothing-yet"])  # fmt: skip
    answered = {a.introduction_id for a in answers}
    followed = {i.id for i in intros if i.followup_sent_at}
    if followed:
        reply.add(Strings.STATS_FOLLOWUPS, sent=len(followed), answered=len(followed & answered))
    else:
        reply.add(Strings.STATS_NO_FOLLOWUPS)
    if early := len(answered - followed):  # people may answer before the follow-up asks them
        reply.add(Strings.STATS_ANSWERED_EARLY, count=early)
    touched = {i.city_a_id for i in intros} | {i.city_b_id for i in intros}
    lonely = [c.name for c in cities if c.id not in touched]
    if lonely:
        reply.add(Strings.STATS_LONELY, count=len(lonely), names=", ".join(lonely))
    else:
        reply.add(Strings.STATS_ALL_INTRODUCED)
    represented = mq.represented_city_ids(session=session, city_ids=ids, role=Role.REP.value)
    if no_reps := [c.name for c in cities if c.id not in represented]:
        reply.add(Strings.STATS_NO_REPS, names=", ".join(no_reps))
    paused = mq.paused_city_ids(session=session, now=context.now)
    if paused_names := [c.name for c in cities if c.id in paused]:
        reply.add(Strings.STATS_PAUSED, names=", ".join(paused_names))
    return reply


# --- /match map -----------------------------------------------------------------------------------------------

MAP_NAMED = 12  # names a list says before "…and n more": enough to act on, short enough to hear
MAP_CLUSTERS_NAMED = 6


def load_network(
    session: Session,
    *,
    track_order: Sequence[str],
    cohort_id: int | None = None,
    track_id: int | None = None,
    since: datetime | None = None,
    around: int | None = None,
    steps: int = 1,
) -> Network:
    """The collaboration network of every city (of a cohort, on a track): introductions and goals shared with
    `with=` are its ties. `track_order` (track keys) orders each city's tracks, the first giving its colour.
    `around` keeps only that city and those within `steps` ties of it (through the cities kept)."""
    rows = mq.network_cities(session=session, cohort_id=cohort_id, track_id=track_id)
    rank = {key: i for i, key in enumerate(track_order)}
    tracks: dict[int, list[str]] = {}
    for city_id, key in mq.interest_keys(session=session):
        tracks.setdefault(city_id, []).append(key)
    cities = [
        NetworkCity(city_id, name, country, tuple(sorted(tracks.get(city_id, ()), key=lambda k: (rank.get(k, 99), k))))
        for city_id, name, country in rows
    ]
    ties = [
        Tie(a, b, TieKind.MET if met else TieKind.PAIRED if in_round else TieKind.INTRODUCED, at)
        for a, b, in_round, at, met in mq.introduction_ties(session=session)
    ]
    ties += [Tie(a, b, TieKind.GOAL, at) for a, b, at in goal_collaboration_ties(session)]
    if around is not None:
        near = neighbourhood(ties, around, steps, among=[c.id for c in cities])
        cities = [c for c in cities if c.id in near]
    return analyse(cities, ties, since=since)


def goal_collaboration_ties(session: Session) -> list[tuple[int, int, datetime]]:
    from storage import goal_queries

    return goal_queries.collaboration_ties(session=session)


def map_groups(network: Network, *, by_country: bool) -> tuple[dict[int, str], list[str]]:
    """Each city's colour group — its first track, or its country — and the groups in legend order (most cities
    first, at most as many as the palette has colours; the rest are drawn grey)."""
    from handlers.files.network import PALETTE

    if by_country:
        groups = {c.id: country_name(c.country) for c in network.cities}
    else:
        groups = {c.id: c.tracks[0] for c in network.cities if c.tracks}
    sizes = Counter(groups.values())
    order = sorted(sizes, key=lambda group: (-sizes[group], group))[: len(PALETTE)]
    return groups, order


def _named(names: Sequence[str]) -> str:
    shown = ", ".join(names[:MAP_NAMED])
    if len(names) > MAP_NAMED:
        return Strings.MAP_NAMED_MORE.format(names=shown, more=len(names) - MAP_NAMED)
    return shown


@dataclass(frozen=True)
class NetworkMap:
    cohort: Cohort | None = param(Kind.COHORT, N_("Only this cohort's cities"), key="cohort")
    track: Track | None = param(Kind.TRACK, N_("Only cities working on this thematic track"), key="track")
    since: date | None = param(
        Kind.DATE, N_("Highlight what changed since this day, e.g. the last City Lab"), key="since"
    )


def network_map(context: Context, args: NetworkMap) -> Reply:
    require(context, READERS, Strings.MAP_WHAT)
    cohort_id, scope = _cohort_scope(args.cohort)
    track = args.track
    day = context.now.astimezone(context.zone).date()
    since = None
    if args.since is not None:
        if args.since > day:
            raise CommandError(Strings.MAP_SINCE_AHEAD.format(today=day, day=args.since), field="since")
        since = datetime.combine(args.since, time(0), tzinfo=context.zone)
    track_id = track.id if track is not None else None
    scope_track = Strings.MAP_TRACK.format(track=track.key) if track else Strings.MAP_ALL_TRACKS
    order = [t.key for t in configured_tracks(context)]
    network = load_network(context.session, track_order=order, cohort_id=cohort_id, track_id=track_id, since=since)
    if not network.cities:
        return Reply.of(Strings.MAP_EMPTY, scope=scope, track=scope_track)
    from handlers.files.network import NetworkWords
    from handlers.files.network import network_map as draw

    name = {c.id: c.name for c in network.cities}
    since_text = f"{since:%Y-%m-%d}" if since else ""
    if since:
        title = Strings.MAP_TITLE_SINCE.format(scope=scope, track=scope_track, day=day, since=since_text)
    else:
        title = Strings.MAP_TITLE.format(scope=scope, track=scope_track, day=day)
    groups, group_order = map_groups(network, by_country=track is not None)
    png = draw(
        network,
        title=title,
        words=NetworkWords(
            tie=Strings.MAP_LEGEND_TIE,
            bridge=Strings.MAP_LEGEND_BRIDGE,
            new=Strings.MAP_LEGEND_NEW.format(since=since_text),
            articulation=Strings.MAP_LEGEND_ARTICULATION,
            joined=Strings.MAP_LEGEND_JOINED.format(since=since_text),
        ),
        groups=groups,
        group_order=group_order,
    )
    filename = f"network-map-{day}.png"
    reply = Reply.of(Strings.MAP_HEAD, scope=scope, track=scope_track, day=str(day), file=filename,
                     cities=Text(Strings.MAP_CITIES, n=len(network.cities)),
                     edges=Text(Strings.MAP_EDGES, n=len(network.edges)))  # fmt: skip
    ties = network.ties
    if not network.edges:
        reply.add(Strings.MAP_NO_TIES)
    else:
        reply.add(Strings.MAP_TIES, met=ties[TieKind.MET], introduced=ties[TieKind.INTRODUCED],
                  paired=ties[TieKind.PAIRED], goals=ties[TieKind.GOAL])  # fmt: skip
        by_weight = {c.id: (-network.betweenness[c.id], -network.strength[c.id]) for c in network.cities}
        if len(network.clusters) == 1:
            [cluster] = network.clusters
            ordered = sorted(cluster, key=lambda c: by_weight[c])
            reply.add(Strings.MAP_ONE_CLUSTER, size=len(cluster), names=_named([name[c] for c in ordered]))
        else:
            parts = [
                Text(
                    Strings.MAP_CLUSTER,
                    size=len(cluster),
                    names=_named([name[c] for c in sorted(cluster, key=lambda c: by_weight[c])]),
                )
                for cluster in network.clusters[:MAP_CLUSTERS_NAMED]
            ]
            if len(network.clusters) > MAP_CLUSTERS_NAMED:
                parts.append(Text(Strings.MAP_MORE, more=len(network.clusters) - MAP_CLUSTERS_NAMED))
            reply.add(Strings.MAP_CLUSTERS, count=len(network.clusters), clusters=joined(parts, "; "))
    if network.isolated:
        reply.add(Strings.MAP_ISOLATED, count=len(network.isolated), names=_named([name[c] for c in network.isolated]))
    else:
        reply.add(Strings.MAP_NONE_ISOLATED)
    if network.edges:
        if network.bridges:
            bridges = [
                Strings.MAP_BRIDGE.format(a=name[b.a], b=name[b.b], cut=Strings.MAP_CITIES.format(n=b.cut_off))
                for b in network.bridges
            ]
            reply.add(Strings.MAP_BRIDGES, count=len(bridges), bridges=_named(bridges))
        else:
            reply.add(Strings.MAP_NO_BRIDGES)
        if network.articulation:
            reply.add(Strings.MAP_ARTICULATION, count=len(network.articulation),
                      names=_named([name[c] for c in network.articulation]))  # fmt: skip
        between = [c for c in sorted(network.betweenness, key=lambda c: by_weight[c]) if network.betweenness[c] > 0]
        if between:
            reply.add(Strings.MAP_BETWEEN, names=", ".join(name[c] for c in between[:5]))
        shares = [
            Strings.MAP_TRACK_SHARE.format(
                track=key, leaving=leaving, touching=touching, percent=round(100 * leaving / touching)
            )  # fmt: skip
            for key in sorted(network.track_edges, key=lambda k: (order.index(k) if k in order else 99, k))
            for leaving, touching in [network.track_edges[key]]
        ]
        if shares:
            reply.add(Strings.MAP_TRACK_SHARES, shares="; ".join(shares))
    if since is not None:
        new = Text(Strings.MAP_NEW, n=network.new_edges)
        if network.joined:
            reply.add(Strings.MAP_SINCE, since=since_text, new=new, names=_named([name[c] for c in network.joined]))
        else:
            reply.add(Strings.MAP_SINCE_NONE_JOINED, since=since_text, new=new)
    reply.files.append(Attachment(filename, png, "image/png"))
    return reply


# --- follow-ups ------------------------------------------------------------------------------------------------


NOT_MET = "not-met"


@dataclass(frozen=True)
class Outcome:
    introduction: int = param(
        Kind.NUMBER,
        N_("The introduction's number, from its follow-up"),
        required=True,
        missing=Strings.INTRO_NUMBER,
    )
    outcome: str = param(
        Kind.CHOICE,
        N_("What came of it; not-met if you have not met yet"),
        required=True,
        choices=(*OUTCOMES, NOT_MET),
        placeholder=f"met {'|'.join(OUTCOMES)} | {NOT_MET}",
        spelled=tuple((kind, f"met {kind}") for kind in OUTCOMES),
        missing=Strings.OUTCOME_BAD,
        invalid=Strings.OUTCOME_BAD,
    )


def outcome(context: Context, args: Outcome) -> Reply:
    introduction_id = args.introduction
    met = args.outcome != NOT_MET
    kind = args.outcome if met else "nothing-yet"
    session = context.session
    intro_row = mq.get_introduction(session=session, introduction_id=introduction_id)
    if intro_row is None:
        raise CommandError(Strings.NO_INTRO.format(id=introduction_id))
    pair = (intro_row.city_a_id, intro_row.city_b_id)
    city_id = context.actor.member.city_id
    names = {c.id: c.name for c in mq.cities(session=session, city_ids=list(pair))}
    if city_id is None or city_id not in pair:
        raise CommandError(Strings.NOT_YOURS.format(id=introduction_id, a=names[pair[0]], b=names[pair[1]]))
    mq.set_outcome(session=session, introduction_id=introduction_id, city_id=city_id, met=met, outcome=kind,
                   member_id=context.actor.member.stored_id, now=context.now)  # fmt: skip
    other = pair[1] if city_id == pair[0] else pair[0]
    words = answer_label((met, kind))
    return Reply.of(Strings.OUTCOME_SAVED, city=names[city_id], other=names[other], answer=words)


def due_followups(services: Services, session: Session | None = None) -> list[Notice]:
    """Claim every introduction whose follow-up is due, mark it sent, and return the DMs to deliver.

    Claim and mark happen in `session`'s transaction (its own when none is given; rows locked, others skipped),
    and the caller queues the DMs in that same transaction: never twice, never lost.
    """
    if session is None:
        with unit_of_work(services.engine) as own:
            return due_followups(services, own)
    due = mq.claim_due_followups(session=session, now=services.clock.now())
    city_ids = sorted({i.city_a_id for i in due} | {i.city_b_id for i in due})
    names = {c.id: c.name for c in mq.cities(session=session, city_ids=city_ids)}
    reps = mq.reps_of_cities(session=session, city_ids=city_ids)
    notices: list[Notice] = []
    for intro_row in due:
        for city_id, other in (
            (intro_row.city_a_id, intro_row.city_b_id),
            (intro_row.city_b_id, intro_row.city_a_id),
        ):
            recipients = tuple(m.external_id for m in reps.get(city_id, []))
            if recipients:
                notices.append(Notice(recipients, followup_message(intro_row, names[city_id], names[other])))
    return notices


def followup_message(intro_row: Introduction, city: str, other: str) -> Reply:
    introduction_id = intro_row.id
    buttons = [
        Button(Strings.BUTTON_OUTCOME[kind], f"/match outcome {introduction_id} met {kind}") for kind in OUTCOMES
    ]
    buttons.append(Button(Strings.BUTTON_NOT_MET, f"/match outcome {introduction_id} not-met"))
    return Reply().add(
        Strings.FOLLOWUP,
        id=introduction_id,
        date=f"{intro_row.created_at:%Y-%m-%d}",
        city=city,
        other=other,
        buttons=buttons,
    )


COMMANDS: dict[str, Command] = {
    c.name: c
    for c in (
        Command(
            "top",
            "/match",
            N_("Reps: the cities most worth working with, and why; experts and organisers may name any city."),
            top,
            aliases=("best", "suggest"),
            arguments=TopMatches,
        ),
        Command(
            "intro",
            "/match intro",
            N_("Reps: open one conversation with both cities' representatives and an introduction."),
            intro,
            aliases=("introduce",),
            arguments=Introduce,
        ),
        Command(
            "notfit",
            "/match notfit",
            N_("Reps: stop suggesting a city to yours (without a name: the list)."),
            notfit,
            aliases=("not-a-fit", "nofit"),
            arguments=NotFit,
        ),
        Command("fit", "/match fit", N_("Reps: suggest a city again."), fit, arguments=Fit),
        Command(
            "round",
            "/match round",
            N_("Organisers: pair every city of a cohort for this round, no repeats; dry=yes only shows the pairs."),
            round_,
            arguments=Round,
        ),
        Command(
            "pause",
            "/match pause",
            N_("Reps: no suggestions or rounds for your city for a while (30d, 2w)."),
            pause,
            arguments=Pause,
        ),
        Command(
            "resume",
            "/match resume",
            N_("Reps: restart suggestions and rounds for your city."),
            resume,
            arguments=NoArguments,
        ),
        Command(
            "stats",
            "/match stats",
            N_("Organisers and experts: introductions made, met, outcomes, and cities left out."),
            stats,
            arguments=Stats,
        ),
        Command(
            "map",
            "/match map",
            N_("Experts and organisers: the cities' network, drawn and in words: clusters, bridges, isolated cities."),
            network_map,
            aliases=("network",),
            arguments=NetworkMap,
        ),
        Command(
            "outcome",
            "/match outcome",
            N_("Reps: what came of an introduction (the follow-up's buttons send this)."),
            outcome,
            arguments=Outcome,
        ),
    )
}
