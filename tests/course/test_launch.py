"""The README's launch links come from course.toml, and say "not configured" until it is filled."""
from __future__ import annotations

import re

from gm_helpers.course import blocks, hosting, launch
from tests.helpers import REPO

CONFIGURED = hosting.parse('[hosting]\nrepository = "uni-x/dgm-course"\nbranch = "edition-3"\n'
                           'site_url = "https://uni-x.github.io/dgm-course"\n')
LECTURES = [("lectures/01_a.ipynb", "Lecture 1 — A"), ("lectures/02_b.ipynb", "Lecture 2 — B | C")]


def test_the_readme_block_is_current():
    assert blocks.is_current(REPO / "README.md", launch.block()), (
        "README.md's launch links are stale: python -m gm_helpers.course links --write")


def test_unconfigured_the_block_says_so_and_links_nowhere():
    text = launch.block(hosting.Hosting(), LECTURES)
    assert hosting.NOT_CONFIGURED in text
    assert not re.search(r"https?://", text), "no link may appear while the repository is unknown"


def test_configured_every_link_derives_from_the_setting():
    text = launch.block(CONFIGURED, LECTURES)
    assert hosting.NOT_CONFIGURED not in text
    assert f"]({hosting.binder_url(CONFIGURED)})" in text
    assert "](https://uni-x.github.io/dgm-course/)" in text
    assert "](https://github.com/uni-x/dgm-course)" in text
    rows = [line for line in text.splitlines() if line.startswith("| Lecture")]
    assert len(rows) == len(LECTURES) and "B \\| C" in rows[1]  # a | in a title kept out of the table
    for (path, _), row in zip(LECTURES, rows):
        assert f"]({hosting.colab_url(CONFIGURED, path)})" in row
        assert f"]({hosting.binder_url(CONFIGURED, path)})" in row
    urls = re.findall(r"\]\((https://[^)]+)\)", text)
    assert urls and all("uni-x/dgm-course" in u or u == CONFIGURED.site_url for u in urls), urls
    assert len(urls) == 3 + 2 * len(LECTURES)


def test_without_a_site_address_the_block_says_the_site_is_not_published():
    h = hosting.parse('[hosting]\nrepository = "uni-x/dgm-course"\n')
    text = launch.block(h, LECTURES)
    assert "site is not published yet" in text and "make site" in text


def test_a_changed_setting_makes_the_readme_block_stale(tmp_path):
    """The currency test above can fail: the README written for one setting is stale for another."""
    readme = tmp_path / "README.md"
    readme.write_text((REPO / "README.md").read_text())
    assert blocks.is_current(readme, launch.block())
    blocks.write(readme, launch.block(CONFIGURED))
    assert not blocks.is_current(readme, launch.block(hosting.Hosting()))
    assert "uni-x/dgm-course" in readme.read_text()


def test_the_titles_are_the_lectures_headings():
    titles = launch.lecture_titles()
    assert [p for p, _ in titles] == [f"lectures/{p.name}" for p in
                                      sorted((REPO / "lectures").glob("[0-9][0-9]_*.ipynb"))]
    assert all(re.match(r"Lecture \d+ — \S", t) for _, t in titles), titles
