"""The site's generated sources (gm_helpers.course.site, site_pages) and its offline link checker
(site_links). The site itself is built by ``make site`` (CI's site phase) and read in Chromium by
tests/browser/test_site.py."""
from __future__ import annotations

import json
import os
import runpy
import subprocess
from pathlib import Path

import pytest

from gm_helpers.course import hosting, site, site_links, site_pages
from gm_helpers.widgets.core import STATIC_TEXT

REPO = Path(__file__).resolve().parents[2]
CONFIGURED = hosting.Hosting("dgm-course/deep-generative-models", "main", "")
UNCONFIGURED = hosting.Hosting()


def _lecture(stem_prefix: str) -> tuple[str, dict]:
    path = next((REPO / "lectures").glob(f"{stem_prefix}_*.ipynb"))
    return path.stem, json.loads(path.read_text())


def _source(cell) -> str:
    return "".join(cell["source"])


def test_a_web_notebook_folds_checks_and_solutions_and_shows_no_widget_box():
    stem, nb = _lecture("03")
    before = json.dumps(nb)
    web = site.web_notebook(nb, stem, UNCONFIGURED)
    assert json.dumps(nb) == before, "the committed notebook is not changed"
    assert "widgets" not in web["metadata"]
    claims = [c for c in web["cells"] if any(t.startswith("claim-") for t in c["metadata"].get("tags", []))]
    assert claims and all("hide-input" in c["metadata"]["tags"] for c in claims)
    assert all(c["metadata"]["mystnb"]["code_prompt_show"] == site.CHECK_PROMPT for c in claims)
    solutions = [c for c in web["cells"] if c["cell_type"] == "code" and "BEGIN SOLUTION" in _source(c)]
    assert solutions and all("hide-input" in c["metadata"]["tags"] for c in solutions)
    outputs = [o for c in web["cells"] for o in c.get("outputs", [])]
    assert not [o for o in outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    # each explorer: its saved picture (the cell's caption and alt text apply), then a note cell
    explorers = [i for i, c in enumerate(nb["cells"]) if STATIC_TEXT in json.dumps(c.get("outputs", []))]
    notes = [c for c in web["cells"] if c["cell_type"] == "markdown" and "Interactive explorer" in _source(c)]
    assert len(notes) == len(explorers) >= 1
    for note in notes:
        before_note = web["cells"][web["cells"].index(note) - 1]
        pictures = [o for o in before_note["outputs"] if "image/png" in o.get("data", {})]
        assert pictures and "opening settings" in _source(note)
    # the title, then the box, then the rest of the title's cell
    first = next(i for i, c in enumerate(web["cells"]) if c["cell_type"] == "markdown")
    assert _source(web["cells"][first]).startswith("# Lecture 3") and "\n" not in _source(web["cells"][first])
    assert "Run this lecture" in _source(web["cells"][first + 1])
    assert hosting.NOT_CONFIGURED in _source(web["cells"][first + 1])


def test_the_colab_cell_is_folded_away():
    stem, nb = _lecture("01")
    nb["cells"].insert(1, {"cell_type": "code", "id": "colab", "metadata": {"tags": ["colab-setup"]},
                           "source": "import sys\n", "outputs": [], "execution_count": 1})
    web = site.web_notebook(nb, stem, UNCONFIGURED)
    colab = next(c for c in web["cells"] if c.get("id") == "colab")
    assert "hide-cell" in colab["metadata"]["tags"]


def test_a_saved_progress_bar_keeps_its_last_text():
    stem, nb = _lecture("02")
    web = site.web_notebook(nb, stem, UNCONFIGURED)
    texts = ["".join(o["data"].get("text/plain", "")) for c in web["cells"] for o in c.get("outputs", [])
             if "data" in o]
    assert any(t.startswith("epochs: 100%") for t in texts), "tqdm's bar, as it ended"
    assert not [t for t in texts if "0/100 [00:00<?" in t], "never the bar's first, stale text"


def test_launch_links_come_from_the_hosting_setting():
    box = site.launch_box("03_nade_fvsbn_made", UNCONFIGURED)
    assert hosting.NOT_CONFIGURED in box and "mybinder" not in box and "colab" not in box.lower()
    assert "/_notebooks/03_nade_fvsbn_made_student.ipynb" in box
    assert "/_notebooks/03_nade_fvsbn_made.ipynb" in box
    box = site.launch_box("03_nade_fvsbn_made", CONFIGURED)
    assert hosting.binder_url(CONFIGURED, "lectures/03_nade_fvsbn_made.ipynb") in box
    assert hosting.colab_url(CONFIGURED, "lectures/03_nade_fvsbn_made.ipynb") in box
    assert hosting.NOT_CONFIGURED not in box and not hosting.find_placeholders(box)
    note = site.explorer_note("03_nade_fvsbn_made", CONFIGURED)
    assert "](https://mybinder.org/v2/gh/dgm-course/" in note


def test_each_claim_links_every_check_and_its_text_cannot_break_the_markup():
    checks = ["cell:claim-03-x", "test:tests/models/test_made.py::test_parameter_counts"]
    book = {"claim": [{"id": "03-x", "text": "a | b *not emphasis* `code` $x$ <tag>", "checks": checks}]}
    page = site_pages.claims_page("03_nade_fvsbn_made", book, "Lecture 3", UNCONFIGURED)
    assert "{ref}`the notebook's cell claim-03-x <claim-03-x>`" in page
    assert "<test-tests-models-test-made-test-parameter-counts>`" in page
    assert r"a \| b \*not emphasis\* \`code\` \$x\$ \<tag\>" in page
    assert "github.com" not in page
    page = site_pages.claims_page("03_nade_fvsbn_made", book, "Lecture 3", CONFIGURED)
    first, last = site_pages._test_lines(REPO / "tests/models/test_made.py", "test_parameter_counts")
    assert (f"https://github.com/dgm-course/deep-generative-models/blob/main/tests/models/test_made.py"
            f"#L{first}-L{last}") in page


def test_a_test_page_shows_the_lines_of_each_cited_test(tmp_path):
    path = tmp_path / "tests" / "test_x.py"
    path.parent.mkdir()
    path.write_text("import pytest\n\n\n@pytest.mark.slow\ndef test_a():\n    assert 1\n\n\n"
                    "class TestB:\n    def test_c(self):\n        assert 2\n")
    assert site_pages._test_lines(path, "test_a") == (4, 6)            # the decorator included
    assert site_pages._test_lines(path, "TestB::test_c") == (10, 11)
    claim = {"id": "01-a", "text": "t", "checks": ["test:tests/test_x.py::TestB::test_c"]}
    books = {"01_x": {"claim": [claim]}}
    pages = site_pages.test_pages(books, UNCONFIGURED, tmp_path, tmp_path / "docs")
    text = pages["tests/test_x.md"]
    assert "(test-tests-test-x-testb-test-c)=" in text
    assert "```{literalinclude} ../../tests/test_x.py" in text and ":lines: 10-11" in text


def test_prepare_writes_the_generated_sources_and_only_rewrites_what_changed(tmp_path):
    docs = tmp_path / "docs"
    stale = docs / "lectures" / "99_gone.ipynb"
    stale.parent.mkdir(parents=True)
    stale.write_text("{}")
    written = site.prepare(docs, REPO, UNCONFIGURED)
    stems = sorted(p.stem for p in (REPO / "lectures").glob("[0-9][0-9]_*.ipynb"))
    assert sorted(p.stem for p in (docs / "lectures").glob("*.ipynb")) == stems
    assert not stale.exists(), "a lecture that is gone loses its page"
    for stem in stems:
        original = (REPO / "lectures" / f"{stem}.ipynb").read_bytes()
        assert (docs / "_notebooks" / f"{stem}.ipynb").read_bytes() == original
        student = json.loads((docs / "_notebooks" / f"{stem}_student.ipynb").read_text())
        assert "BEGIN SOLUTION" not in json.dumps(student), "the student copy has no solution"
    assert (docs / "checkpoints.md").read_text().startswith("# Checkpoints")
    assert sorted(p.stem for p in (docs / "claims").glob("*.md")) == sorted(
        [p.stem for p in (REPO / "claims").glob("*.toml")] + ["index"])
    assert all(p.is_relative_to(docs) for p in written)
    mtimes = {p: p.stat().st_mtime_ns for p in written}
    site.prepare(docs, REPO, UNCONFIGURED)
    assert {p: p.stat().st_mtime_ns for p in written} == mtimes, "unchanged sources are not rewritten"


def test_the_generated_sources_are_git_ignored():
    paths = [f"docs/{top}" if "." in top else f"docs/{top}/x" for top in site.GENERATED]
    paths.append("docs/_build/x")
    ignored = subprocess.run(["git", "check-ignore", *paths], cwd=REPO, capture_output=True, text=True).stdout
    assert sorted(ignored.split()) == sorted(paths)
    assert not subprocess.run(["git", "check-ignore", "-q", "docs/conf.py"], cwd=REPO).returncode == 0


def test_conf_never_executes_a_notebook_and_loads_nothing_from_a_cdn(monkeypatch):
    monkeypatch.delenv("GM_COURSE_TOML", raising=False)
    conf = runpy.run_path(str(REPO / "docs" / "conf.py"))
    assert conf["nb_execution_mode"] == "off"
    assert conf["nb_ipywidgets_js"] == {}
    assert not conf["mathjax_path"].startswith(("http", "//"))
    assert "gm_helpers.course.site" in conf["extensions"]
    assert conf["html_theme_options"]["launch_buttons"] == {}


def test_conf_reads_the_hosting_file_that_GM_COURSE_TOML_names(tmp_path, monkeypatch):
    settings = tmp_path / "course.toml"
    settings.write_text('[hosting]\nrepository = "dgm-course/deep-generative-models"\n')
    monkeypatch.setenv("GM_COURSE_TOML", str(settings))
    conf = runpy.run_path(str(REPO / "docs" / "conf.py"))
    assert conf["html_theme_options"]["repository_url"] == "https://github.com/dgm-course/deep-generative-models"


def test_ci_builds_the_site_before_the_tests():
    ci = (REPO / ".ci" / "run").read_text()
    assert 0 < ci.index("make site") < ci.index('phase "tests')
    assert "\nsite:" in (REPO / "Makefile").read_text()


# ----------------------------------------------------------------------------- the link checker
def _site(root: Path, pages: dict[str, str]) -> Path:
    for name, body in pages.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(body)
    return root


GOOD = {
    "index.html": '<a href="lectures/a.html#sec">a</a><a href="#top" id="top">top</a>'
                  '<link rel="stylesheet" href="_static/s.css"><img src="_images/f.png">'
                  '<a href="https://example.org/page">out</a><a href="mailto:x@example.org">m</a>',
    "lectures/a.html": '<section id="sec"><a href="../index.html">home</a><a href="..">up</a></section>',
    "_static/s.css": "@font-face { src: url('fonts/f.woff2'); } a { background: url(data:image/png,A) }",
    "_static/fonts/f.woff2": "font",
    "_images/f.png": "png",
}


def test_the_link_checker_passes_a_sound_site(tmp_path):
    assert site_links.check(_site(tmp_path, GOOD)) == []


@pytest.mark.parametrize("page, body, problem", [
    ("index.html", '<a href="lectures/missing.html">x</a>', "no such file"),
    ("index.html", '<a href="lectures/a.html#nowhere">x</a>', "no id 'nowhere'"),
    ("index.html", '<a href="#nowhere">x</a>', "no id 'nowhere'"),
    ("index.html", '<img src="_images/gone.png">', "no such file"),
    ("index.html", '<script src="https://cdn.jsdelivr.net/npm/x.js"></script>', "loads from the network"),
    ("index.html", '<link rel="stylesheet" href="//fonts.example.org/css">', "loads from the network"),
    ("index.html", '<a href="https://mybinder.org/v2/gh/' + "OWNER/" + 'REPO/main">b</a>', "placeholder"),
    ("index.html", '<a href="../../etc/passwd">x</a>', "outside the site"),
    ("_static/t.css", "a { background: url(../img/none.png) }", "no such file"),
    ("_static/u.css", "@import url(https://fonts.googleapis.com/css)", "loads from the network"),
])
def test_the_link_checker_finds_each_kind_of_broken_link(tmp_path, page, body, problem):
    pages = dict(GOOD)
    pages[page] = pages.get(page, "") + body
    problems = site_links.check(_site(tmp_path / "site", pages))
    assert len(problems) == 1 and problem in problems[0], problems


def test_the_link_checker_needs_a_built_site(tmp_path):
    assert "no index.html" in site_links.check(tmp_path)[0]


@pytest.mark.skipif(not os.environ.get("GM_SITE_DIR") and not (site.HTML / "index.html").is_file(),
                    reason="the site is not built (make site)")
def test_the_built_site_has_sound_links():
    built = Path(os.environ.get("GM_SITE_DIR") or site.HTML)
    assert site_links.check(built) == []


def test_the_claims_index_shows_titles_without_escapes():
    """A role's title is not unescaped by MyST: 'model\\, and' would show its backslash."""
    page = site_pages.claims_index({"01_x": {"claim": []}}, {"01_x": "What is it, and why? `a` <b> | c"})
    assert "{doc}`What is it, and why? 'a' (b) / c <01_x>`" in page and "\\" not in page
