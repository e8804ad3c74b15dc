"""The text of lecture 02's character models: the course's own prose, taken from its notebooks.

A language model needs text that every student has offline and that the course may
redistribute. The course's own prose (MIT, like the repository) is both, so lecture 02 fits its
character AR(k) models to a snapshot of it, ``gm_helpers/corpora/course_prose.txt``, written by

    python -m gm_helpers.course.corpus lectures/0*.ipynb > gm_helpers/corpora/course_prose.txt

From each markdown cell it keeps the paragraphs, headings and list items, one a line, and drops what is
not prose: displayed equations ($$...$$), code blocks, tables and HTML. Inline mathematics
($p(x)$) stays, as the course writes it. The heading and list marks and ``**`` go, and the few
non-ASCII characters become ASCII (``×`` -> ``x``, ``→`` -> ``->``), so that the alphabet is the
96 printable ASCII characters and the newline. The snapshot is frozen (its checksum is in
``gm_helpers.data``): rebuilding it from edited lectures changes lecture 02's numbers.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat

# non-ASCII characters of the lectures, and the ASCII each becomes
TO_ASCII = {"×": "x", "–": "-", "—": "-", "−": "-", "→": "->", "é": "e", "ô": "o", "ø": "o",
            "·": ".", "α": "alpha", "β": "beta", "’": "'", "‖": "||", "≤": "<=", "≥": ">=",
            "≈": "~", "…": "..."}
DISPLAY_MATH = re.compile(r"\$\$.*?\$\$", re.DOTALL)
CODE_BLOCK = re.compile(r"```.*?```", re.DOTALL)
MARK = re.compile(r"^(#+|\*|\d+\.)\s+")  # a heading, a bullet or a numbered item


def prose_paragraphs(markdown: str) -> list[str]:
    """The paragraphs of one markdown cell, each joined onto one line, in ASCII."""
    text = CODE_BLOCK.sub("", DISPLAY_MATH.sub("", markdown))
    pieces: list[list[str]] = []
    for block in re.split(r"\n\s*\n", text):
        pieces.append([])
        for line in (line.strip() for line in block.split("\n")):
            if not line or line.startswith(("|", "<")):
                continue
            if MARK.match(line) and pieces[-1]:        # a heading or a list item starts anew
                pieces.append([])
            pieces[-1].append(MARK.sub("", line))
            if line.startswith("#"):                   # and a heading ends at its line
                pieces.append([])
    paragraphs = []
    for lines in filter(None, pieces):
        paragraph = " ".join(lines).replace("**", "")
        for char, ascii_text in TO_ASCII.items():
            paragraph = paragraph.replace(char, ascii_text)
        if any(not (" " <= c <= "~") for c in paragraph):
            raise ValueError(f"a character outside printable ASCII in {paragraph[:60]!r}...: "
                             f"add it to TO_ASCII")
        paragraphs.append(paragraph)
    return paragraphs


def build_corpus(paths) -> str:
    """The prose of the notebooks at ``paths``, in the order given, one paragraph a line."""
    paragraphs = []
    for path in paths:
        notebook = nbformat.read(Path(path), as_version=4)
        for cell in notebook.cells:
            if cell.cell_type == "markdown":
                paragraphs += prose_paragraphs(cell.source)
    return "\n".join(paragraphs) + "\n"


def main(argv=None) -> None:
    paths = sys.argv[1:] if argv is None else list(argv)
    if not paths:
        sys.exit(__doc__.strip())
    sys.stdout.write(build_corpus(sorted(paths)))


if __name__ == "__main__":
    main()
