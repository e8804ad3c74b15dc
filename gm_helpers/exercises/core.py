r"""The checker core: run the student's code safely, compare with the reference, name the mistake.

Each ``check_*`` of a lecture's module takes the student's function, runs it on several inputs,
compares with the reference, and when it disagrees tries the usual mistakes (an off-by-one, a
forgotten normalisation, log base 2 instead of e, a transposed table) to name the one that was
made. It returns a ``Feedback``, which is truthy when the answer is right and prints as one line.

The type rule, one for every checker. An answer may be a torch tensor or a NumPy array (a list
of numbers is read as NumPy reads it) or, where the answer is one number, a Python number, a
NumPy scalar or a 0-d tensor; of dtype float32 or float64, or of an integer or bool dtype where
the answer is integral (a count, a mask, a sample). It is judged to the precision of the dtype it
comes in, ``|got - want| <= atol + rtol |want|`` with (rtol, atol) from ``TOLERANCE``:

    float64, Python float   1e-10, 1e-10   a right formula is off by ~1e-15: room for any order
                                           of operations, and still far from every mistake
    float32                 1e-5,  1e-5    its rounding unit is 6e-8, and tens of exp, log and
                                           sum steps lose up to ~1e-6
    integer, bool           exactly

Counts (``exact=True``) are compared exactly whatever the dtype: 2.0**784 - 1 is not 2**784 - 1.
float16 and bfloat16 (three digits) and anything that is not numbers are refused with a message.
Values that are right in the wrong shape are told so: "right values, wrong shape: expected (4,),
got (4, 1)". Every input a checker draws comes from a fixed seed, and the student's code runs
under a fixed global seed (``seeded``), so one answer gets one verdict, however often it is run.
"""
from __future__ import annotations

import numbers
import random
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

SEED = 0  # the global seed the student's code runs under

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


@contextmanager
def seeded(seed: int = SEED):
    """Run the block with torch's (CPU), NumPy's and Python's global generators seeded, and give
    the notebook its own generators' states back afterwards: code that draws its own noise gets
    the same noise on every call, and checking does not change the notebook's random numbers."""
    np_state, py_state = np.random.get_state(), random.getstate()
    with torch.random.fork_rng(devices=[]):
        torch.default_generator.manual_seed(seed)
        np.random.seed(seed)
        random.seed(seed)
        try:
            yield
        finally:
            np.random.set_state(np_state)
            random.setstate(py_state)


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
    """``fn(*args, **kwargs)`` guarded and ``seeded``: returns ``(output, None)``, or ``(None,
    Feedback)`` that says what went wrong (``where`` names the input, e.g. "on input 784, 2")."""
    limit = TIME_LIMIT if limit is None else limit
    suffix = f" {where}" if where else ""
    try:
        with seeded(), time_limit(limit):
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


# ----------------------------------------------------------------------------- the type rule
TOLERANCE = {"float64": (1e-10, 1e-10), "float32": (1e-5, 1e-5)}  # (rtol, atol); see above


def read_answer(out):
    """The answer under the type rule: ``(array, precision)``, precision one of "float64",
    "float32", "exact"; or ``(None, message)`` when the answer breaks the rule."""
    if torch.is_tensor(out):
        if out.dtype in (torch.float16, torch.bfloat16) or out.is_complex():
            return None, (f"your answer is a {out.dtype} tensor: compute in float32 or float64 "
                          f"(half precision keeps about 3 digits, too few to judge)")
        out = out.detach().cpu().numpy()
    if out is None or isinstance(out, (str, bytes, dict)) or not isinstance(
            out, (numbers.Number, np.ndarray, np.generic, list, tuple)):
        hint = " (is a `return` missing?)" if out is None else ""
        return None, (f"return a torch tensor or a NumPy array (or a Python number where the "
                      f"answer is one number); you returned {type(out).__name__}{hint}")
    try:
        array = np.asarray(out)
    except (TypeError, ValueError) as err:
        return None, f"your answer cannot be read as an array of numbers ({err})"
    kind = array.dtype.kind
    if kind == "f" and array.dtype.itemsize < 4:
        return None, (f"your answer is {array.dtype}: compute in float32 or float64 (half "
                      f"precision keeps about 3 digits, too few to judge)")
    if kind == "f":
        return array, "float32" if array.dtype == np.float32 else "float64"
    if kind in "iub":
        return array, "exact"
    if kind == "O" and all(isinstance(v, numbers.Real) for v in array.flat):
        whole = all(isinstance(v, numbers.Integral) for v in array.flat)
        return array, "exact" if whole else "float64"
    return None, f"your answer holds {array.dtype} values, not real numbers"


def _reference(want) -> np.ndarray:
    return np.asarray(want.detach().cpu().numpy() if torch.is_tensor(want) else want)


def _close(a: np.ndarray, b: np.ndarray, precision: str, exact: bool) -> bool:
    """Equal values (same shapes): exactly, or to the tolerance of ``precision``."""
    if exact or precision == "exact":
        return bool(np.all(a.astype(object) == b.astype(object)))
    try:
        a, b = a.astype(np.float64), b.astype(np.float64)
    except (TypeError, ValueError, OverflowError):
        return False
    rtol, atol = TOLERANCE[precision]
    return bool(np.allclose(a, b, rtol=rtol, atol=atol))


def same(got, want, exact: bool = False) -> bool:
    """Is the answer ``got`` the value ``want``: same shape, values to got's own precision?"""
    a, precision = read_answer(got)
    if a is None:
        return False
    b = _reference(want)
    return a.shape == b.shape and _close(a, b, precision, exact)


def shape_only(got, want, exact: bool = False) -> str | None:
    """A message when the answer has the right values in the wrong shape ((B, 1) for (B,), a
    transposed matrix), else None."""
    a, precision = read_answer(got)
    b = _reference(want)
    if a is None or a.shape == b.shape or a.size != b.size:
        return None
    head = f"right values, wrong shape: expected {b.shape}, got {a.shape}"
    if a.ndim == 2 and a.T.shape == b.shape and _close(a.T, b, precision, exact):
        return head + " (transposed)"
    if _close(a.reshape(b.shape), b, precision, exact):
        return head
    return None


def precision_note(got, want) -> str:
    """Why a float64 or integer answer that is close to right is still wrong, or ''."""
    a, precision = read_answer(got)
    b = _reference(want)
    if a is None or a.shape != b.shape:
        return ""
    if precision == "float64" and _close(a, b, "float32", False):
        return ("; your answer is float64 (a Python float counts as one) and so is judged to "
                "1e-10, but it is right only to float32 precision: somewhere your code computes "
                "in float32 (torch.tensor of Python floats, np.float32, .item() of a float32 "
                "tensor); keep float64 throughout, or return float32")
    with np.errstate(invalid="ignore"):
        fractional = b.dtype.kind == "f" and not np.all(np.mod(b, 1) == 0)
    if precision == "exact" and a.dtype.kind in "iu" and fractional:
        return (f"; your answer has an integer dtype ({a.dtype}), but the answer is not a whole "
                f"number: an integer array drops the fractions (create it as float)")
    return ""


# ----------------------------------------------------------------------------- verdicts
def _matches(got, mistake, cases, exact) -> bool:
    """Does every answer equal what ``mistake`` gives on its case?"""
    try:
        return all(same(g, mistake(*args), exact) for g, args in zip(got, cases))
    except Exception:  # noqa: BLE001 - a mistake that cannot be made on these inputs does not fit
        return False


def verdict(got, cases, reference, mistakes: dict, success: str, exact: bool = False,
            wrong_shape=None, wrong_values=None, probes: dict | None = None) -> Feedback:
    """The answers ``got`` to ``cases`` against ``reference``: the type rule, then right, then
    the first named mistake that fits every case, then the first probe (message -> a function
    of nothing) that returns True, then "right values, wrong shape" if that is all that is
    wrong, else, at the first case i wrong in its values, ``wrong_shape(i, want)`` (if given,
    for a wrong shape) or ``wrong_values(i, want)`` with a note on the answer's precision."""
    for g in got:
        a, problem = read_answer(g)
        if a is None:
            return Feedback(False, problem)
    want = [reference(*args) for args in cases]
    if all(same(g, w, exact) for g, w in zip(got, want)):
        return Feedback(True, success)
    for message, mistake in mistakes.items():
        if _matches(got, mistake, cases, exact):
            return Feedback(False, message)
    for message, probe in (probes or {}).items():
        if probe():
            return Feedback(False, message)
    wrong = [i for i, (g, w) in enumerate(zip(got, want)) if not same(g, w, exact)]
    shaped = [shape_only(got[i], want[i], exact) for i in wrong]
    if all(shaped):  # right values in every case, only the shape is off
        return Feedback(False, shaped[0])
    i = next(i for i, s in zip(wrong, shaped) if not s)
    if wrong_shape is not None and read_answer(got[i])[0].shape != _reference(want[i]).shape:
        return Feedback(False, wrong_shape(i, want[i]))
    return Feedback(False, wrong_values(i, want[i]) + precision_note(got[i], want[i]))


def _short(args) -> str:
    return ", ".join(np.array2string(np.asarray(a), precision=3, threshold=6) for a in args)


def check_cases(fn, cases, reference, mistakes, success, exact=False) -> Feedback:
    """Compare fn with reference on every case (NumPy or Python inputs, each passed as a copy);
    if wrong, name the first mistake that fits."""
    got = []
    for args in cases:
        copies = [np.array(a, copy=True) if isinstance(a, np.ndarray) else a for a in args]
        out, failed = call_student(fn, *copies, where=f"on input {_short(args)}")
        if failed is not None:
            return failed
        got.append(out)
    return verdict(got, cases, reference, mistakes, success, exact, wrong_values=lambda i, w: (
        f"on input {_short(cases[i])} you returned {got[i]!r}; expected {w!r}"))


def tensor_cases(shapes, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [(torch.randn(*s, generator=g, dtype=torch.float64),
             torch.randn(*s, generator=g, dtype=torch.float64) * 1.5) for s in shapes]


def judge(fn, cases, reference, mistakes: dict, success: str, shape_hint: str,
          probes: dict | None = None) -> Feedback:
    """``check_cases`` for float64 tensor inputs (each passed as a clone). ``probes``: message
    -> ``probe(fn)``, tried after the named mistakes; a probe that returns True names the
    mistake (e.g. an output that does not change when an input does)."""
    got = []
    for args in cases:
        shapes = ", ".join(str(tuple(a.shape)) for a in args)
        out, failed = call_student(fn, *[a.clone() for a in args],
                                   where=f"on inputs of shapes {shapes}")
        if failed is not None:
            return failed
        got.append(out)

    def wrong_shape(i, w):
        return (f"for inputs of shape {tuple(cases[i][0].shape)} return shape "
                f"{tuple(w.shape)} ({shape_hint}); you returned "
                f"{read_answer(got[i])[0].shape}")

    def wrong_values(i, w):
        return (f"wrong values for inputs of shape {tuple(cases[i][0].shape)}: expected "
                f"{w.flatten()[:4].tolist()}..., got "
                f"{read_answer(got[i])[0].flatten()[:4].tolist()}...")
    return verdict(got, cases, reference, mistakes, success, wrong_shape=wrong_shape,
                   wrong_values=wrong_values,
                   probes={m: (lambda p=p: p(fn)) for m, p in (probes or {}).items()})

