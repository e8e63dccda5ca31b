"""matplotlib, set up once for files that come out the same for the same data: a bare `Figure` on the Agg
canvas (no pyplot, so no global figure state shared between the threads that answer commands, and no display),
the font bundled with matplotlib, no date or version written into the file, a fixed salt for SVG ids."""

from __future__ import annotations

import io
import threading
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from matplotlib.figure import Figure

Format = Literal["png", "svg"]
FONT = "DejaVu Sans"  # shipped inside matplotlib: the same glyphs on every machine
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MIME = {"png": "image/png", "svg": "image/svg+xml"}

_ready = threading.Lock()
_configured = False


def _configure() -> None:
    global _configured
    with _ready:
        if _configured:
            return
        import matplotlib

        # Set once, before any file is drawn, and never restored: rc_context would undo them under another
        # thread's drawing. Nothing else in the process draws.
        matplotlib.rcParams.update(
            {
                "font.family": "sans-serif",
                "font.sans-serif": [FONT],
                "svg.hashsalt": "citypeers",  # ids in the SVG from the content, not from a random salt
                "svg.fonttype": "none",  # text stays text: readable, searchable, and small
                "path.simplify": True,
            }
        )
        _configured = True


def new_figure(width: float, height: float, *, dpi: int = 100) -> Figure:
    _configure()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=dpi, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def save(figure: Figure, fmt: Format) -> bytes:
    """The figure's bytes; the same figure gives the same bytes, in any process."""
    buffer = io.BytesIO()
    if fmt == "svg":
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    else:
        figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()
