"""The claims ledger against the lectures and the tests: every claim checked, every check real."""
from __future__ import annotations

import json
import re

import pytest

from gm_helpers.course import claims
from tests.helpers import REPO

LECTURES = sorted((REPO / "lectures").glob("[0-9][0-9]_*.ipynb"))
BOOKS = claims.ledgers()


def test_every_lecture_has_a_ledger():
    assert {nb.stem for nb in LECTURES} == set(BOOKS), \
        "each lectures/NN_name.ipynb needs claims/NN_name.toml, and nothing else is in claims/"


@pytest.mark.parametrize("stem", sorted(BOOKS))
def test_every_claim_is_checked_by_a_check_that_exists(stem):
    assert claims.problems(stem, BOOKS[stem]) == []


def test_claim_ids_are_unique():
    ids = [c["id"] for book in BOOKS.values() for c in book.get("claim", [])]
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})


@pytest.mark.parametrize("notebook", LECTURES, ids=lambda p: p.stem)
def test_tags_agree_between_the_notebook_and_its_script(notebook):
    """The py:percent script carries the same claim tags (jupytext keeps them in sync)."""
    script = notebook.with_suffix(".py").read_text()
    assert set(re.findall(r'"(claim-[a-z0-9-]+)"', script)) == set(claims.claim_tags(notebook))


def test_the_instructor_guide_claims_table_is_current():
    assert claims.table() in (REPO / "docs" / "instructors.md").read_text(), \
        "docs/instructors.md's claims table is stale: python -m gm_helpers.course claims-table --write"


# --- the validator itself: each kind of broken ledger is caught, by name
def _fake_repo(tmp_path, cells):
    (tmp_path / "lectures").mkdir()
    (tmp_path / "tests").mkdir()
    nb = {"cells": [{"cell_type": t, "metadata": {"tags": tags}, "source": src}
                    for t, tags, src in cells], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (tmp_path / "lectures" / "09_x.ipynb").write_text(json.dumps(nb))
    (tmp_path / "tests" / "test_y.py").write_text(
        "def test_a():\n    pass\n\nclass TestB:\n    def test_c(self):\n        pass\n")
    return tmp_path


def _book(*claims):
    return {"lecture": "lectures/09_x.ipynb", "claim": list(claims)}


def test_a_sound_ledger_passes(tmp_path):
    repo = _fake_repo(tmp_path, [("code", ["claim-09-a"], "x = 1\nassert x == 1\n")])
    book = _book({"id": "09-a", "text": "x is 1", "checks": ["cell:claim-09-a"]},
                 {"id": "09-b", "text": "b", "checks": ["test:tests/test_y.py::test_a",
                                                        "test:tests/test_y.py::TestB::test_c"]})
    assert claims.problems("09_x", book, repo) == []


@pytest.mark.parametrize("cells, claim, message", [
    ([], {"id": "09-a", "text": "t", "checks": []}, "has no check"),
    ([], {"id": "09-a", "text": "t", "checks": ["cell:claim-09-a"]}, "no cell of 09_x.ipynb is tagged"),
    ([("code", ["claim-09-a"], "print(1)\n")], {"id": "09-a", "text": "t",
                                               "checks": ["cell:claim-09-a"]}, "asserts nothing"),
    ([("markdown", ["claim-09-a"], "assert x\n")], {"id": "09-a", "text": "t",
                                                    "checks": ["cell:claim-09-a"]}, "asserts nothing"),
    ([], {"id": "09-a", "text": "t", "checks": ["test:tests/test_y.py::test_gone"]}, "no test test_gone"),
    ([], {"id": "09-a", "text": "t", "checks": ["test:tests/test_z.py::test_a"]}, "does not exist"),
    ([], {"id": "09-a", "text": "t", "checks": ["notebook:anything"]}, "a check is 'cell:TAG'"),
    ([], {"id": "08-a", "text": "t", "checks": ["test:tests/test_y.py::test_a"]}, "an id is"),
    ([], {"id": "09-a", "text": " ", "checks": ["test:tests/test_y.py::test_a"]}, "no text"),
    ([("code", ["claim-09-z"], "assert 1\n")], {"id": "09-a", "text": "t",
                                               "checks": ["test:tests/test_y.py::test_a"]},
     "belongs to no claim"),
])
def test_a_broken_ledger_is_caught(tmp_path, cells, claim, message):
    repo = _fake_repo(tmp_path, cells)
    found = claims.problems("09_x", _book(claim), repo)
    assert any(message in p for p in found), found
