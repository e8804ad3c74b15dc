"""The site's generated pages: a page per claims ledger, the tests it cites, the checkpoint table.

Each claim links to its checks: ``cell:TAG`` to the lecture's cell (``site`` gives the cell the
id TAG and a Sphinx label of that name), ``test:PATH::NAME`` to a page that shows the test's source
(and, once course.toml names the repository, to its lines on GitHub). The links are Sphinx
references, so a check that no longer exists fails the build.
"""
from __future__ import annotations

import ast
import os
import re
from pathlib import Path

from gm_helpers.course import checkpoint_table, hosting

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"


def md_text(text: str) -> str:
    """Plain text made safe for MyST: every ASCII punctuation character escaped."""
    return re.sub(r"([!-/:-@\[-`{-~])", r"\\\1", " ".join(text.split()))


def role_text(text: str) -> str:
    """Text for a role's title ({doc}`title <target>`): roles do not unescape backslashes, so
    only the characters that would end the title (a backtick, an angle bracket) are replaced."""
    return " ".join(text.split()).replace("`", "'").replace("<", "(").replace(">", ")")


def _test_label(path: str, name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", f"test {Path(path).with_suffix('')} {name}".lower()).strip("-")


def _test_lines(path: Path, name: str) -> tuple[int, int]:
    """First and last line of a test function (``Class::method`` too), decorators included."""
    body = ast.parse(path.read_text()).body
    for part in name.split("::"):
        node = next(n for n in body if isinstance(n, (ast.FunctionDef, ast.ClassDef)) and n.name == part)
        body = node.body
    return min([node.lineno] + [d.lineno for d in node.decorator_list]), node.end_lineno


def blob_url(h: hosting.Hosting, path: str, lines: tuple[int, int] | None = None) -> str | None:
    """GitHub's page of a file of the repository (and a range of its lines), or None."""
    if not h.configured:
        return None
    return (f"{hosting.repository_url(h)}/blob/{h.branch}/{path}"
            + (f"#L{lines[0]}-L{lines[1]}" if lines else ""))


def _check_link(check: str, h: hosting.Hosting, repo: Path) -> str:
    kind, _, where = check.partition(":")
    if kind == "cell":
        return f"{{ref}}`the notebook's cell {where} <{where}>`"
    path, _, name = where.partition("::")
    link = f"{{ref}}`the test {Path(path).name}::{name} <{_test_label(path, name)}>`"
    url = blob_url(h, path, _test_lines(repo / path, name))
    return link + (f" ([on GitHub]({url}))" if url else "")


def claims_page(stem: str, book: dict, title: str, h: hosting.Hosting, repo: Path = REPO) -> str:
    """A section per claim (its id the heading, so each claim has an address), then its checks."""
    lines = [f"# Claims of {md_text(title)}", "",
             f"Every claim that {{doc}}`the lecture </lectures/{stem}>` makes, and where it is checked: a "
             "cell of the notebook (re-run by nbval in CI, folded on the lecture's page: *Show the "
             f"check*) or a test of the package. The ledger is `claims/{stem}.toml`.", ""]
    for k in book.get("claim", []):
        checks = " · ".join(_check_link(c, h, repo) for c in k["checks"])
        lines += [f"## {k['id']}", "", md_text(k["text"]), "", f"Checked by {checks}.", ""]
    return "\n".join(lines)


def claims_index(books: dict[str, dict], titles: dict[str, str]) -> str:
    lines = ["# Claims and their checks", "",
             "Each lecture's claims (every number and statement that could be wrong), each with the "
             "notebook cell or the test that checks it.", "",
             "| lecture | claims | checked in the notebook | checked by tests |", "|---|---|---|---|"]
    for stem, book in books.items():
        ks = book.get("claim", [])
        cells = sum(any(c.startswith("cell:") for c in k["checks"]) for k in ks)
        tests = sum(any(c.startswith("test:") for c in k["checks"]) for k in ks)
        title = role_text(titles[stem]).replace("|", "/")    # a table cell: no bar either
        lines.append(f"| {{doc}}`{title} <{stem}>` | {len(ks)} | {cells} | {tests} |")
    lines += ["", "```{toctree}", ":hidden:", "", *books, "```"]
    return "\n".join(lines) + "\n"


def test_pages(books: dict[str, dict], h: hosting.Hosting, repo: Path = REPO,
               docs: Path = DOCS) -> dict[str, str]:
    """{page path under docs/: text}: per test file, the source of each test a claim cites."""
    cited: dict[str, set[str]] = {}
    for book in books.values():
        for k in book.get("claim", []):
            for check in k["checks"]:
                if check.startswith("test:"):
                    path, _, name = check[5:].partition("::")
                    cited.setdefault(path, set()).add(name)
    pages = {}
    for path, names in sorted(cited.items()):
        page = Path(path).with_suffix(".md")     # tests/x/test_y.md, under docs/
        source = Path(os.path.relpath(repo / path, (docs / page).parent)).as_posix()
        text = ["---", "orphan: true", "---", f"# {md_text(path)}", "",
                "The tests that the claims ledgers cite, as they are in this edition of the course.", ""]
        for name in sorted(names, key=lambda n: _test_lines(repo / path, n)):
            first, last = _test_lines(repo / path, name)
            url = blob_url(h, path, (first, last))
            text += [f"({_test_label(path, name)})=", f"## {md_text(name)}", "",
                     f"Lines {first}–{last}" + (f" ([on GitHub]({url}))" if url else "") + ".", "",
                     f"```{{literalinclude}} {source}", ":language: python",
                     f":lines: {first}-{last}", ":lineno-start: " + str(first), "```", ""]
        pages[str(page)] = "\n".join(text)
    return pages


def checkpoint_page() -> str:
    return ("# Checkpoints\n\nThe trained models the lectures load, as measured when they were trained "
            "(from `gm_helpers/checkpoints/manifest.json`; the lectures re-measure them).\n\n"
            + checkpoint_table.table() + "\n")
