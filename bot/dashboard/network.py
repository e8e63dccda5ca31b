"""The collaboration map inside a dashboard page: the SVG `/match map` draws (handlers.files.network), made fit
to sit inline in a page whose Content-Security-Policy forbids inline styles, and kept while the network is
unchanged (drawing 500 cities takes seconds; a page must take well under a second).

matplotlib writes each shape's look as a `style="…"` attribute and a `<style>` element, which such a policy
blocks; the same properties as SVG presentation attributes (`fill="#0072b2"`) are not styles and are kept. The
XML prolog, doctype and metadata go (the SVG is inline in HTML), and every city's link gets `tabindex="0"`.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from html import escape

from handlers.dashboard import LINK_BASE, NetworkPage

KEPT = 16  # drawn maps kept: one per state of the network and filter (about 1 MB each at 500 cities)
_STYLE_ATTRIBUTE = re.compile(r' style="([^"]*)"')
_PROPERTY = re.compile(r"^[a-z-]+$")


def presentation(found: re.Match[str]) -> str:
    attributes = []
    for declaration in found.group(1).split(";"):
        name, _, value = declaration.partition(":")
        name, value = name.strip(), value.strip()
        if _PROPERTY.fullmatch(name) and value:
            attributes.append(f' {name}="{escape(value, quote=True)}"')
    return "".join(attributes)


def inline_svg(svg: bytes, *, title: str) -> str:
    text = svg.decode("utf-8")
    text = text[text.index("<svg") :]
    text = re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.DOTALL)
    text = re.sub(r"<style[^>]*>.*?</style>", "", text, flags=re.DOTALL)
    text = _STYLE_ATTRIBUTE.sub(presentation, text)
    text = re.sub(r'<a id="city-(\d+)" ', r'<a id="city-\1" class="city" tabindex="0" ', text)
    head = re.match(r"<svg[^>]*>", text)
    assert head is not None
    opening = head.group(0)
    opening = re.sub(r' (width|height)="[^"]*"', "", opening)  # the stylesheet sizes it; the viewBox keeps its shape
    box = re.search(r'viewBox="[\d.]+ [\d.]+ ([\d.]+) ', opening)
    wide = box is not None and float(box.group(1)) > 900  # a large network's map is drawn bigger: shown as wide
    opening = opening.replace(
        "<svg ",
        f'<svg class="network{" wide" if wide else ""}" role="group" aria-labelledby="network-title" '
        'stroke-linejoin="round" stroke-linecap="butt" ',
        1,
    )
    return opening + f'<title id="network-title">{escape(title)}</title>' + text[head.end() :]


class MapCache:
    """Drawn maps by the network's signature (handlers.dashboard.network_signature) and filter, shared by every
    reader: links point at LINK_BASE, which each page replaces with its own base. The oldest goes first."""

    def __init__(self) -> None:
        self._kept: dict[object, tuple[NetworkPage, str]] = {}
        self._lock = threading.Lock()

    def get(self, signature: object, draw: Callable[[], NetworkPage], *, title: str) -> tuple[NetworkPage, str]:
        key = hash(signature)
        with self._lock:
            found = self._kept.get(key)
        if found is None:
            page = draw()
            found = (page, inline_svg(page.svg, title=title))
            with self._lock:
                self._kept[key] = found
                while len(self._kept) > KEPT:
                    self._kept.pop(next(iter(self._kept)))
        return found


def for_reader(svg: str, base: str) -> str:
    return svg.replace(LINK_BASE, base)
