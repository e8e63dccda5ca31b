"""The progress picture: one stacked bar per cohort and track, goals counted by status, as PNG bytes.

Drawn on a bare `Figure` with the Agg canvas: no pyplot, so no global figure state shared between
the threads that answer commands, and no display needed.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from core.goals import Status

COLOURS = {
    Status.ON_TRACK: "#2e7d32",
    Status.AT_RISK: "#ef6c00",
    Status.DONE: "#1565c0",
    Status.DROPPED: "#9e9e9e",
}
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def progress_png(bars: Sequence[tuple[str, dict[str, int]]], *, title: str, axis: str, done: str) -> bytes:
    """`bars`: a label ("ICC 2020 · tourism") and goals per status, drawn top to bottom in this order.

    `done` is the template at each bar's end, with `{done}` and `{total}`; `axis` names the x axis.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    height = 2.0 + 0.45 * max(len(bars), 1)
    figure = Figure(figsize=(9, height), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    labels = [label for label, _ in bars]
    positions = list(range(len(bars)))
    left = [0] * len(bars)
    for status in Status:
        counts = [per_status.get(status.value, 0) for _, per_status in bars]
        axes.barh(positions, counts, left=left, color=COLOURS[status], label=status.value, height=0.6)
        left = [start + count for start, count in zip(left, counts, strict=True)]
    for position, (total, (_, per_status)) in enumerate(zip(left, bars, strict=True)):
        finished = per_status.get(Status.DONE.value, 0)
        axes.annotate(" " + done.format(done=finished, total=total), (total, position), va="center", fontsize="small")
    axes.set_yticks(positions, labels=labels)
    axes.invert_yaxis()  # the first bar on top, as the list reads
    axes.set_xlim(0, max(left, default=1) * 1.25)
    axes.set_xlabel(axis)
    axes.set_title(title)
    axes.xaxis.get_major_locator().set_params(integer=True)
    axes.spines[["top", "right"]].set_visible(False)
    figure.legend(loc="outside lower center", ncols=len(Status), fontsize="small", frameon=False)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()
