"""Write student copies of the lectures: every solution replaced by a stub.

Solutions sit between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` lines (nbgrader's markers).
The markers are matched leniently, in code and in markdown cells alike: any number of ``#``, any
spacing, any case (``# begin solution``, ``###BEGIN SOLUTION``, ``##  Begin  Solution`` all
count). In a code cell the block becomes ``raise NotImplementedError`` at the block's
indentation; in a markdown cell it becomes *Your answer here.* The student copy keeps the lines
before and after (a function's signature and docstring) and drops the outputs of the exercise and
checker cells, so the answers are not given away::

    python -m gm_helpers.course student lectures --out student

Safety, because a mistake here either destroys the committed solutions or publishes them:

* the output folder may not be the input folder, inside it, or contain it;
* an input that is missing, not a folder, or holds no notebook is an error (exit status 2);
* every notebook is written into a temporary folder first and checked: no copy may contain a
  marker, or a line of a solution that does not also appear outside the solution in that cell.
  Only when every notebook has passed are the copies moved into the output folder;
* every error names the notebook and the cell (its index, counting from 0, and its first line).
"""
from __future__ import annotations

import argparse
import re
import shutil
import sys
import tempfile
from pathlib import Path

import nbformat

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"   # the canonical spelling
STUB = "raise NotImplementedError"
MARKDOWN_STUB = "*Your answer here.*"
# a whole line that is a marker: any number of '#' (at least one), any spacing, any case
MARKER = re.compile(r"^\s*#+\s*(BEGIN|END)[\s_-]*SOLUTION\s*$", re.IGNORECASE)


class StudentCopyError(ValueError):
    """A lecture cannot be turned into a student copy; the message names notebook and cell."""


def marker(line: str) -> str | None:
    """``"BEGIN"`` or ``"END"`` if ``line`` is a solution marker (leniently), else None."""
    match = MARKER.match(line)
    return match.group(1).upper() if match else None


def strip_solutions(source: str, stub: str = STUB) -> str:
    """Replace each BEGIN/END SOLUTION block by ``stub`` at the block's indentation."""
    out, inside = [], False
    for number, line in enumerate(source.splitlines(), 1):
        kind = marker(line)
        if kind == "BEGIN":
            if inside:
                raise ValueError(f"line {number}: nested BEGIN SOLUTION")
            inside = True
            out.append(line[: len(line) - len(line.lstrip())] + stub)
        elif kind == "END":
            if not inside:
                raise ValueError(f"line {number}: END SOLUTION without BEGIN")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ValueError("BEGIN SOLUTION without END")
    return "\n".join(out)


def solution_lines(source: str) -> set[str]:
    """The stripped, non-blank lines inside solution blocks that do not also occur outside them
    (a line such as ``return x`` that the question itself shows is no leak)."""
    inside, within, outside = False, set(), set()
    for line in source.splitlines():
        kind = marker(line)
        if kind:
            inside = kind == "BEGIN"
        elif line.strip():
            (within if inside else outside).add(line.strip())
    return within - outside


def has_solution(source: str) -> bool:
    return any(marker(line) for line in source.splitlines())


def _where(name: str, index: int, cell) -> str:
    first = next((line.strip() for line in cell.source.splitlines() if line.strip()), "")
    return f"{name}, cell {index} ({cell.cell_type}: {first[:60]!r})"


def student_notebook(nb, name: str = "notebook"):
    """A copy of notebook ``nb`` with solutions stubbed and their outputs cleared.

    Raises ``StudentCopyError`` naming ``name`` and the cell when a cell's markers are unbalanced
    (``verify_copy`` then checks the result independently)."""
    nb = nbformat.from_dict(nb)
    for index, cell in enumerate(nb.cells):
        if cell.cell_type not in ("code", "markdown"):
            continue
        solved = has_solution(cell.source)
        checker = cell.cell_type == "code" and re.search(r"\bcheck_\w+\(", cell.source)
        if not (solved or checker):
            continue
        try:
            cell.source = strip_solutions(cell.source,
                                          STUB if cell.cell_type == "code" else MARKDOWN_STUB)
        except ValueError as error:
            raise StudentCopyError(f"{_where(name, index, cell)}: {error}") from None
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return nb


def verify_copy(original, copy, name: str) -> None:
    """Check a written student copy against its lecture: no marker and no solution line left."""
    if len(original.cells) != len(copy.cells):
        raise StudentCopyError(f"{name}: the copy has {len(copy.cells)} cells, the lecture "
                               f"{len(original.cells)}")
    for index, (cell, copied) in enumerate(zip(original.cells, copy.cells)):
        secret = solution_lines(cell.source)
        for line in copied.source.splitlines():
            if marker(line) or line.strip() in secret:
                raise StudentCopyError(f"{_where(name, index, cell)}: the student copy still "
                                       f"contains {line.strip()!r}")


def _overlap(a: Path, b: Path) -> bool:
    return a == b or a in b.parents or b in a.parents


def write_copies(lectures: Path, out: Path) -> list[Path]:
    """Write the student copy of every ``*.ipynb`` in ``lectures`` into ``out``; all or nothing."""
    lectures, out = Path(lectures), Path(out)
    if not lectures.exists():
        raise StudentCopyError(f"{lectures}: no such folder (give the folder of the lecture "
                               f"notebooks, e.g. lectures)")
    if not lectures.is_dir():
        raise StudentCopyError(f"{lectures}: not a folder (give the folder of the lecture "
                               f"notebooks, e.g. lectures)")
    if _overlap(lectures.resolve(), out.resolve()):
        raise StudentCopyError(f"--out {out} overlaps the lectures folder {lectures}: the copies "
                               f"would overwrite the solutions; choose another folder, e.g. student")
    if out.exists() and not out.is_dir():
        raise StudentCopyError(f"--out {out} exists and is not a folder")
    paths = sorted(lectures.glob("*.ipynb"))
    if not paths:
        raise StudentCopyError(f"{lectures}: no .ipynb notebook in this folder")
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out, prefix=".student-") as scratch:
        staged = []
        for path in paths:
            try:
                original = nbformat.read(path, as_version=4)
            except Exception as error:  # noqa: BLE001 - name the file whatever nbformat raises
                raise StudentCopyError(f"{path}: not a readable notebook ({error})") from None
            target = Path(scratch) / path.name
            nbformat.write(student_notebook(original, name=str(path)), target)
            verify_copy(original, nbformat.read(target, as_version=4), str(path))
            staged.append(target)
        written = []
        for target in staged:   # every notebook passed: move them into place
            final = out / target.name
            shutil.move(str(target), final)   # same folder tree: a rename
            written.append(final)
    return written


def main(argv=None) -> list[Path]:
    p = argparse.ArgumentParser(prog="python -m gm_helpers.course student",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("lectures", nargs="?", default="lectures", help="folder of .ipynb files")
    p.add_argument("--out", default="student", help="folder for the copies (not the lectures')")
    args = p.parse_args(argv)
    try:
        written = write_copies(Path(args.lectures), Path(args.out))
    except StudentCopyError as error:
        print(f"error: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    for target in written:
        print(f"wrote {target}")
    return written


