"""``python -m gm_helpers.train``: the command line that trains the shipped checkpoints.

The command lives in ``gm_helpers.training.cli``; this module keeps its short name, the one
every command in the checkpoints' manifest was recorded with. ``python -m gm_helpers.train half
X.pt --out Y.pt`` makes a float16 copy of a finished checkpoint (``gm_helpers.training.half``).
"""
import sys

from gm_helpers.training import cli, half


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["half"]:
        return half.main(argv[1:])
    return cli.main(argv)


if __name__ == "__main__":
    main()
