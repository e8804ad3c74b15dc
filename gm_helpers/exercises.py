"""Checkers for the lectures' exercises: they say *what* is wrong, not just "incorrect".

Each ``check_*`` takes the student's function, runs it on several inputs, compares with the
reference, and when it disagrees tries the usual mistakes (an off-by-one, a forgotten
normalisation, log base 2 instead of e, a transposed table) to name the one that was made.
It returns a ``Feedback``, which is truthy when the answer is right and prints as one line.
"""
from __future__ import annotations

import math
import signal
import threading
from contextlib import contextmanager

import numpy as np


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
        a, b = np.asarray(a, dtype=object if exact else float), np.asarray(b, dtype=object if exact else float)
    except (TypeError, ValueError):
        return False
    if a.shape != b.shape:
        return False
    if exact:
        return bool(np.all(a == b))
    return bool(np.allclose(a, b, rtol=1e-6, atol=1e-9))


def _check(fn, cases, reference, mistakes, success, exact=False) -> Feedback:
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


# ----------------------------------------------------------------------------- lecture 01
def check_full_joint_params(fn) -> Feedback:
    """fn(n, m): free parameters of a full joint table over n variables with m values."""
    cases = [(1, 2), (3, 2), (10, 2), (2, 3), (4, 5), (1, 256 ** 3), (784, 2)]
    return _check(fn, cases, lambda n, m: m**n - 1, {
        "off by one: the m**n probabilities must sum to 1, so one of them is not free":
            lambda n, m: m**n,
        "that is the count under independence, n (m - 1); the full joint has one entry "
        "per joint state": lambda n, m: n * (m - 1),
        "base and exponent swapped: there are m choices for each of n variables, m**n states":
            lambda n, m: n**m - 1,
        "each variable has m values, not m - 1: the number of states is m**n":
            lambda n, m: (m - 1)**n,
    }, "the full joint needs m**n - 1 numbers: 2**784 - 1 for one binary MNIST digit",
        exact=True)


def check_posterior(fn) -> Feedback:
    """fn(prior, likelihood): p(y | x) from p(y) and p(x | y), arrays over the K classes."""
    cases = [(np.array([0.5, 0.5]), np.array([0.9, 0.2])),
             (np.array([0.99, 0.01]), np.array([0.05, 0.95])),
             (np.array([0.2, 0.3, 0.5]), np.array([0.1, 0.4, 0.05])),
             (np.array([1.0]), np.array([0.3])),                   # one class: posterior 1
             (np.array([0.1, 0.2, 0.3, 0.25, 0.15]), np.array([0.2, 0.001, 0.6, 0.1, 0.3]))]
    bayes = lambda prior, lik: prior * lik / (prior * lik).sum()
    return _check(fn, cases, bayes, {
        "not normalised: divide prior * likelihood by p(x) = sum_y p(y) p(x | y)":
            lambda prior, lik: prior * lik,
        "the prior is missing: p(y | x) is proportional to p(y) p(x | y), not p(x | y) alone":
            lambda prior, lik: lik / lik.sum(),
        "divided by the likelihood instead of multiplying: p(y | x) ~ p(y) p(x | y)":
            lambda prior, lik: (prior / lik) / (prior / lik).sum(),
    }, "Bayes' rule: p(y | x) = p(y) p(x | y) / sum_y' p(y') p(x | y')")


def check_bernoulli_nll(fn) -> Feedback:
    """fn(x, theta): NLL in nats of a binary vector x under independent Bernoullis theta."""
    rng = np.random.default_rng(0)
    cases = [(np.array([1, 0, 1]), np.array([0.9, 0.2, 0.6]))]
    for n in (1, 5, 50):
        cases.append(((rng.random(n) < 0.5).astype(float), rng.uniform(0.05, 0.95, n)))
    nll = lambda x, t: -np.sum(x * np.log(t) + (1 - x) * np.log(1 - t))
    return _check(fn, cases, nll, {
        "that is in bits (log base 2); this course measures NLL in nats (natural log)":
            lambda x, t: nll(x, t) / math.log(2),
        "sign flipped: that is the log-likelihood; the NLL is its negative":
            lambda x, t: -nll(x, t),
        "averaged over pixels: the NLL of an image sums over its pixels":
            lambda x, t: nll(x, t) / len(x),
        "x and 1 - x swapped: a pixel that is 1 contributes log theta":
            lambda x, t: nll(1 - x, t),
    }, "NLL = -sum_i [x_i log theta_i + (1 - x_i) log(1 - theta_i)], in nats")


# ----------------------------------------------------------------------------- lecture 02
def check_ar_params(fn) -> Feedback:
    """fn(n, k): free parameters of an AR(k) model with tabular conditionals, binary x."""
    cases = [(1, 0), (5, 0), (5, 1), (6, 2), (10, 3), (16, 15), (784, 8)]
    ref = lambda n, k: 2**k - 1 + (n - k) * 2**k
    return _check(fn, cases, ref, {
        "every variable counted with k parents: the first k have only 0, 1, ..., k - 1":
            lambda n, k: n * 2**k,
        "off by one in k: x_i has k parents, so its table has 2**k rows, not 2**(k + 1)":
            lambda n, k: 2**(k + 1) - 1 + (n - k - 1) * 2**(k + 1) if k + 1 < n else 2**n - 1,
        "that is the Markov count 2n - 1 for any k; the tables grow as 2**k":
            lambda n, k: 2 * n - 1,
        "each binary conditional needs one number per parent state (2**k), not 2**k - 1":
            lambda n, k: n * (2**k - 1),
    }, "AR(k): sum_i 2**min(i-1, k) = 2**k - 1 + (n - k) 2**k", exact=True)


def check_conditional_from_joint(fn) -> Feedback:
    """fn(joint): from p(x1, x2, x3), a (2, 2, 2) array, return p(x3 = 1 | x1, x2), (2, 2)."""
    rng = np.random.default_rng(1)
    cases = []
    for _ in range(3):
        p = rng.random((2, 2, 2))
        cases.append((p / p.sum(),))
    ref = lambda p: p[:, :, 1] / p.sum(2)
    return _check(fn, cases, ref, {
        "not divided by p(x1, x2): that is the joint p(x1, x2, x3 = 1), not a conditional":
            lambda p: p[:, :, 1],
        "that is p(x3 = 0 | x1, x2); the question asks for x3 = 1":
            lambda p: p[:, :, 0] / p.sum(2),
        "divided by p(x3 = 1) instead of p(x1, x2): that gives p(x1, x2 | x3 = 1)":
            lambda p: p[:, :, 1] / p[:, :, 1].sum(),
    }, "p(x3 | x1, x2) = p(x1, x2, x3) / sum_x3 p(x1, x2, x3)")


def check_markov_log_prob(fn) -> Feedback:
    """fn(x, p1, T): log p(x) in nats of a binary sequence under a Markov chain.

    p1 = p(x_1 = 1); T[a, b] = p(x_{i+1} = b | x_i = a).
    """
    T1, T2 = np.array([[0.9, 0.1], [0.3, 0.7]]), np.array([[0.6, 0.4], [0.2, 0.8]])
    cases = [(np.array([1, 1, 0, 0, 1]), 0.3, T1), (np.array([0, 1, 1, 1]), 0.6, T2),
             (np.array([1, 0, 1, 0, 0, 1]), 0.5, T1),
             (np.array([0]), 0.3, T2), (np.array([1, 0]), 0.8, T1)]   # edges: 1 and 2 steps

    def ref(x, p1, T, transpose=False, first=True, last=True):
        T = T.T if transpose else T
        first_term = math.log(p1 if x[0] == 1 else 1 - p1) if first else 0.0
        steps = range(len(x) - 1) if last else range(len(x) - 2)
        return first_term + sum(math.log(T[x[i], x[i + 1]]) for i in steps)

    return _check(fn, cases, ref, {
        "in bits (log base 2); use the natural log for nats":
            lambda x, p1, T: ref(x, p1, T) / math.log(2),
        "T is transposed: T[a, b] is p(next = b | current = a), rows are the current state":
            lambda x, p1, T: ref(x, p1, T, transpose=True),
        "the first term log p(x_1) is missing":
            lambda x, p1, T: ref(x, p1, T, first=False),
        "off by one: the last transition x_{n-1} -> x_n is missing":
            lambda x, p1, T: ref(x, p1, T, last=False),
        "sign flipped: that is the negative log-likelihood":
            lambda x, p1, T: -ref(x, p1, T),
    }, "log p(x) = log p(x_1) + sum_i log T[x_i, x_{i+1}]")


# ----------------------------------------------------------------------------- lecture 03
def check_nade_params(fn) -> Feedback:
    """fn(D, H): parameters of a NADE with D inputs and H hidden units (W, c, V, b)."""
    cases = [(1, 1), (4, 3), (784, 500), (10, 100)]
    return _check(fn, cases, lambda D, H: 2 * H * D + H + D, {
        "the biases are missing: c (H of them) and b (D of them) are parameters too":
            lambda D, H: 2 * H * D,
        "V is missing: the output weights are a second H x D matrix":
            lambda D, H: H * D + H + D,
        "that is the FVSBN count D(D + 1)/2; NADE shares W across the conditionals":
            lambda D, H: D * (D + 1) // 2,
        "only one bias vector counted: NADE has c (hidden, H) and b (output, D)":
            lambda D, H: 2 * H * D + D,
    }, "NADE: W (H x D) + c (H) + V (D x H) + b (D) = 2HD + H + D, linear in D", exact=True)


def check_made_mask(fn) -> Feedback:
    """fn(m_in, m_out, output): the MADE mask, shape (len(m_out), len(m_in)), of 0s and 1s."""
    cases = [(np.array([1, 2, 3]), np.array([1, 2, 2, 1]), False),
             (np.array([2, 1, 2, 1]), np.array([3, 1, 2]), True),
             (np.array([1, 3, 2, 4]), np.array([3, 1, 2, 4]), False),
             (np.array([2, 2, 1, 3]), np.array([4, 1, 3, 2]), True)]
    ref = lambda m_in, m_out, out: (m_out[:, None] > m_in[None, :]) if out \
        else (m_out[:, None] >= m_in[None, :])
    return _check(fn, cases, lambda *a: ref(*a).astype(float), {
        "output masks need a strict >: with >= output d could see input d itself, a leak":
            lambda m_in, m_out, out: (m_out[:, None] >= m_in[None, :]).astype(float),
        "hidden masks use >=: with a strict > units drop connections MADE allows":
            lambda m_in, m_out, out: (m_out[:, None] > m_in[None, :]).astype(float),
        "transposed: the mask is (units out, units in), like nn.Linear's weight":
            lambda m_in, m_out, out: ref(m_in, m_out, out).T.astype(float),
    }, "hidden: M[k, j] = [m(k) >= m(j)]; output: M[d, k] = [m(d) > m(k)]")


def check_log_mean_exp(fn) -> Feedback:
    """fn(logp): log of the mean of exp(logp) along axis 0, computed stably."""
    rng = np.random.default_rng(3)
    cases = [(np.array([-1.0, -2.0, -3.0]),), (np.array([-90.0, -88.5, -89.2, -91.0]),),
             (np.array([-1000.0, -1001.0]),), (np.array([[-3.0, -800.0], [-4.0, -801.0]]),),
             (np.array([-7.5]),),                                   # K = 1: itself
             (rng.normal(-50, 20, (3, 2)),), (rng.normal(-50, 20, (2, 5)),),  # not square
             (rng.normal(-300, 100, (4, 3, 2)),)]                   # batched: (K, B, D)

    def ref(logp):
        top = logp.max(0)
        return top + np.log(np.exp(logp - top).mean(0))

    def naive(logp):
        with np.errstate(divide="ignore"):
            return np.log(np.exp(logp).mean(0))

    return _check(fn, cases, ref, {
        "that is the mean of the log-likelihoods (a geometric mean of probabilities); "
        "an ensemble averages the probabilities themselves": lambda logp: logp.mean(0),
        "the -log K is missing: that is log-SUM-exp, not the log of the mean":
            lambda logp: ref(logp) + np.log(len(logp)),
        "not numerically stable: exp(-1000) underflows to 0; subtract the max first":
            naive,
    }, "log (1/K sum_k p_k) = max + log mean exp(logp - max)")


# ----------------------------------------------------------------------------- lecture 04
def check_type_a_mask(fn) -> Feedback:
    """fn(k): the k x k type-A mask (odd k) as an array of 0/1: rows above, and left of centre."""
    cases = [(1,), (3,), (5,), (7,)]

    def mask(k, centre=0, transpose=False):
        m = np.zeros((k, k))
        m[: k // 2] = 1
        m[k // 2, : k // 2] = 1
        m[k // 2, k // 2] = centre
        return m.T if transpose else m

    return _check(fn, cases, lambda k: mask(k), {
        "the centre is 1: that is mask B; mask A (the first layer) must not see its own pixel":
            lambda k: mask(k, centre=1),
        "transposed: the rows above the centre are visible (raster order), not the columns left":
            lambda k: mask(k, transpose=True),
        "upside down: the visible pixels come before the centre in raster order, i.e. above it":
            lambda k: mask(k)[::-1, ::-1],
    }, "type A: every row above the centre, and the centre row up to (not including) it")


def check_rows_above(fn) -> Feedback:
    """fn(L): rows above the target a 7x7 type-A layer plus L 3x3 type-B layers can see."""
    cases = [(0,), (1,), (5,), (12,)]
    return _check(fn, cases, lambda L: 3 + L, {
        "each 3x3 layer adds one row, but the 7x7 layer already sees 3 rows above":
            lambda L: L,
        "off by one: the 7x7 layer reaches 3 rows up (its centre is row 4 of 7)":
            lambda L: 4 + L,
        "the 3x3 layers reach 1 row up each, not 3": lambda L: 3 + 3 * L,
    }, "receptive field height: 3 rows from the 7x7 layer + 1 per 3x3 layer", exact=True)


def check_skew(fn) -> Feedback:
    """fn(x): skew an (H, W) array to (H, H + W - 1), row i shifted right by i, zeros elsewhere."""
    rng = np.random.default_rng(2)
    cases = [(rng.integers(1, 9, (3, 3)).astype(float),), (rng.integers(1, 9, (2, 4)).astype(float),),
             (rng.integers(1, 9, (4, 2)).astype(float),), (np.array([[5.0]]),),
             (rng.integers(1, 9, (1, 4)).astype(float),)]

    def skew(x, shift=lambda i: i, left=False):
        H, W = x.shape
        out = np.zeros((H, H + W - 1))
        for i in range(H):
            s = shift(i) if not left else H - 1 - i
            out[i, s:s + W] = x[i]
        return out

    return _check(fn, cases, skew, {
        "shifted the wrong way: row i moves right by i, so the diagonals line up as columns":
            lambda x: skew(x, left=True),
        "transposed input: skew the rows of x, each row i by i places": lambda x: skew(x.T),
    }, "skew: row i shifted right by i; an N x N image becomes N x (2N - 1), whose 2N - 1 "
       "columns are the diagonals, processed one per step")
