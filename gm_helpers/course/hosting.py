"""Where the course is hosted: the one setting (``course.toml``) every launch link derives from.

    from gm_helpers.course import hosting
    h = hosting.load()                      # Hosting(repository='', branch='main', site_url='')
    hosting.binder_url(h)                   # None until course.toml names the repository
    hosting.colab_url(h, "lectures/03_nade_fvsbn_made.ipynb")

Every badge, Binder URL, Colab link and pip-install address in the README, the site and the
lectures' Colab cells comes from these functions; none is written by hand. While
``repository`` is empty the functions return ``None`` and the callers print
``NOT_CONFIGURED`` instead of a link, so a copy of the course never points at a made-up address.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

REPO = Path(__file__).resolve().parents[2]  # the checkout: course.toml, lectures/, README.md
SETTINGS = REPO / "course.toml"

NOT_CONFIGURED = ("not available yet: the repository address is not configured (maintainers: "
                  "set `repository` in course.toml to the course's GitHub path, owner/name)")

# a GitHub owner (1-39 letters, digits or single hyphens) / a repository name
_REPOSITORY = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}/[A-Za-z0-9._-]{1,100}$")
_BRANCH = re.compile(r"^[A-Za-z0-9._/-]{1,200}$")
# what people type when they mean "fill this in later"; a test fails on any of them in the repo
PLACEHOLDERS = re.compile(r"\b(?:OWNER/REPO|USER/REPO|owner/repo|user/repo|your-?name/your-?repo|"
                          r"<owner>/<repo>|YOUR_(?:USER|ORG)(?:NAME)?/)", re.I)


@dataclass(frozen=True)
class Hosting:
    repository: str = ""  # GitHub "owner/name", or "" while not configured
    branch: str = "main"
    site_url: str = ""

    @property
    def configured(self) -> bool:
        return bool(self.repository)


def parse(text: str, source: str = "course.toml") -> Hosting:
    """The ``[hosting]`` table of a course.toml text, validated: a ValueError names the problem."""
    try:
        table = tomllib.loads(text).get("hosting", {})
    except tomllib.TOMLDecodeError as err:
        raise ValueError(f"{source} is not valid TOML: {err}") from None
    unknown = set(table) - {"repository", "branch", "site_url"}
    if unknown:
        raise ValueError(f"{source} [hosting] has unknown keys {sorted(unknown)}; "
                         "known: repository, branch, site_url")
    values = {key: table.get(key, default) for key, default in
              (("repository", ""), ("branch", "main"), ("site_url", ""))}
    for key, value in values.items():
        if not isinstance(value, str):
            raise ValueError(f"{source} [hosting] {key} must be a string, not {type(value).__name__}")
    repository, branch, site_url = (values[k].strip() for k in ("repository", "branch", "site_url"))
    if PLACEHOLDERS.search(repository):
        raise ValueError(f"{source} [hosting] repository is the placeholder {repository!r}: "
                         "give the course's real GitHub path (owner/name), or leave it empty")
    if repository.startswith(("http://", "https://", "github.com/", "git@")):
        raise ValueError(f"{source} [hosting] repository must be the GitHub path owner/name, not the "
                         f"URL {repository!r}")
    if repository and not _REPOSITORY.match(repository):
        raise ValueError(f"{source} [hosting] repository {repository!r} is not a GitHub path owner/name")
    if not _BRANCH.match(branch) or ".." in branch:
        raise ValueError(f"{source} [hosting] branch {branch!r} is not a branch name")
    if site_url and not site_url.startswith("https://"):
        raise ValueError(f"{source} [hosting] site_url must start with https://, not {site_url!r}")
    return Hosting(repository, branch, site_url.rstrip("/") + "/" if site_url else "")


def load(path: str | Path = SETTINGS) -> Hosting:
    """The course's hosting setting (an unconfigured Hosting when the file is absent)."""
    path = Path(path)
    return parse(path.read_text(), path.name) if path.exists() else Hosting()


def repository_url(h: Hosting) -> str | None:
    return f"https://github.com/{h.repository}" if h.configured else None


def binder_url(h: Hosting, path: str = "lectures") -> str | None:
    """mybinder.org's launch URL, opening JupyterLab at ``path`` (a folder or a notebook)."""
    if not h.configured:
        return None
    return (f"https://mybinder.org/v2/gh/{h.repository}/{quote(h.branch, safe='')}"
            f"?urlpath={quote('lab/tree/' + path, safe='')}")


def colab_url(h: Hosting, notebook: str) -> str | None:
    """Colab's URL for a notebook of the repository, e.g. ``lectures/01_....ipynb``."""
    if not h.configured:
        return None
    return f"https://colab.research.google.com/github/{h.repository}/blob/{h.branch}/{notebook}"


def pip_source(h: Hosting) -> str | None:
    """What ``pip install`` takes to install the package from the repository (Colab's cell)."""
    if not h.configured:
        return None
    return f"gm_helpers @ git+https://github.com/{h.repository}@{h.branch}"


def find_placeholders(text: str) -> list[str]:
    """Every placeholder repository address in ``text`` (for the test that forbids them)."""
    return [m.group(0) for m in PLACEHOLDERS.finditer(text)]
