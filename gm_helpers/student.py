"""Write student copies of the lectures: every solution replaced by ``raise NotImplementedError``.

Solutions sit between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` (nbgrader's markers).
The student copy keeps the lines before and after (a function's signature and docstring) and
drops the outputs of the exercise and checker cells, so the answers are not given away::

    python -m gm_helpers.student lectures --out student
"""
from __future__ import annotations

import argparse
import re
from pathlib import Path

import nbformat

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
STUB = "raise NotImplementedError"


def strip_solutions(source: str) -> str:
    """Replace each BEGIN/END SOLUTION block by a stub at the block's indentation."""
    out, inside = [], False
    for line in source.splitlines():
        stripped = line.strip()
        if stripped == BEGIN:
            if inside:
                raise ValueError("nested ### BEGIN SOLUTION")
            inside = True
            out.append(line[: len(line) - len(line.lstrip())] + STUB)
        elif stripped == END:
            if not inside:
                raise ValueError("### END SOLUTION without BEGIN")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ValueError("### BEGIN SOLUTION without END")
    return "\n".join(out)


def student_notebook(nb):
    """A copy of notebook ``nb`` with solutions stubbed and their outputs cleared."""
    nb = nbformat.from_dict(nb)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        if BEGIN in cell.source or re.search(r"\bcheck_\w+\(", cell.source):
            cell.source = strip_solutions(cell.source)
            cell.outputs, cell.execution_count = [], None
    return nb


def main(argv=None) -> list[Path]:
    p = argparse.ArgumentParser(prog="python -m gm_helpers.student", description=__doc__)
    p.add_argument("lectures", nargs="?", default="lectures", help="folder of .ipynb files")
    p.add_argument("--out", default="student")
    args = p.parse_args(argv)
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for path in sorted(Path(args.lectures).glob("*.ipynb")):
        nb = student_notebook(nbformat.read(path, as_version=4))
        target = out_dir / path.name
        nbformat.write(nb, target)
        written.append(target)
        print(f"wrote {target}")
    return written


if __name__ == "__main__":
    main()
