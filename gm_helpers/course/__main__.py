"""Course tooling for instructors and maintainers, from a checkout of the repository.

    python -m gm_helpers.course student lectures --out student   # student copies, no solutions
    python -m gm_helpers.course execute [--sync] lectures/*.ipynb  # execute; time and memory
    python -m gm_helpers.course claims-table                     # the README's claims table
    python -m gm_helpers.course checkpoint-table                 # the README's checkpoint table
    python -m gm_helpers.course study-time [lectures/*.ipynb]     # reading and exercise minutes
"""
from __future__ import annotations

import sys

from gm_helpers.course import checkpoint_table, claims, notebooks, student, study_time

COMMANDS = {
    "student": student.main,
    "execute": notebooks.main,
    "claims-table": lambda argv: print(claims.table()),
    "checkpoint-table": lambda argv: print(checkpoint_table.table()),
    "study-time": study_time.main,
}


def main(argv=None) -> None:
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] not in COMMANDS:
        sys.exit(__doc__.strip() + f"\n\nunknown or missing command; one of: {', '.join(COMMANDS)}")
    COMMANDS[argv[0]](argv[1:])


if __name__ == "__main__":
    main()
