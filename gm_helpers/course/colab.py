"""The Colab cell: the first code cell of every lecture, which on Google Colab installs the package
and downloads the data, and anywhere else does nothing at all.

    python -m gm_helpers.course colab-cell            # print the cell, as course.toml makes it
    python -m gm_helpers.course colab-cell --check    # every lecture starts with it (exit 1 if not)
    python -m gm_helpers.course colab-cell --write    # insert or update it in lectures/*.py and .ipynb

The pip address is baked into the cell's text from ``hosting.pip_source(hosting.load())`` when
the cell is written, so the cell imports nothing of the course's before the install. While
course.toml names no repository, the cell raises, on Colab only, an error that says what to set and
how to install by hand. Elsewhere (JupyterLab, Binder, nbval) the cell only tests
``"google.colab" in sys.modules``: no import of gm_helpers, no subprocess, no output.

``--write`` edits each lecture's ``.py`` (jupytext py:percent) and its ``.ipynb`` the same way,
without executing anything: the other cells keep their outputs. A new cell gets execution count 1
and the later cells' counts move up by one, which is what executing the notebook again would give,
since the cell prints nothing outside Colab.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from gm_helpers.course import hosting

TAG = "colab-setup"
CELL_ID = "colab-setup"
LECTURES = hosting.REPO / "lectures"

_HEAD = '''\
# On Google Colab this cell installs the course's package (gm_helpers) and downloads the data;
# anywhere else (JupyterLab, Binder) it does nothing. Run it first.
import sys

if "google.colab" in sys.modules:
'''

_INSTALL = '''\
    import importlib
    import subprocess

    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet",
                    "{source}"], check=True)
    importlib.invalidate_caches()  # so that the import below finds the package just installed
    from gm_helpers.data import fetch_all

    fetch_all()  # binarized MNIST and the MNIST test set, downloaded once, checksums checked
'''

_UNCONFIGURED = '''\
    raise RuntimeError(
        "This copy of the course was not published with its repository's address, so it cannot "
        "install itself on Colab. Run it on your own machine (the course's README says how), or "
        "ask your instructor for the course's GitHub address, install the package from it with "
        "`%pip install \\"gm_helpers @ git+<that address>\\"` and run the notebook from the next "
        "cell. (Maintainers: set `repository` in course.toml and run "
        "`python -m gm_helpers.course colab-cell --write`.)")
'''


def cell_source(h: hosting.Hosting | None = None) -> str:
    """The text of the Colab cell for hosting setting ``h`` (default: course.toml's)."""
    h = hosting.load() if h is None else h
    source = hosting.pip_source(h)
    if source and ('"' in source or "\\" in source):  # hosting.parse allows neither
        raise ValueError(f"cannot quote the pip source {source!r}")
    body = _INSTALL.format(source=source) if source else _UNCONFIGURED
    return (_HEAD + body).rstrip("\n")


def _first_code(cells) -> int | None:
    return next((i for i, cell in enumerate(cells) if cell.cell_type == "code"), None)


def _is_setup(cell) -> bool:
    return cell.cell_type == "code" and TAG in cell.metadata.get("tags", [])


def problems(py: str | Path, source: str | None = None) -> list[str]:
    """What is wrong with a lecture's Colab cell, in its ``.py`` and its ``.ipynb``: [] if nothing."""
    import jupytext
    import nbformat

    source = cell_source() if source is None else source
    py = Path(py)
    found = []
    pairs = [(py, jupytext.read(py, fmt="py:percent"))]
    if py.with_suffix(".ipynb").exists():
        pairs.append((py.with_suffix(".ipynb"), nbformat.read(py.with_suffix(".ipynb"), as_version=4)))
    for path, nb in pairs:
        first = _first_code(nb.cells)
        if first is None or not _is_setup(nb.cells[first]):
            found.append(f"{path}: the first code cell is not the Colab cell (tag {TAG})")
        elif nb.cells[first].source.strip() != source.strip():
            found.append(f"{path}: the Colab cell is not the one course.toml makes")
        elif path.suffix == ".ipynb" and nb.cells[first].get("outputs"):
            found.append(f"{path}: the Colab cell has outputs (it prints nothing outside Colab)")
    return found


def _put(cells, source: str, new_cell) -> str:
    """Insert the Colab cell before the first code cell, or update it: 'inserted', 'updated' or ''."""
    first = _first_code(cells)
    if first is not None and _is_setup(cells[first]):
        if cells[first].source == source:
            return ""
        cells[first].source = source
        return "updated"
    cells.insert(len(cells) if first is None else first, new_cell)
    return "inserted"


def _shift_counts(nb, by: int, skip) -> None:
    """Move every execution count (cells and their execute_result outputs) up by ``by``."""
    for cell in nb.cells:
        if cell.cell_type != "code" or cell is skip:
            continue
        if cell.get("execution_count") is not None:
            cell.execution_count += by
        for out in cell.get("outputs", []):
            if out.get("execution_count") is not None:
                out["execution_count"] += by


def write(py: str | Path, source: str | None = None) -> str:
    """Insert or update the Colab cell of one lecture (its ``.py`` and, if present, its ``.ipynb``).

    Nothing is executed: the other cells keep their sources, outputs and metadata. Returns
    'inserted', 'updated' or '' (already current)."""
    import jupytext
    import nbformat

    source = cell_source() if source is None else source
    py = Path(py)
    ipynb = py.with_suffix(".ipynb")
    text_nb = jupytext.read(py, fmt="py:percent")
    if ipynb.exists():  # refuse to write into a pair that was out of step before
        nb = nbformat.read(ipynb, as_version=4)
        strip = lambda cells: [(c.cell_type, c.source.strip()) for c in cells]  # noqa: E731
        if strip(nb.cells) != strip(text_nb.cells):
            raise ValueError(f"{ipynb.name} and {py.name} differ: run `jupytext --sync {py}` first")
    done = _put(text_nb.cells, source,
                nbformat.v4.new_code_cell(source, metadata={"tags": [TAG]}))
    if not done:
        return ""
    if ipynb.exists():
        cell = nbformat.v4.new_code_cell(source, metadata={"tags": [TAG]}, id=CELL_ID)
        cell.execution_count = 1
        if _put(nb.cells, source, cell) == "inserted":
            _shift_counts(nb, 1, skip=cell)
        nbformat.validate(nb)
        nbformat.write(nb, ipynb)
    jupytext.write(text_nb, py, fmt="py:percent")  # after the .ipynb: the text file is the newer
    if ipynb.exists():
        stamp = max(ipynb.stat().st_mtime, py.stat().st_mtime)
        os.utime(py, (stamp, stamp))
    return done


def lecture_scripts(folder: str | Path = LECTURES) -> list[Path]:
    return sorted(Path(folder).glob("[0-9][0-9]_*.py"))


def main(argv=None) -> None:
    p = argparse.ArgumentParser(prog="python -m gm_helpers.course colab-cell",
                                description=__doc__.splitlines()[0])
    p.add_argument("lectures", nargs="*", type=Path,
                   help="lecture .py files (default: lectures/NN_*.py); the paired .ipynb follows")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help="insert or update the cell")
    mode.add_argument("--check", action="store_true", help="exit 1 unless every lecture has it")
    args = p.parse_args(argv)
    scripts = [path.with_suffix(".py") for path in args.lectures] or lecture_scripts()
    source = cell_source()
    if args.write:
        for py in scripts:
            print(f"{py}: {write(py, source) or 'already current'}")
    elif args.check:
        found = [problem for py in scripts for problem in problems(py, source)]
        if found:
            sys.exit("\n".join(found) + "\nrun: python -m gm_helpers.course colab-cell --write")
        print(f"{len(scripts)} lectures start with the current Colab cell")
    else:
        print(source)


if __name__ == "__main__":
    main()
