"""Execute lecture notebooks in place and measure each one's wall time, CPU time and peak memory.

    python -m gm_helpers.course execute lectures/*.ipynb          # execute, save, report
    python -m gm_helpers.course execute --sync lectures/*.ipynb   # first sync each .ipynb with its .py
    python -m gm_helpers.course execute --repeat 5 --timeout 300 lectures/*.ipynb   # stall test
    python -m gm_helpers.course execute --trace-memory lectures/05_autoencoders_vae.ipynb

Each notebook runs in a fresh child process whose kernel's peak resident memory is read from
``getrusage(RUSAGE_CHILDREN)`` once the kernel has exited, so the numbers are the kernel's own.
This is how the committed notebooks are produced, and how the README's table is measured.
Where the platform has no ``getrusage`` (Windows) the notebooks still run and save; CPU time and
peak memory are reported as ``null`` ("not measured"). ``--trace-memory`` reads ``/proc`` (Linux).
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

try:
    import resource  # Unix only
except ImportError:  # Windows: run the notebooks all the same, without the measurements
    resource = None

# A wait for a kernel message is polled in slices of this many seconds. nbclient waits for a
# cell's reply with one poll of the whole cell timeout, and under CPU load that poll sometimes
# misses the reply's arrival: the cell then "runs" until the timeout (600 s) although the
# kernel answered at once (observed after cells that display widgets; with ipykernel 7 in most
# runs of a widget-heavy notebook, with 6.x rarely). A fresh poll sees the waiting message at
# once, so slicing bounds such a stall to one slice.
POLL_SLICE_S = 1.0
PROC = Path("/proc")  # Linux's process information: --trace-memory reads VmHWM there


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
    return {"notebook": str(path), "wall_s": round(wall, 1), **children_usage()}


def maxrss_mb(ru_maxrss: int, platform: str = sys.platform) -> int:
    """``getrusage``'s ``ru_maxrss`` in MiB: it counts bytes on macOS, KiB on Linux and the BSDs."""
    return round(ru_maxrss / (2**20 if platform == "darwin" else 2**10))


def children_usage(rusage=resource) -> dict:
    """CPU seconds and peak resident MiB of the finished child processes (here: the kernel, once
    it has exited), or None for each ("not measured") where there is no ``getrusage``."""
    if rusage is None:
        return {"cpu_s": None, "peak_mb": None}
    usage = rusage.getrusage(rusage.RUSAGE_CHILDREN)
    # CPU seconds of the kernel: what the lecture costs, however loaded the machine was (with
    # one thread, about its wall time on an idle machine)
    return {"cpu_s": round(usage.ru_utime + usage.ru_stime, 1), "peak_mb": maxrss_mb(usage.ru_maxrss)}


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
    if not (PROC / "self" / "status").exists():
        raise OSError("--trace-memory reads the kernel's peak memory from /proc (Linux); on this "
                      "system it is not measured: use execute's peak_mb for the whole notebook")
    with client.setup_kernel():
        status = PROC / str(client.km.provisioner.process.pid) / "status"
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
            try:
                print(json.dumps(trace_memory(path, args.timeout)), flush=True)
            except OSError as err:
                sys.exit(str(err))
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
