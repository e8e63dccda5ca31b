"""The files people take away, built in one place from neutral rows: handlers gather the rows, these modules
only render them.

- `csv`: tables as spreadsheet-safe UTF-8 CSV (the goal export, and any table a page shows).
- `chart`: the goal progress chart, as PNG or SVG.
- `network`: the collaboration map (`core.network` reads the graph), as PNG or SVG from one function.
- `ics`: iCalendar files and feeds; the rendering stays in `core.calendar` (pure, and tested there against two
  independent readers), re-exported here so every format is found in one place.

Nothing here imports matplotlib, rustworkx or icalendar until a file is made: start-up stays lazy.
"""
