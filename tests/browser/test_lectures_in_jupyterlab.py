"""Every lecture, run in JupyterLab in Chromium as a student would, and every control of every
explorer moved.

For each lecture: open it at 1280 x 800 with the file browser open, wait until its kernel is
started and idle (JupyterLab clears, and never runs, cells that *Run All Cells* reaches while the
notebook has no kernel yet), run all cells, then fail on
an error output, a browser console error, a message in JupyterLab's Log Console, a stale copy of
an explorer's figure beside the live widget, widget repr text (``VBox(children=...``), a control
narrower than a usable width or clipped out of the notebook column. Then, for every control of
every explorer: change it, check that the figure it drives changed (the PNG before and after),
and measure the latency. The latencies go to ``$GM_BROWSER_REPORT`` (default:
``browser_report.json`` in pytest's temporary folder) and are printed.

    pytest -m browser tests/browser          # this suite only
    pytest -m "not browser"                  # everything else

Fixtures: JupyterLab on a free port over a temporary copy of the lectures (its settings,
workspaces and runtime files in temporary folders too, autosave off: nothing is written into
the repository), and Chromium from the system (Debian's ``chromium``; set ``CHROMIUM`` to its
path if it is not on PATH), driven by Playwright; never Playwright's own browser download.
Without either, every test here is skipped with a message that says how to install them.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from tests.helpers import BROWSER_INSTALL, browser_missing

REPO = Path(__file__).resolve().parents[2]






def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(bool(browser_missing()), reason=f"browser suite skipped: "
                                 f"{' and '.join(browser_missing())}; {BROWSER_INSTALL}")]


@pytest.fixture(scope="session")
def lab():
    """A JupyterLab server over a temporary copy of the lectures: (base URL, token, root)."""
    work = Path(tempfile.mkdtemp(prefix="gm-browser-"))
    root = work / "lectures"
    shutil.copytree(REPO / "lectures", root, ignore=shutil.ignore_patterns("*.py", "*.cfg"))
    settings = work / "settings"
    override = settings / "@jupyterlab" / "docmanager-extension"
    override.mkdir(parents=True)
    (override / "plugin.jupyterlab-settings").write_text(json.dumps({"autosave": False}))
    news = settings / "@jupyterlab" / "apputils-extension"
    news.mkdir(parents=True)       # no "would you like news?" toast over the notebook
    (news / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    notebook = settings / "@jupyterlab" / "notebook-extension"
    notebook.mkdir(parents=True)   # every cell in the page, not only those scrolled into view
    (notebook / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    port, token = _free_port(), "gm-browser-test"
    env = {**os.environ, "JUPYTERLAB_SETTINGS_DIR": str(settings),
           "JUPYTERLAB_WORKSPACES_DIR": str(work / "workspaces"),
           "JUPYTER_RUNTIME_DIR": str(work / "runtime"), "JUPYTER_CONFIG_DIR": str(work / "config"),
           "MPLBACKEND": "module://matplotlib_inline.backend_inline"}
    log = open(work / "lab.log", "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
         f"--ServerApp.token={token}", f"--ServerApp.root_dir={root}", "--allow-root",
         "--ServerApp.open_browser=False", "--LabApp.news_url=",
         "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
        cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while True:
        try:
            urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2)
            break
        except OSError:
            if server.poll() is not None or time.time() > deadline:
                log.close()
                raise RuntimeError(f"JupyterLab did not start: {(work / 'lab.log').read_text()[-2000:]}")
            time.sleep(0.5)
    yield url, token, root
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()
    log.close()
    shutil.rmtree(work, ignore_errors=True)


LECTURES = sorted(p.name for p in (REPO / "lectures").glob("0*.ipynb"))
WIDTH, HEIGHT = 1280, 800
MIN_SLIDER_TRACK = 100      # px: a slider track narrower than this cannot be dragged well
KERNEL_TIMEOUT = 180        # s for the lecture's kernel to start (under load in CI)
RUN_TIMEOUT = 400           # s for a whole lecture (the slowest runs in about 100 s alone)
CHANGE_TIMEOUT = 60         # s for a figure to change after a control moved
TRAIN_TIMEOUT = 240         # s for a *train* button: it runs a training
REPORT: dict = {}


def _explorer_cells(name: str) -> int:
    source = (REPO / "lectures" / name).with_suffix(".py").read_text()
    return len(re.findall(r"^\w+_explorer\(", source, re.MULTILINE))


def _report_path(tmp_path_factory) -> Path:
    env = os.environ.get("GM_BROWSER_REPORT")
    return Path(env) if env else tmp_path_factory.getbasetemp() / "browser_report.json"


NOTEBOOK_PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"            # the lecture on show
NOTEBOOK = f"{NOTEBOOK_PANEL} .jp-Notebook"


def _open(page, url, token, name):
    # a workspace of its own, reset: only this lecture open, whatever the server remembers
    page.goto(f"{url}/lab/workspaces/{Path(name).stem}/tree/{name}?token={token}&reset")
    page.wait_for_selector(f"{NOTEBOOK} .jp-Cell", timeout=90_000)
    if not page.locator(".jp-FileBrowser").first.is_visible():   # the file browser: open
        page.locator('.jp-SideBar [data-id="filebrowser"]').first.click()
    page.locator(".jp-FileBrowser").first.wait_for(state="visible", timeout=10_000)
    # as a student waits for "Python 3 (ipykernel) | Idle": cells run before the session has a
    # kernel are cleared by JupyterLab, never run (seen in CI, where the kernel took long to start)
    page.wait_for_function(
        f"""() => {{
            const name = document.querySelector('{NOTEBOOK_PANEL} .jp-Toolbar-kernelName');
            const state = document.querySelector('{NOTEBOOK_PANEL} .jp-Notebook-ExecutionIndicator');
            return name && !/^\\s*(No Kernel)?\\s*$/.test(name.textContent)
                && state && state.getAttribute('data-status') === 'idle';
        }}""", timeout=KERNEL_TIMEOUT * 1000, polling=200)


def _shut_down_kernels(url, token):
    """Free the lecture's kernel (a student closing the notebook), through the REST API."""
    sessions = json.load(urllib.request.urlopen(f"{url}/api/sessions?token={token}"))
    for session in sessions:
        request = urllib.request.Request(f"{url}/api/sessions/{session['id']}?token={token}",
                                         method="DELETE")
        urllib.request.urlopen(request)


# the prompts a reader sees: a checking cell's input is collapsed (hidden input), and its prompt,
# inside the hidden input area, shows no number however often it runs
PROMPTS = f"""() => [...document.querySelectorAll('{NOTEBOOK_PANEL} .jp-CodeCell .jp-InputPrompt')]
    .filter(p => !p.closest('.lm-mod-hidden')
                 && !p.closest('.jp-Cell').querySelector('.jp-InputPlaceholder'))
    .map(p => p.textContent.trim())"""


def _run_all(page, url, token, root: Path, diagnostics: Path):
    page.locator(NOTEBOOK).first.click(position={"x": 5, "y": 5})
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
    # every code cell gets a number; "[*]" while queued or running
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    try:
        page.wait_for_function(
            f"""() => {{ const prompts = ({PROMPTS})();
                return prompts.length > 0 && prompts.every(p => /^\\[\\d+\\]:$/.test(p)); }}""",
            timeout=RUN_TIMEOUT * 1000, polling=1000)
    except PlaywrightTimeout:
        raise AssertionError(_stall_report(page, url, token, root, diagnostics)) from None


def _stall_report(page, url, token, root: Path, diagnostics: Path) -> str:
    """What a run that did not finish left behind: which cells never got a number, what the
    server says the kernel is doing, the server's log, and a screenshot."""
    prompts = page.evaluate(PROMPTS)
    waiting = [f"code cell {i} {p}" for i, p in enumerate(prompts) if not re.match(r"^\[\d+\]:$", p)]
    try:
        kernels = json.load(urllib.request.urlopen(f"{url}/api/kernels?token={token}", timeout=5))
        states = [f"{k['id'][:8]} {k['execution_state']} (last activity {k['last_activity']})"
                  for k in kernels]
    except OSError as e:
        states = [f"the server did not answer: {e}"]
    diagnostics.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(diagnostics), full_page=True)
    log = (root.parent / "lab.log").read_text(errors="replace").splitlines()[-15:]
    return (f"Run All Cells did not finish within {RUN_TIMEOUT} s: {len(waiting)} of "
            f"{len(prompts)} code cells without a number ({', '.join(waiting[:5])}); "
            f"kernels: {'; '.join(states) or 'none'}; screenshot: {diagnostics}; "
            "the end of JupyterLab's log:\n" + "\n".join(log))


def _log_entries(page) -> int:
    title = page.evaluate(
        "() => document.querySelector('.jp-LogConsoleStatusItem [title]')?.title || ''")
    match = re.match(r"(\d+) log entr", title)
    return int(match.group(1)) if match else 0


def _figure(explorer):
    """The src of the PNG inside the explorer's output widget (None while it redraws)."""
    images = explorer.locator(".widget-output img")
    return images.first.get_attribute("src") if images.count() else None


def _wait_change(page, explorer, before, started, timeout=CHANGE_TIMEOUT):
    deadline = started + timeout
    while time.perf_counter() < deadline:
        now = _figure(explorer)
        if now is not None and now != before:
            return time.perf_counter() - started
        page.wait_for_timeout(25)
    return None


def _controls(explorer):
    """(kind, label, locator) of every interactive control of an explorer."""
    found = []
    for kind, selector in (("slider", ".widget-slider"), ("dropdown", ".widget-dropdown"),
                           ("toggles", ".widget-toggle-buttons"), ("text", ".widget-text"),
                           ("button", "button.widget-button")):
        items = explorer.locator(selector)
        for i in range(items.count()):
            item = items.nth(i)
            label = item.locator(".widget-label").first
            text = label.inner_text().strip() if label.count() else item.inner_text().strip()
            found.append((kind, text or f"{kind} {i}", item))
    return found


def _move(page, kind, control):
    if kind == "slider":
        handle = control.locator(".noUi-handle").first
        handle.focus()
        # one step down (smaller is cheaper: fewer layers, fewer iterations), or up from the min
        at_min = handle.get_attribute("aria-valuenow") == handle.get_attribute("aria-valuemin")
        page.keyboard.press("ArrowRight" if at_min else "ArrowLeft")
    elif kind == "dropdown":
        select = control.locator("select")
        options = select.locator("option").all_inner_texts()
        current = select.evaluate("s => s.options[s.selectedIndex].text")
        select.select_option(label=next(o for o in options if o != current))
    elif kind == "toggles":
        control.locator("button:not(.mod-active)").first.click()
    elif kind == "text":
        field = control.locator("input")
        field.fill(str(int(field.input_value() or 0) + 1))
        field.press("Enter")
    elif kind == "button":
        control.click()


def _layout_problems(page, explorer, notebook_right) -> list[str]:
    problems = []
    for kind, label, control in _controls(explorer):
        box = control.bounding_box()
        if box is None:
            problems.append(f"{label!r} ({kind}) is not visible")
            continue
        if box["x"] < 0 or box["x"] + box["width"] > min(WIDTH, notebook_right) + 1:
            problems.append(f"{label!r} ({kind}) is clipped: x {box['x']:.0f} to "
                            f"{box['x'] + box['width']:.0f}, the column ends at {notebook_right:.0f}")
        if kind == "slider":
            track = control.locator(".slider-container, .noUi-target").first.bounding_box()
            if track is None or track["width"] < MIN_SLIDER_TRACK:
                problems.append(f"slider {label!r} has a track of "
                                f"{0 if track is None else track['width']:.0f} px")
        if kind == "toggles":
            tops = {round(b.bounding_box()["y"]) for b in control.locator("button").all()}
            if len(tops) > 1:
                problems.append(f"the toggle buttons of {label!r} wrap onto {len(tops)} lines")
    return problems


@pytest.mark.parametrize("name", LECTURES)
def test_lecture_runs_and_every_control_redraws(lab, browser, name, tmp_path_factory):
    url, token, root = lab
    context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT})
    page = context.new_page()
    console = []
    page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: console.append(f"page error: {e}"))
    try:
        _check_lecture(page, url, token, root, name, console, tmp_path_factory)
    finally:
        context.close()
        _shut_down_kernels(url, token)


def _check_lecture(page, url, token, root, name, console, tmp_path_factory):
    started = time.perf_counter()
    _open(page, url, token, name)
    opened = time.perf_counter()
    _run_all(page, url, token, root,
             _report_path(tmp_path_factory).with_name(f"{Path(name).stem}_stalled.png"))
    open_seconds, run_seconds = opened - started, time.perf_counter() - opened
    problems = []
    notebook = page.locator(NOTEBOOK).first
    errors = notebook.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')
    for i in range(errors.count()):
        text = errors.nth(i).inner_text()
        if "Traceback" in text or re.search(r"^\w+Error\b", text, re.MULTILINE):
            problems.append(f"an error output: {text[:300]}")
    if notebook.get_by_text(re.compile(r"^VBox\(children=")).count():
        problems.append("widget repr text (VBox(children=...) in an output")
    explorers = notebook.locator(".jp-OutputArea-output .widget-vbox:has(.widget-output)")
    expected = _explorer_cells(name)
    if explorers.count() != expected:
        problems.append(f"{explorers.count()} explorers rendered, the lecture has {expected}")
    notebook_right = notebook.bounding_box()
    notebook_right = notebook_right["x"] + notebook_right["width"]
    latencies = []
    for e in range(explorers.count()):
        explorer = explorers.nth(e)
        explorer.scroll_into_view_if_needed()
        cell = notebook.locator(".jp-CodeCell").filter(has=explorer).first
        stale = cell.locator(".jp-OutputArea-output img:not(.widget-output img)").count()
        if stale:
            problems.append(f"explorer {e}: {stale} stale figure(s) under the live widget")
        problems += [f"explorer {e}: {p}" for p in _layout_problems(page, explorer, notebook_right)]
        for kind, label, control in _controls(explorer):
            if "gm-setting" in (control.get_attribute("class") or ""):
                _move(page, kind, control)  # a setting read when *train* is pressed: no redraw
                latencies.append({"explorer": e, "control": label, "kind": f"{kind}, setting",
                                  "latency_s": None})
                continue
            before = _figure(explorer)
            t0 = time.perf_counter()
            _move(page, kind, control)
            # a button starts a computation (the toy GAN trains for seconds): a longer wait
            latency = _wait_change(page, explorer, before, t0,
                                   TRAIN_TIMEOUT if kind == "button" else CHANGE_TIMEOUT)
            if latency is None:
                problems.append(f"explorer {e}: moving {label!r} ({kind}) did not change the "
                                f"figure within {CHANGE_TIMEOUT} s")
            latencies.append({"explorer": e, "control": label, "kind": kind,
                              "latency_s": None if latency is None else round(latency, 3)})
            page.wait_for_timeout(300)    # let a redraw's trailing messages arrive
    page.wait_for_timeout(1000)
    entries = _log_entries(page)
    if entries:
        problems.append(f"{entries} message(s) in JupyterLab's Log Console")
    problems += [f"browser console error: {c[:300]}" for c in console]
    REPORT[name] = {"open_to_idle_kernel_s": round(open_seconds, 1),
                    "run_all_s": round(run_seconds, 1), "controls": latencies}
    path = _report_path(tmp_path_factory)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(REPORT, indent=2))
    if explorers.count():      # what the student saw last: kept beside the report
        explorers.last.scroll_into_view_if_needed()
        page.screenshot(path=str(path.with_name(f"{Path(name).stem}.png")))
    for row in latencies:
        print(f"{name} explorer {row['explorer']} {row['control']!r} ({row['kind']}): "
              f"{row['latency_s']} s")
    assert not problems, "\n".join(problems)
