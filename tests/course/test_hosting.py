"""course.toml is the one hosting setting: links derive from it, placeholders are refused."""
from __future__ import annotations

import subprocess

import pytest

from gm_helpers.course import hosting
from gm_helpers.course.hosting import REPO, Hosting, parse


def test_unconfigured_gives_no_links():
    h = parse("[hosting]\nrepository = \"\"\n")
    assert not h.configured and h.branch == "main"
    assert hosting.binder_url(h) is None and hosting.colab_url(h, "lectures/x.ipynb") is None
    assert hosting.pip_source(h) is None and hosting.repository_url(h) is None
    assert "not configured" in hosting.NOT_CONFIGURED and "course.toml" in hosting.NOT_CONFIGURED


def test_configured_links():
    h = parse('[hosting]\nrepository = "uni-x/dgm-course"\nbranch = "edition-3"\n'
              'site_url = "https://uni-x.github.io/dgm-course"\n')
    assert hosting.binder_url(h) == ("https://mybinder.org/v2/gh/uni-x/dgm-course/edition-3"
                                     "?urlpath=lab%2Ftree%2Flectures")
    assert hosting.colab_url(h, "lectures/01_a.ipynb") == (
        "https://colab.research.google.com/github/uni-x/dgm-course/blob/edition-3/lectures/01_a.ipynb")
    assert hosting.pip_source(h) == "gm_helpers @ git+https://github.com/uni-x/dgm-course@edition-3"
    assert h.site_url == "https://uni-x.github.io/dgm-course/"


@pytest.mark.parametrize("text, message", [
    ('[hosting]\nrepository = "OWNER/REPO"', "placeholder"),
    ('[hosting]\nrepository = "https://github.com/a/b"', "not the URL"),
    ('[hosting]\nrepository = "just-a-name"', "not a GitHub path"),
    ('[hosting]\nrepository = "-bad/name"', "not a GitHub path"),
    ('[hosting]\nrepository = 3', "must be a string"),
    ('[hosting]\nrepo = "a/b"', "unknown keys"),
    ('[hosting]\nbranch = "a..b"', "not a branch name"),
    ('[hosting]\nsite_url = "http://x.org"', "https://"),
    ('[hosting\n', "not valid TOML"),
])
def test_bad_settings_are_refused(text, message):
    with pytest.raises(ValueError, match=message):
        parse(text)


def test_missing_file_is_unconfigured(tmp_path):
    assert hosting.load(tmp_path / "course.toml") == Hosting()


def test_the_course_setting_parses():
    hosting.load()  # a ValueError here names what is wrong with course.toml


def test_no_placeholder_address_anywhere_in_the_repository():
    """No tracked file carries a made-up repository address such as OWNER/REPO: links come from
    course.toml, and say "not configured" until it is filled."""
    assert hosting.find_placeholders("see github.com/OWNER/REPO and user/repo") == ["OWNER/REPO", "user/repo"]
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=REPO, check=True,
                           capture_output=True, text=True).stdout.split()
    exempt = {"gm_helpers/course/hosting.py", "tests/course/test_hosting.py"}  # they define the pattern
    found = {}
    for name in files:
        path = REPO / name
        if name in exempt or not path.is_file() or path.suffix in {".pt", ".npz", ".png"}:
            continue
        hits = hosting.find_placeholders(path.read_text(errors="ignore"))
        if hits:
            found[name] = sorted(set(hits))
    assert not found, f"placeholder repository addresses: {found}"
