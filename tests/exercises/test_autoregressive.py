"""Lecture 02's checkers: the AR sampler's (right samplers pass, each mistake named), the Markov chain's.

The right answer, a stub, a crash and each named mistake of every lecture 01-04 checker built on
``check_cases`` are tried in test_core.py.
"""
import itertools

import numpy as np
import pytest

from gm_helpers.exercises import autoregressive
from gm_helpers.exercises import autoregressive as ax
from gm_helpers.exercises.autoregressive import (
    MISTAKES,
    TV_TOLERANCE,
    RecordingConditional,
    TableAR,
    _cases,
    _frequencies,
    _Misuse,
    _tv_from_independence,
    check_ar_sampler,
    reference_ar_sample,
)
from gm_helpers.models.tabular import all_binary_states


# ----------------------------------------------------------------------------- the test model
@pytest.mark.parametrize("D", [1, 2, 3, 5])
def test_table_ar_joint_is_a_distribution_and_matches_the_chain_rule(D):
    model = TableAR(D, seed=D)
    joint = model.joint()
    assert joint.shape == (2**D,) and joint.sum() == pytest.approx(1.0, abs=1e-12)
    for s, state in enumerate(itertools.product([0, 1], repeat=D)):  # x_0 most significant
        p = 1.0
        for d in range(D):
            theta = model.p(np.array([state[:d]]).reshape(1, d))[0]
            p *= theta if state[d] else 1 - theta
        assert joint[s] == pytest.approx(p, abs=1e-15)
    assert np.allclose(model.marginals(), joint @ all_binary_states(D))


def test_reference_sampler_has_the_exact_distribution():
    """100,000 reference samples of the checker's D = 3 model: TV from the exact joint < 0.01."""
    model, u = _cases()[-1]
    x = reference_ar_sample(model.p, u)
    assert x.shape == u.shape and set(np.unique(x).tolist()) <= {0, 1}
    tv = 0.5 * np.abs(_frequencies(x) - model.joint()).sum()
    assert tv < TV_TOLERANCE / 2


def test_checker_model_is_far_from_independent_and_every_mistake_is_far_from_exact():
    """So that a mistake can never slip through the distribution check by luck."""
    model, u = _cases()[-1]
    assert _tv_from_independence(reference_ar_sample(model.p, u)) > 5 * TV_TOLERANCE
    for variants in MISTAKES.values():
        for variant in variants:
            tv = 0.5 * np.abs(_frequencies(variant(model, u)) - model.joint()).sum()
            assert tv > 3 * TV_TOLERANCE


def test_recording_conditional_refuses_poisoned_prefixes():
    conditional = RecordingConditional(TableAR(3, seed=0))
    assert conditional(np.zeros((4, 0))).shape == (4,)
    assert conditional(np.array([[0, 1], [1, 1]])).shape == (2,)
    assert [d for d, _ in conditional.calls] == [0, 2]
    with pytest.raises(_Misuse, match="3 columns.*x\\[:, :d\\]"):
        conditional(np.zeros((4, 3)))  # the whole x: x_2 itself is in it
    with pytest.raises(_Misuse, match="0.7"):
        conditional(np.array([[0.7]]))
    with pytest.raises(_Misuse, match="2-D"):
        conditional(np.zeros(4))


# ----------------------------------------------------------------------------- right answers
def solution(conditional, u):
    """The lecture's solution."""
    B, D = u.shape
    x = np.zeros((B, D), dtype=np.uint8)
    for d in range(D):
        p = conditional(x[:, :d])
        x[:, d] = u[:, d] < p
    return x


def one_row_at_a_time(conditional, u):
    """Also right: a loop over samples, each a batch of one; a float array."""
    x = np.zeros(u.shape)
    for b in range(len(u)):
        for d in range(u.shape[1]):
            x[b, d] = float(u[b, d] < conditional(x[b:b + 1, :d])[0])
    return x


def complement_convention(conditional, u):
    """x_d = 1 when u > 1 - p: the same distribution, accepted with a note."""
    x = np.zeros(u.shape, dtype=bool)
    for d in range(u.shape[1]):
        x[:, d] = u[:, d] > 1 - conditional(x[:, :d].astype(int))
    return x


def test_right_samplers_pass():
    verdict = check_ar_sampler(solution)
    assert verdict and "TV = 0.00" in repr(verdict)


def test_a_per_sample_loop_also_passes(monkeypatch):
    """Batches of one are fine too (fewer samples here: a Python loop over 100,000 is slow)."""
    monkeypatch.setattr(ax, "NUM_SAMPLES", 2_000)
    assert check_ar_sampler(one_row_at_a_time)


def test_complement_convention_passes_with_a_note():
    verdict = check_ar_sampler(complement_convention)
    assert verdict and "u > 1 - p" in repr(verdict)


# ----------------------------------------------------------------------------- named mistakes
def stub(conditional, u):
    raise NotImplementedError


def crash(conditional, u):
    return u[:, 99]


def zeros_prefix(conditional, u):
    B, D = u.shape
    return np.stack([u[:, d] < conditional(np.zeros((B, d))) for d in range(D)], 1).astype(int)


def exact_marginals(conditional, u):
    """p(x_d = 1) = sum over prefixes c of p(c) p(x_d = 1 | c): exact, but independent draws."""
    B, D = u.shape
    m = []
    for d in range(D):
        states = all_binary_states(d) if d else np.zeros((1, 0), np.uint8)
        p_prefix = np.ones(len(states))
        for j in range(d):
            theta = conditional(states[:, :j])
            p_prefix *= np.where(states[:, j] == 1, theta, 1 - theta)
        m.append(p_prefix @ conditional(states))
    return (u < np.array(m)).astype(int)


def prefix_too_long(conditional, u):
    B, D = u.shape
    x = np.zeros((B, D))
    for d in range(D):
        x[:, d] = u[:, d] < conditional(x[:, :d + 1])
    return x


def whole_x(conditional, u):
    x = np.zeros(u.shape)
    for d in range(u.shape[1]):
        x[:, d] = u[:, d] < conditional(x)
    return x


def prefix_too_short(conditional, u):
    B, D = u.shape
    x = np.zeros((B, D))
    for d in range(D):
        x[:, d] = u[:, d] < conditional(x[:, :max(d - 1, 0)])
    return x


def one_minus_p(conditional, u):
    x = np.zeros(u.shape)
    for d in range(u.shape[1]):
        x[:, d] = u[:, d] < 1 - conditional(x[:, :d])
    return x


def u_greater_than_p(conditional, u):
    x = np.zeros(u.shape)
    for d in range(u.shape[1]):
        x[:, d] = u[:, d] > conditional(x[:, :d])
    return x


def returns_probabilities(conditional, u):
    x, probs = np.zeros(u.shape), np.zeros(u.shape)
    for d in range(u.shape[1]):
        probs[:, d] = conditional(x[:, :d])
        x[:, d] = u[:, d] < probs[:, d]
    return probs


def stores_probabilities(conditional, u):
    x = np.zeros(u.shape)
    for d in range(u.shape[1]):
        x[:, d] = conditional(x[:, :d])
    return x


def skips_x0(conditional, u):
    x = np.zeros(u.shape)
    for d in range(1, u.shape[1]):
        x[:, d] = u[:, d] < conditional(x[:, :d])
    return x


def ignores_u(conditional, u):
    rng = np.random.default_rng(123)
    x = np.zeros(u.shape)
    for d in range(u.shape[1]):
        x[:, d] = rng.random(len(u)) < conditional(x[:, :d])
    return x


def ignores_the_conditional(conditional, u):
    x = np.zeros(u.shape)
    for d in range(u.shape[1]):
        conditional(x[:, :d])  # asked, then not used
        x[:, d] = u[:, d] < 0.5
    return x


def two_arrays(conditional, u):
    """Draws into one array, conditions on another that is never filled in."""
    x, blank = np.zeros(u.shape), np.ones(u.shape)
    for d in range(u.shape[1]):
        x[:, d] = u[:, d] < conditional(blank[:, :d])
    return x


@pytest.mark.parametrize("fn, words", [
    (stub, "not implemented"),
    (crash, "raised IndexError"),
    (zeros_prefix, "as if the earlier values were all 0"),
    (exact_marginals, "from its marginal"),
    (prefix_too_long, "off by one, or a look ahead"),
    (whole_x, "off by one, or a look ahead"),
    (prefix_too_short, "off by one: x[:, :d - 1]"),
    (one_minus_p, "probability of 0 used for 1"),
    (u_greater_than_p, "probability of 0 used for 1"),
    (returns_probabilities, "probabilities, not samples"),
    (stores_probabilities, "not probabilities"),
    (lambda c, u: solution(c, u).T, "transposed"),
    (lambda c, u: solution(c, u).ravel(), "wrong shape"),
    (lambda c, u: solution(c, u)[:, 1:], "wrong shape"),
    (skips_x0, "x_0 is never drawn"),
    (ignores_u, "right distribution"),
    (ignores_the_conditional, "independent of each other"),
    (two_arrays, "differs from the x[:, :1] you return"),
], ids=lambda v: getattr(v, "__name__", None) if callable(v) else None)
def test_each_mistake_is_named(fn, words):
    verdict = check_ar_sampler(fn)
    assert not verdict
    assert words in repr(verdict), repr(verdict)


# ----------------------------------------------------------------------------- the Markov log-probability
def test_edge_cases_catch_off_by_one_sequences():
    """A Markov log-probability that assumes at least two steps fails on a 1-step sequence."""
    def two_steps(x, p1, T):
        out = np.log(p1 if x[0] else 1 - p1) + np.log(T[x[0], x[1]])
        return out + sum(np.log(T[a, b]) for a, b in zip(x[1:-1], x[2:]))
    assert not autoregressive.check_markov_log_prob(two_steps)
