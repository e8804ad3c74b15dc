r"""Lecture 01's exercises: parameter counts, Bayes' rule, the Bernoulli NLL.
"""
from __future__ import annotations

import math

import numpy as np

from gm_helpers.exercises.core import Feedback, check_cases


# ----------------------------------------------------------------------------- lecture 01
def check_full_joint_params(fn) -> Feedback:
    """fn(n, m): free parameters of a full joint table over n variables with m values."""
    cases = [(1, 2), (3, 2), (10, 2), (2, 3), (4, 5), (1, 256 ** 3), (784, 2)]
    return check_cases(fn, cases, lambda n, m: m**n - 1, {
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
    return check_cases(fn, cases, bayes, {
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
    return check_cases(fn, cases, nll, {
        "that is in bits (log base 2); this course measures NLL in nats (natural log)":
            lambda x, t: nll(x, t) / math.log(2),
        "sign flipped: that is the log-likelihood; the NLL is its negative":
            lambda x, t: -nll(x, t),
        "averaged over pixels: the NLL of an image sums over its pixels":
            lambda x, t: nll(x, t) / len(x),
        "x and 1 - x swapped: a pixel that is 1 contributes log theta":
            lambda x, t: nll(1 - x, t),
    }, "NLL = -sum_i [x_i log theta_i + (1 - x_i) log(1 - theta_i)], in nats")
