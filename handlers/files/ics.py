"""iCalendar files and feeds. The rendering lives in `core.calendar`: it is pure date arithmetic (zone
transitions, recurrence) tested in tests/core against two independent readers, and its callers import it there;
it is named here so that every format people take away is found in one package."""

from core.calendar import Entry, Feed, render

__all__ = ["Entry", "Feed", "render"]
