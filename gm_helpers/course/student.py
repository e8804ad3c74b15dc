"""Write student copies of the lectures: every solution replaced by a stub.

Solutions sit between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` lines (nbgrader's markers).
The markers are matched leniently, in code and in markdown cells alike: any number of ``#``, any
spacing, any case (``# begin solution``, ``###BEGIN SOLUTION``, ``##  Begin  Solution`` all
count). In a code cell the block becomes ``raise NotImplementedError`` at the block's
indentation; in a markdown cell it becomes *Your answer here.* The student copy keeps the lines
before and after (a function's signature and docstring) and drops the outputs of the exercise and
checker cells, so the answers are not given away::

    python -m gm_helpers.course student lectures --out student
    python -m gm_helpers.course student lectures --out student --keep-existing   # make lab

``--keep-existing`` (what ``make lab`` runs) writes only the copies that are missing and never
replaces one, since a student's answers are in it; a copy older than its lecture is named, with
how to get the new version.

Safety, because a mistake here either destroys the committed solutions or publishes them:

* the output folder may not be the input folder, inside it, or contain it;
* an input that is missing, not a folder, or holds no notebook is an error (exit status 2);
* every notebook is written into a temporary folder first and checked: no copy may contain a
  marker, and no telling line of any solution may show anywhere in the copy, in a cell's source
  or in the text of its outputs (a printed ``inspect.getsource`` of the package's code that is
  also an exercise's answer, say). Only when every notebook has passed are the copies moved into
  the output folder, and when any fails, every failure of every notebook is reported at once;
* a cell tagged ``answer-source`` (the package's code for an exercise, printed after it) becomes
  a short note in the copy;
* every error names the notebook and the cell (its index, counting from 0, and its first line),
  and for a leak the line that shows and the cell of the solution it comes from.

Which solution lines are telling: a line is compared by its code (a trailing comment dropped)
with all white space removed, wherever it shows inside a line of the copy (so a printed source
with other spacing or comments still matches). A line is skipped as too generic to give anything
away when fewer than 8 characters remain (``return x``, ``else:``, ``)``) or when it is an import,
a bare ``return name``, a bare condition (``if first:``, ``else:``, ``try:``), a loop header over
a name or ``range(name)`` (``for d in range(D):``), an alias (``h = x``) or a shape unpacked
(``B, D = u.shape``). A comment line, and a line of a markdown solution, is telling when it has at
least 20 characters. A line that the question itself shows outside the solution, in its own cell,
is no secret.
"""
from __future__ import annotations

import argparse
import html
import io
import re
import shutil
import sys
import tempfile
import tokenize
from pathlib import Path

import nbformat

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"   # the canonical spelling
# a cell tagged so shows the package's own code for an exercise just solved: the student copy
# replaces it by a note (it comes after the exercise, so the solutions notebook can show it)
ANSWER_SOURCE = "answer-source"
ANSWER_NOTE = ("*Here the solutions notebook shows the package's own code for the exercise "
               "above: compare it with yours once your answer passes its checker.*")
STUB = "raise NotImplementedError"
MARKDOWN_STUB = "*Your answer here.*"
# a whole line that is a marker: any number of '#' (at least one), any spacing, any case, and
# nbgrader's banner style with '#'s after it too (``### BEGIN SOLUTION ###``)
MARKER = re.compile(r"^\s*#+\s*(BEGIN|END)[\s_-]*SOLUTION\s*#*\s*$", re.IGNORECASE)


class StudentCopyError(ValueError):
    """A lecture cannot be turned into a student copy; the message names notebook and cell."""


def marker(line: str) -> str | None:
    """``"BEGIN"`` or ``"END"`` if ``line`` is a solution marker (leniently), else None."""
    match = MARKER.match(line)
    return match.group(1).upper() if match else None


def _string_lines(source: str) -> set[int]:
    """Line numbers (from 1) that lie inside a Python string literal spanning several lines, where
    a marker is text, not a comment (empty if the source does not tokenize, e.g. a magic)."""
    inside = set()
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.STRING and token.end[0] > token.start[0]:
                inside.update(range(token.start[0], token.end[0] + 1))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return set()
    return inside


def strip_solutions(source: str, stub: str = STUB) -> str:
    """Replace each BEGIN/END SOLUTION block by ``stub`` at the block's indentation.

    A ``ValueError`` names the line of anything the tool cannot strip safely: unbalanced
    markers, or a marker line inside a string (stripping it would break the cell). A line that
    only mentions a marker (``print("### BEGIN SOLUTION")``) is not one and is left alone."""
    out, inside = [], False
    strings = _string_lines(source) if stub == STUB else set()
    for number, line in enumerate(source.splitlines(), 1):
        kind = marker(line)
        if kind and number in strings:
            raise ValueError(f"line {number}: {line.strip()!r} is inside a string, not a comment; "
                             f"a solution marker must be a comment line of its own")
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


# the lines too generic to give a solution away (matched against the whole stripped code)
GENERIC = re.compile(r"""
    (import|from)\s.*                                          # imports
  | return(\s+[\w.]+)?                                         # return x, return self.h
  | (if|elif|while)\s+(not\s+)?[\w.]+\s*: | (else|try|finally)\s*: | except\b.*:
  | pass | break | continue
  | for\s+[\w\s,()]+\sin\s+(range\(\s*[\w.]+\s*\)|[\w.]+)\s*:   # for d in range(D):
  | [\w\s,]+=\s*[\w.]+\.shape | [\w.]+\s*=\s*[\w.]+                # B, D = u.shape; h = x
""", re.VERBOSE)
MIN_CODE, MIN_TEXT = 8, 20   # characters left once white space is removed


def _squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _code(line: str) -> str:
    """The line without its trailing comment (a ``#`` outside string quotes)."""
    quote = None
    for i, char in enumerate(line):
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#":
            return line[:i]
    return line


def telling_key(line: str, markdown: bool = False) -> str | None:
    """The form in which a solution line is looked for in the copy (white space removed), or
    None when the line is too generic to give the solution away (see the module's doc)."""
    text = line.strip()
    if markdown or text.startswith("#"):
        key = _squeeze(text.lstrip("#") if not markdown else text)
        return key if len(key) >= MIN_TEXT else None
    code = _code(text).strip()
    key = _squeeze(code)
    if len(key) < MIN_CODE or GENERIC.fullmatch(code):
        return None
    return key


def telling_lines(nb) -> dict[str, tuple[int, str]]:
    """Every telling solution line of a notebook: its key -> (the solution's cell, the line).
    A line that also shows outside the solutions of its own cell is the question's, not kept."""
    found = {}
    for index, cell in enumerate(nb.cells):
        if cell.cell_type not in ("code", "markdown") or not has_solution(cell.source):
            continue
        inside, secret, shown = False, {}, []
        for line in cell.source.splitlines():
            kind = marker(line)
            if kind:
                inside = kind == "BEGIN"
            elif inside:
                key = telling_key(line, markdown=cell.cell_type == "markdown")
                if key:
                    secret[key] = line.strip()
            else:
                shown.append(_squeeze(line))
        for key, line in secret.items():
            if not any(key in other for other in shown):
                found.setdefault(key, (index, line))
    return found


def cell_texts(cell):
    """(where, text) for everything a reader sees of a cell: its source, then the text of each
    output (streams, every text/* of a result or display, HTML without its tags, tracebacks)."""
    yield "source", cell.source
    for output in cell.get("outputs", []):
        if "text" in output:
            yield "output", "".join(output["text"])
        for mime, value in output.get("data", {}).items():
            if mime.startswith("text/"):
                value = "".join(value) if isinstance(value, list) else str(value)
                if mime == "text/html":
                    value = html.unescape(re.sub(r"<[^>]*>", "", value))
                yield "output", value
        if output.get("output_type") == "error":
            text = "\n".join([output.get("evalue", ""), *output.get("traceback", [])])
            yield "output", re.sub(r"\x1b\[[0-9;]*m", "", text)


def leaks(original, copy, name: str) -> list[str]:
    """One message per place where a telling solution line of ``original`` shows in ``copy``."""
    secrets = telling_lines(original)
    found = []
    for index, cell in enumerate(copy.cells):
        for where, text in cell_texts(cell):
            shown = [_squeeze(line) for line in text.splitlines()]
            for key, (solution, line) in secrets.items():
                if any(key in other for other in shown):
                    message = (f"{_where(name, index, cell)}: its {where} shows {line!r}, a line "
                               f"of the solution in cell {solution}")
                    if message not in found:
                        found.append(message)
    return found


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
        if ANSWER_SOURCE in cell.metadata.get("tags", []):  # the package's code that answers
            note = nbformat.v4.new_markdown_cell(ANSWER_NOTE)
            if "id" in cell:
                note["id"] = cell["id"]  # the cell it replaces: a copy is the same at every build
            nb.cells[index] = note
            continue
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
    """Check a written student copy against its lecture: no marker and no solution line left in
    its cell, and no telling solution line anywhere else in the copy, source or output (every
    place found is named, one per line)."""
    if len(original.cells) != len(copy.cells):
        raise StudentCopyError(f"{name}: the copy has {len(copy.cells)} cells, the lecture "
                               f"{len(original.cells)}")
    for index, (cell, copied) in enumerate(zip(original.cells, copy.cells)):
        secret = solution_lines(cell.source)
        for line in copied.source.splitlines():
            if marker(line) or line.strip() in secret:
                raise StudentCopyError(f"{_where(name, index, cell)}: the student copy still "
                                       f"contains {line.strip()!r}")
    found = leaks(original, copy, name)
    if found:
        raise StudentCopyError("\n".join(found))


def _stage(path: Path, scratch: Path) -> Path:
    """Write the student copy of the lecture at ``path`` into ``scratch`` and verify it."""
    try:
        original = nbformat.read(path, as_version=4)
    except Exception as error:  # noqa: BLE001 - name the file whatever nbformat raises
        raise StudentCopyError(f"{path}: not a readable notebook ({error})") from None
    target = scratch / path.name
    nbformat.write(student_notebook(original, name=str(path)), target)
    verify_copy(original, nbformat.read(target, as_version=4), str(path))
    return target


def _overlap(a: Path, b: Path) -> bool:
    return a == b or a in b.parents or b in a.parents


def write_copies(lectures: Path, out: Path, keep_existing: bool = False) -> list[Path]:
    """Write the student copy of every ``*.ipynb`` in ``lectures`` into ``out``; all or nothing.
    With ``keep_existing`` a copy already in ``out`` is left as it is (a student's answers are in
    it) and only the missing copies are written (``make lab``)."""
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
    if keep_existing:
        paths = [p for p in paths if not (out / p.name).exists()]
        if not paths:
            return []
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out, prefix=".student-") as scratch:
        staged, errors = [], []
        for path in paths:   # check them all, so that one run names every problem
            try:
                staged.append(_stage(path, Path(scratch)))
            except StudentCopyError as error:
                errors.append(str(error))
        if errors:
            raise StudentCopyError("\n".join(errors))
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
    p.add_argument("--keep-existing", action="store_true",
                   help="write only the missing copies; never replace one (your answers are in it)")
    args = p.parse_args(argv)
    try:
        written = write_copies(Path(args.lectures), Path(args.out), keep_existing=args.keep_existing)
    except StudentCopyError as error:
        print(f"error: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    for target in written:
        print(f"wrote {target}")
    if args.keep_existing:
        for lecture, copy in outdated_copies(Path(args.lectures), Path(args.out)):
            print(f"kept {copy}: {lecture} has changed since it was made. Your answers are in it, so "
                  f"it is not replaced; for the new version, rename your copy and run this again "
                  f"(then carry your answers over)")
    return written


def outdated_copies(lectures: Path, out: Path) -> list[tuple[Path, Path]]:
    """(lecture, copy) for every copy in ``out`` older than its lecture notebook."""
    pairs = [(p, Path(out) / p.name) for p in sorted(Path(lectures).glob("*.ipynb"))]
    return [(p, c) for p, c in pairs if c.exists() and p.stat().st_mtime > c.stat().st_mtime]


