"""The browser the dashboard's tests drive through Playwright: the first found (tests/support/browser.py). With none,
one line says how to get one: a failure under CI (CI=true), where every test must run, a skip elsewhere."""

from __future__ import annotations

import os
from collections.abc import Iterator

import playwright.sync_api as playwright_sync  # a test extra: pip install -e '.[test]'
import pytest

from tests.support.browser import ARGS, INSTALL, find_browser


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
