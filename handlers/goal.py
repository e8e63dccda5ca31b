"""The /goal family: a city's three-month goals, their follow-up, and the experts' view of them.

Also the two follow-ups the scheduler runs: `due_checkins` (a month before and on the due date) and
`weekly_digest` (one per expert). Both take "now" from the services' clock and return notices for the
adapter to deliver after the commit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from sqlmodel import Session

from core.audit import AuditKind
from core.goals import (
    CHANGED_DAYS,
    CLOSED,
    DUE_SOON_DAYS,
    OPEN,
    CheckinKind,
    GoalCounts,
    Status,
    checkin_due,
    default_due,
    digest_buckets,
    is_overdue,
    local_day,
    may_move,
    status_label,
)
from core.grammar import GrammarError
from core.i18n import N_, Plural, nN_, reading, render
from core.roles import READERS, Role
from core.text import Text
from core.tracks import TrackSpec, resolve_track
from handlers import languages
from handlers.auth import acts_for, city_to_edit, own_city, require
from handlers.binding import NoArguments, param
from handlers.files import csv as csv_files
from handlers.files.chart import ChartWords, ProgressBar, progress_chart
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
    UsageError,
    Variant,
    member_zone,
)
from storage import goal_queries, queries
from storage.db import unit_of_work
from storage.goal_queries import GoalRow, ProgressCount
from storage.models import City, Cohort, Goal, Track, name_key

SUMMARY = N_("three-month goals: set them, follow them up, let experts check them")
MAX_TEXT = 500
MAX_NOTE = 500
MAX_LEARNINGS = 1000
MAX_COLLABORATORS = 10
MAX_DUE_YEARS = 3
LIST_LIMIT = 20
DIGEST_PER_BUCKET = 5
DIGEST_TEXT = 90


class Strings:
    """Every user-facing line of /goal, in one place so it can be translated later."""

    # Errors are single plain lines: no markup, since they carry what the user typed.
    TEXT_REQUIRED = N_("Say what the goal is.")
    TEXT_TOO_LONG = N_("Keep a goal under {max} characters.")
    NOTE_TOO_LONG = N_("Keep a note under {max} characters.")
    LEARNINGS_TOO_LONG = N_("Keep key learnings under {max} characters.")
    DUE_PAST = N_("The due date {due} has passed; give a date from today on.")
    DUE_FAR = N_("The due date {due} is more than {years} years away; goals are for the next months.")
    WITH_OWN = N_("{name} is your own city; with= names the cities you would like to work with.")
    WITH_TOO_MANY = N_("Name at most {max} cities in with=.")
    NO_GOAL = N_("There is no goal #{id}; see /goal list.")
    ID_REQUIRED = N_("Give the goal's number, as in /goal update 12 on-track.")
    STATUS_REQUIRED = N_("Say how it goes: on-track, at-risk, done or dropped.")
    NOT_YOURS = N_("Only {city}'s representatives can change goal #{id}.")
    CLOSED_ALREADY = N_("Goal #{id} is already {status}; it cannot become {new}.")
    SAME_CLOSED = N_("Goal #{id} is already {status}.")
    LEARNED_WHEN_CLOSING = N_("learned= is for closing a goal: use it with done or dropped.")
    OTHER_CITY_GOAL = N_("Goal #{id} is {city}'s, not {named}'s.")
    OTHER_CITY_LIST = N_("Only admins, experts and organisers can see other cities' goals.")
    LIST_WHOM = N_("You do not represent a city: ask to join one with /city join <name>.")

    ADDED = N_(
        "Goal *#{id}* for *{city}*: {text}\nDue {due}{track}. Report with /goal update {id} on-track|at-risk|done."
    )
    ADDED_ON_TRACK = N_(
        "Goal *#{id}* for *{city}*: {text}\nDue {due} · track {track}. Report with /goal update {id} "
        "on-track|at-risk|done."
    )
    # A goal's line in a list: its facts, each a message, between middle dots.
    LINE_DUE = N_("due {due}")
    LINE_DUE_LATE = N_("due {due} (overdue)")
    LINE_WITH_PARTNERS = N_("with {partners}")
    LINE_LEARNED = N_("learned: {learnings}")
    SUGGEST_INTRO = N_("You named *{name}* as a collaborator: an introduction puts your cities in touch.")
    SUGGEST_NO_REPS = N_("You named *{name}* as a collaborator; it has no representative yet, so nobody to introduce.")
    SUGGEST_INTRODUCED = N_(
        "You named *{name}* as a collaborator: your cities were introduced on {date} (introduction {intro_id})."
    )
    SUGGEST_ANSWERED = N_(
        "You named *{name}* as a collaborator: your cities were introduced on {date} (introduction {intro_id}): "
        "{answer}."
    )
    UPDATED = N_("Goal *#{id}* of *{city}* is now *{status}*.")
    UPDATED_NOTE = N_("Goal *#{id}* of *{city}* is now *{status}*: {note}")
    LEARNINGS_KEPT = N_("Key learnings kept: {learnings}")
    LEARNINGS_ADDED = N_("Added to the key learnings ({count} in all, each with its day): {learnings}")
    LEARNINGS_FULL = N_(
        "Goal #{id} already keeps {held} characters of key learnings; with this one, dated, they would pass "
        "{max}. Say it more briefly."
    )
    ASK_LEARNINGS = N_('What did {city} learn? Add it with /goal update {id} {status} learned="..."')

    LIST_TITLE = N_("Goals of {whom} ({count})")
    LIST_TITLE_OVERDUE = N_("Overdue goals of {whom} ({count})")
    ALL_CITIES = N_("all cities")
    LIST_EMPTY = N_("No goals yet. A rep sets one with /goal add <text>.")
    LIST_EMPTY_FILTERED = N_("No goals match.")
    LIST_MORE = N_("…and {more} more. Narrow the list with track= or overdue, or get them all with /goal export.")

    EXPORTED = N_("Exported {goals} of {cities} to {file}.")
    EXPORT_EMPTY = N_("No goals to export yet.")
    # The chart names what it shows — which rows, cohort, track, day — in its title and in the reply.
    CHART_DONE = N_("Progress of {goals} {rows} · {cohort} · {track} · {day}: {file}.")
    CHART_TITLE = N_("Goal progress {rows} · {cohort} · {track} · {day}")
    CHART_PER_TRACK = N_("per cohort and track")
    CHART_PER_TRACK_OF_COHORT = N_("per track")
    CHART_PER_CITY = N_("per city")
    CHART_OF_CITY = N_("of {city} per track")
    CHART_ALL_COHORTS = N_("all cohorts")
    CHART_COHORT = N_("cohort {cohort_name}")
    CHART_ALL_TRACKS = N_("all tracks")
    CHART_TRACK = N_("track {track_name}")
    CHART_SUMMARY = N_(
        "{done}/{counted} done · open: {on_track} on track, {at_risk} at risk, {new} not yet reported, "
        "{overdue} overdue · {dropped} dropped, not counted as work."
    )
    CHART_CITIES_CUT = N_(
        "Shown: the {shown} cities with the most overdue and unreported goals, of {total}; /goal export lists all."
    )
    CHART_EMPTY = N_("No goals to chart yet.")
    CHART_CITY_OR_BY = N_("Give city=<name> or by=city, not both.")
    CHART_AXIS = N_("goals")
    CHART_BAR_END = N_("{done}/{total} done")
    CHART_BAR_DROPPED = N_(" · {dropped} dropped")
    CHART_ALL_TRACKS_BAR = N_("all tracks")
    CHART_SEGMENTS = {field: status_label(value) for value, field in GoalCounts.FIELDS.items()}
    # TRANSLATORS: a count with its noun, put in a sentence ("Exported 3 goals of 2 cities to …").
    GOALS = nN_("{n} goal", "{n} goals")
    CITIES = nN_("{n} city", "{n} cities")
    NO_COHORT_LABEL = N_("no cohort")
    NO_TRACK_LABEL = N_("no track")

    CHECKIN_MONTH = N_("Check-in: goal *#{id}* of *{city}* is due in a month, on {due}.\n{text}\nHow is it going?")
    CHECKIN_DUE = N_("Check-in: goal *#{id}* of *{city}* is due {when}.\n{text}\nWhere did it get to?")
    CHECKIN_TODAY = N_("today")
    CHECKIN_PAST = N_("since {due}")

    DIGEST_TITLE = N_("Weekly goals digest, {today}")
    DIGEST_NOTHING = N_("No goals are due in the next {soon} days, overdue, or changed in the last {changed} days.")
    DIGEST_COHORT = N_("*{cohort}*")
    DIGEST_DUE_SOON = N_("Due in the next {days} days")
    DIGEST_OVERDUE = N_("Overdue")
    DIGEST_CHANGED = N_("Changed in the last {days} days")
    DIGEST_ITEM = N_("#{id} {city} · {status} · due {due} · {text}")
    DIGEST_MORE = N_("…and {more} more")
    DIGEST_CHART = N_("Progress chart")

    BUTTON_ON_TRACK = N_("On track")
    BUTTON_AT_RISK = N_("At risk")
    BUTTON_UPDATE = N_("Update…")
    BUTTON_DONE = N_("Done")


# --- shared helpers ----------------------------------------------------------------------------------


def show_date(day: date) -> str:
    return day.isoformat()


def one_line(text: str) -> str:
    return " ".join(text.split())


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def counted(count: int, forms: Plural) -> str:
    """`3 goals`, in the reader's language and its plural form."""
    return forms.format(n=count)


def status_buttons(goal_id: int) -> list[Button]:
    """The three answers a rep gives most; each is the command it stands for."""
    return [
        Button(Strings.BUTTON_ON_TRACK, f"/goal update {goal_id} on-track"),
        Button(Strings.BUTTON_AT_RISK, f"/goal update {goal_id} at-risk", "danger"),
        Button(Strings.BUTTON_DONE, f"/goal update {goal_id} done", "primary"),
        Button(Strings.BUTTON_UPDATE, f"/goal update {goal_id}", form="goal-update"),
    ]


def checked_text(text: str, limit: int, message: str, field: str) -> str:
    text = one_line(text)
    if len(text) > limit:
        raise CommandError(message.format(max=limit), field=field)
    return text


def checked_due(due: date, set_on: date) -> date:
    """`due=`: a day from today on, within MAX_DUE_YEARS; a mistake names the `due` field."""
    if due < set_on:
        raise CommandError(Strings.DUE_PAST.format(due=show_date(due)), field="due")
    if due > set_on + relativedelta(years=MAX_DUE_YEARS):
        raise CommandError(Strings.DUE_FAR.format(due=show_date(due), years=MAX_DUE_YEARS), field="due")
    return due


def track_by_name(context: Context, typed: str) -> Track:
    stored = queries.active_tracks(session=context.session)
    try:
        chosen = resolve_track(typed, [TrackSpec(t.key, t.name) for t in stored])
    except GrammarError as error:
        raise CommandError(str(error), field="track") from None
    return next(t for t in stored if t.key == chosen.key)


def goal_by_ref(context: Context, ref: str) -> Goal:
    digits = ref.strip().lstrip("#")
    if not digits.isdecimal():  # isdigit would let `²` reach int()
        raise UsageError(Strings.ID_REQUIRED)
    if len(digits) > 9:  # beyond any id we hand out, and beyond a database integer
        raise CommandError(Strings.NO_GOAL.format(id=digits))
    goal = goal_queries.get_goal(session=context.session, goal_id=int(digits))
    if goal is None:
        raise CommandError(Strings.NO_GOAL.format(id=digits))
    return goal


def is_reader(context: Context) -> bool:
    return context.actor.role in READERS


def today(context: Context) -> date:
    return local_day(context.now, context.zone)


SUGGESTIONS = {  # by handlers.match.PartnerState
    "new": Strings.SUGGEST_INTRO,
    "no-reps": Strings.SUGGEST_NO_REPS,
    "introduced": Strings.SUGGEST_INTRODUCED,
    "answered": Strings.SUGGEST_ANSWERED,
}


# --- commands ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AddGoal:
    text: str = param(
        Kind.TEXT,
        N_("What your city will achieve, tangible and checkable"),
        required=True,
        missing=Strings.TEXT_REQUIRED,
    )
    due: date | None = param(
        Kind.DATE, N_("When it is due, e.g. 2027-03-31 (three months from today if not given)"), key="due"
    )
    track: Track | None = param(Kind.TRACK, N_("The thematic track it belongs to"), key="track")
    with_: list[City] = param(
        Kind.CITIES, N_("Cities to work with on it, separated by semicolons: Porto;Brno"), key="with", name="with"
    )
    city: City | None = param(Kind.CITY, N_("Organisers: the city to act for"), key="city")


def add(context: Context, args: AddGoal) -> Reply:
    city = city_to_edit(context, args.city, "add goals")
    text = checked_text(args.text, MAX_TEXT, Strings.TEXT_TOO_LONG, "text")
    if not text:
        raise UsageError(Strings.TEXT_REQUIRED, field="text")
    set_on = today(context)
    due = checked_due(args.due, set_on) if args.due is not None else default_due(set_on)
    track = args.track
    partners = collaborators(city, args.with_)
    goal = goal_queries.add_goal(
        session=context.session,
        city_id=city.stored_id,
        text=text,
        track_id=track.id if track else None,
        due_on=due,
        member_id=context.actor.member.id,
        now=context.now,
    )
    if partners:
        goal_queries.set_collaborators(
            session=context.session, goal_id=goal.stored_id, city_ids=[p.stored_id for p in partners]
        )
    if acts_for(context, city):
        context.record(AuditKind.CITY_EDIT, "goal", goal.id, city.name, after={"goal": text, "for": city.name})
    reply = Reply.of(
        Strings.ADDED_ON_TRACK if track else Strings.ADDED,
        id=goal.id,
        city=city.name,
        text=text,
        due=show_date(due),
        track=track.name if track else "",
    )
    # the same rule as /match: an introduction suggested only where one can be made and was not made yet
    from handlers.match import partner_offer, partners_of

    known = partners_of(context.session, city.stored_id, [p.stored_id for p in partners])
    you = context.actor.member.city_id == city.id
    for partner in partners:
        state, values, buttons = partner_offer(context, known[partner.stored_id], partner.name, city, you=you)
        reply.add(SUGGESTIONS[state], name=partner.name, buttons=buttons, **values)
    return reply


def collaborators(city: City, partners: list[City]) -> list[City]:
    if len(partners) > MAX_COLLABORATORS:
        raise CommandError(Strings.WITH_TOO_MANY.format(max=MAX_COLLABORATORS), field="with")
    if any(partner.id == city.id for partner in partners):
        raise CommandError(Strings.WITH_OWN.format(name=city.name), field="with")
    return partners


@dataclass(frozen=True)
class UpdateGoal:
    goal: Goal = param(
        Kind.GOAL,
        N_("The goal's number, as /goal list shows it"),
        required=True,
        name="id",
        missing=Strings.ID_REQUIRED,
    )
    status: str = param(
        Kind.CHOICE,
        N_("How it goes"),
        required=True,
        choices=tuple(status.value for status in Status),
        spelled=(("on-track", "ontrack"), ("at-risk", "atrisk"), ("on-track", "on_track"), ("at-risk", "at_risk")),
        missing=Strings.STATUS_REQUIRED,
    )
    note: str = param(Kind.TEXT, N_("A word on how it goes, for the experts"), default="")
    learned: str | None = param(
        Kind.TEXT,
        N_("What you learned, when the goal is done or dropped"),
        key="learned",
        placeholder="<key learnings>",
    )
    city: City | None = param(Kind.CITY, N_("Organisers: the city to act for"), key="city")


def update(context: Context, args: UpdateGoal) -> Reply:
    goal = args.goal
    new = Status(args.status)
    city = queries.get_city(session=context.session, city_id=goal.city_id)
    assert city is not None  # a goal's city is a foreign key
    if args.city is not None and args.city.id != city.id:
        raise CommandError(
            Strings.OTHER_CITY_GOAL.format(id=goal.id, city=city.name, named=args.city.name), field="city"
        )
    acting = args.city is not None and acts_for(context, city)
    if context.actor.member.city_id != goal.city_id and not acting:
        raise CommandError(Strings.NOT_YOURS.format(city=city.name, id=goal.id))
    current = goal.status  # a Status, or new: nobody reported on it yet
    if not may_move(current, new):
        raise CommandError(Strings.CLOSED_ALREADY.format(id=goal.id, status=status_label(current), new=new.value))
    note = checked_text(args.note, MAX_NOTE, Strings.NOTE_TOO_LONG, "note") or None
    learned = args.learned
    if learned is not None:
        if new not in CLOSED:
            raise CommandError(Strings.LEARNED_WHEN_CLOSING, field="learned")
        learned = checked_text(learned, MAX_LEARNINGS, Strings.LEARNINGS_TOO_LONG, "learned") or None
    # A closed goal only takes a note or its learnings; pressing Done twice changes nothing.
    if current in CLOSED and note is None and learned is None:
        raise CommandError(Strings.SAME_CLOSED.format(id=goal.id, status=status_label(current)))
    # learnings are kept with their day, and a second learned= adds to the first rather than replacing it
    earlier = goal.learnings
    learnings = f"{today(context).isoformat()}: {learned}" if learned else None
    if learnings and earlier:
        learnings = f"{earlier}\n{learnings}"
    if learnings and len(learnings) > MAX_LEARNINGS:
        raise CommandError(
            Strings.LEARNINGS_FULL.format(id=goal.id, held=len(earlier or ""), max=MAX_LEARNINGS), field="learned"
        )
    goal_queries.record_update(
        session=context.session,
        goal=goal,
        status=new.value,
        note=note,
        learnings=learnings,
        member_id=context.actor.member.id,
        now=context.now,
    )
    if acting:
        context.record(AuditKind.CITY_EDIT, "goal", goal.id, city.name, after={"status": new.value, "for": city.name})
    template = Strings.UPDATED_NOTE if note else Strings.UPDATED
    reply = Reply.of(template, id=goal.id, city=city.name, status=status_label(new.value), note=note or "")
    if learned and earlier:
        reply.add(Strings.LEARNINGS_ADDED, learnings=learned, count=len((learnings or "").splitlines()))
    elif learned:
        reply.add(Strings.LEARNINGS_KEPT, learnings=learned)
    elif new in CLOSED and not goal.learnings:
        reply.add(Strings.ASK_LEARNINGS, city=city.name, id=goal.id, status=new.value)
    return reply


@dataclass(frozen=True)
class ListGoals:
    city: City | None = param(
        Kind.CITY, N_("Whose goals: a city (experts and organisers any); yours if not given"), placeholder="<name>|all"
    )
    all: bool = param(Kind.FLAG, N_("Every city's goals (experts and organisers)"), placeholder="")
    overdue: bool = param(Kind.FLAG, N_("Only goals past their due date"))
    track: Track | None = param(Kind.TRACK, N_("Only goals on this thematic track"), key="track")


def list_goals(context: Context, args: ListGoals) -> Reply:
    overdue, everyone = args.overdue, args.all
    member = context.actor.member
    city: City | None
    if args.city is not None:
        city = args.city
        if city.id != member.city_id and not is_reader(context):
            raise CommandError(Strings.OTHER_CITY_LIST)
    elif everyone or (is_reader(context) and member.city_id is None):
        if not is_reader(context):
            raise CommandError(Strings.OTHER_CITY_LIST)
        city = None
    else:
        if member.city_id is None:
            raise CommandError(Strings.LIST_WHOM)
        city = own_city(context, "list goals")
    track_id = args.track.id if args.track is not None else None
    day = today(context)
    city_id = city.id if city else None
    overdue_on = day if overdue else None
    total = goal_queries.count_goals(session=context.session, city_id=city_id, track_id=track_id, overdue_on=overdue_on)
    if total == 0:
        filtered = overdue or track_id is not None
        return Reply.of(Strings.LIST_EMPTY_FILTERED if filtered else Strings.LIST_EMPTY)
    rows = goal_queries.find_goals(
        session=context.session, limit=LIST_LIMIT, city_id=city_id, track_id=track_id, overdue_on=overdue_on
    )
    whom = city.name if city else Strings.ALL_CITIES
    title = (Strings.LIST_TITLE_OVERDUE if overdue else Strings.LIST_TITLE).format(whom=whom, count=total)
    reply = Reply(title=title)
    for row in rows:
        reply.sections.append(goal_section(context, row, today=day, show_city=city is None))
    if total > len(rows):
        reply.add(Strings.LIST_MORE, more=total - len(rows))
    return reply


def goal_section(context: Context, row: GoalRow, *, today: date, show_city: bool) -> Section:
    goal = row.goal
    late = is_overdue(status=goal.status, due=goal.due_on, today=today)
    # Each fact a whole message in the reader's language, its values left as values (they are typed by people).
    facts = ["*#{id}*"] + (["*{city}*"] if show_city else []) + ["{status}"]
    facts.append(str(Strings.LINE_DUE_LATE if late else Strings.LINE_DUE))
    facts += (["{track}"] if row.track else []) + ["{text}"]
    template = " · ".join(facts)
    if row.collaborators:
        template += "\n" + str(Strings.LINE_WITH_PARTNERS)
    if goal.learnings:
        template += "\n" + str(Strings.LINE_LEARNED)
    text = Text(
        template,
        id=goal.id,
        status=status_label(goal.status),
        due=show_date(goal.due_on),
        track=row.track.key if row.track else "",
        city=row.city.name,
        text=goal.text,
        partners=", ".join(row.collaborators),
        learnings=goal.learnings or "",
    )
    # Buttons only for those who may press them: the city's own reps, on goals still open.
    mine = context.actor.member.city_id == goal.city_id
    buttons = status_buttons(goal.stored_id) if mine and goal.status in OPEN else []
    return Section(text, buttons)


def export(context: Context, args: NoArguments) -> Reply:
    require(context, READERS, "export goals")
    rows = goal_queries.find_goals(session=context.session)
    if not rows:
        return Reply.of(Strings.EXPORT_EMPTY)
    day = today(context)
    authors = goal_queries.member_names(session=context.session, member_ids=[r.goal.created_by_id for r in rows])
    history = goal_queries.histories(session=context.session, goal_ids=[r.goal.stored_id for r in rows])
    content = goals_csv(rows, today=day, authors=authors, history=history)
    filename = f"goals-{day.isoformat()}.csv"
    cities = len({row.city.id for row in rows})
    reply = Reply.of(
        Strings.EXPORTED, goals=counted(len(rows), Strings.GOALS), cities=counted(cities, Strings.CITIES), file=filename
    )
    reply.files.append(Attachment(filename, content, "text/csv"))
    context.record(AuditKind.EXPORT, "goals", filename, after={"goals": len(rows), "cities": cities})
    return reply


def goals_csv(
    rows: list[GoalRow],
    *,
    today: date,
    authors: dict[int, str],
    history: dict[int, list[tuple[str, str | None, datetime]]],
) -> bytes:
    """The export's CSV: the same columns as the dashboard's goals.csv (`handlers.files.csv.GoalLine`)."""
    return csv_files.goals_csv(
        csv_files.goal_line(
            goal_id=row.goal.stored_id,
            city=row.city.name,
            country=row.city.country,
            cohort=row.cohort,
            track=row.track.key if row.track else None,
            text=row.goal.text,
            status=row.goal.status,
            due=row.goal.due_on,
            today=today,
            history=history.get(row.goal.stored_id, []),
            collaborators=row.collaborators,
            learnings=row.goal.learnings,
            created_at=row.goal.created_at,
            created_by=authors.get(row.goal.created_by_id) if row.goal.created_by_id else None,
            updated_at=row.goal.updated_at,
            closed_at=row.goal.closed_at,
        )
        for row in rows
    )


MAX_CHART_CITIES = 40  # bars in one picture; beyond, the cities with most to look at


@dataclass(frozen=True)
class ChartGoals:
    cohort: Cohort | None = param(Kind.COHORT, N_("Only this cohort's cities"), key="cohort")
    track: Track | None = param(Kind.TRACK, N_("Only goals on this thematic track"), key="track")
    city: City | None = param(Kind.CITY, N_("One city's goals, a bar per track"), key="city")
    by: str | None = param(
        Kind.CHOICE, N_("One bar per city instead of per cohort and track"), key="by", choices=("city",)
    )


def chart(context: Context, args: ChartGoals) -> Reply:
    require(context, READERS, "chart goals")
    if args.city is not None and args.by is not None:
        raise CommandError(Strings.CHART_CITY_OR_BY, field="by")
    cohort, track, city = args.cohort, args.track, args.city
    day = today(context)
    counts = goal_queries.progress_by(
        session=context.session,
        today=day,
        cohort_id=cohort.id if cohort else None,
        track_id=track.id if track else None,
        city_id=city.id if city else None,
    )
    if not counts:
        return Reply.of(Strings.CHART_EMPTY)
    if city is not None:
        rows = render(Strings.CHART_OF_CITY, city=city.name)
        bars = bars_by(counts, lambda c: c.track or Strings.NO_TRACK_LABEL, str)
        if len(bars) > 1:
            bars.insert(0, total_bar(Strings.CHART_ALL_TRACKS_BAR, bars))
    elif args.by is not None:
        rows = render(Strings.CHART_PER_CITY)
        bars = bars_by(counts, lambda c: c.city, name_key)
    else:
        rows = render(Strings.CHART_PER_TRACK_OF_COHORT if cohort else Strings.CHART_PER_TRACK)

        def cohort_and_track(count: ProgressCount) -> str:
            track_label = count.track or Strings.NO_TRACK_LABEL
            return track_label if cohort else f"{count.cohort or Strings.NO_COHORT_LABEL} · {track_label}"

        bars = bars_by(counts, cohort_and_track, name_key)
    shown_of = len(bars)
    if len(bars) > MAX_CHART_CITIES:
        most = sorted(bars, key=lambda b: (-(b.overdue + b.not_reported), name_key(b.label)))[:MAX_CHART_CITIES]
        bars = sorted(most, key=lambda b: name_key(b.label))
    # Which rows, cohort and track the chart shows: each a whole message of its own, given as a value.
    scope = {
        "rows": rows,
        "cohort": render(Strings.CHART_COHORT, cohort_name=cohort.name)
        if cohort
        else render(Strings.CHART_ALL_COHORTS),
        "track": render(Strings.CHART_TRACK, track_name=track.key) if track else render(Strings.CHART_ALL_TRACKS),
        "day": show_date(day),
    }
    title = Text(Strings.CHART_TITLE, **scope).plain()
    png = progress_chart(
        bars,
        title=title,
        words=ChartWords(
            segments=Strings.CHART_SEGMENTS,
            axis=Strings.CHART_AXIS,
            bar_end=Strings.CHART_BAR_END,
            dropped=Strings.CHART_BAR_DROPPED,
        ),
    )
    filename = f"goal-progress-{day.isoformat()}.png"
    total = total_bar("", bars_by(counts, lambda c: "", str))
    reply = Reply.of(
        Strings.CHART_DONE, goals=counted(total.counted + total.dropped, Strings.GOALS), file=filename, **scope
    )
    reply.add(
        Strings.CHART_SUMMARY,
        done=total.done,
        counted=total.counted,
        on_track=total.on_track,
        at_risk=total.at_risk,
        new=total.not_reported,
        overdue=total.overdue,
        dropped=total.dropped,
    )
    if len(bars) < shown_of:
        reply.add(Strings.CHART_CITIES_CUT, shown=len(bars), total=shown_of)
    reply.files.append(Attachment(filename, png, "image/png"))
    return reply


def bars_by(
    counts: list[ProgressCount], label_of: Callable[[ProgressCount], str], order: Callable[[str], str]
) -> list[ProgressBar]:
    """One bar per label, each goal counted once by its standing (`core.goals`)."""
    per: dict[str, GoalCounts] = defaultdict(GoalCounts)
    for count in counts:
        per[label_of(count)] += GoalCounts.of([count.standing], [count.goals])
    return [as_bar(label, tally) for label, tally in sorted(per.items(), key=lambda item: order(item[0]))]


def as_bar(label: str, counts: GoalCounts) -> ProgressBar:
    return ProgressBar(label, **{name: getattr(counts, name) for name in GoalCounts.FIELDS.values()})


def total_bar(label: str, bars: list[ProgressBar]) -> ProgressBar:
    return as_bar(label, sum(bars, GoalCounts()))


# --- follow-ups the scheduler runs -------------------------------------------------------------------


def due_checkins(services: Services, session: Session | None = None) -> list[Notice]:
    """Check-in DMs due now, claimed as sent in `session`'s transaction (its own when none is given): the
    caller queues them in that same transaction, so each goes out once and none is lost."""
    if session is None:
        with unit_of_work(services.engine) as own:
            return due_checkins(services, own)
    now = services.clock.now()
    zone = services.settings.default_tz  # the programme's calendar decides which day it is
    day = local_day(now, zone)
    notices: list[Notice] = []
    horizon = day + relativedelta(months=1) + timedelta(days=1)
    rows = goal_queries.find_goals(session=session, open_only=True, due_until=horizon)
    sent = goal_queries.checkins_sent(session=session, goal_ids=[row.goal.id for row in rows])
    for row in rows:
        goal = row.goal
        kind = checkin_due(
            due=goal.due_on, set_on=local_day(goal.created_at, zone), today=day, sent=sent.get(goal.stored_id, set())
        )
        if kind is None:
            continue
        reps = queries.reps_of(session=session, city_id=row.city.stored_id)
        if not reps:
            continue  # nobody to ask yet; a rep approved before the day still gets it
        if not goal_queries.claim_checkin(session=session, goal_id=goal.stored_id, kind=kind.value, now=now):
            continue
        notices.append(Notice(tuple(rep.external_id for rep in reps), checkin_reply(row, kind, day)))
    return notices


def checkin_reply(row: GoalRow, kind: CheckinKind, day: date) -> Reply:
    goal = row.goal
    if kind == CheckinKind.MONTH_BEFORE:
        template = Strings.CHECKIN_MONTH
        when = ""
    else:
        template = Strings.CHECKIN_DUE
        when = Strings.CHECKIN_TODAY if goal.due_on == day else Strings.CHECKIN_PAST.format(due=show_date(goal.due_on))
    reply = Reply()
    reply.add(
        template,
        id=goal.id,
        city=row.city.name,
        due=show_date(goal.due_on),
        when=when,
        text=goal.text,
        buttons=status_buttons(goal.stored_id),
    )
    return reply


def weekly_digest(
    services: Services, *, only: Collection[str] | None = None, session: Session | None = None
) -> list[Notice]:
    """One digest per expert (or per expert in `only`), each counted in the expert's own time zone."""
    if session is None:
        with unit_of_work(services.engine) as own:
            return weekly_digest(services, only=only, session=own)
    now = services.clock.now()
    notices: list[Notice] = []
    experts = queries.members_with_roles(session=session, roles=[Role.EXPERT])
    if only is not None:
        experts = [expert for expert in experts if expert.external_id in only]
    if not experts:
        return notices
    # One wide net for every zone; each expert's own day is applied below.
    widest = local_day(now, ZoneInfo("Etc/GMT-14")) + timedelta(days=DUE_SOON_DAYS)
    rows = goal_queries.find_goals(session=session, due_until=widest, changed_since=now - timedelta(days=CHANGED_DAYS))
    for expert in experts:
        day = local_day(now, member_zone(expert, services.settings.default_tz))
        # Written in the expert's language: its lines are put together here, so the words must be theirs now.
        with reading(languages.for_member(expert, None, services.settings)):
            notices.append(Notice((expert.external_id,), digest_reply(rows, today=day, services=services)))
    return notices


def digest_reply(rows: list[GoalRow], *, today: date, services: Services) -> Reply:
    now = services.clock.now()
    reply = Reply(title=Strings.DIGEST_TITLE.format(today=show_date(today)))
    per_cohort: dict[str, dict[str, list[GoalRow]]] = defaultdict(lambda: defaultdict(list))
    for row in rows:
        goal = row.goal
        buckets = digest_buckets(status=goal.status, due=goal.due_on, updated_at=goal.updated_at, today=today, now=now)
        cohort = row.cohort or Strings.NO_COHORT_LABEL
        if buckets.due_soon:
            per_cohort[cohort]["soon"].append(row)
        if buckets.overdue:
            per_cohort[cohort]["overdue"].append(row)
        if buckets.changed:
            per_cohort[cohort]["changed"].append(row)
    if not per_cohort:
        reply.add(Strings.DIGEST_NOTHING, soon=DUE_SOON_DAYS, changed=CHANGED_DAYS)
        return reply
    headings = {
        "soon": Strings.DIGEST_DUE_SOON.format(days=DUE_SOON_DAYS),
        "overdue": Strings.DIGEST_OVERDUE,
        "changed": Strings.DIGEST_CHANGED.format(days=CHANGED_DAYS),
    }
    for cohort in sorted(per_cohort, key=name_key):
        lines: list[str] = [Strings.DIGEST_COHORT]
        values: dict[str, object] = {"cohort": cohort}
        for bucket, heading in headings.items():
            found = per_cohort[cohort].get(bucket, [])
            if not found:
                continue
            lines.append(f"_{heading}_ ({len(found)})")
            for i, row in enumerate(found[:DIGEST_PER_BUCKET]):
                prefix = f"{bucket}{i}_"
                item: str = Strings.DIGEST_ITEM
                for field in ("id", "city", "status", "due", "text"):
                    item = item.replace("{" + field + "}", "{" + prefix + field + "}")
                lines.append("• " + item)
                values.update(
                    {
                        prefix + "id": row.goal.id,
                        prefix + "city": row.city.name,
                        prefix + "status": status_label(row.goal.status),
                        prefix + "due": show_date(row.goal.due_on),
                        prefix + "text": shorten(row.goal.text, DIGEST_TEXT),
                    }
                )
            if len(found) > DIGEST_PER_BUCKET:
                lines.append(Strings.DIGEST_MORE.format(more=len(found) - DIGEST_PER_BUCKET))
        reply.sections.append(Section(Text("\n".join(lines), **values)))
    # The picture of progress is one press away: it arrives as a PNG in Slack, a file in the console.
    reply.sections[-1].buttons.append(Button(Strings.DIGEST_CHART, "/goal chart", "primary"))
    return reply


def dashboard(context: Context, args: NoArguments) -> Reply:
    """A private link to the web dashboard (handlers.dashboard)."""
    from handlers import dashboard as web

    require(context, READERS, "open the dashboard")
    reply = Reply.of(web.Strings.LINK, url=web.new_link(context))
    reply.add(web.Strings.LINK_PRIVATE)
    return reply


def reset_dashboard(context: Context, args: NoArguments) -> Reply:
    """`/goal dashboard reset`: every dashboard link the actor got stops working at once."""
    from handlers import dashboard as web

    require(context, READERS, "open the dashboard")
    return Reply.of(web.Strings.RESET, n=web.revoke(context))


COMMANDS: dict[str, Command] = {
    c.name: c
    for c in (
        Command(
            "add",
            "/goal add",
            N_("Reps: set a goal for your city, due in three months unless given; with= names cities to work with."),
            add,
            arguments=AddGoal,
        ),
        Command(
            "list",
            "/goal list",
            N_("Your city's goals; experts and organisers see any city's, or all."),
            list_goals,
            aliases=("ls", "show"),
            arguments=ListGoals,
        ),
        Command(
            "update",
            "/goal update",
            N_("Reps: say how a goal of your city goes; learned= keeps key learnings when it closes."),
            update,
            arguments=UpdateGoal,
        ),
        Command(
            "export",
            "/goal export",
            N_("Experts and organisers: every goal as a CSV file."),
            export,
            arguments=NoArguments,
        ),
        Command(
            "chart",
            "/goal chart",
            N_("Experts and organisers: a picture of progress per cohort and track, per city, or of one city."),
            chart,
            arguments=ChartGoals,
        ),
        Command(
            "dashboard",
            "/goal dashboard",
            N_("Experts and organisers: a private link to the programme's web dashboard; reset revokes it."),
            dashboard,
            arguments=NoArguments,
            variants=(
                Variant(
                    "dashboard-reset",
                    "reset",
                    N_("Revoke your dashboard links; they stop working at once."),
                    arguments=NoArguments,
                    run=reset_dashboard,
                ),
            ),
        ),
    )
}
