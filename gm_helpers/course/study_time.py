"""How long a lecture takes a strong student: reading, code, figures and exercises, estimated.

The rule (the house style's): dense prose at 120 words a minute, code at 20 lines a minute
(only the code a student reads: checking cells with hidden input and Colab's setup cell do not
count), one minute per figure and one per displayed equation, and per exercise 5 minutes plus a
minute per line of its solution (to write it, run the checker and fix what it names). The
lectures' headers and the README state the two parts separately, rounded up to 5 minutes, and
``tests/course/test_study_time.py`` keeps them true.

    python -m gm_helpers.course study-time lectures/*.ipynb
"""
from __future__ import annotations

import math
import re
import sys
from pathlib import Path

import nbformat

WORDS_PER_MINUTE = 120
CODE_LINES_PER_MINUTE = 20
MINUTES_PER_FIGURE = MINUTES_PER_EQUATION = 1
MINUTES_PER_EXERCISE, MINUTES_PER_SOLUTION_LINE = 5, 1
SOLUTION = re.compile(r"^\s*#+\s*BEGIN[\s_-]*SOLUTION\s*$(.*?)^\s*#+\s*END[\s_-]*SOLUTION\s*$",
                      re.IGNORECASE | re.MULTILINE | re.DOTALL)
HEADER = re.compile(r"\*\*Study time:\*\* about (\d+) minutes of reading and (\d+) minutes of "
                    r"exercises")


def _hidden(cell) -> bool:
    tags = set(cell.metadata.get("tags", []))
    return bool(cell.metadata.get("jupyter", {}).get("source_hidden")) or bool(
        tags & {"hide-input", "remove-input", "hide-cell", "remove-cell"})


def _words(markdown: str) -> int:
    text = re.sub(r"\$\$.*?\$\$", " ", markdown, flags=re.DOTALL)  # equations: timed apart
    return len(re.findall(r"[A-Za-z0-9]+", text))


def _round_up(minutes: float, step: int = 5) -> int:
    return step * math.ceil(minutes / step)


def estimate(nb) -> dict:
    """Minutes to study a notebook: reading (prose, code, figures) and exercises, with counts."""
    words = code = figures = equations = exercises = solution_lines = 0
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            words += _words(cell.source)
            equations += len(re.findall(r"\$\$.*?\$\$", cell.source, flags=re.DOTALL))
        elif cell.cell_type == "code":
            figures += sum("image/png" in out.get("data", {}) for out in cell.get("outputs", []))
            solutions = SOLUTION.findall(cell.source)
            exercises += len(solutions)
            solution_lines += sum(len([l for l in s.splitlines() if l.strip()]) for s in solutions)
            if not _hidden(cell) and "colab-setup" not in cell.metadata.get("tags", []):  # Colab's setup
                code += len([l for l in cell.source.splitlines() if l.strip()])
    reading = (words / WORDS_PER_MINUTE + code / CODE_LINES_PER_MINUTE
               + figures * MINUTES_PER_FIGURE + equations * MINUTES_PER_EQUATION)
    practice = exercises * MINUTES_PER_EXERCISE + solution_lines * MINUTES_PER_SOLUTION_LINE
    return {"words": words, "code_lines": code, "figures": figures, "equations": equations,
            "exercises": exercises,
            "solution_lines": solution_lines, "reading_min": _round_up(reading),
            "exercises_min": _round_up(practice)}


def header_line(study: dict) -> str:
    """The sentence a lecture's header states (``HEADER`` reads it back)."""
    return (f"**Study time:** about {study['reading_min']} minutes of reading and "
            f"{study['exercises_min']} minutes of exercises")


def stated(nb) -> tuple[int, int] | None:
    """(reading, exercises) minutes as the notebook's header states them, or None."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            found = HEADER.search(cell.source)
            if found:
                return int(found.group(1)), int(found.group(2))
    return None


def main(argv) -> None:
    if any(a in ("-h", "--help") for a in argv):
        print("python -m gm_helpers.course study-time [lectures/NAME.ipynb ...]: each lecture's "
              "reading and exercise minutes, as its header should state them (default: every "
              "notebook in lectures/)")
        return
    missing = [a for a in argv if not Path(a).is_file()]
    if missing:
        sys.exit(f"study-time: no such notebook: {', '.join(missing)}")
    for path in argv or sorted(Path("lectures").glob("*.ipynb")):
        study = estimate(nbformat.read(path, as_version=4))
        print(f"{Path(path).name}: {header_line(study)} ({study['words']:,} words, "
              f"{study['code_lines']} lines of code, {study['figures']} figures, "
              f"{study['equations']} displayed equations, "
              f"{study['exercises']} exercises with {study['solution_lines']} solution lines)")
