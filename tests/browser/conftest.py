"""The browser suites' one Chromium per test process.

Playwright's sync API runs one event loop per thread: a second ``sync_playwright()`` started
while another is open (one per test file, both session-scoped, in the same xdist worker) is
refused with "using Playwright Sync API inside the asyncio loop". So both suites share this one.
"""
import pytest

from tests.helpers import chromium_path


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=chromium_path(),
                                     args=["--no-sandbox", "--disable-dev-shm-usage"])
        yield chromium
        chromium.close()
