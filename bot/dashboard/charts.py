"""The dashboard's pictures as inline SVG, drawn on the server from the neutral rows of handlers.dashboard.

No script and no inline style (the pages' Content-Security-Policy allows neither): every look is an SVG
presentation attribute (`fill="#2e7d32"`) or a class of the one stylesheet. Each picture is a `role="img"` with a
`<title>` and a `<desc>` that say what it shows in words, and every mark has its own `<title>` (a tooltip, and
what a screen reader says); the tables beside them keep every number. Colours are those of `/goal chart`, and the
two states that matter most apart from colour carry a pattern too: dots for not yet reported, hatching for
overdue. Nothing is measured in the browser: labels go into gutters the layout keeps free, never over a mark.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from markupsafe import Markup, escape

from core.goals import NEW, OVERDUE, status_label
from core.i18n import ENGLISH, N_, current, nN_
from handlers import dashboard as data

# Bottom to top in a stacked bar; dropped goals are not work done or to do, so like /goal chart they are not drawn.
DRAWN = ("done", "on-track", "at-risk", NEW, OVERDUE)
COLOURS = {
    "done": "#1565c0",
    "on-track": "#2e7d32",
    "at-risk": "#b45309",
    NEW: "#78909c",
    OVERDUE: "#c62828",
    "dropped": "#9e9e9e",
}
PATTERNED = {NEW: "dots", OVERDUE: "hatch"}
INK = "#1a1a1a"
MUTED = "#4a4a4a"
GRID = "#d9d9d9"
FONT = 12


class Strings:
    """Every word of the pictures, as whole messages in the reader's language (titles, descriptions, tooltips,
    axis labels). A count that chooses a plural form is `n`; where English has one form for both, so does its id."""

    WEEKS_TITLE = N_("Goals at the end of each of the last twelve weeks")
    WEEKS_AXIS = N_("Week ending ({zone})")
    WEEKS_BAR = nN_("Week ending {day}: {n} {status}", "Week ending {day}: {n} {status}")
    WEEKS_NONE = N_("No goals yet.")
    WEEKS_DESC = N_(
        "A stacked bar per week, from the bottom: done, on-track, at-risk, not yet reported, overdue. "
        "In the week ending {first_day}: {first_counts}; in the week ending {last_day}: {last_counts}. "
        "Dropped goals ({dropped} now) are not drawn; the table below gives every number."
    )
    STATUS_COUNT = nN_("{n} {status}", "{n} {status}")
    SMALL_TITLE = N_("{label}: twelve weeks")
    SMALL_DESC = nN_(
        "Twelve weeks ago {n} goals, {then_done} done; now {now}, {now_done} done, {overdue} overdue.",
        "Twelve weeks ago {n} goals, {then_done} done; now {now}, {now_done} done, {overdue} overdue.",
    )
    TIMELINE_TITLE = N_("The city's goals on a timeline")
    TIMELINE_GOAL = nN_(
        "#{id} {text} — set {start}, due {due}, {status}; {n} updates",
        "#{id} {text} — set {start}, due {due}, {status}; {n} updates",
    )
    TIMELINE_GOAL_OVERDUE = nN_(
        "#{id} {text} — set {start}, due {due}, {status}, overdue; {n} updates",
        "#{id} {text} — set {start}, due {due}, {status}, overdue; {n} updates",
    )
    TIMELINE_UPDATE = N_("#{id}, {when}: {status}")
    TIMELINE_UPDATE_NOTE = N_("#{id}, {when}: {status}: {note}")
    TIMELINE_TODAY = N_("today, {day}")
    TIMELINE_HOW = N_(
        "A dot is an update, in the colour of the status it reported; a diamond is the due date, hatched when overdue."
    )
    TIMELINE_ZONE = N_("Days in {zone}.")
    TIMELINE_DESC = nN_(
        "{n} goals from {first} to {last}: {done} done, {overdue} overdue. "
        "Each row runs from the day the goal was set to its due date; the table below lists every goal and update.",
        "{n} goals from {first} to {last}: {done} done, {overdue} overdue. "
        "Each row runs from the day the goal was set to its due date; the table below lists every goal and update.",
    )


def _short_day(day: date, skeleton: str, english: str) -> str:
    """An axis label in the reader's words: `08 Dec` / `Dec 2026` in English as always, CLDR's otherwise."""
    code = current().code
    if code in (ENGLISH, "xx"):
        return day.strftime(english)
    from babel.dates import format_skeleton  # loaded with the first picture not in English

    return str(format_skeleton(skeleton, day, locale=code.replace("-", "_")))


def _fill(standing: str, prefix: str | None) -> str:
    if prefix and standing in PATTERNED:
        return f"url(#{prefix}-{PATTERNED[standing]})"
    return COLOURS[standing]


def _patterns(prefix: str) -> str:
    """Dots on the not-yet-reported colour, white hatching on the overdue colour."""
    return (
        f'<defs><pattern id="{prefix}-dots" width="6" height="6" patternUnits="userSpaceOnUse">'
        f'<rect width="6" height="6" fill="{COLOURS[NEW]}"/><circle cx="3" cy="3" r="1.2" fill="#ffffff"/></pattern>'
        f'<pattern id="{prefix}-hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        f'patternTransform="rotate(45)"><rect width="6" height="6" fill="{COLOURS[OVERDUE]}"/>'
        f'<line x1="0" y1="0" x2="0" y2="6" stroke="#ffffff" stroke-width="2"/></pattern></defs>'
    )


def _nice_top(value: int) -> tuple[int, int]:
    """A round top for an axis at or above `value`, and the step between its ticks (four or five of them)."""
    if value <= 5:
        return max(value, 1), 1
    magnitude = 10 ** int(math.floor(math.log10(value / 4)))
    for factor in (1, 2, 2.5, 5, 10):
        step = int(factor * magnitude) or 1
        if step * 5 >= value:
            return step * math.ceil(value / step), step
    return value, max(1, value // 4)


def _legend(x: float, y: float, prefix: str | None, width: float, states: Sequence[str] = DRAWN) -> tuple[str, float]:
    """Swatches and words for `states`, wrapped to `width`; returns the markup and its height."""
    parts, cx, cy = [], x, y
    for standing in states:
        label = status_label(standing)
        item = 18 + len(label) * FONT * 0.6 + 16
        if cx > x and cx + item > x + width:
            cx, cy = x, cy + FONT + 8
        parts.append(
            f'<rect x="{cx:.1f}" y="{cy - FONT + 2:.1f}" width="12" height="12" fill="{_fill(standing, prefix)}" '
            f'stroke="{INK}" stroke-width="0.5"/>'
            f'<text x="{cx + 17:.1f}" y="{cy:.1f}" font-size="{FONT}" fill="{INK}">{escape(label)}</text>'
        )
        cx += item
    return "".join(parts), cy - y + FONT + 6


def weeks_chart(weeks: Sequence[data.WeekRow], *, zone: str) -> Markup:
    """The programme's goals at the end of each of the last twelve weeks, a stacked bar per week."""
    prefix = "weeks"
    width, left, right, top, plot_h = 760, 52, 12, 12, 220
    plot_w = width - left - right
    totals = [sum(week.counts.get(s, 0) for s in DRAWN) for week in weeks]
    high, step = _nice_top(max(totals, default=0))
    scale = plot_h / high
    band = plot_w / max(len(weeks), 1)
    bar = band * 0.68
    parts = [_patterns(prefix)]
    for tick in range(0, high + 1, step):
        y = top + plot_h - tick * scale
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>')
        parts.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="{FONT}" fill="{MUTED}" text-anchor="end">{tick}</text>'
        )
    for i, week in enumerate(weeks):
        x = left + i * band + (band - bar) / 2
        base = float(top + plot_h)
        ending = week.ending.isoformat()
        for standing in DRAWN:
            count = week.counts.get(standing, 0)
            if not count:
                continue
            h = count * scale
            base -= h
            said = Strings.WEEKS_BAR.format(day=ending, n=count, status=status_label(standing))
            parts.append(
                f'<rect x="{x:.1f}" y="{base:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                f'fill="{_fill(standing, prefix)}" stroke="#ffffff" stroke-width="0.75">'
                f"<title>{escape(said)}</title></rect>"
            )
        if totals[i]:
            parts.append(
                f'<rect x="{x:.1f}" y="{base:.1f}" width="{bar:.1f}" height="{top + plot_h - base:.1f}" '
                f'fill="none" stroke="{INK}" stroke-width="0.75"/>'
            )
        parts.append(
            f'<text x="{x + bar / 2:.1f}" y="{top + plot_h + 16}" font-size="{FONT - 1}" fill="{MUTED}" '
            f'text-anchor="middle">{escape(_short_day(week.ending, "ddMMM", "%d %b"))}</text>'
        )
    parts.append(
        f'<line x1="{left}" x2="{width - right}" y1="{top + plot_h}" y2="{top + plot_h}" stroke="{INK}"/>'
        f'<text x="{left}" y="{top + plot_h + 34}" font-size="{FONT}" fill="{MUTED}">'
        f"{escape(Strings.WEEKS_AXIS.format(zone=zone))}</text>"
    )
    legend, legend_h = _legend(left, top + plot_h + 58, prefix, plot_w)
    parts.append(legend)
    height = top + plot_h + 58 + legend_h
    first, last = (weeks[0], weeks[-1]) if weeks else (None, None)
    title = str(Strings.WEEKS_TITLE)
    desc = _weeks_desc(first, last)
    return _svg(prefix, width, height, title, desc, "".join(parts), css="chart chart-weeks")


def _weeks_desc(first: data.WeekRow | None, last: data.WeekRow | None) -> str:
    if first is None or last is None:
        return str(Strings.WEEKS_NONE)

    def counts(week: data.WeekRow) -> str:  # one count per status, in the order of the bars
        return ", ".join(Strings.STATUS_COUNT.format(n=week.counts.get(s, 0), status=status_label(s)) for s in DRAWN)

    return Strings.WEEKS_DESC.format(
        first_day=first.ending.isoformat(),
        first_counts=counts(first),
        last_day=last.ending.isoformat(),
        last_counts=counts(last),
        dropped=last.counts.get("dropped", 0),
    )


def small_chart(row: data.CountRow, *, high: int, label: str, ident: str) -> Markup:
    """One cohort and track's twelve weeks, small: a thin stacked column per week, on the scale all rows share."""
    width, height, gap = 132, 34, 1
    column = (width - gap * 11) / 12
    scale = (height - 2) / max(high, 1)
    parts = []
    for i, counts in enumerate(row.weeks):
        x = i * (column + gap)
        base = float(height)
        for standing in DRAWN:
            count = counts.get(standing, 0)
            if count:
                h = count * scale
                base -= h
                parts.append(
                    f'<rect x="{x:.1f}" y="{base:.1f}" width="{column:.1f}" height="{h:.1f}" '
                    f'fill="{COLOURS[standing]}"/>'
                )
    parts.append(f'<line x1="0" x2="{width}" y1="{height - 0.5}" y2="{height - 0.5}" stroke="{INK}"/>')
    now = row.weeks[-1] if row.weeks else {}
    then = row.weeks[0] if row.weeks else {}
    desc = Strings.SMALL_DESC.format(
        n=sum(then.get(s, 0) for s in DRAWN),
        then_done=then.get("done", 0),
        now=sum(now.get(s, 0) for s in DRAWN),
        now_done=now.get("done", 0),
        overdue=now.get(OVERDUE, 0),
    )
    title = Strings.SMALL_TITLE.format(label=label)
    return _svg(ident, width, height, title, desc, "".join(parts), css="chart chart-small")


def goal_timeline(goals: Sequence[data.GoalView], *, today: date, zone: ZoneInfo) -> Markup:
    """A city's goals on one time axis: each a row from the day it was set to its due date, a dot at each
    update in the colour of the status it reported, a diamond on the due date (red when overdue), today marked."""
    prefix = "timeline"
    row_h, left, right, top = 26, 58, 16, 30
    width = 760
    plot_w = width - left - right
    starts = [g.created_at.astimezone(zone).date() for g in goals]
    ends = [g.due_on for g in goals] + [today]
    first = min(starts + [today]) - timedelta(days=7)
    last = max(ends) + timedelta(days=7)
    span = max((last - first).days, 1)

    def x_of(day: date) -> float:
        return left + (day - first).days / span * plot_w

    parts = [_patterns(prefix)]
    plot_bottom = top + row_h * len(goals)
    # months along the top, as gridlines
    month = date(first.year, first.month, 1)
    while month <= last:
        if month >= first and x_of(month) + 52 <= width:  # a month's name stays within the picture
            x = x_of(month)
            parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top - 4}" y2="{plot_bottom}" stroke="{GRID}"/>')
            parts.append(
                f'<text x="{x + 3:.1f}" y="{top - 8}" font-size="{FONT - 1}" fill="{MUTED}">'
                f"{escape(_short_day(month, 'yMMM', '%b %Y'))}</text>"
            )
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    for i, goal in enumerate(goals):
        y = top + row_h * i + row_h / 2
        start, due = goal.created_at.astimezone(zone).date(), goal.due_on
        standing = OVERDUE if goal.overdue else goal.status
        end = goal.closed_at.astimezone(zone).date() if goal.closed_at else today
        said = (Strings.TIMELINE_GOAL_OVERDUE if goal.overdue else Strings.TIMELINE_GOAL).format(
            id=goal.goal_id,
            text=goal.text,
            start=start.isoformat(),
            due=due.isoformat(),
            status=status_label(goal.status),
            n=len(goal.history),
        )
        parts.append(f"<g><title>{escape(said)}</title>")
        parts.append(
            f'<text x="{left - 8}" y="{y + 4:.1f}" font-size="{FONT}" fill="{INK}" text-anchor="end">'
            f"#{goal.goal_id}</text>"
        )
        parts.append(
            f'<line x1="{x_of(start):.1f}" x2="{x_of(due):.1f}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}" '
            'stroke-width="6" stroke-linecap="round"/>'
        )
        parts.append(
            f'<line x1="{x_of(start):.1f}" x2="{x_of(max(end, start)):.1f}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{COLOURS.get(standing, MUTED)}" stroke-width="6"/>'
        )
        for entry in goal.history:
            ex = x_of(entry.when.astimezone(zone).date())
            colour = COLOURS.get(entry.status, MUTED)
            update = (Strings.TIMELINE_UPDATE_NOTE if entry.note else Strings.TIMELINE_UPDATE).format(
                id=goal.goal_id, when=_when(entry.when, zone), status=status_label(entry.status), note=entry.note
            )
            parts.append(
                f'<circle cx="{ex:.1f}" cy="{y:.1f}" r="4.5" fill="{colour}" stroke="#ffffff" stroke-width="1.2">'
                f"<title>{escape(update)}</title></circle>"
            )
        dx = x_of(due)
        diamond = f"{dx:.1f},{y - 7:.1f} {dx + 7:.1f},{y:.1f} {dx:.1f},{y + 7:.1f} {dx - 7:.1f},{y:.1f}"
        fill = _fill(OVERDUE, prefix) if goal.overdue else "#ffffff"
        parts.append(f'<polygon points="{diamond}" fill="{fill}" stroke="{INK}" stroke-width="1.2"/></g>')
    tx = x_of(today)
    parts.append(
        f'<line x1="{tx:.1f}" x2="{tx:.1f}" y1="{top - 4}" y2="{plot_bottom + 4}" stroke="{INK}" '
        'stroke-dasharray="4 3" stroke-width="1.2"/>'
        f'<text x="{tx:.1f}" y="{plot_bottom + 18}" font-size="{FONT}" fill="{INK}" text-anchor="middle">'
        f"{escape(Strings.TIMELINE_TODAY.format(day=today.isoformat()))}</text>"
    )
    legend_y = plot_bottom + 44
    legend, legend_h = _legend(left, legend_y, prefix, plot_w, (*DRAWN, "dropped"))
    parts.append(legend)
    note_y = legend_y + legend_h + 4
    parts.append(
        f'<text x="{left}" y="{note_y}" font-size="{FONT}" fill="{MUTED}">{escape(Strings.TIMELINE_HOW)}</text>'
        f'<text x="{left}" y="{note_y + FONT + 6}" font-size="{FONT}" fill="{MUTED}">'
        f"{escape(Strings.TIMELINE_ZONE.format(zone=str(zone)))}</text>"
    )
    height = note_y + FONT + 16
    overdue = sum(1 for g in goals if g.overdue)
    done = sum(1 for g in goals if g.status == "done")
    desc = Strings.TIMELINE_DESC.format(
        n=len(goals),
        first=min(starts).isoformat() if starts else today.isoformat(),
        last=max(g.due_on for g in goals).isoformat() if goals else today.isoformat(),
        done=done,
        overdue=overdue,
    )
    return _svg(prefix, width, height, str(Strings.TIMELINE_TITLE), desc, "".join(parts), css="chart chart-timeline")


def _when(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def _svg(ident: str, width: float, height: float, title: str, desc: str, body: str, *, css: str) -> Markup:
    return Markup(  # noqa: S704 - every value above is a number, a constant or escaped
        f'<svg class="{css}" viewBox="0 0 {width:.0f} {height:.0f}" role="img" '
        f'aria-labelledby="{ident}-title {ident}-desc" font-family="system-ui, sans-serif">'
        f'<title id="{ident}-title">{escape(title)}</title><desc id="{ident}-desc">{escape(desc)}</desc>{body}</svg>'
    )
