"""The course's site (make site) as a reader sees it, in Chromium.

Served by a local ``http.server`` on 127.0.0.1 (as a host would serve it: file:// pages may not
load their own fonts), each lecture page must show every figure (the image loaded:
``naturalWidth > 0``), each with a caption or a real alt text (not the file's path); its math
typeset by the bundled MathJax; its launch links pointing to the repository course.toml names
(or, while it names none, ``hosting.NOT_CONFIGURED`` and no launch link at all); its two downloads
served; every explorer shown as a note, never a broken widget box; and no request may fail or
leave this machine. The search page must find the lectures' words, and a claim's link must land
on its folded checking cell. A screenshot of lecture 03 goes to ``$GM_SITE_SCREENSHOT`` (default
``docs/_build/screenshot_lecture03.png``, not committed).

The site tested is ``$GM_SITE_DIR`` or ``docs/_build/html``; when it is not built, the first
test builds it (``python -m gm_helpers.course site``, what ``make site`` runs: about a minute).
``GM_COURSE_TOML`` names the hosting settings the site was built with (course.toml by default).
Skipped, with how to install them, without Chromium or Playwright (as the JupyterLab suite).
"""
from __future__ import annotations

import functools
import http.server
import os
import re
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from gm_helpers.course import hosting, site
from tests.helpers import BROWSER_INSTALL, browser_missing

REPO = Path(__file__).resolve().parents[2]
SITE = Path(os.environ.get("GM_SITE_DIR") or site.HTML)
SCREENSHOT = Path(os.environ.get("GM_SITE_SCREENSHOT")
                  or REPO / "docs" / "_build" / "screenshot_lecture03.png")
LECTURES = sorted(p.stem for p in (REPO / "lectures").glob("[0-9][0-9]_*.ipynb"))
WIDTH, HEIGHT = 1280, 900






pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(bool(browser_missing()), reason=f"browser suite skipped: "
                                 f"{' and '.join(browser_missing())}; {BROWSER_INSTALL}")]


@pytest.fixture(scope="session")
def built_site() -> Path:
    if not (SITE / "index.html").is_file():
        if "GM_SITE_DIR" in os.environ:
            pytest.fail(f"GM_SITE_DIR={SITE} holds no built site (python -m gm_helpers.course site {SITE})")
        subprocess.run([sys.executable, "-m", "gm_helpers.course", "site"], cwd=REPO, check=True)
    return SITE


@pytest.fixture(scope="session")
def server(built_site):
    """The built site over HTTP on a free port of 127.0.0.1: its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(built_site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def page(browser, server):
    """A page that records what went wrong: failed requests, requests that leave the machine,
    console errors."""
    context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT})
    tab = context.new_page()
    tab.problems = []
    note = tab.problems.append

    def request(r):
        if urlsplit(r.url).hostname not in (None, "127.0.0.1") and not r.url.startswith(("data:", "blob:")):
            note(f"a request leaves the machine: {r.url}")

    tab.on("request", request)
    tab.on("requestfailed", lambda r: note(f"request failed: {r.url} ({r.failure})"))
    tab.on("response", lambda r: note(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)
    tab.on("console", lambda m: note(f"console error: {m.text}") if m.type == "error" else None)
    tab.on("pageerror", lambda e: note(f"page error: {e}"))
    yield tab
    context.close()


def _explorers(stem: str) -> int:
    source = (REPO / "lectures" / f"{stem}.py").read_text()
    return len(re.findall(r"^\w+_explorer\(", source, re.MULTILINE))


FIGURES = """() => [...document.querySelectorAll('article .cell_output img')].map(img => ({
    src: img.getAttribute('src'), width: img.naturalWidth, complete: img.complete,
    alt: (img.getAttribute('alt') || '').trim(),
    caption: (img.closest('figure')?.querySelector('figcaption')?.innerText || '').trim()}))"""


@pytest.mark.parametrize("stem", LECTURES)
def test_lecture_page_shows_its_figures_and_launch_links(page, server, stem):
    page.goto(f"{server}/lectures/{stem}.html", wait_until="load")
    problems = []
    for i in range(page.locator("article .cell_output img").count()):   # every image in view once
        page.locator("article .cell_output img").nth(i).scroll_into_view_if_needed()
    page.wait_for_function("() => [...document.images].every(i => i.complete)", timeout=30_000)
    figures = page.evaluate(FIGURES)
    if not figures:
        problems.append("no figure on the page")
    for f in figures:
        if f["width"] == 0:
            problems.append(f"figure {f['src']} did not load")
        real_alt = f["alt"] and not re.search(r"\.(png|jpe?g|svg|gif)$", f["alt"], re.I)
        if not (f["caption"] or real_alt):
            problems.append(f"figure {f['src']} has neither a caption nor an alt text (alt={f['alt']!r})")
    # the math, typeset by the bundled MathJax
    page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise",
                           timeout=30_000)
    page.evaluate("() => MathJax.startup.promise")
    if page.locator("mjx-container").count() == 0:
        problems.append("MathJax typeset no formula")
    # launch links from course.toml, or the plain sentence that it names no repository
    h = site.hosting_settings()
    launch = page.locator("a[href*='mybinder.org'], a[href*='colab.research.google.com']")
    hrefs = [launch.nth(i).get_attribute("href") for i in range(launch.count())]
    if h.configured:
        notebook = f"lectures/{stem}.ipynb"
        for wanted in (hosting.binder_url(h, notebook), hosting.colab_url(h, notebook)):
            if wanted not in hrefs:
                problems.append(f"no launch link {wanted} (links: {hrefs})")
        problems += [f"a launch link elsewhere: {u}" for u in hrefs if h.repository not in u]
    else:
        if hrefs:
            problems.append(f"launch links while course.toml names no repository: {hrefs}")
        text = page.locator("article").inner_text().replace("\u2019", "'")   # Sphinx's smart quotes
        if hosting.NOT_CONFIGURED.replace("`", "") not in text:
            problems.append("the page does not say that the repository address is not configured")
    # the notebook and its student copy, downloadable
    downloads = page.locator("a.download")
    names = sorted(Path(downloads.nth(i).get_attribute("href")).name for i in range(downloads.count()))
    if names != sorted([f"{stem}.ipynb", f"{stem}_student.ipynb"]):
        problems.append(f"downloads {names}, expected the notebook and its student copy")
    for i in range(downloads.count()):
        response = page.request.get(f"{page.url.rsplit('/', 1)[0]}/{downloads.nth(i).get_attribute('href')}")
        if not response.ok or b'"cells"' not in response.body():
            problems.append(f"download {downloads.nth(i).get_attribute('href')}: HTTP {response.status}")
    # explorers: a note each, no widget box and no widget state
    notes = page.get_by_text("Interactive explorer.", exact=False).count()
    if notes != _explorers(stem):
        problems.append(f"{notes} explorer notes, the lecture has {_explorers(stem)} explorers")
    if page.locator(".widget-vbox, .jupyter-widgets, script[type*='jupyter.widget']").count():
        problems.append("a widget box or widget script on a static page")
    # the checks: folded
    checks = page.locator("div.cell[class*='tag_claim-']")
    unfolded = [checks.nth(i).get_attribute("id") for i in range(checks.count())
                if checks.nth(i).locator("details.hide").count() == 0]
    if not checks.count() or unfolded:
        problems.append(f"{checks.count()} checking cells, not folded: {unfolded}")
    if stem.startswith("03"):
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.evaluate("() => window.scrollTo(0, 0)")
        page.screenshot(path=str(SCREENSHOT))
    problems += page.problems
    assert not problems, "\n".join(problems)


def test_search_finds_the_elbo(page, server):
    page.goto(f"{server}/search.html?q=ELBO", wait_until="load")
    results = page.locator("#search-results li")
    results.first.wait_for(timeout=30_000)
    pages = [results.nth(i).locator("a").first.get_attribute("href") for i in range(results.count())]
    assert any("05_autoencoders_vae" in p for p in pages), pages
    assert not page.problems, "\n".join(page.problems)


def test_a_claim_links_to_its_folded_checking_cell(page, server):
    page.goto(f"{server}/claims/03_nade_fvsbn_made.html", wait_until="load")
    link = page.locator("a[href*='lectures/03_nade_fvsbn_made.html#claim-03-']").first
    target = link.get_attribute("href").split("#")[1]
    link.click()
    page.wait_for_url(f"**#{target}")
    cell = page.locator(f"[id='{target}']")
    assert cell.evaluate("e => e.classList.contains('cell')"), "the anchor is not on the cell"
    assert cell.locator("details.hide").count() == 1, "the checking cell is not folded"
    assert "assert" in cell.locator("details").evaluate("d => d.textContent"), "no check in the cell"
    assert not page.problems, "\n".join(page.problems)
