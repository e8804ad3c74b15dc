"""Fixtures of the browser suite: JupyterLab on a free port over a temporary copy of the
lectures, and Chromium driven by Playwright at a laptop's 1280 x 800 with the file browser open.

Nothing is written into the repository: the server's root, settings, workspaces and runtime
files are temporary folders (and autosave is off besides). Chromium comes from the system
(Debian's ``chromium`` package), never from Playwright's download: set ``CHROMIUM`` to its path
if it is not on PATH. Without it, or without the ``playwright`` package, the suite is skipped
with a message that says how to install them.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
INSTALL = ("install them with: apt-get install -y chromium (as root) and pip install playwright, "
           "or run .ci/run, which does both")


def chromium_path() -> str | None:
    for candidate in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        if candidate and shutil.which(candidate):
            return shutil.which(candidate)
    return None


def pytest_collection_modifyitems(config, items):
    """Skip the browser tests, loudly, when the browser or its driver is missing."""
    missing = []
    if chromium_path() is None:
        missing.append("no Chromium on this machine")
    try:
        import playwright  # noqa: F401
    except ImportError:
        missing.append("the playwright package is not installed")
    if missing:
        reason = f"browser suite skipped: {' and '.join(missing)}; {INSTALL}"
        for item in items:
            if "browser" in item.keywords:
                item.add_marker(pytest.mark.skip(reason=reason))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
         "--ServerApp.open_browser=False", "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
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


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=chromium_path(),
                                     args=["--no-sandbox", "--disable-dev-shm-usage"])
        yield chromium
        chromium.close()
