r"""The checker core: run the student's code safely, compare with the reference, name the mistake.

Each ``check_*`` of a lecture's module takes the student's function, runs it on several inputs,
compares with the reference, and when it disagrees tries the usual mistakes (an off-by-one, a
forgotten normalisation, log base 2 instead of e, a transposed table) to name the one that was
made. It returns a ``Feedback``, which is truthy when the answer is right and prints as one line.
"""
from __future__ import annotations

import signal
import threading
from contextlib import contextmanager

import numpy as np
import torch


class Feedback:
    def __init__(self, ok: bool, message: str):
        self.ok, self.message = ok, message

    def __bool__(self) -> bool:
        return self.ok

    def __repr__(self) -> str:
        return ("✓ " if self.ok else "✗ ") + self.message


# ----------------------------------------------------------------------------- the guarded call
# Every checker runs the student's code through ``call_student``: whatever it does (raises,
# calls sys.exit, runs for ever, returns a tensor that requires grad), the checker answers with
# feedback, never a traceback or a hung kernel.
TIME_LIMIT = 10.0  # seconds per call; the reference answers take milliseconds

NOT_IMPLEMENTED = "not implemented yet: replace `raise NotImplementedError` with your code"


class _TooSlow(BaseException):
    """Raised into the student's code when its time is up (a BaseException, so that a bare
    ``except Exception`` in the student's code cannot swallow it)."""


@contextmanager
def time_limit(seconds: float | None):
    """Interrupt the block after ``seconds`` (POSIX, main thread: a SIGALRM timer; elsewhere,
    e.g. on Windows, no limit). Python-level loops are interrupted; one long C call is not."""
    usable = (seconds is not None and hasattr(signal, "setitimer")
              and threading.current_thread() is threading.main_thread())
    if not usable:
        yield
        return

    def expire(signum, frame):
        raise _TooSlow
    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _detached(out):
    """Tensors that require grad, detached (inside tuples and lists too), so comparing them
    with NumPy cannot fail; everything else unchanged."""
    if hasattr(out, "detach") and getattr(out, "requires_grad", False):
        return out.detach()
    if isinstance(out, (tuple, list)):
        return type(out)(_detached(o) for o in out)
    return out


def call_student(fn, *args, where: str = "", limit: float | None = None, detach: bool = True,
                 **kwargs):
    """``fn(*args, **kwargs)`` guarded: returns ``(output, None)``, or ``(None, Feedback)`` that
    says what went wrong (``where`` names the input, e.g. "on input 784, 2")."""
    limit = TIME_LIMIT if limit is None else limit
    suffix = f" {where}" if where else ""
    try:
        with time_limit(limit):
            out = fn(*args, **kwargs)
    except NotImplementedError:
        return None, Feedback(False, NOT_IMPLEMENTED)
    except _TooSlow:
        return None, Feedback(False, f"your code took more than {limit:g} s{suffix}, so it was "
                                     f"stopped: the answer takes milliseconds with the formula; "
                                     f"do not enumerate the states or loop over huge ranges")
    except SystemExit as exit_:
        return None, Feedback(False, f"your code called sys.exit({exit_.code!r}) (or exit()){suffix}: "
                                     f"return the answer instead of stopping the program")
    except Exception as err:  # report the input, so the student can reproduce it
        return None, Feedback(False, f"your code raised {type(err).__name__}: {err}{suffix}")
    return (_detached(out) if detach else out), None


def _run(fn, cases):
    """Call fn on each case; return (outputs, None) or (None, Feedback) if it failed."""
    outputs = []
    for args in cases:
        copies = [np.array(a, copy=True) if isinstance(a, np.ndarray) else a for a in args]
        out, failed = call_student(fn, *copies, where=f"on input {_short(args)}")
        if failed is not None:
            return None, failed
        outputs.append(out)
    return outputs, None


def _short(args) -> str:
    return ", ".join(np.array2string(np.asarray(a), precision=3, threshold=6) for a in args)


def _same(a, b, exact=False) -> bool:
    try:
        dtype = object if exact else float
        a, b = np.asarray(a, dtype=dtype), np.asarray(b, dtype=dtype)
    except (TypeError, ValueError):
        return False
    if a.shape != b.shape:
        return False
    if exact:
        return bool(np.all(a == b))
    return bool(np.allclose(a, b, rtol=1e-6, atol=1e-9))


def check_cases(fn, cases, reference, mistakes, success, exact=False) -> Feedback:
    """Compare fn with reference on every case; if wrong, name the first mistake that fits."""
    got, failed = _run(fn, cases)
    if failed is not None:  # a Feedback is falsy when it reports a failure
        return failed
    want = [reference(*args) for args in cases]
    if all(_same(g, w, exact) for g, w in zip(got, want)):
        return Feedback(True, success)
    for message, wrong in mistakes.items():
        if all(_same(g, wrong(*args), exact) for g, args in zip(got, cases)):
            return Feedback(False, message)
    i = next(i for i, (g, w) in enumerate(zip(got, want)) if not _same(g, w, exact))
    return Feedback(False, f"on input {_short(cases[i])} you returned {got[i]!r}; "
                           f"expected {want[i]!r}")


def tensor_cases(shapes, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [(torch.randn(*s, generator=g, dtype=torch.float64),
             torch.randn(*s, generator=g, dtype=torch.float64) * 1.5) for s in shapes]


def agree(got, want) -> bool:
    if not torch.is_tensor(got) or got.shape != want.shape:
        return False
    return bool(torch.allclose(got.detach().to(want.dtype), want, rtol=1e-6, atol=1e-8))


def judge(fn, cases, reference, mistakes: dict, success: str, shape_hint: str) -> Feedback:
    got = []
    for args in cases:
        shapes = ", ".join(str(tuple(a.shape)) for a in args)
        out, failed = call_student(fn, *[a.clone() for a in args],
                                   where=f"on inputs of shapes {shapes}")
        if failed is not None:
            return failed
        got.append(out)
    want = [reference(*args) for args in cases]
    if all(agree(g, w) for g, w in zip(got, want)):
        return Feedback(True, success)
    for message, wrong in mistakes.items():
        if all(agree(g, wrong(*args)) for g, args in zip(got, cases)):
            return Feedback(False, message)
    for g, w, args in zip(got, want, cases):
        if not torch.is_tensor(g):
            return Feedback(False, f"return a torch tensor, got {type(g).__name__}")
        if g.shape != w.shape:
            return Feedback(False, f"for inputs of shape {tuple(args[0].shape)} return shape "
                                   f"{tuple(w.shape)} ({shape_hint}); you returned {tuple(g.shape)}")
        if not agree(g, w):
            return Feedback(False, f"wrong values for inputs of shape {tuple(args[0].shape)}: "
                                   f"expected {w.flatten()[:4].tolist()}..., got "
                                   f"{g.detach().flatten()[:4].tolist()}...")
    return Feedback(False, "wrong values")
