"""Which browser Playwright drives, for the dashboard's tests and bench/dashboard.py: Debian's chromium, Google
Chrome, or Playwright's own (after `.venv/bin/playwright install chromium`), the first found."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

INSTALLED = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
INSTALL = "apt-get install -y chromium (Debian, Ubuntu; .ci/run does it), or .venv/bin/playwright install chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def find_browser(driver: Any) -> str | None:
    """The browser's executable, or None; `driver` is Playwright's (sync_playwright())."""
    for name in INSTALLED:
        if found := shutil.which(name):
            return found
    own = driver.chromium.executable_path  # where `playwright install chromium` puts its download
    return own if Path(own).is_file() else None
