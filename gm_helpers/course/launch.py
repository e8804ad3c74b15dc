"""The README's launch links (the site, Binder, Colab per lecture), generated from course.toml.

    python -m gm_helpers.course links            # print the block
    python -m gm_helpers.course links --write    # put it into README.md

Every address comes from ``hosting`` (course.toml's ``[hosting]``); none is typed by hand. While
the repository is not configured the block says so, in ``hosting.NOT_CONFIGURED``'s words, and
holds no link. ``tests/course/test_launch.py`` fails while the README's block is stale.
"""
from __future__ import annotations

import json
from pathlib import Path

from gm_helpers.course import hosting

BEGIN = "<!-- launch links: python -m gm_helpers.course links -->"
END = "<!-- end of launch links -->"
LECTURES = hosting.REPO / "lectures"


def lecture_titles(folder: str | Path = LECTURES) -> list[tuple[str, str]]:
    """(path from the repository root, title) of each lecture notebook, in order; the title is the
    first heading of the notebook's first markdown cell (``# Lecture 1 — What ...``)."""
    out = []
    for path in sorted(Path(folder).glob("[0-9][0-9]_*.ipynb")):
        cells = json.loads(path.read_text())["cells"]
        heading = next((line for cell in cells if cell["cell_type"] == "markdown"
                        for line in "".join(cell["source"]).splitlines() if line.startswith("# ")),
                       None)
        if heading is None:
            raise ValueError(f"{path.name}: no '# Lecture N — title' heading in a markdown cell")
        out.append((f"lectures/{path.name}", heading[2:].strip()))
    return out


def block(h: hosting.Hosting | None = None, lectures: list[tuple[str, str]] | None = None) -> str:
    """The README's launch-links block for hosting ``h`` (course.toml's when not given)."""
    h = hosting.load() if h is None else h
    if not h.configured:
        return "\n".join([
            BEGIN,
            f"**Online (the site, Binder, Colab):** {hosting.NOT_CONFIGURED}. The links appear here "
            "once the course is published. Until then, work on your own machine (*Start here*, "
            "below); `make site` builds the site locally "
            "(open `docs/_build/html/index.html`).",
            END])
    lectures = lecture_titles() if lectures is None else lectures
    site = (f"the lectures, figures and outputs on [the course's site]({h.site_url})" if h.site_url else
            "the site is not published yet (`site_url` in course.toml is empty); `make site` builds it "
            "locally")
    lines = [
        BEGIN,
        f"**Online, nothing to install.** Read: {site}. Run: all the lectures on "
        f"[Binder]({hosting.binder_url(h)}) (JupyterLab on a free CPU, everything installed; it can "
        "take a few minutes to start), or one lecture at a time on Colab (its first cell installs the "
        "package and fetches the data):",
        "",
        "| lecture | Colab | Binder |",
        "|---|---|---|",
    ]
    for path, title in lectures:
        title = title.replace("|", "\\|")  # a | would end the table's cell
        lines.append(f"| {title} | [open in Colab]({hosting.colab_url(h, path)}) | "
                     f"[open on Binder]({hosting.binder_url(h, path)}) |")
    lines += [
        "",
        "The online notebooks are the lectures *with their solutions*, under each exercise; save your "
        "own copy before you edit (Colab: *File → Save a copy in Drive*; Binder keeps nothing once "
        f"it stops). The source: [{h.repository}]({hosting.repository_url(h)}).",
        END,
    ]
    return "\n".join(lines)
