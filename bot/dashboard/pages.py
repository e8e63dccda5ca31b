"""The dashboard's pages as HTML (Jinja2, autoescaped) and its goals as CSV, from the neutral rows of
handlers.dashboard. Nothing here reads the database."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from urllib.parse import urlencode

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from bot.dashboard import charts
from core.goals import answer_label
from handlers import dashboard as data
from handlers.files import csv as csv_files

CSS_PATH = "/dashboard/static/dashboard.css"
NAV = (("overview", "Overview", "/"), ("goals", "Goals", "/goals"), ("network", "Network", "/network"))
NAV += (("events", "Events", "/events"),)
SORT_LABELS = (("due", "due date"), ("city", "city"), ("status", "status"), ("cohort", "cohort"), ("track", "track"))


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("bot.dashboard", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["labels"] = data.LABELS
    env.globals["outcome"] = answer_label
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
            nav=[(key, label, base + path) for key, label, path in NAV],
            current=current,
            who=who.member.display_name,
            role=who.role.value,
            title=title,
            when=when,
            zone=str(who.zone),
            **values,
        )
    )
    return page.encode()


def overview_html(base: str, who: data.Viewer, overview: data.Overview) -> bytes:
    gaps = (
        ("Cities with no representative", overview.no_reps),
        ("Cities with no goal", overview.no_goals),
        ("Cities never introduced", overview.no_introductions),
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
        title="Overview",
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
        title="Goals",
        current="goals",
        data=page,
        statuses=data.STATUS_CHOICES,
        sorts=SORT_LABELS,
        sort_label=dict(SORT_LABELS)[chosen.get("sort", "due")],
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
        title="Network",
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
        title="Events",
        current="events",
        data=events,
        organiser=who.organiser,
    )
