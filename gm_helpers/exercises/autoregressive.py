r"""Lecture 02's exercises: AR parameter counts, conditionals from a joint, the Markov
log-likelihood, and an ancestral sampler for an AR model.
"""
from __future__ import annotations

import math

import numpy as np

from gm_helpers.exercises.core import Feedback, call_student, check_cases, read_answer, shape_only
from gm_helpers.models.tabular import all_binary_states


# ----------------------------------------------------------------------------- lecture 02
def check_ar_params(fn) -> Feedback:
    """fn(n, k): free parameters of an AR(k) model with tabular conditionals, binary x."""
    cases = [(1, 0), (5, 0), (5, 1), (6, 2), (10, 3), (16, 15), (784, 8)]
    ref = lambda n, k: 2**k - 1 + (n - k) * 2**k
    return check_cases(fn, cases, ref, {
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
    return check_cases(fn, cases, ref, {
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

    return check_cases(fn, cases, ref, {
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


TV_TOLERANCE = 0.01  # a right sampler's 100,000 draws of 8 states sit about 0.002 from exact

NUM_SAMPLES = 100_000


class TableAR:
    """A random AR model of D binary variables, one full table per conditional (test model).

    ``theta[d][c]`` = p(x_d = 1 | x_<d = c), c the prefix read as a binary number, x_0 the
    most significant bit. Values in [0.1, 0.9], so every mistake changes some samples.
    """

    def __init__(self, D: int, seed: int = 0):
        rng = np.random.default_rng(seed)
        self.D = D
        self.theta = [rng.uniform(0.1, 0.9, 2**d) for d in range(D)]

    def p(self, prefix: np.ndarray) -> np.ndarray:
        """p(x_d = 1 | x_<d = prefix) for a ``(B, d)`` binary prefix: ``(B,)``."""
        d = prefix.shape[1]
        c = prefix.astype(np.int64) @ (1 << np.arange(d - 1, -1, -1, dtype=np.int64))
        return self.theta[d][c]

    def joint(self) -> np.ndarray:
        """p(s) for all 2**D states s (x_0 most significant), by the chain rule: ``(2**D,)``."""
        states = all_binary_states(self.D)  # (2**D, D)
        p = np.ones(len(states))
        for d in range(self.D):
            theta = self.p(states[:, :d])
            p *= np.where(states[:, d] == 1, theta, 1 - theta)
        return p

    def marginals(self) -> np.ndarray:
        """p(x_d = 1) for each d, summed out of the joint: ``(D,)``."""
        return self.joint() @ all_binary_states(self.D)


class _Misuse(Exception):
    """Raised by the checker's ``conditional`` when the student's sampler calls it wrongly."""


class RecordingConditional:
    """The ``conditional`` handed to the student: it checks and records every call.

    Poison: a prefix with D or more columns holds x_d or later values, which p(x_d | x_<d)
    must never see; it is refused, and so is any value other than 0 or 1.
    """

    def __init__(self, model: TableAR):
        self.model, self.calls = model, []

    def __call__(self, prefix):
        prefix = np.asarray(prefix)
        D = self.model.D
        if prefix.ndim != 2:
            raise _Misuse(f"conditional takes the 2-D (B, d) batch x[:, :d] of the values drawn "
                          f"so far; it was given an array of shape {prefix.shape}")
        d = prefix.shape[1]
        if d >= D:
            raise _Misuse(f"off by one, or a look ahead: conditional was given {d} columns, but "
                          f"x_d may see only the d values before it (at most D - 1 = {D - 1}); "
                          f"to draw x_d pass x[:, :d], not x[:, :d + 1] or the whole x")
        if prefix.size and not np.isin(prefix, (0, 1)).all():
            bad = float(prefix[~np.isin(prefix, (0, 1))].ravel()[0])
            raise _Misuse(f"conditional was given the value {bad:.3g}: the prefix must hold "
                          f"samples (0 or 1), not probabilities or uninitialised memory; "
                          f"store x_d = 1 if u[:, d] < p else 0")
        self.calls.append((d, prefix.copy()))
        return self.model.p(prefix)


def reference_ar_sample(conditional, u) -> np.ndarray:
    """x_d = 1 iff u[:, d] < p(x_d = 1 | x_<d), for d = 0..D-1 in order: ``(B, D)`` uint8."""
    u = np.asarray(u, dtype=float)
    B, D = u.shape
    x = np.zeros((B, D), dtype=np.uint8)
    for d in range(D):
        p = conditional(x[:, :d])  # (B,): uses only the d values already drawn
        x[:, d] = u[:, d] < p  # x_d ~ Bernoulli(p)
    return x


def _variant(model: TableAR, u: np.ndarray, draw=lambda u, p: u < p, prefix=lambda x, d: x[:, :d],
             start: int = 0, marginal: bool = False) -> np.ndarray:
    """The reference sampler with one thing changed: how x_d is drawn, its prefix, its start."""
    B, D = u.shape
    x = np.zeros((B, D), dtype=np.uint8)
    m = model.marginals() if marginal else None
    for d in range(start, D):
        p = np.full(B, m[d]) if marginal else model.p(prefix(x, d))
        x[:, d] = draw(u[:, d], p)
    return x


MISTAKES = {  # message -> the sampler with that mistake, as a function of (model, u)
    "the probability of 0 used for 1: x_d = 1 must happen with probability p = "
    "p(x_d = 1 | x_<d), i.e. when u[:, d] < p, not u < 1 - p or u > p":
        [lambda m, u: _variant(m, u, draw=lambda u, p: u < 1 - p),
         lambda m, u: _variant(m, u, draw=lambda u, p: u > p)],
    "each x_d is drawn as if the earlier values were all 0 (one pass over a blank image): the "
    "pixels come out independent of each other; pass the values already drawn, x[:, :d]":
        [lambda m, u: _variant(m, u, prefix=lambda x, d: np.zeros((len(x), d), np.uint8))],
    "each x_d is drawn from its marginal p(x_d = 1), independently of the others: that is "
    "the independence model, not the chain rule; condition on x[:, :d]":
        [lambda m, u: _variant(m, u, marginal=True)],
    "off by one: x[:, :d - 1] leaves out x_{d-1}; to draw x_d pass the d values x[:, :d]":
        [lambda m, u: _variant(m, u, prefix=lambda x, d: x[:, :max(d - 1, 0)])],
    "x_0 is never drawn: the loop must start at d = 0, with the empty prefix x[:, :0] "
    "(shape (B, 0)), whose conditional is p(x_0 = 1)":
        [lambda m, u: _variant(m, u, start=1)],
}


def _cases():
    """(model, u) pairs: small deterministic ones, then the large distribution case."""
    small = [(TableAR(4, seed=0), np.random.default_rng(1).random((6, 4))),
             (TableAR(1, seed=2), np.random.default_rng(3).random((5, 1)))]
    big = (TableAR(3, seed=4), np.random.default_rng(5).random((NUM_SAMPLES, 3)))
    return small + [big]


def _frequencies(x: np.ndarray) -> np.ndarray:
    D = x.shape[1]
    return np.bincount(x.astype(np.int64) @ (1 << np.arange(D - 1, -1, -1)),
                       minlength=2**D) / len(x)


def _format_problem(got, B: int, D: int) -> str | None:
    """A message if the output is not a (B, D) array of 0s and 1s, else None."""
    x, problem = read_answer(got)
    if x is None:
        return problem + " (a (B, D) array of 0s and 1s)"
    x = x.astype(float)
    if x.shape == (D, B) and B != D:
        return f"transposed: return x with shape (B, D) = {(B, D)}, one row per sample; " \
               f"got {x.shape}"
    if x.shape != (B, D):
        return f"wrong shape: for u of shape {(B, D)} return x of shape (B, D) = {(B, D)}; " \
               f"got {x.shape}"
    if not np.isin(x, (0, 1)).all():
        if np.all((x >= 0) & (x <= 1)):
            return "these are probabilities, not samples: return x_d = 1 if u[:, d] < p else 0"
        return "x must hold only 0s and 1s"
    return None


def check_ar_sampler(fn) -> Feedback:
    """fn(conditional, u) -> x, ``(B, D)``: the autoregressive sampler, x_d = 1 iff u_d < p."""
    cases, got, records = _cases(), [], []
    for model, u in cases:
        conditional = RecordingConditional(model)
        def run(conditional=conditional, u=u):
            try:
                return fn(conditional, u.copy()), None
            except _Misuse as err:   # the conditional was called the wrong way: say how
                return None, Feedback(False, str(err))
        result, failed = call_student(run, where=f"(for u of shape {u.shape})")
        if failed is None:
            out, failed = result
        if failed is not None:
            return failed
        problem = _format_problem(out, *u.shape)
        if problem:  # the right samples in another shape are told so
            return Feedback(False, shape_only(out, reference_ar_sample(model.p, u), exact=True)
                            or problem)
        got.append(np.asarray(out, dtype=float).astype(np.uint8))
        records.append(conditional.calls)
    want = [reference_ar_sample(model.p, u) for model, u in cases]
    flipped = [_variant(model, u, draw=lambda u, p: u > 1 - p) for model, u in cases]
    model, u = cases[-1]
    tv = 0.5 * np.abs(_frequencies(got[-1]) - model.joint()).sum()
    if all(np.array_equal(g, w) for g, w in zip(got, want)) or \
            all(np.array_equal(g, f) for g, f in zip(got, flipped)):
        note = "" if np.array_equal(got[0], want[0]) else \
            " (you draw x_d = 1 when u > 1 - p: also exact, since P(u > 1 - p) = p)"
        return Feedback(True, f"x_d = 1 iff u_d < p(x_d = 1 | x_<d), for d = 0..D-1 in order: "
                              f"exact on every case, and {NUM_SAMPLES:,} samples of a D = 3 "
                              f"model are TV = {tv:.4f} from its exact joint{note}")
    for message, variants in MISTAKES.items():
        for variant in variants:
            if all(np.array_equal(g, variant(m, u)) for g, (m, u) in zip(got, cases)):
                return Feedback(False, message)
    for (model, u), x, calls in zip(cases, got, records):
        asked = {d for d, _ in calls}
        if asked != set(range(model.D)):
            missing = sorted(set(range(model.D)) - asked)
            return Feedback(False, f"conditional was never asked for x_d with d in {missing}: "
                                   f"call conditional(x[:, :d]) once for each d = 0..D-1")
        for d, prefix in calls:
            if prefix.shape[0] == len(x) and not np.array_equal(prefix, x[:, :d]):
                return Feedback(False, f"conditional was given a prefix x[:, :{d}] that differs "
                                       f"from the x[:, :{d}] you return: draw each x_d given "
                                       f"the values you keep (one array, filled left to right)")
    if tv <= TV_TOLERANCE:
        return Feedback(False, f"right distribution (TV = {tv:.4f}), but not from the given "
                               f"uniforms: set x_d = 1 exactly when u[:, d] < p, so that the "
                               f"sample is reproducible")
    if _tv_from_independence(got[-1]) < TV_TOLERANCE:
        return Feedback(False, f"your x_d come out independent of each other (TV = {tv:.3f} "
                               f"from the model's joint): draw each x_d given the values "
                               f"already drawn, conditional(x[:, :d])")
    i = next(i for i, (g, w) in enumerate(zip(got, want)) if not np.array_equal(g, w))
    (model, u), x, w = cases[i], got[i], want[i]
    row = int(np.flatnonzero((x != w).any(1))[0])
    return Feedback(False, f"wrong samples: for u[{row}] = {np.round(u[row], 3).tolist()} "
                           f"(D = {model.D}) the reference gives x = {w[row].tolist()}, you gave "
                           f"{x[row].tolist()}; your D = 3 samples are TV = {tv:.3f} from the "
                           f"exact joint (tolerance {TV_TOLERANCE})")


def _tv_from_independence(x: np.ndarray) -> float:
    """TV between the samples' joint frequencies and the product of their own marginals."""
    states = all_binary_states(x.shape[1])  # (2**D, D)
    m = x.mean(0)  # (D,)
    product = np.prod(np.where(states == 1, m, 1 - m), axis=1)  # (2**D,)
    return float(0.5 * np.abs(_frequencies(x) - product).sum())
