"""The course's website: Sphinx and myst-nb over the committed, executed notebooks (never re-run).

    make site                                   # installs the docs extra, then the next line
    python -m gm_helpers.course site            # build docs/_build/html, then check its links
    python -m gm_helpers.course site --check    # only check the links of a built site

``docs/conf.py`` loads this module as a Sphinx extension. When the build starts it writes the
generated sources into ``docs/`` (git-ignored, see ``GENERATED``): a copy of every lecture
notebook prepared for the web (a launch and download box under the title; checking cells and
solutions folded; the explorers' widget output replaced by a note, since no kernel runs behind a
static page), the notebooks and their student copies to download, and (``site_pages``) a page per
claims ledger whose checks link to the lecture's cell (``cell:TAG``: here the cell gets the id TAG
and a Sphinx label) or to the test's source, and the checkpoint table. Launch links come from
``hosting`` (course.toml; ``GM_COURSE_TOML`` names another file, to build a configured site
without editing it). Files are rewritten only when their text changes, so a rebuild is fast.
"""
from __future__ import annotations

import argparse
import copy
import html
import json
import os
import re
import shutil
import sys
import tempfile
import time
import tomllib
from pathlib import Path

from gm_helpers.course import hosting, site_links, site_pages, student

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
HTML = DOCS / "_build" / "html"
# written at each build, never committed (.gitignore lists them): relative to docs/
GENERATED = ("lectures", "claims", "tests", "_notebooks", "checkpoints.md")
CHECK_PROMPT = "Show the check"
SOLUTION_PROMPT = "Show the solution (try the exercise first)"


def hosting_settings() -> hosting.Hosting:
    """course.toml's hosting, or that of the file ``$GM_COURSE_TOML`` names."""
    return hosting.load(os.environ.get("GM_COURSE_TOML") or hosting.SETTINGS)


def _title(nb: dict) -> str:
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            match = re.search(r"^#\s+(.+)$", "".join(cell["source"]), re.M)
            if match:
                return match.group(1).strip()
    raise ValueError("a lecture notebook has no '# title' in a markdown cell")


def launch_box(stem: str, h: hosting.Hosting) -> str:
    """The markdown under a lecture's title: downloads, and Binder and Colab (or why not)."""
    notebook = f"lectures/{stem}.ipynb"
    if h.configured:
        launch = (f"[Open in Binder]({hosting.binder_url(h, notebook)}) (JupyterLab, no install) · "
                  f"[Open in Colab]({hosting.colab_url(h, notebook)}) (its first cell installs the "
                  "course package)")
    else:
        launch = (f"{hosting.NOT_CONFIGURED}. To run a lecture, get the course's repository (it "
                  "holds the package the notebooks import) and follow its README: `make lab`.")
    return "\n".join([
        "```{admonition} Run this lecture", ":class: tip",
        f"* **Download:** {{download}}`the student copy </_notebooks/{stem}_student.ipynb>` (the "
        f"exercises to solve) · {{download}}`the notebook with solutions </_notebooks/{stem}.ipynb>`",
        f"* **Launch:** {launch}",
        "* Every figure and number below was computed when the notebook was last executed.", "```"])


def explorer_note(stem: str, h: hosting.Hosting, saved: bool = True) -> str:
    """What the page says under an explorer: the picture is the explorer as saved (at its opening
    settings), or, when the notebook kept no picture of it, that it needs a kernel."""
    notebook = f"lectures/{stem}.ipynb"
    where = (f"Jupyter, [Binder]({hosting.binder_url(h, notebook)}) or "
             f"[Colab]({hosting.colab_url(h, notebook)})" if h.configured
             else "Jupyter (download the notebook at the top of this page)")
    shown = ("The picture above is the explorer at its opening settings, as the notebook saved it."
             if saved else "This page cannot show it.")
    return (f"> **Interactive explorer.** {shown} Its controls need a running Python kernel: open "
            f"this lecture in {where} to move them.")


def _explorer_image(state: dict, model_id: str) -> dict | None:
    """The last image an explorer's Output widget held when the notebook was saved: the widget
    tree under ``model_id`` searched for an OutputModel's image/png output (None if none)."""
    found, todo, seen = None, [model_id], set()
    while todo:
        key = todo.pop(0)
        if key in seen or key not in state:
            continue
        seen.add(key)
        model = state[key]
        if model.get("model_name") == "OutputModel":
            for output in model["state"].get("outputs", []):
                if "image/png" in output.get("data", {}):
                    found = output
        children = model["state"].get("children", [])
        todo += [c.removeprefix("IPY_MODEL_") for c in children if isinstance(c, str)]
    return found


def _progress_text(state: dict, model_id: str) -> str | None:
    """A saved progress bar (tqdm's HBox of HTML, Progress, HTML) as its last text, or None."""
    model = state.get(model_id, {})
    if model.get("model_name") != "HBoxModel":
        return None
    parts = [state.get(child.removeprefix("IPY_MODEL_"), {}) for child in model["state"].get("children", [])]
    if not any(p.get("model_name", "").endswith("ProgressModel") for p in parts):
        return None
    texts = [html.unescape(p["state"].get("value", "")) for p in parts if p.get("model_name") == "HTMLModel"]
    return " ".join(" ".join(t.replace("\u2007", " ").split()) for t in texts if t.strip())


def _tag(cell: dict, *tags: str) -> None:
    present = cell["metadata"].setdefault("tags", [])
    present += [t for t in tags if t not in present]


def web_notebook(nb: dict, stem: str, h: hosting.Hosting) -> dict:
    """A lecture notebook prepared for its page (the committed notebook is left as it is)."""
    from gm_helpers.widgets.core import STATIC_TEXT  # what an explorer leaves in a saved notebook
    nb = copy.deepcopy(nb)
    # no kernel behind the page: no widget state to embed (progress bars keep their last text)
    state = nb["metadata"].pop("widgets", {}).get("application/vnd.jupyter.widget-state+json", {})
    state = state.get("state", {})
    notes = []   # (explorer cell, the note that goes in a markdown cell right after it)
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        tags, source = cell["metadata"].get("tags", []), "".join(cell["source"])
        if any(t.startswith("claim-") for t in tags):
            _tag(cell, "hide-input")
            cell["metadata"].setdefault("mystnb", {}).update(code_prompt_show=CHECK_PROMPT,
                                                             code_prompt_hide="Hide the check")
        elif any(student.MARKER.match(line) for line in source.splitlines()):
            _tag(cell, "hide-input")
            cell["metadata"].setdefault("mystnb", {}).update(code_prompt_show=SOLUTION_PROMPT,
                                                             code_prompt_hide="Hide the solution")
        elif "colab-setup" in tags:
            _tag(cell, "hide-cell")  # the Colab install cell: not what the page is about
        outputs = []
        for output in cell.get("outputs", []):
            view = output.get("data", {}).get("application/vnd.jupyter.widget-view+json")
            if view is None:
                outputs.append(output)
            elif "".join(output["data"].get("text/plain", "")) == STATIC_TEXT:   # an explorer
                image = _explorer_image(state, view.get("model_id", ""))
                if image is None:
                    outputs.append({**output, "data": {"text/markdown": explorer_note(stem, h, False)}})
                else:   # its saved picture: the cell's caption and alt text apply to it
                    outputs.append({"output_type": "display_data", "metadata": {},
                                    "data": {"image/png": image["data"]["image/png"],
                                             "text/plain": "the explorer, as saved"}})
                    notes.append((cell, explorer_note(stem, h)))
            elif (text := _progress_text(state, view.get("model_id", ""))) is not None:
                outputs.append({**output, "data": {"text/plain": text}})
            # any other widget has nothing to show without a kernel: left out
        if "outputs" in cell:
            cell["outputs"] = outputs
    for i, (cell, note) in enumerate(notes):   # after the picture, not inside its figure
        at = next(j for j, c in enumerate(nb["cells"]) if c is cell) + 1
        nb["cells"].insert(at, {"cell_type": "markdown", "id": f"explorer-note-{i}", "metadata": {},
                                "source": note})
    # the box right under the title: the title's cell is split after its '# ' line
    first = next(i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "markdown")
    title, _, rest = "".join(nb["cells"][first]["source"]).partition("\n")
    if not title.startswith("# "):
        raise ValueError(f"{stem}: the first markdown cell does not start with the '# title' line")
    nb["cells"][first]["source"] = title
    nb["cells"][first + 1:first + 1] = [
        {"cell_type": "markdown", "id": "run-this-lecture", "metadata": {}, "source": launch_box(stem, h)},
        {"cell_type": "markdown", "id": "after-the-title", "metadata": {}, "source": rest.lstrip("\n")}]
    return nb


def _write(path: Path, data: str | bytes, written: set[Path]) -> None:
    """Write only when the content changes (Sphinx then re-reads only what changed)."""
    written.add(path)
    old = path.read_bytes() if path.exists() else None
    new = data.encode() if isinstance(data, str) else data
    if old != new:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(new)


def prepare(docs: Path = DOCS, repo: Path = REPO, h: hosting.Hosting | None = None) -> list[Path]:
    """Write every generated source into ``docs``; stale generated files are removed."""
    h = hosting_settings() if h is None else h
    written: set[Path] = set()
    lectures = sorted((repo / "lectures").glob("[0-9][0-9]_*.ipynb"))
    titles = {}
    with tempfile.TemporaryDirectory() as scratch:
        student.write_copies(repo / "lectures", Path(scratch))
        for path in lectures:
            nb = json.loads(path.read_text())
            titles[path.stem] = _title(nb)
            _write(docs / "lectures" / path.name, json.dumps(web_notebook(nb, path.stem, h), indent=1),
                   written)
            _write(docs / "_notebooks" / path.name, path.read_bytes(), written)
            _write(docs / "_notebooks" / f"{path.stem}_student.ipynb",
                   (Path(scratch) / path.name).read_bytes(), written)
    books = {p.stem: tomllib.loads(p.read_text()) for p in sorted((repo / "claims").glob("*.toml"))}
    for stem, book in books.items():
        page = site_pages.claims_page(stem, book, titles[stem], h, repo)
        _write(docs / "claims" / f"{stem}.md", page, written)
    _write(docs / "claims" / "index.md", site_pages.claims_index(books, titles), written)
    for page, text in site_pages.test_pages(books, h, repo, docs).items():
        _write(docs / page, text, written)
    _write(docs / "checkpoints.md", site_pages.checkpoint_page(), written)
    for top in GENERATED:   # a lecture, ledger or test that is gone: its page goes too
        for path in [docs / top] if (docs / top).is_file() else (docs / top).rglob("*"):
            if path.is_file() and path not in written:
                path.unlink()
    return sorted(written)


# ----------------------------------------------------------------------------- Sphinx extension
def _on_config(app, config) -> None:
    prepare(Path(app.srcdir))


def _cell_anchors(app, doctree) -> None:
    """A claim's checking cell gets the id of its ``claim-`` tag and a label of that name, so the
    ledger's pages link to it (``{ref}``) and Sphinx fails the build on a missing one."""
    std = app.env.domains.standard_domain if hasattr(app.env, "domains") else app.env.get_domain("std")
    from docutils import nodes
    for node in doctree.findall(nodes.container):
        if node.get("nb_element") != "cell_code":
            continue
        for tag in node.get("cell_metadata", {}).get("tags", []):
            if tag.startswith("claim-"):
                node["ids"].append(tag)
                std.anonlabels[tag] = (app.env.docname, tag)
                std.labels[tag] = (app.env.docname, tag, f"the check {tag}")


def mathjax_folder() -> Path:
    """MathJax 3, as sphinx-mathjax-offline ships it (the docs extra installs it)."""
    import importlib.util
    spec = importlib.util.find_spec("sphinx-mathjax-offline")
    if spec is None or spec.origin is None:
        raise RuntimeError("sphinx-mathjax-offline is not installed: pip install -e '.[docs]' (make site)")
    return Path(spec.origin).parent / "static" / "mathjax"


# what tex-chtml.js loads: the TeX extensions it autoloads, and its fonts (2 of the package's 24 MB)
MATHJAX = ("tex-chtml.js", "input/tex/extensions", "output/chtml/fonts/woff-v2")


def _copy_mathjax(app, exception) -> None:
    if exception is None and app.builder.format == "html":
        source, target = mathjax_folder(), Path(app.outdir) / "_static" / "mathjax"
        for part in MATHJAX:
            if (source / part).is_dir():
                shutil.copytree(source / part, target / part, dirs_exist_ok=True)
            else:
                (target / part).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source / part, target / part)


def setup(app):
    app.connect("config-inited", _on_config)
    app.connect("build-finished", _copy_mathjax)
    app.connect("doctree-read", _cell_anchors)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "env_version": 1}


# ----------------------------------------------------------------------------- command line
def build(out: Path = HTML, docs: Path = DOCS) -> int:
    """sphinx-build with warnings as errors; its exit status."""
    from sphinx.cmd.build import build_main
    doctrees = Path(docs) / "_build" / "doctrees"   # Sphinx's cache, kept out of the published folder
    return build_main(["-W", "--keep-going", "-q", "-b", "html", "-d", str(doctrees), str(docs), str(out)])


def main(argv=None) -> None:
    p = argparse.ArgumentParser(prog="python -m gm_helpers.course site", description=__doc__.split("\n\n")[0])
    p.add_argument("out", nargs="?", default=str(HTML), help="the built site's folder")
    p.add_argument("--check", action="store_true", help="only check the links of a built site")
    args = p.parse_args(argv)
    out = Path(args.out)
    if not args.check:
        started = time.perf_counter()
        if build(out):
            raise SystemExit("the site did not build (warnings are errors): see the messages above")
        size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
        print(f"built {out} in {time.perf_counter() - started:.0f} s: {len(list(out.rglob('*.html')))} "
              f"pages, {size / 2**20:.1f} MiB")
    problems = site_links.check(out)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        raise SystemExit(f"{len(problems)} broken link(s) in {out}")
    print(f"links: every local link and anchor of {out} exists; nothing loads from the network")
