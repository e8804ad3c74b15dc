"""The checker core: student code runs safely; each checker passes right answers and names each mistake.

Exercise checkers answer every student with feedback: never a traceback, never a hang. Each
checker runs the student's code through ``gm_helpers.exercises.core.call_student``: a time limit,
sys.exit caught, tensors that require grad detached. And for every checker of lectures 01-04
built on ``check_cases``: a correct function passes; a stub and a crash are reported as such;
each named mistake, made on purpose, is recognised by name; any other wrong answer shows the
expected value.
"""
import itertools
import math
import sys

import numpy as np
import pytest
import torch

from gm_helpers.exercises import autoregressive, core, gan, made, pixel, probability, vae
from gm_helpers.exercises import autoregressive as ex_autoregressive
from gm_helpers.exercises import made as ex_made
from gm_helpers.exercises import pixel as ex_pixel
from gm_helpers.exercises import probability as ex_probability
from gm_helpers.exercises.autoregressive import (
    check_ar_params,
    check_conditional_from_joint,
    check_markov_log_prob,
)
from gm_helpers.exercises.core import check_cases
from gm_helpers.exercises.made import check_log_mean_exp, check_made_mask, check_nade_params
from gm_helpers.exercises.pixel import check_rows_above, check_skew, check_type_a_mask
from gm_helpers.exercises.probability import check_bernoulli_nll, check_full_joint_params, check_posterior

# ----------------------------------------------------------------------------- every student gets feedback
ALL_CHECKERS = sorted(
    [(m.__name__.split(".")[-1], name, getattr(m, name))
     for m in (probability, autoregressive, made, pixel, vae, gan)
     for name in dir(m) if name.startswith("check_") and getattr(m, name).__module__ == m.__name__],
    key=lambda c: c[:2])
IDS = [f"{module}.{name}" for module, name, _ in ALL_CHECKERS]


def test_every_lecture_checker_is_covered():
    assert len(ALL_CHECKERS) >= 22, IDS


@pytest.mark.parametrize("module, name, check", ALL_CHECKERS, ids=IDS)
def test_a_student_who_calls_sys_exit_gets_feedback(module, name, check):
    def student(*args, **kwargs):
        sys.exit(1)
    feedback = check(student)
    assert not feedback and "sys.exit(1)" in feedback.message


@pytest.mark.parametrize("module, name, check", ALL_CHECKERS, ids=IDS)
def test_a_student_who_never_returns_is_stopped_with_feedback(module, name, check, monkeypatch):
    monkeypatch.setattr(core, "TIME_LIMIT", 0.3)

    def student(*args, **kwargs):
        while True:
            pass
    feedback = check(student)
    assert not feedback and "took more than 0.3 s" in feedback.message


def test_a_student_who_swallows_exceptions_is_still_stopped(monkeypatch):
    monkeypatch.setattr(core, "TIME_LIMIT", 0.3)

    def student(n, m):
        while True:
            try:
                sum(range(10**6))
            except Exception:   # noqa: BLE001 - what a student might write
                pass
    assert "took more than" in probability.check_full_joint_params(student).message


def test_enumerating_all_two_to_the_784_states_is_stopped(monkeypatch):
    """The natural wrong answer that used to hang the checker for ever."""
    monkeypatch.setattr(core, "TIME_LIMIT", 1.0)
    feedback = probability.check_full_joint_params(
        lambda n, m: sum(1 for _ in itertools.product(range(m), repeat=n)) - 1)
    assert not feedback and "took more than 1 s" in feedback.message


def test_other_exceptions_name_the_input():
    feedback = probability.check_posterior(lambda prior, lik: prior[5])
    assert not feedback and "IndexError" in feedback.message and "on input" in feedback.message


def test_tensors_that_require_grad_are_graded_not_crashed():
    def log_mean_exp(logp):   # right values, as a tensor that requires grad
        t = torch.tensor(logp, requires_grad=True)
        return torch.logsumexp(t, 0) - np.log(len(logp))
    assert made.check_log_mean_exp(log_mean_exp)

    def posterior(prior, lik):
        t = torch.tensor(prior * lik, requires_grad=True)
        return t / t.sum()
    assert probability.check_posterior(posterior)

    def sampler(conditional, u):
        x = np.zeros(u.shape)
        for d in range(u.shape[1]):
            x[:, d] = u[:, d] < conditional(x[:, :d])
        return torch.tensor(x, requires_grad=True)
    assert autoregressive.check_ar_sampler(sampler)


# ----------------------------------------------------------------------------- right answers, named mistakes
def stub(*args):
    raise NotImplementedError


def crash(*args):
    raise ZeroDivisionError("boom")


# --- lecture 01: full joint -------------------------------------------------------------------
def fj_right(n, m):
    return m**n - 1


FULL_JOINT = (check_full_joint_params, fj_right, lambda n, m: 0, [
    (lambda n, m: m**n, "off by one"),
    (lambda n, m: n * (m - 1), "independence"),
    (lambda n, m: n**m - 1, "base and exponent swapped"),
    (lambda n, m: (m - 1)**n, "not m - 1"),
])


# --- lecture 01: posterior --------------------------------------------------------------------
def post_right(prior, lik):
    joint = prior * lik
    return joint / joint.sum()


POSTERIOR = (check_posterior, post_right, lambda prior, lik: prior, [
    (lambda prior, lik: prior * lik, "not normalised"),
    (lambda prior, lik: lik / lik.sum(), "prior is missing"),
    (lambda prior, lik: (prior / lik) / (prior / lik).sum(), "divided by the likelihood"),
])


# --- lecture 01: Bernoulli NLL ----------------------------------------------------------------
def nll_right(x, theta):
    return -np.sum(x * np.log(theta) + (1 - x) * np.log(1 - theta))


BERNOULLI = (check_bernoulli_nll, nll_right, lambda x, theta: -np.sum(np.log(theta)), [
    (lambda x, t: -np.sum(x * np.log2(t) + (1 - x) * np.log2(1 - t)), "bits"),
    (lambda x, t: np.sum(x * np.log(t) + (1 - x) * np.log(1 - t)), "sign flipped"),
    (lambda x, t: -np.mean(x * np.log(t) + (1 - x) * np.log(1 - t)), "averaged"),
    (lambda x, t: -np.sum((1 - x) * np.log(t) + x * np.log(1 - t)), "swapped"),
])


# --- lecture 02: AR(k) parameters -------------------------------------------------------------
def ar_right(n, k):
    return sum(2 ** min(i, k) for i in range(n))  # variable i has min(i, k) parents


AR_PARAMS = (check_ar_params, ar_right, lambda n, k: n + k, [
    (lambda n, k: n * 2**k, "counted with k parents"),
    (lambda n, k: 2**(k + 1) - 1 + (n - k - 1) * 2**(k + 1), "off by one in k"),
    (lambda n, k: 2 * n - 1, "Markov count"),
    (lambda n, k: n * (2**k - 1), "not 2**k - 1"),
])


# --- lecture 02: conditional from a joint -----------------------------------------------------
def cond_right(joint):
    return joint[:, :, 1] / (joint[:, :, 0] + joint[:, :, 1])


CONDITIONAL = (check_conditional_from_joint, cond_right, lambda p: p.sum(2), [
    (lambda p: p[:, :, 1], "not divided by p(x1, x2)"),
    (lambda p: p[:, :, 0] / p.sum(2), "p(x3 = 0 | x1, x2)"),
    (lambda p: p[:, :, 1] / p[:, :, 1].sum(), "divided by p(x3 = 1)"),
])


# --- lecture 02: Markov chain log-probability -------------------------------------------------
def markov_lp(x, p1, T, log=math.log, transpose=False, first=True, last=True):
    """A student's loop, with switches for each classic mistake."""
    lp = log(p1 if x[0] == 1 else 1 - p1) if first else 0.0
    for i in range(len(x) - 1 if last else len(x) - 2):
        a, b = int(x[i]), int(x[i + 1])
        lp += log(T[b, a] if transpose else T[a, b])
    return lp


MARKOV = (check_markov_log_prob, markov_lp, lambda x, p1, T: math.log(p1), [
    (lambda x, p1, T: markov_lp(x, p1, T, log=math.log2), "bits"),
    (lambda x, p1, T: markov_lp(x, p1, T, transpose=True), "transposed"),
    (lambda x, p1, T: markov_lp(x, p1, T, first=False), "first term"),
    (lambda x, p1, T: markov_lp(x, p1, T, last=False), "last transition"),
    (lambda x, p1, T: -markov_lp(x, p1, T), "sign flipped"),
])


# --- lecture 03: NADE parameters, MADE masks, log-mean-exp ------------------------------------
NADE_PARAMS = (check_nade_params, lambda D, H: 2 * H * D + H + D, lambda D, H: H * D, [
    (lambda D, H: 2 * H * D, "biases are missing"),
    (lambda D, H: H * D + H + D, "V is missing"),
    (lambda D, H: D * (D + 1) // 2, "FVSBN"),
    (lambda D, H: 2 * H * D + D, "only one bias"),
])


def mask_right(m_in, m_out, output):
    above, below = np.asarray(m_out)[:, None], np.asarray(m_in)[None, :]
    return (above > below if output else above >= below).astype(int)


MADE_MASK = (check_made_mask, mask_right, lambda m_in, m_out, o: np.ones((3, 3)), [
    (lambda m_in, m_out, o: (m_out[:, None] >= m_in[None, :]).astype(int), "strict >"),
    (lambda m_in, m_out, o: (m_out[:, None] > m_in[None, :]).astype(int), "drop connections"),
    (lambda m_in, m_out, o: mask_right(m_in, m_out, o).T, "transposed"),
    (lambda m_in, m_out, o: mask_right(m_in, m_out, not o), "mask rules are swapped"),
])


def lme_right(logp):
    top = np.max(logp, axis=0)
    return top + np.log(np.mean(np.exp(logp - top), axis=0))


def naive_log_mean_exp(logp):
    with np.errstate(divide="ignore"):  # exp(-1000) underflows: that is the mistake
        return np.log(np.exp(logp).mean(0))


LOG_MEAN_EXP = (check_log_mean_exp, lme_right, lambda logp: logp[0], [
    (lambda logp: logp.mean(0), "mean of the log-likelihoods"),
    (lambda logp: lme_right(logp) + np.log(len(logp)), "log-SUM-exp"),
    (naive_log_mean_exp, "numerically stable"),
])


# --- lecture 04: mask A, rows above, skew ----------------------------------------------------
def mask_a(k, centre=0):
    m = np.zeros((k, k))
    m[: k // 2] = 1
    m[k // 2, : k // 2] = 1
    m[k // 2, k // 2] = centre
    return m


def skew_right(x):
    H, W = x.shape
    out = np.zeros((H, H + W - 1))
    for i in range(H):
        out[i, i:i + W] = x[i]
    return out


TYPE_A = (check_type_a_mask, mask_a, lambda k: np.ones((k, k)), [
    (lambda k: mask_a(k, centre=1), "mask B"),
    (lambda k: mask_a(k).T, "transposed"),
    (lambda k: mask_a(k)[::-1, ::-1], "upside down"),
])
ROWS_ABOVE = (check_rows_above, lambda L: 3 + L, lambda L: 2 * L + 7, [
    (lambda L: L, "already sees 3 rows"),
    (lambda L: 4 + L, "off by one"),
    (lambda L: 3 + 3 * L, "1 row up each"),
])
SKEW = (check_skew, skew_right, lambda x: np.zeros_like(x), [
    (lambda x: np.stack([np.pad(row, (len(x) - 1 - i, i)) for i, row in enumerate(x)]), "wrong way"),
    (lambda x: skew_right(x.T), "transposed"),
])

CHECKERS = {"full_joint_params": FULL_JOINT, "posterior": POSTERIOR,
            "bernoulli_nll": BERNOULLI, "ar_params": AR_PARAMS,
            "conditional_from_joint": CONDITIONAL, "markov_log_prob": MARKOV,
            "nade_params": NADE_PARAMS, "made_mask": MADE_MASK, "log_mean_exp": LOG_MEAN_EXP,
            "type_a_mask": TYPE_A, "rows_above": ROWS_ABOVE, "skew": SKEW}
MISTAKES = [(name, fn, phrase) for name, (_, _, _, mistakes) in CHECKERS.items()
            for fn, phrase in mistakes]


# checked in their own test files: they build whole models or samplers
ELSEWHERE = {"ar_sampler", "made", "rgb_mask", "gated_layer"}


def test_every_checker_is_covered():
    """Each check_* of lectures 01-04 has its cases here (or in its own file), and each of its
    mistakes is tried."""
    modules = (ex_probability, ex_autoregressive, ex_made, ex_pixel)
    names = {n[len("check_"):] for m in modules for n in dir(m)
             if n.startswith("check_") and getattr(m, n).__module__ == m.__name__}
    assert names == set(CHECKERS) | ELSEWHERE


@pytest.mark.parametrize("name", CHECKERS)
def test_correct_answer_passes(name):
    check, right, _, _ = CHECKERS[name]
    feedback = check(right)
    assert bool(feedback) is True
    assert repr(feedback).startswith("✓")


@pytest.mark.parametrize("name", CHECKERS)
def test_stub_is_not_implemented(name):
    check = CHECKERS[name][0]
    feedback = check(stub)
    assert not feedback and repr(feedback).startswith("✗")
    assert "not implemented" in repr(feedback)


@pytest.mark.parametrize("name", CHECKERS)
def test_crash_is_reported_with_the_exception(name):
    feedback = CHECKERS[name][0](crash)
    assert not feedback
    assert "ZeroDivisionError" in feedback.message and "boom" in feedback.message


@pytest.mark.parametrize("name, wrong, phrase", MISTAKES,
                         ids=[f"{n}-{p}" for n, _, p in MISTAKES])
def test_each_named_mistake_is_recognised(name, wrong, phrase):
    """A function that makes the mistake gets the message that names that mistake."""
    feedback = CHECKERS[name][0](wrong)
    assert not feedback
    assert phrase in feedback.message, feedback.message


@pytest.mark.parametrize("name, count", [(name, len(c[3])) for name, c in CHECKERS.items()])
def test_the_mistakes_above_are_all_the_checker_knows(name, count, monkeypatch):
    """Every mistake message of the checker is produced by one of our wrong functions."""
    check = CHECKERS[name][0]
    seen = []
    real = check_cases

    def spy(fn, cases, reference, mistakes, success, exact=False):
        seen.append(len(mistakes))
        return real(fn, cases, reference, mistakes, success, exact)

    monkeypatch.setattr(sys.modules[check.__module__], "check_cases", spy)
    check(CHECKERS[name][1])
    assert seen == [count]


@pytest.mark.parametrize("name", CHECKERS)
def test_unknown_wrong_answer_shows_the_expected_value(name):
    check, _, other_wrong, _ = CHECKERS[name]
    feedback = check(other_wrong)
    assert not feedback
    assert "expected" in feedback.message and "you returned" in feedback.message


def test_wrong_shape_is_not_accepted():
    """A posterior of the wrong length is wrong, not a crash inside the checker."""
    feedback = check_posterior(lambda prior, lik: np.append(post_right(prior, lik), 0.0))
    assert not feedback and "expected" in feedback.message
