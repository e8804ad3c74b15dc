"""Course tooling for instructors and maintainers, from a checkout of the repository.

    python -m gm_helpers.course student lectures --out student   # student copies, no solutions
    python -m gm_helpers.course execute [--sync] lectures/*.ipynb  # execute; time and memory
    python -m gm_helpers.course claims-table [--write]           # the instructor guide's claims table
    python -m gm_helpers.course checkpoint-table [--write]       # its checkpoint table
    python -m gm_helpers.course links [--write]                  # the README's launch links
    python -m gm_helpers.course study-time [lectures/*.ipynb]     # reading and exercise minutes
    python -m gm_helpers.course site [--check]                   # the site: build, check links
    python -m gm_helpers.course colab-cell [--write|--check]     # the lectures' first cell (Colab)
    python -m gm_helpers.course lock [--check]                   # exact versions: CI and Binder
    python -m gm_helpers.course figures [lectures/*.ipynb]      # every figure: caption, alt text
"""
from __future__ import annotations

import sys

from gm_helpers.course import (
    blocks,
    checkpoint_table,
    claims,
    colab,
    figures,
    launch,
    lock,
    notebooks,
    site,
    student,
    study_time,
)

COMMANDS = {
    "student": student.main,
    "execute": notebooks.main,
    "claims-table": lambda argv: blocks.command(claims.table, blocks.GUIDE, argv),
    "checkpoint-table": lambda argv: blocks.command(checkpoint_table.block, blocks.GUIDE, argv),
    "links": lambda argv: blocks.command(launch.block, blocks.README, argv),
    "study-time": study_time.main,
    "site": site.main,
    "colab-cell": lambda argv: colab.main(argv),
    "lock": lambda argv: lock.main(argv),
    "figures": figures.main,
}


def main(argv=None) -> None:
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] not in COMMANDS:
        sys.exit(__doc__.strip() + f"\n\nunknown or missing command; one of: {', '.join(COMMANDS)}")
    COMMANDS[argv[0]](argv[1:])


if __name__ == "__main__":
    main()
