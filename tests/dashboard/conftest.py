"""The browser the dashboard's tests drive through Playwright: Debian's chromium, Google Chrome, or Playwright's own
(after `playwright install chromium`), the first found. With none, one line says how to get one: a failure under
CI (CI=true), where every test must run, a skip elsewhere."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import playwright.sync_api as playwright_sync  # a test extra: pip install -e '.[test]'
import pytest

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


def find_browser(driver: playwright_sync.Playwright) -> str | None:
    for name in INSTALLED:
        if found := shutil.which(name):
            return found
    own = driver.chromium.executable_path  # where `playwright install chromium` puts its download
    return own if Path(own).is_file() else None


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with playwright_sync.sync_playwright() as driver:
        path = find_browser(driver)
        if path is None:
            message = f"no browser for the dashboard tests: {INSTALL}"
            if os.environ.get("CI") == "true":
                pytest.fail(message)
            pytest.skip(message)
        launched = driver.chromium.launch(executable_path=path, args=ARGS)
        yield launched
        launched.close()
