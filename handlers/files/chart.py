"""The goal progress chart: one horizontal bar per row (a cohort and track, a city, a city's track), as PNG or
SVG. Open goals past their due date are drawn as their own hatched segment (overdue), goals nobody reported on
yet as theirs; dropped goals are not open work, so they are left out of the bar and of "x/y done" and written
apart at the bar's end."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from core.goals import GoalCounts
from handlers.files.drawing import MIME, PNG_MAGIC, Format, new_figure, save

__all__ = ["MIME", "PNG_MAGIC", "ChartWords", "ProgressBar", "progress_chart"]

# (field, colour, hatch): the order segments are drawn in, left to right.
SEGMENTS = (
    ("done", "#1565c0", ""),
    ("on_track", "#2e7d32", ""),
    ("at_risk", "#ef6c00", ""),
    ("not_reported", "#b0bec5", ".."),
    ("overdue", "#c62828", "//"),
)


@dataclass(frozen=True, init=False)
class ProgressBar(GoalCounts):
    """Goals of one row by standing (`core.goals.GoalCounts`): `overdue` holds every open goal past its due
    date, whatever it was reported as, so each goal is in exactly one count."""

    label: str = ""

    def __init__(self, label: str, **counts: int) -> None:
        object.__setattr__(self, "label", label)
        super().__init__(**counts)


@dataclass(frozen=True)
class ChartWords:
    """The chart's words, from the command family's strings (so they are translated with them)."""

    segments: dict[str, str]  # field -> legend label
    axis: str
    bar_end: str  # "{done}/{total} done"
    dropped: str  # " · {dropped} dropped"


def progress_chart(bars: Sequence[ProgressBar], *, title: str, words: ChartWords, fmt: Format = "png") -> bytes:
    """`bars` drawn top to bottom in this order."""
    from matplotlib.ticker import MaxNLocator  # loaded with the first chart, as the figure is

    height = 2.2 + 0.42 * max(len(bars), 1)
    figure = new_figure(10, height)
    axes = figure.add_subplot()
    positions = list(range(len(bars)))
    left = [0] * len(bars)
    for name, colour, hatch in SEGMENTS:
        counts = [getattr(bar, name) for bar in bars]
        axes.barh(positions, counts, left=left, color=colour, hatch=hatch or None, edgecolor="white",
                  linewidth=0.5, label=words.segments[name], height=0.62)  # fmt: skip
        left = [start + count for start, count in zip(left, counts, strict=True)]
    for position, bar in enumerate(bars):
        end = words.bar_end.format(done=bar.done, total=bar.counted)
        if bar.dropped:
            end += words.dropped.format(dropped=bar.dropped)
        axes.annotate(" " + end, (bar.counted, position), va="center", fontsize="small")
    axes.set_yticks(positions, labels=[bar.label for bar in bars])
    axes.invert_yaxis()  # the first bar on top, as the list reads
    axes.set_xlim(0, max(left, default=1) * 1.35 or 1)
    axes.set_xlabel(words.axis)
    axes.set_title(title, loc="left")
    locator = axes.xaxis.get_major_locator()
    if isinstance(locator, MaxNLocator):  # Matplotlib's default locator is one: whole numbers only on this axis
        locator.set_params(integer=True)
    axes.spines[["top", "right"]].set_visible(False)
    figure.legend(loc="outside lower center", ncols=len(SEGMENTS), fontsize="small", frameon=False)
    return save(figure, fmt)
