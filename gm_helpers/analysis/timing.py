"""How the lectures time a model: CPU seconds on one thread, the fastest of a few repeats.

One method, used by every lecture that compares speeds (02, 04, 06), so two lectures never
print two different timings of the same thing:

* **CPU time** (``time.process_time``), not the clock: other programs sharing the machine
  stretch the wall-clock time of a call but not the processor work it does.
* **One thread**: with one thread, CPU time is the work; with several, threads that spin while
  waiting would be counted too.
* **The fastest of ``repeats`` runs**: the run least disturbed by caches and interrupts.

    with one_thread():
        seconds = cpu_time(lambda: model.log_prob(x), repeats=3)
"""
from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator

import torch

from gm_helpers.checks import check_size


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Run the ``with`` block on one PyTorch thread, then restore the previous thread count."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def cpu_time(fn: Callable[[], object], repeats: int = 3) -> float:
    """The least CPU time, in seconds, of ``repeats`` calls of ``fn()`` (called with no arguments)."""
    if not callable(fn):
        raise TypeError(f"fn must be a function of no arguments, got {type(fn).__name__}")
    repeats = check_size("repeats", repeats, minimum=1)
    times = []
    for _ in range(repeats):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return min(times)
