"""matplotlib, set up once for files that come out the same for the same data: a bare `Figure` on the Agg
canvas (no pyplot, so no global figure state shared between the threads that answer commands, and no display),
the font bundled with matplotlib, no date or version written into the file, a fixed salt for SVG ids."""

from __future__ import annotations

import io
import re
import threading
from typing import TYPE_CHECKING, Literal
from xml.sax.saxutils import quoteattr

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


_STYLE = re.compile(r'\sstyle="([^"]*)"')
_STYLE_BLOCK = re.compile(r"<defs>\s*<style[^>]*>\*\{([^}]*)\}</style>\s*</defs>")


def inline_svg(svg: bytes) -> str:
    """An SVG file as an element to put inside an HTML page whose Content-Security-Policy forbids inline styles:
    no XML prolog or metadata, and matplotlib's `style="…"` attributes and its one `<style>` rule turned into SVG
    presentation attributes (`fill="#fff"`), which a policy without 'unsafe-inline' lets through."""
    text = svg.decode("utf-8")
    text = text[text.index("<svg") :]
    text = re.sub(r"\s*<metadata>.*?</metadata>", "", text, count=1, flags=re.DOTALL)
    root: list[str] = []

    def hoist(found: re.Match[str]) -> str:
        root.append(_attributes(found.group(1)))
        return ""

    text = _STYLE_BLOCK.sub(hoist, text, count=1)
    text = _STYLE.sub(lambda found: _attributes(found.group(1)), text)
    if root:
        text = text.replace("<svg", "<svg" + root[0], 1)
    return text


def _attributes(declarations: str) -> str:
    """`fill: #fff; stroke-width: 2` -> ` fill="#fff" stroke-width="2"` (every property matplotlib writes is also a
    presentation attribute)."""
    pairs = (part.split(":", 1) for part in declarations.split(";") if ":" in part)
    return "".join(f" {name.strip()}={quoteattr(value.strip())}" for name, value in pairs)
