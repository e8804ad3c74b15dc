"""The files an open course has: a license that matches pyproject, a valid citation, a changelog
whose newest edition is the package's version, a README for students and a guide for the rest."""
from __future__ import annotations

import re
import shutil
import subprocess
import tomllib

import pytest

from gm_helpers.course import hosting
from tests.helpers import REPO

PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
yaml = pytest.importorskip("yaml")  # PyYAML comes with jupytext (the dev extra)


def _changelog_versions(text: str) -> list[tuple[str, str]]:
    """(version, date) of each released section, newest first (``## [0.3.0] - 2026-12-07``)."""
    return re.findall(r"^## \[(\d+\.\d+\.\d+)\] - (\d{4}-\d\d-\d\d)", text, re.M)


def _citation_problems(text: str) -> list[str]:
    """What makes a CITATION.cff text invalid for CFF 1.2.0's required keys, or disagree with
    pyproject and course.toml."""
    try:
        cff = yaml.safe_load(text)
    except yaml.YAMLError as error:
        return [f"not YAML: {error}"]
    if not isinstance(cff, dict):
        return ["not a YAML mapping"]
    out = [f"missing {key}" for key in ("cff-version", "message", "title", "authors") if key not in cff]
    if cff.get("cff-version") != "1.2.0":
        out.append(f"cff-version {cff.get('cff-version')!r}, not '1.2.0'")
    authors = cff.get("authors")
    if not (isinstance(authors, list) and authors and all(
            isinstance(a, dict) and ({"name", "family-names"} & set(a)) for a in authors)):
        out.append("authors must be a list of persons (family-names) or entities (name)")
    if str(cff.get("version")) != PROJECT["version"]:
        out.append(f"version {cff.get('version')!r}, but pyproject says {PROJECT['version']!r}")
    licenses = cff.get("license")
    licenses = licenses if isinstance(licenses, list) else [licenses]
    if " AND ".join(licenses) != PROJECT["license"]:
        out.append(f"license {licenses}, but pyproject says {PROJECT['license']!r}")
    url = hosting.repository_url(hosting.load())
    if cff.get("repository-code") != url:
        out.append(f"repository-code {cff.get('repository-code')!r}, but course.toml gives {url!r}")
    return out


def test_the_license_file_matches_pyproject():
    text = (REPO / "LICENSE").read_text()
    assert PROJECT["license"] == "MIT AND CC-BY-4.0" and PROJECT["license-files"] == ["LICENSE"]
    assert "MIT License" in text and "Permission is hereby granted, free of charge" in text
    assert "Creative Commons Attribution 4.0 International" in text and "lecture text and figures" in text


def test_the_citation_file_is_valid_and_agrees_with_pyproject():
    assert _citation_problems((REPO / "CITATION.cff").read_text()) == []


@pytest.mark.parametrize("change, problem", [
    (lambda t: re.sub(r'name: "(.*)"', lambda m: "name: " + m.group(1).replace("'", ""), t),
     "not YAML"),  # an unquoted colon inside a name: the mistake this file once had
    (lambda t: t.replace("version: 0.3.0", "version: 9.9.9"), "but pyproject says"),
    (lambda t: t.replace("cff-version: 1.2.0", "cff-version: 1.1.0"), "cff-version"),
    (lambda t: re.sub(r"authors:\n(  - .*\n)+", "", t), "missing authors"),
    (lambda t: t.replace("  - CC-BY-4.0\n", ""), "license"),
    (lambda t: t + "repository-code: https://github.com/a/b\n", "repository-code"),
])
def test_a_broken_citation_is_caught(change, problem):
    text = change((REPO / "CITATION.cff").read_text())
    assert any(problem in p for p in _citation_problems(text)), _citation_problems(text)


def test_the_newest_edition_in_the_changelog_is_the_package_version():
    versions = _changelog_versions((REPO / "CHANGELOG.md").read_text())
    assert versions, "CHANGELOG.md has no '## [X.Y.Z] - YYYY-MM-DD' section"
    assert versions[0][0] == PROJECT["version"], (
        f"CHANGELOG's newest edition is {versions[0][0]}, pyproject's version {PROJECT['version']}")
    assert versions == sorted(versions, reverse=True), "newest edition first"
    cff = yaml.safe_load((REPO / "CITATION.cff").read_text())
    assert str(cff["date-released"]) == versions[0][1]
    assert _changelog_versions("## [0.2.0] - 2026-11-22\n## [0.3.0] - 2026-12-07\n")[0][0] != "0.3.0"


def test_the_readme_is_for_students_and_the_guide_for_the_rest():
    readme = (REPO / "README.md").read_text()
    assert len(readme.splitlines()) < 200
    assert "## Start here" in readme and "make lab" in readme and "docs/instructors.md" in readme
    assert readme.count("\n| ") < 25, "the claims and checkpoint tables belong in the guide"
    guide = (REPO / "docs" / "instructors.md").read_text()
    # the guide's package map names every folder of the package (tests/test_layout.py holds them)
    folders = [p.name for p in (REPO / "gm_helpers").iterdir() if (p / "__init__.py").exists()]
    assert all(f"  {name}/" in guide for name in folders), folders


def test_links_in_the_guide_stay_inside_it():
    """The site renders docs/instructors.md: a relative link to a file outside docs/ would break
    there (paths are given as code instead)."""
    guide = (REPO / "docs" / "instructors.md").read_text()
    assert not re.findall(r"\]\((?!https://|#)[^)]*\)", guide)


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
@pytest.mark.parametrize("args, opens, makes_copies", [
    ([], "jupyter lab student/", True),
    (["SOLUTIONS=1"], "jupyter lab lectures/", False),
])
def test_make_lab_opens_the_student_copies_unless_asked_for_the_solutions(args, opens, makes_copies):
    # --no-print-directory: under `make test` this make is nested and would print the folder it
    # enters and leaves around the plan
    plan = subprocess.run(["make", "--no-print-directory", "-n", "lab", *args], cwd=REPO,
                          capture_output=True, text=True, check=True).stdout
    assert plan.rstrip().splitlines()[-1].endswith(opens)
    copies = "gm_helpers.course student lectures --out student --keep-existing"
    assert (copies in plan) == makes_copies


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_install_cpu_takes_the_locked_torch_from_the_cpu_index():
    plan = subprocess.run(["make", "--no-print-directory", "-n", "-B", "install", "CPU=1"], cwd=REPO,
                          capture_output=True, text=True, check=True).stdout
    assert "--index-url https://download.pytorch.org/whl/cpu" in plan
    assert "grep -E '^(torch|torchvision)==' requirements/ci.txt" in plan
    plain = subprocess.run(["make", "--no-print-directory", "-n", "-B", "install"], cwd=REPO,
                           capture_output=True, text=True, check=True).stdout
    assert "whl/cpu" not in plain
