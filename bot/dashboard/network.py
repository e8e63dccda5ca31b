"""The collaboration network as inline SVG: one focusable link per city (keyboard: Tab), named with its ties.

A stand-in until the shared map renderer lands: `network_svg(network, href)` is the one call the Network page
makes, so the renderer can be swapped without touching the page. Deterministic: the same data gives the same
bytes (a seeded spring layout).
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape

import rustworkx

from handlers.dashboard import Network

SIZE = 900
MARGIN = 40
LABEL_ALL_UP_TO = 60  # above this many cities only the most connected are labelled, so labels stay readable
LABELS_WHEN_CROWDED = 25
# Colours with at least 3:1 contrast on white (WCAG 1.4.11, graphics), one per track in order of first use.
PALETTE = ("#1f5fa8", "#b3400a", "#2e7d32", "#7b1fa2", "#a0185a", "#00695c", "#5d4037", "#455a64", "#6a6a00")
NONE_COLOUR = "#595959"


LAYOUTS_KEPT = 8
_layouts: dict[tuple[object, ...], dict[int, tuple[float, float]]] = {}


def layout(network: Network) -> dict[int, tuple[float, float]]:
    """Each city's place; the same graph is laid out once per process (the layout is most of a page's time)."""
    key = (tuple(node.city_id for node in network.nodes), tuple((t.a, t.b, t.weight) for t in network.ties))
    found = _layouts.get(key)
    if found is None:
        found = _layouts[key] = spring(network)
        while len(_layouts) > LAYOUTS_KEPT:
            _layouts.pop(next(iter(_layouts)), None)
    return found


def spring(network: Network) -> dict[int, tuple[float, float]]:
    graph = rustworkx.PyGraph()
    index = {node.city_id: graph.add_node(node.city_id) for node in network.nodes}
    for tie in network.ties:
        if tie.a in index and tie.b in index:
            graph.add_edge(index[tie.a], index[tie.b], float(tie.weight))
    if len(graph) == 0:
        return {}
    positions = rustworkx.spring_layout(graph, seed=7, num_iter=60, weight_fn=float)
    xs = [p[0] for p in positions.values()] or [0.0]
    ys = [p[1] for p in positions.values()] or [0.0]
    span_x = (max(xs) - min(xs)) or 1.0
    span_y = (max(ys) - min(ys)) or 1.0
    inner = SIZE - 2 * MARGIN
    placed = {}
    for node in network.nodes:
        x, y = positions[index[node.city_id]]
        placed[node.city_id] = (
            round(MARGIN + (x - min(xs)) / span_x * inner, 1),
            round(MARGIN + (y - min(ys)) / span_y * inner, 1),
        )
    return placed


def track_colours(network: Network) -> dict[str, str]:
    colours: dict[str, str] = {}
    for node in network.nodes:
        if node.track not in colours and node.track != "no track":
            colours[node.track] = PALETTE[len(colours) % len(PALETTE)]
    colours["no track"] = NONE_COLOUR
    return colours


def network_svg(network: Network, href: Callable[[int], str], *, title: str) -> str:
    """The network as one `<svg>` element (markup, escaped here). `href(city_id)` is the city's page."""
    places = layout(network)
    colours = track_colours(network)
    names = {node.city_id: node.name for node in network.nodes}
    partners: dict[int, list[str]] = {}
    for tie in network.ties:
        partners.setdefault(tie.a, []).append(names.get(tie.b, "?"))
        partners.setdefault(tie.b, []).append(names.get(tie.a, "?"))
    crowded = len(network.nodes) > LABEL_ALL_UP_TO
    labelled = {
        node.city_id
        for node in sorted(network.nodes, key=lambda n: (-n.ties, n.name))[: LABELS_WHEN_CROWDED if crowded else None]
        if not crowded or node.ties
    }
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {SIZE} {SIZE}" class="network" '
        f'role="group" aria-labelledby="network-title">',
        f'<title id="network-title">{escape(title)}</title>',
        '<g class="ties" aria-hidden="true">',
    ]
    for tie in network.ties:
        if tie.a not in places or tie.b not in places:
            continue
        (x1, y1), (x2, y2) = places[tie.a], places[tie.b]
        width = min(1 + tie.weight * 0.5, 5)
        dash = "" if "met" in tie.kinds or "goal together" in tie.kinds else ' stroke-dasharray="4 3"'
        out.append(f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke-width="{width}"{dash}/>')
    out.append("</g>")
    out.append('<g class="cities">')
    for node in network.nodes:
        x, y = places.get(node.city_id, (SIZE / 2, SIZE / 2))
        radius = round(4 + min(node.ties, 20) * 0.6, 1)
        with_whom = sorted(partners.get(node.city_id, []))
        ties = f"{node.ties} ties with {', '.join(with_whom[:12])}" if with_whom else "no ties"
        if len(with_whom) > 12:
            ties += f" and {len(with_whom) - 12} more"
        label = f"{node.name} ({node.country}, {node.cohort}, {node.track}): {ties}"
        out.append(
            f'<a href="{escape(href(node.city_id))}" tabindex="0" class="city">'
            f"<title>{escape(label)}</title>"
            f'<circle cx="{x}" cy="{y}" r="{radius}" fill="{colours.get(node.track, NONE_COLOUR)}"/></a>'
        )
    out.append("</g>")
    out.append('<g class="labels" aria-hidden="true">')
    for node in network.nodes:
        if node.city_id in labelled:
            x, y = places.get(node.city_id, (SIZE / 2, SIZE / 2))
            out.append(f'<text x="{x}" y="{round(y - 9, 1)}">{escape(node.name)}</text>')
    out.append("</g></svg>")
    return "".join(out)


def legend(network: Network) -> list[tuple[str, int]]:
    """(track, its colour's number in PALETTE, or len(PALETTE) for no track): the stylesheet colours `.swatch-N`."""
    return [
        (track, PALETTE.index(colour) if colour in PALETTE else len(PALETTE))
        for track, colour in sorted(track_colours(network).items())
    ]
