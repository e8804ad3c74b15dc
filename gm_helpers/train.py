"""``python -m gm_helpers.train``: the command line that trains the shipped checkpoints.

The command lives in ``gm_helpers.training.cli``; this module keeps its short name, the one
every command in the checkpoints' manifest was recorded with.
"""
from gm_helpers.training.cli import main

if __name__ == "__main__":
    main()
