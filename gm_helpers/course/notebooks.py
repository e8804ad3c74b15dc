"""Execute lecture notebooks in place and measure each one's wall time and peak memory.

    python -m gm_helpers.course execute lectures/*.ipynb          # execute, save, report
    python -m gm_helpers.course execute --sync lectures/*.ipynb   # first sync each .ipynb with its .py
    python -m gm_helpers.course execute --repeat 5 --timeout 300 lectures/*.ipynb   # stall test

Each notebook runs in a fresh child process whose kernel's peak resident memory is read from
``getrusage(RUSAGE_CHILDREN)`` once the kernel has exited, so the numbers are the kernel's own.
This is how the committed notebooks are produced, and how the README's table is measured.
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path


def execute_one(path: Path, timeout: int) -> dict:
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(nb, timeout=timeout, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    wall = time.perf_counter() - start
    nbformat.write(nb, path)
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux
    return {"notebook": str(path), "wall_s": round(wall, 1), "peak_mb": round(peak_kb / 1024)}


def main(argv=None) -> None:
    p = argparse.ArgumentParser(prog="python -m gm_helpers.course execute",
                                description=__doc__.splitlines()[0])
    p.add_argument("notebooks", nargs="+", type=Path)
    p.add_argument("--sync", action="store_true", help="rebuild .ipynb from the paired .py first")
    p.add_argument("--timeout", type=int, default=600, help="seconds a cell may take")
    p.add_argument("--repeat", type=int, default=1,
                   help="execute every notebook this many times (a stall shows as a cell past "
                        "--timeout)")
    p.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.one:
        print(json.dumps(execute_one(args.notebooks[0], args.timeout)))
        return
    for path in [p for _ in range(max(1, args.repeat)) for p in args.notebooks]:
        if args.sync:
            subprocess.run([sys.executable, "-m", "jupytext", "--sync", str(path.with_suffix(".py"))],
                           check=True, capture_output=True)
        out = subprocess.run([sys.executable, "-m", "gm_helpers.course.notebooks", "--one",
                              "--timeout", str(args.timeout), str(path)],
                             capture_output=True, text=True)
        if out.returncode != 0:  # the cell that failed and its error, not just an exit status
            sys.exit(f"{path} failed:\n" + "\n".join(out.stderr.strip().splitlines()[-25:]))
        print(out.stdout.strip().splitlines()[-1], flush=True)


if __name__ == "__main__":
    main()
