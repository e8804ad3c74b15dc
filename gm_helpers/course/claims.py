"""The claims ledger: every claim the lectures make, and where it is checked.

    python -m gm_helpers.course claims-table            # print the claims table
    python -m gm_helpers.course claims-table --write    # put it into docs/instructors.md

The ledger lives in ``claims/NN_lecture.toml``, one file per lecture::

    lecture = "lectures/01_what_is_a_generative_model.ipynb"

    [[claim]]
    id = "01-bernoulli-one-parameter"
    text = "A Bernoulli distribution has one free parameter."
    checks = ["cell:claim-01-bernoulli-one-parameter", "test:tests/models/test_tabular.py::test_x"]

``cell:TAG``: a code cell of that lecture tagged TAG whose ``assert`` checks the claim (nbval
re-runs it). ``test:PATH::NAME``: a test function (or ``Class::method``) in PATH.
``tests/course/test_claims.py`` fails when a claim has no check, a check no longer exists, a tagged
cell has no assert, a ``claim-`` tag has no claim, or the instructor guide's table is stale.
"""
from __future__ import annotations

import ast
import json
import re
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]  # the checkout: claims/, lectures/, docs/
CLAIMS_DIR = REPO / "claims"
BEGIN, END = "<!-- claims table: python -m gm_helpers.course claims-table -->", "<!-- end of claims table -->"


def ledgers() -> dict[str, dict]:
    """{file stem: parsed ledger} for every claims/*.toml, in lecture order."""
    return {p.stem: tomllib.loads(p.read_text()) for p in sorted(CLAIMS_DIR.glob("*.toml"))}


ID = re.compile(r"^(\d\d)-[a-z0-9]+(-[a-z0-9]+)*$")
ASSERT = re.compile(r"^\s*assert\b", re.M)


def claim_tags(notebook: Path) -> dict[str, dict]:
    """{tag: cell} for every ``claim-`` tag on a notebook's cells (a tag on two cells: error)."""
    out = {}
    for cell in json.loads(Path(notebook).read_text())["cells"]:
        for tag in cell.get("metadata", {}).get("tags", []):
            if tag.startswith("claim-"):
                if tag in out:
                    raise ValueError(f"{Path(notebook).name}: tag {tag} is on two cells")
                out[tag] = cell
    return out


def test_names(path: Path) -> set[str]:
    """The test functions of a file: ``test_x`` and ``TestClass::test_x``."""
    names = set()
    for node in ast.parse(Path(path).read_text()).body:
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test"):
            names.add(node.name)
        if isinstance(node, ast.ClassDef):
            names |= {f"{node.name}::{f.name}" for f in node.body
                      if isinstance(f, ast.FunctionDef) and f.name.startswith("test")}
    return names


def problems(stem: str, book: dict, repo: Path = REPO) -> list[str]:
    """Everything wrong with one ledger: claims without checks, checks that do not exist or
    assert nothing, ``claim-`` tags that belong to no claim. Empty when all is well."""
    notebook = repo / book.get("lecture", "")
    if notebook.stem != stem or not notebook.is_file():
        return [f"{stem}: lecture = {book.get('lecture')!r} is not lectures/{stem}.ipynb"]
    out, tags, used = [], claim_tags(notebook), set()
    claims = book.get("claim", [])
    if not claims:
        out.append(f"{stem}: the ledger lists no claims")
    for claim in claims:
        cid = claim.get("id", "?")
        match = ID.match(cid)
        if not match or match.group(1) != stem[:2]:
            out.append(f"{cid}: an id is NN-lowercase-words, NN = the lecture's number {stem[:2]}")
        if not claim.get("text", "").strip():
            out.append(f"{cid}: no text")
        if not claim.get("checks"):
            out.append(f"{cid}: the claim has no check")
        for check in claim.get("checks", []):
            kind, _, where = check.partition(":")
            if kind == "cell":
                used.add(where)
                cell = tags.get(where)
                if cell is None:
                    out.append(f"{cid}: no cell of {notebook.name} is tagged {where}")
                elif cell["cell_type"] != "code" or not ASSERT.search("".join(cell["source"])):
                    out.append(f"{cid}: the cell tagged {where} asserts nothing")
            elif kind == "test":
                path, _, name = where.partition("::")
                if not (repo / path).is_file():
                    out.append(f"{cid}: {path} does not exist")
                elif name not in test_names(repo / path):
                    out.append(f"{cid}: no test {name} in {path}")
            else:
                out.append(f"{cid}: a check is 'cell:TAG' or 'test:PATH::NAME', got {check!r}")
    out += [f"{stem}: the cell tagged {t} belongs to no claim" for t in sorted(set(tags) - used)]
    return out


def _check_label(check: str) -> str:
    kind, _, where = check.partition(":")
    if kind == "cell":
        return f"notebook cell `{where}`"
    path, _, name = where.partition("::")
    return f"`{Path(path).name}::{name}`"


def table() -> str:
    """The instructor guide's claims section (docs/instructors.md): a count per lecture, then every
    claim in a collapsed table."""
    books = ledgers()
    lines = [BEGIN, "", "| lecture | claims | checked in the notebook | checked by tests |",
             "|---|---|---|---|"]
    total = [0, 0, 0]
    for book in books.values():
        claims = book.get("claim", [])
        cells = sum(any(c.startswith("cell:") for c in k["checks"]) for k in claims)
        tests = sum(any(c.startswith("test:") for c in k["checks"]) for k in claims)
        lines.append(f"| {Path(book['lecture']).stem} | {len(claims)} | {cells} | {tests} |")
        total = [total[0] + len(claims), total[1] + cells, total[2] + tests]
    lines += [f"| **all** | **{total[0]}** | {total[1]} | {total[2]} |", "",
              "<details><summary>Every claim and its checks</summary>", "",
              "| id | claim | checked by |", "|---|---|---|"]
    for book in books.values():
        for k in book.get("claim", []):
            text = k["text"].replace("|", "\\|").replace("\n", " ")
            lines.append(f"| {k['id']} | {text} | "
                         f"{'; '.join(_check_label(c) for c in k['checks'])} |")
    lines += ["", "</details>", "", END]
    return "\n".join(lines)

