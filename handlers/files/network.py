"""The collaboration map: a `core.network.Network` drawn as PNG or SVG by one function.

Deterministic: each cluster is laid out on its own by rustworkx's spring layout with a fixed seed, from the
cities in reading order, and the clusters are packed largest first in rows, isolated cities last in a grid; the
font, the file's metadata and SVG's id salt are fixed (`drawing`). Same data, same bytes, in any process.

Cities are circles coloured by group (a track, or a country), sized by their ties' weight; edges are as wide as
their weight, bridges dashed, new edges (since a date) in magenta over the rest, articulation cities ringed in
black and cities that joined since the date in magenta. Names are written only where they do not collide,
the most connecting cities first. In SVG each city is its own group `city-<id>`; with `titles` it can be
focused by keyboard and says its title to a screen reader and on hover; with `links` it is a link to its page.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from core.network import Network
from handlers.files.drawing import MIME, PNG_MAGIC, Format, inline_svg, new_figure, save

__all__ = ["MIME", "OTHER_COLOUR", "PALETTE", "PNG_MAGIC", "NetworkWords", "inline_svg", "network_map"]

SEED = 20201  # the layout's seed: any fixed number; changing it changes every picture
LAYOUT_ITERATIONS = 60
Point = tuple[float, float]
# Okabe and Ito's colours (told apart with any colour vision), then Tol's, for programmes with many tracks.
PALETTE = (
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
    "#882255", "#44AA99", "#999933", "#332288", "#AA4499",
)  # fmt: skip
OTHER_COLOUR = "#BDBDBD"
OUTLINE = "#424242"
EDGE_COLOUR = "#9E9E9E"
BRIDGE_COLOUR = "#424242"
NEW_COLOUR = "#D81B60"
LABEL_POINTS = 7.0
MAX_LABELS = 80


@dataclass(frozen=True)
class NetworkWords:
    """The legend's words, from the command family's strings."""

    tie: str  # "tie (wider: more weight)"
    bridge: str
    new: str  # "new since 2026-10-01"
    articulation: str
    joined: str


def network_map(
    network: Network,
    *,
    title: str,
    words: NetworkWords,
    groups: Mapping[int, str],
    group_order: Sequence[str],
    fmt: Format = "png",
    titles: Mapping[int, str] | None = None,
    links: Mapping[int, str] | None = None,
) -> bytes:
    """The picture of `network`. `groups` puts each city in a colour group (by track, or country), listed in
    `group_order` (at most len(PALETTE); a city in no listed group is drawn grey). In SVG only, `titles` makes
    each city focusable with a spoken title, and `links` (city id -> URL) makes it a link to that page."""
    from matplotlib.collections import LineCollection
    from matplotlib.lines import Line2D
    from matplotlib.patches import Circle

    where, width, height = layout(network)
    count = len(network.cities)
    inches = 8.0 if count <= 60 else 11.0 if count <= 200 else 13.0
    fig_w = inches
    fig_h = min(inches * 1.6, max(3.0, inches * height / width)) + 1.6  # title and legend below
    figure = new_figure(fig_w, fig_h)
    axes = figure.add_subplot()
    axes.set_axis_off()
    axes.set_aspect("equal")
    margin = 0.6
    axes.set_xlim(-margin, width + margin)
    axes.set_ylim(-height - margin, margin)
    axes.set_title(title, loc="left", fontsize="medium")

    colour_of = {group: PALETTE[i] for i, group in enumerate(group_order[: len(PALETTE)])}
    bridges = {(b.a, b.b) for b in network.bridges}
    # each layer's segments (from, to) and their widths
    layers: dict[str, tuple[list[tuple[Point, Point]], list[float]]] = {
        "old": ([], []),
        "bridge": ([], []),
        "new": ([], []),
    }
    for edge in network.edges:
        layer = "new" if edge.new else "bridge" if (edge.a, edge.b) in bridges else "old"
        segments, widths = layers[layer]
        segments.append((where[edge.a], where[edge.b]))
        widths.append(min(0.5 + 0.45 * edge.weight, 4.0))
    styles: dict[str, dict[str, object]] = {
        "old": {"colors": EDGE_COLOUR, "alpha": 0.7},
        "bridge": {"colors": BRIDGE_COLOUR, "linestyles": (0, (4, 2))},
        "new": {"colors": NEW_COLOUR},
    }
    for z, (layer, (segments, widths)) in enumerate(layers.items()):
        if segments:
            axes.add_collection(LineCollection(segments, linewidths=widths, zorder=1 + z, **styles[layer]))

    articulation, joined = set(network.articulation), set(network.joined)
    radius = {c.id: min(0.12 + 0.07 * math.sqrt(network.strength[c.id]), 0.45) for c in network.cities}
    for city in network.cities:
        outline, thickness = OUTLINE, 0.6  # a dark rim keeps light colours 3:1 against the white page
        if city.id in articulation:
            outline, thickness = "black", 1.8
        if city.id in joined:
            outline, thickness = NEW_COLOUR, 2.0
        circle = Circle(where[city.id], radius[city.id], facecolor=colour_of.get(groups.get(city.id, ""), OTHER_COLOUR),
                        edgecolor=outline, linewidth=thickness, zorder=5)  # fmt: skip
        circle.set_gid(f"city-{city.id}")
        axes.add_artist(circle)  # not add_patch: the limits are set, and updating them costs most of the time

    # Drawing units per typographic point, erring large (the axes take at most 92 % of the width and the height
    # left by title and legend, and the aspect is equal, so the tighter of the two sets the scale): a name's box is
    # then never smaller than the name drawn, and a name placed clear of every circle stays clear.
    plot_w, plot_h = fig_w * 72 * 0.92, (fig_h - 1.6) * 72 * 0.92
    per_point = max((width + 2 * margin) / plot_w, (height + 2 * margin) / plot_h)
    for city_id, (x, y) in place_labels(network, where, radius, units_per_point=per_point):
        label = axes.text(x, y, network.city(city_id).name, fontsize=LABEL_POINTS, va="center", ha="left", zorder=6)
        label.set_gid(f"label-{city_id}")

    handles = [Line2D([], [], marker="o", linestyle="", markersize=8, markerfacecolor=colour_of[group],
                      markeredgecolor="white", label=group) for group in group_order[: len(PALETTE)]]  # fmt: skip
    if any(groups.get(c.id, "") not in colour_of for c in network.cities):
        handles.append(Line2D([], [], marker="o", linestyle="", markersize=8, markerfacecolor=OTHER_COLOUR,
                              markeredgecolor="white", label="—"))  # fmt: skip
    handles.append(Line2D([], [], color=EDGE_COLOUR, linewidth=2, label=words.tie))
    if layers["bridge"][0]:
        handles.append(Line2D([], [], color=BRIDGE_COLOUR, linewidth=1.5, linestyle=(0, (4, 2)), label=words.bridge))
    if articulation:
        handles.append(Line2D([], [], marker="o", linestyle="", markersize=8, markerfacecolor="white",
                              markeredgecolor="black", markeredgewidth=1.8, label=words.articulation))  # fmt: skip
    if network.since is not None:
        handles.append(Line2D([], [], color=NEW_COLOUR, linewidth=2, label=words.new))
        if joined:
            handles.append(Line2D([], [], marker="o", linestyle="", markersize=8, markerfacecolor="white",
                                  markeredgecolor=NEW_COLOUR, markeredgewidth=2, label=words.joined))  # fmt: skip
    figure.legend(handles=handles, loc="outside lower center", ncols=4, fontsize="small", frameon=False)
    data = save(figure, fmt)
    if fmt == "svg" and titles:
        data = focusable(data, titles, links)
    return data


def layout(network: Network) -> tuple[dict[int, tuple[float, float]], float, float]:
    """Each city's place, and the drawing's width and height (y runs down from 0 to -height)."""
    import rustworkx as rx  # loaded with the first map

    cluster_of = {city_id: i for i, cluster in enumerate(network.clusters) for city_id in cluster}
    inside: list[list[tuple[int, int, int]]] = [[] for _ in network.clusters]
    for edge in network.edges:
        inside[cluster_of[edge.a]].append((edge.a, edge.b, edge.weight))
    boxes: list[tuple[float, dict[int, tuple[float, float]]]] = []  # (side, place within a unit square)
    for cluster, edges in zip(network.clusters, inside, strict=True):
        graph = rx.PyGraph(multigraph=False)
        graph.add_nodes_from(cluster)
        index = {city_id: i for i, city_id in enumerate(cluster)}
        graph.add_edges_from([(index[a], index[b], float(w)) for a, b, w in edges])
        pos = rx.spring_layout(graph, weight_fn=float, seed=SEED, num_iter=LAYOUT_ITERATIONS, scale=1)
        points = [tuple(pos[i]) for i in range(len(cluster))]
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        span = max(max(xs) - min(xs), max(ys) - min(ys)) or 1.0
        unit = {c: ((p[0] - min(xs)) / span, (p[1] - min(ys)) / span) for c, p in zip(cluster, points, strict=True)}
        boxes.append((1.6 * math.sqrt(len(cluster)), unit))
    isolated = network.isolated
    area = sum(side * side for side, _ in boxes) + len(isolated)
    width = max([math.sqrt(area) * 1.15, *(side for side, _ in boxes), 4.0])
    where: dict[int, tuple[float, float]] = {}
    x = y = row = 0.0
    for side, unit in boxes:
        if x > 0 and x + side > width:
            x, y, row = 0.0, y + row + 0.8, 0.0
        pad = 0.5 if side > 2 else 0.25
        inner = side - 2 * pad
        for city_id, (ux, uy) in unit.items():
            where[city_id] = (x + pad + ux * inner, -(y + pad + (1 - uy) * inner))
        x += side + 0.6
        row = max(row, side)
    height = y + row
    if isolated:
        top = height + (0.8 if boxes else 0.0)
        columns = max(1, int(width // 1.6))
        for i, city_id in enumerate(isolated):
            where[city_id] = (0.5 + (i % columns) * 1.6, -(top + 0.5 + (i // columns) * 0.9))
        height = top + 0.5 + ((len(isolated) - 1) // columns) * 0.9 + 0.5
    return where, width, max(height, 1.0)


def place_labels(
    network: Network, where: Mapping[int, tuple[float, float]], radius: Mapping[int, float], *, units_per_point: float
) -> list[tuple[int, tuple[float, float]]]:
    """Names that stay readable: the most connecting cities first (articulation, then betweenness, then weight),
    each to the right of its circle, or to its left, above or below it, or not at all when each would cover a name
    already placed or any city's circle. The boxes are generous (a name's width at 0.62 of its size per letter,
    its height at 1.3): a name is never drawn over a circle, at the price of a few names left out in a crowd."""
    index = {c.id: i for i, c in enumerate(network.cities)}
    articulation = set(network.articulation)
    order = sorted(
        network.cities,
        key=lambda c: (c.id not in articulation, -network.betweenness[c.id], -network.strength[c.id], index[c.id]),
    )
    cell = max(max(radius.values(), default=0.5) * 2, 0.5)  # a grid of circles' boxes, to look up only the near ones
    circles: dict[tuple[int, int], list[tuple[float, float, float, float]]] = {}
    for city in network.cities:
        x, y = where[city.id]
        r = radius[city.id] + 0.02
        box = (x - r, y - r, x + r, y + r)
        for key in _cells(box, cell):
            circles.setdefault(key, []).append(box)
    placed: list[tuple[float, float, float, float]] = []
    labels: list[tuple[int, tuple[float, float]]] = []
    tall = LABEL_POINTS * 1.3 * units_per_point
    for city in order:
        if len(labels) >= MAX_LABELS:
            break
        wide = len(city.name) * LABEL_POINTS * 0.62 * units_per_point
        x, y = where[city.id]
        gap = radius[city.id] + 0.06
        # right of the circle, left of it, above it, below it: the first place that covers nothing
        for left, middle in ((x + gap, y), (x - gap - wide, y), (x - wide / 2, y + gap + tall / 2),
                             (x - wide / 2, y - gap - tall / 2)):  # fmt: skip
            box = (left, middle - tall / 2, left + wide, middle + tall / 2)
            near = [b for key in _cells(box, cell) for b in circles.get(key, ())]
            if not any(_overlap(box, b) for b in placed) and not any(_overlap(box, b) for b in near):
                placed.append(box)
                labels.append((city.id, (left, middle)))
                break
    return labels


def _overlap(one: tuple[float, float, float, float], other: tuple[float, float, float, float]) -> bool:
    return one[0] < other[2] and other[0] < one[2] and one[1] < other[3] and other[1] < one[3]


def _cells(box: tuple[float, float, float, float], cell: float) -> list[tuple[int, int]]:
    return [
        (i, j)
        for i in range(math.floor(box[0] / cell), math.floor(box[2] / cell) + 1)
        for j in range(math.floor(box[1] / cell), math.floor(box[3] / cell) + 1)
    ]


def focusable(svg: bytes, titles: Mapping[int, str], links: Mapping[int, str] | None = None) -> bytes:
    """Each city with a title is reached by keyboard and tells its title to a screen reader (and on hover): a link
    (`<a href>`) when `links` names its page, else a group with `tabindex="0"`."""
    text = svg.decode("utf-8")

    def mark(found: re.Match[str]) -> str:
        city_id, drawn = int(found.group(1)), found.group(2)
        said = titles.get(city_id)
        if said is None:
            return found.group(0)
        head = f"<title>{escape(said)}</title>"
        if links and city_id in links:
            link = quoteattr(links[city_id])
            return f'<a id="city-{city_id}" href={link} aria-label={quoteattr(said)}>{head}{drawn}</a>'
        return f'<g id="city-{city_id}" tabindex="0" role="img" aria-label={quoteattr(said)}>{head}{drawn}</g>'

    return re.sub(r'<g id="city-(\d+)">(.*?)</g>', mark, text, flags=re.DOTALL).encode("utf-8")
