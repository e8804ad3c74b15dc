"""Exercise checkers answer every student with feedback: never a traceback, never a hang
(issue 11, class 6). Each checker runs the student's code through
``gm_helpers.exercises.core.call_student``: a time limit, sys.exit caught, tensors that require grad
detached. And the cases have shapes that expose answers right only for square inputs."""
import itertools
import sys

import numpy as np
import pytest
import torch

from gm_helpers.exercises import autoregressive, core, gan, made, pixel, probability, vae

CHECKERS = sorted(
    [(m.__name__.split(".")[-1], name, getattr(m, name))
     for m in (probability, autoregressive, made, pixel, vae, gan)
     for name in dir(m) if name.startswith("check_") and getattr(m, name).__module__ == m.__name__],
    key=lambda c: c[:2])
IDS = [f"{module}.{name}" for module, name, _ in CHECKERS]


def test_every_lecture_checker_is_covered():
    assert len(CHECKERS) >= 22, IDS


@pytest.mark.parametrize("module, name, check", CHECKERS, ids=IDS)
def test_a_student_who_calls_sys_exit_gets_feedback(module, name, check):
    def student(*args, **kwargs):
        sys.exit(1)
    feedback = check(student)
    assert not feedback and "sys.exit(1)" in feedback.message


@pytest.mark.parametrize("module, name, check", CHECKERS, ids=IDS)
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


def test_a_square_only_answer_is_rejected():
    """K taken from the last axis is right for 1-d and square inputs only."""
    def last_axis_k(logp):
        top = logp.max(0)
        return top + np.log(np.exp(logp - top).sum(0)) - np.log(logp.shape[-1])
    square = np.array([[-3.0, -800.0], [-4.0, -801.0]])      # the only 2-d case there was
    top = square.max(0)
    assert np.allclose(last_axis_k(square), top + np.log(np.exp(square - top).mean(0)))
    assert not made.check_log_mean_exp(last_axis_k)     # the non-square cases catch it


@pytest.mark.parametrize("student, ok", [
    (lambda x: np.array([np.pad(row, (i, len(x) - 1 - i)) for i, row in enumerate(x)]), True),
    (lambda x: np.array([np.pad(row, (i, x.shape[1] - 1 - i)) for i, row in enumerate(x)]), False),
])
def test_skew_needs_non_square_inputs(student, ok):
    """The second answer pads by the number of columns, not of rows: right only when H = W."""
    assert bool(pixel.check_skew(student)) is ok


def test_edge_cases_catch_off_by_one_sequences():
    """A Markov log-probability that assumes at least two steps fails on a 1-step sequence."""
    def two_steps(x, p1, T):
        out = np.log(p1 if x[0] else 1 - p1) + np.log(T[x[0], x[1]])
        return out + sum(np.log(T[a, b]) for a, b in zip(x[1:-1], x[2:]))
    assert not autoregressive.check_markov_log_prob(two_steps)
