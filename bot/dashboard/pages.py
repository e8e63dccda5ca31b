"""The dashboard's pages as HTML (Jinja2, autoescaped) and its goals as CSV, from the neutral rows of
handlers.dashboard. Nothing here reads the database.

Pages are written in the language of whoever reads now (core.i18n: bot.dashboard.app sets the link owner's).
Templates mark their sentences with Jinja's i18n extension, installed with our catalogue's callables:
`{{ _("Goals by {name}", name=x) }}`, `{{ ngettext("{n} goal", "{n} goals", n) }}` — whole messages with `{values}`
as everywhere else, gathered by `bash .ci/i18n extract` (babel.cfg reads the templates). A message's own text is
written into the page as it is (no translation may bring `<`, `>`, `&` or `@`; quotes are escaped so a message can
stand in an attribute); its values are escaped, as every value in an autoescaped template."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from urllib.parse import urlencode

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from bot.dashboard import charts
from core import i18n
from core.goals import answer_label
from core.i18n import N_, pN_
from handlers import dashboard as data
from handlers.files import csv as csv_files

CSS_PATH = "/dashboard/static/dashboard.css"


class Strings:
    """The page titles and words the dashboard's Python gives its templates (the templates hold the rest)."""

    OVERVIEW = pN_("dashboard page", "Overview")
    GOALS = pN_("dashboard page", "Goals")
    NETWORK = pN_("dashboard page", "Network")
    EVENTS = pN_("dashboard page", "Events")
    NO_REPS = N_("Cities with no representative")
    NO_GOALS = N_("Cities with no goal")
    NO_INTRODUCTIONS = N_("Cities never introduced")
    SORT_DUE = pN_("sort goals by", "due date")
    SORT_CITY = pN_("sort goals by", "city")
    SORT_STATUS = pN_("sort goals by", "status")
    SORT_COHORT = pN_("sort goals by", "cohort")
    SORT_TRACK = pN_("sort goals by", "track")


# A viewer's role as the page names it (only these open a dashboard; another is shown as it is stored).
ROLES = {
    "expert": pN_("role", "expert"),
    "organiser": pN_("role", "organiser"),
    "admin": pN_("role", "admin"),
}
NAV = (
    ("overview", Strings.OVERVIEW, "/"),
    ("goals", Strings.GOALS, "/goals"),
    ("network", Strings.NETWORK, "/network"),
    ("events", Strings.EVENTS, "/events"),
)
SORT_LABELS = (
    ("due", Strings.SORT_DUE),
    ("city", Strings.SORT_CITY),
    ("status", Strings.SORT_STATUS),
    ("cohort", Strings.SORT_COHORT),
    ("track", Strings.SORT_TRACK),
)


def _text(translated: str) -> Markup:
    """A message's own words, as page markup: a translation brings no `<`, `>`, `&` (core.i18n.safe_translation);
    its quotes are escaped so it may stand in an attribute."""
    return Markup(translated.replace('"', "&quot;"))  # noqa: S704 - our message, and nothing in it is markup


def gettext(message: str, **values: object) -> Markup:
    """`{{ _("…{value}…", value=x) }}`: the message in the reader's language, its values escaped."""
    return _text(i18n.current().gettext(message)).format(**{k: i18n.value_text(v) for k, v in values.items()})


def pgettext(context: str, message: str, **values: object) -> Markup:
    return _text(i18n.current().gettext(message, context)).format(**{k: i18n.value_text(v) for k, v in values.items()})


def ngettext(singular: str, plural: str, count: int, **values: object) -> Markup:
    """`{{ ngettext("{n} goal", "{n} goals", count) }}`: the form the reader's language takes for the count, `{n}`."""
    shown = {k: i18n.value_text(v) for k, v in values.items()}
    return _text(i18n.current().ngettext(singular, plural, count)).format(**{"n": count, **shown})


def code(text: str) -> Markup:
    """A command or a column's name inside a sentence: the same in every language."""
    return Markup("<code>{}</code>").format(text)


def emphasis(text: str) -> Markup:
    return Markup("<em>{}</em>").format(text)


def link(href: str) -> Markup:
    """Where a link begins inside a sentence (`{link}words{end}`), so the sentence stays one message."""
    return Markup('<a href="{}">').format(href)


EVENT_STATUS = {"cancelled": pN_("event", "cancelled")}


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("bot.dashboard", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]  # the i18n extension adds it
        gettext=gettext, ngettext=ngettext, newstyle=False, pgettext=pgettext
    )
    env.globals["labels"] = data.LABELS
    env.globals["outcome"] = answer_label
    env.globals["code"] = code
    env.globals["emphasis"] = emphasis
    env.globals["link"] = link
    env.globals["end_link"] = Markup("</a>")
    env.globals["event_status"] = lambda status: EVENT_STATUS.get(status, status)
    return env


def render(template: str, *, base: str, who: data.Viewer, title: str, current: str, **values: object) -> bytes:
    def when(moment: datetime) -> str:
        """Every time a page shows, in the reader's zone and saying which (`2026-11-22 10:00 CET`)."""
        return moment.astimezone(who.zone).strftime("%Y-%m-%d %H:%M %Z")

    page = (
        environment()
        .get_template(template)
        .render(
            base=base,
            css=CSS_PATH,
            nav=[(key, label.translated(), base + path) for key, label, path in NAV],
            current=current,
            who=who.member.display_name,
            role=ROLES.get(who.role.value, who.role.value),
            title=title,
            lang=i18n.current().code,
            when=when,
            zone=str(who.zone),
            **values,
        )
    )
    return page.encode()


def overview_html(base: str, who: data.Viewer, overview: data.Overview) -> bytes:
    gaps = (
        (Strings.NO_REPS.translated(), overview.no_reps),
        (Strings.NO_GOALS.translated(), overview.no_goals),
        (Strings.NO_INTRODUCTIONS.translated(), overview.no_introductions),
    )
    high = max((sum(week.get(s, 0) for s in charts.DRAWN) for row in overview.rows for week in row.weeks), default=1)
    small = [
        charts.small_chart(row, high=high, label=f"{row.cohort} · {row.track}", ident=f"small-{i}")
        for i, row in enumerate(overview.rows)
    ]
    return render(
        "overview.html",
        base=base,
        who=who,
        title=Strings.OVERVIEW.translated(),
        current="overview",
        data=overview,
        columns=data.COLUMNS,
        gaps=gaps,
        weeks_chart=charts.weeks_chart(overview.weeks, zone=str(who.zone)),
        small=small,
    )


def goals_query(chosen: dict[str, str], **changes: object) -> str:
    values = {**chosen, **{key: str(value) for key, value in changes.items()}}
    return urlencode({key: value for key, value in values.items() if value})


def goals_html(base: str, who: data.Viewer, page: data.GoalsPage) -> bytes:
    chosen = page.chosen
    filtered = any(key in chosen for key in ("cohort", "track", "status", "due_from", "due_to", "city"))
    return render(
        "goals.html",
        base=base,
        who=who,
        title=Strings.GOALS.translated(),
        current="goals",
        data=page,
        statuses=data.STATUS_CHOICES,
        sorts=[(value, label.translated()) for value, label in SORT_LABELS],
        sort_label=dict(SORT_LABELS)[chosen.get("sort", "due")].translated(),
        filtered=filtered,
        csv_href=f"{base}/goals.csv?{goals_query(chosen)}",
        page_href=lambda number: f"{base}/goals?{goals_query(chosen, page=number)}",
    )


def goals_csv(page: data.GoalsPage) -> bytes:
    """The filtered goals in the page's order, with the columns of /goal export (handlers.files.csv.GoalLine)."""
    return csv_files.goals_csv(
        (
            csv_files.goal_line(
                goal_id=goal.goal_id,
                city=goal.city,
                country=goal.country,
                cohort=None if goal.cohort == data.NO_COHORT else goal.cohort,
                track=None if goal.track == data.NO_TRACK else goal.track,
                text=goal.text,
                status=goal.status,
                due=goal.due_on,
                today=page.today,
                history=[(entry.status, entry.note, entry.when) for entry in goal.history],
                collaborators=goal.collaborators,
                learnings=goal.learnings,
                created_at=goal.created_at,
                created_by=goal.created_by,
                updated_at=goal.updated_at,
                closed_at=goal.closed_at,
            )
            for goal in page.rows
        ),
        ordered=True,
    )


def city_html(base: str, who: data.Viewer, city: data.CityPage) -> bytes:
    timeline = charts.goal_timeline(city.goals, today=city.today, zone=who.zone) if city.goals else None
    return render("city.html", base=base, who=who, title=city.name, current="city", data=city, timeline=timeline)


def network_html(base: str, who: data.Viewer, network: data.NetworkPage, svg: str, form: data.NetworkForm) -> bytes:
    return render(
        "network.html",
        base=base,
        who=who,
        title=Strings.NETWORK.translated(),
        current="network",
        data=network,
        form=form,
        svg=Markup(svg),  # noqa: S704 - drawn by handlers.files.network, which escapes every name it writes
    )


def events_html(base: str, who: data.Viewer, events: list[data.EventView]) -> bytes:
    return render(
        "events.html",
        base=base,
        who=who,
        title=Strings.EVENTS.translated(),
        current="events",
        data=events,
        organiser=who.organiser,
    )
