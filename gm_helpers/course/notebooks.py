"""Execute lecture notebooks in place and measure each one's wall time, CPU time and peak memory.

    python -m gm_helpers.course execute lectures/*.ipynb          # execute, save, report
    python -m gm_helpers.course execute --sync lectures/*.ipynb   # first sync each .ipynb with its .py
    python -m gm_helpers.course execute --repeat 5 --timeout 300 lectures/*.ipynb   # stall test
    python -m gm_helpers.course execute --trace-memory lectures/05_autoencoders_vae.ipynb

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

# A wait for a kernel message is polled in slices of this many seconds. nbclient waits for a
# cell's reply with one poll of the whole cell timeout, and under CPU load that poll sometimes
# misses the reply's arrival: the cell then "runs" until the timeout (600 s) although the
# kernel answered at once (observed after cells that display widgets; with ipykernel 7 in most
# runs of a widget-heavy notebook, with 6.x rarely). A fresh poll sees the waiting message at
# once, so slicing bounds such a stall to one slice.
POLL_SLICE_S = 1.0


def poll_in_slices() -> None:
    """Make jupyter_client's asyncio channels (what nbclient uses) poll in ``POLL_SLICE_S``
    slices up to the same deadline: the same messages and timeouts, no missed wake-up."""
    from queue import Empty

    from jupyter_client.channels import AsyncZMQSocketChannel

    original = AsyncZMQSocketChannel.get_msg
    if getattr(original, "sliced", False):
        return

    async def get_msg(self, timeout=None):
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = POLL_SLICE_S if deadline is None else \
                min(POLL_SLICE_S, max(0.0, deadline - time.monotonic()))
            try:
                return await original(self, timeout=left)
            except Empty:
                if deadline is not None and time.monotonic() >= deadline:
                    raise

    get_msg.sliced = True
    AsyncZMQSocketChannel.get_msg = get_msg


def execute_one(path: Path, timeout: int) -> dict:
    import nbformat
    from nbclient import NotebookClient

    poll_in_slices()

    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(nb, timeout=timeout, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    wall = time.perf_counter() - start
    nbformat.write(nb, path)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # the kernel's, once it has exited
    peak_kb = usage.ru_maxrss  # KiB on Linux
    # CPU seconds of the kernel: what the lecture costs, however loaded the machine was (with
    # one thread, about its wall time on an idle machine)
    cpu = usage.ru_utime + usage.ru_stime
    return {"notebook": str(path), "wall_s": round(wall, 1), "cpu_s": round(cpu, 1),
            "peak_mb": round(peak_kb / 1024)}


def trace_memory(path: Path, timeout: int, step_mb: int = 50) -> dict:
    """Execute a notebook cell by cell (not saved) and report each code cell after which the
    kernel's peak resident memory (``VmHWM``, Linux) rose by more than ``step_mb``: where a
    lecture's memory goes."""
    import nbformat
    from nbclient import NotebookClient

    poll_in_slices()
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    rises, peak = [], 0
    with client.setup_kernel():
        status = Path(f"/proc/{client.km.provisioner.process.pid}/status")
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            client.execute_cell(cell, index)
            hwm = next(int(line.split()[1]) // 1024 for line in status.read_text().splitlines()
                       if line.startswith("VmHWM"))  # MiB
            if hwm - peak > step_mb:
                first = next((line for line in cell.source.splitlines() if line.strip()), "")
                rises.append({"cell": index, "peak_mb": hwm, "rise_mb": hwm - peak,
                              "first_line": first[:80]})
            peak = max(peak, hwm)
    return {"notebook": str(path), "peak_mb": peak, "rises": rises}


def main(argv=None) -> None:
    p = argparse.ArgumentParser(prog="python -m gm_helpers.course execute",
                                description=__doc__.splitlines()[0])
    p.add_argument("notebooks", nargs="+", type=Path)
    p.add_argument("--sync", action="store_true", help="rebuild .ipynb from the paired .py first")
    p.add_argument("--timeout", type=int, default=600, help="seconds a cell may take")
    p.add_argument("--repeat", type=int, default=1,
                   help="execute every notebook this many times (a stall shows as a cell past "
                        "--timeout)")
    p.add_argument("--trace-memory", action="store_true",
                   help="do not save: print the cells after which the kernel's peak memory rose "
                        "by more than 50 MB (Linux)")
    p.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.one:
        print(json.dumps(execute_one(args.notebooks[0], args.timeout)))
        return
    if args.trace_memory:
        for path in [p for _ in range(max(1, args.repeat)) for p in args.notebooks]:
            print(json.dumps(trace_memory(path, args.timeout)), flush=True)
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
