"""Generated blocks in the course's Markdown files: written by the command their first line names.

A block starts with a marker that names its command and ends with an end marker::

    <!-- launch links: python -m gm_helpers.course links -->                  README.md
    <!-- claims table: python -m gm_helpers.course claims-table -->           docs/instructors.md
    <!-- checkpoint table: python -m gm_helpers.course checkpoint-table -->   docs/instructors.md

Each command prints its block; with ``--write`` it replaces the block in its file instead and
leaves every other line as it was. A test per block fails while the file's block is stale.
"""
from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]  # the checkout: README.md, docs/
README = REPO / "README.md"
GUIDE = REPO / "docs" / "instructors.md"  # the instructor and maintainer guide


def replace(text: str, block: str, source: str = "the file") -> str:
    """``text`` with its block (from ``block``'s first line to its last) replaced by ``block``.
    Each marker must be in ``text`` exactly once, the first before the last (a ValueError says
    which is missing or doubled: a pasted block left twice, say)."""
    lines = block.strip("\n").splitlines()
    begin, end = lines[0], lines[-1]
    if begin == end:
        raise ValueError("a block needs a first line and a different last line (its markers)")
    for marker in (begin, end):
        count = text.count(marker)
        if count != 1:
            raise ValueError(f"{source} has {count} copies of the marker {marker!r}; it needs exactly "
                             "one (restore the block's first and last lines, or remove the extra copy)")
    start, stop = text.index(begin), text.index(end)
    if stop < start:
        raise ValueError(f"{source}: the marker {end!r} comes before {begin!r}")
    return text[:start] + "\n".join(lines) + text[stop + len(end):]


def is_current(path: str | Path, block: str) -> bool:
    return block.strip("\n") in Path(path).read_text()


def write(path: str | Path, block: str) -> bool:
    """Replace the block in ``path``; True when the file changed."""
    path = Path(path)
    old = path.read_text()
    new = replace(old, block, path.name)
    if new != old:
        path.write_text(new)
    return new != old


def command(make_block, path: Path, argv: list[str]) -> None:
    """A block's command line: print the block, or with ``--write`` put it into ``path``."""
    unknown = [a for a in argv if a != "--write"]
    if unknown:
        sys.exit(f"unknown arguments {unknown}; the only option is --write (replace the block in "
                 f"{path.relative_to(REPO) if path.is_relative_to(REPO) else path})")
    block = make_block()
    if "--write" not in argv:
        print(block)
        return
    try:
        changed = write(path, block)
    except (OSError, ValueError) as error:
        sys.exit(f"error: {error}")
    print(f"{'updated' if changed else 'already current:'} {path}")
