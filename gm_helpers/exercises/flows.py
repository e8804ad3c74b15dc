r"""Checkers for lecture 07's exercises (normalizing flows). Same contract as
``gm_helpers.exercises.core``: run the student's function on several inputs (batched, negative
scales, masks of both parities), compare with the reference, and when it disagrees name the usual
mistake: the log-determinant's sign, a missing sum, the scale used where its logarithm belongs, a
forgotten mask, an inverse that multiplies where it must divide, or a network fed the whole input.

    change of variables, 1-d:  x = a z + b, z ~ N(0, 1)
        log p(x) = log N((x - b) / a; 0, 1) - log |a|
    affine coupling (mask m: 1 = kept), with log-scale s and shift t computed from m * x:
        z = m * x + (1 - m) * (x * exp(s) + t),   log|det dz/dx| = sum_d (1 - m_d) s_d
        x = m * z + (1 - m) * (z - t) * exp(-s)   (s, t from m * z, which equals m * x)
"""
from __future__ import annotations

import math

import torch

from gm_helpers.exercises.core import Feedback, call_student, judge, verdict

LOG_2PI = math.log(2 * math.pi)


def _normal_log_prob(z):
    return -0.5 * (z ** 2 + LOG_2PI)


# ----------------------------------------------------------------------------- change of variables
def _affine_cases():
    g = torch.Generator().manual_seed(7)
    cases = []
    for shape in [(1,), (5,), (3, 4)]:
        x = torch.randn(*shape, generator=g, dtype=torch.float64) * 2
        a = torch.randn(*shape, generator=g, dtype=torch.float64) * 1.5   # negative scales too
        b = torch.randn(*shape, generator=g, dtype=torch.float64)
        cases.append((x, a, b))
    return cases


def check_affine_log_density(fn) -> Feedback:
    """fn(x, a, b) -> log p(x) elementwise, for x = a z + b with z ~ N(0, 1)."""
    def reference(x, a, b):
        return _normal_log_prob((x - b) / a) - a.abs().log()
    return judge(fn, _affine_cases(), reference, {
        "the Jacobian term is missing: log p(x) = log N(z) - log|a|, with z = (x - b) / a; a map "
        "that stretches by |a| spreads the same probability over |a| times the length":
            lambda x, a, b: _normal_log_prob((x - b) / a),
        "the Jacobian term has the wrong sign: stretching (|a| > 1) must lower the density, so "
        "it is -log|a|, not +log|a|":
            lambda x, a, b: _normal_log_prob((x - b) / a) + a.abs().log(),
        "you evaluated the standard normal at x itself: first map x back to z = (x - b) / a":
            lambda x, a, b: _normal_log_prob(x) - a.abs().log(),
        "z is (x - b) / a, not a x + b: the density of x needs the inverse map, from x to z":
            lambda x, a, b: _normal_log_prob(a * x + b) - a.abs().log(),
        "you used log a^2 (the variance's log) where log|a| (the scale's) belongs":
            lambda x, a, b: _normal_log_prob((x - b) / a) - (a ** 2).log(),
    }, "log p(x) = log N((x - b) / a) - log|a|: the density, corrected by how much the map "
       "stretches", "one log-density per x", probes={
        "the log of a negative a is NaN: the Jacobian term is log|a|, with the absolute value":
            lambda fn: _nan_for_negative_a(fn)})


def _nan_for_negative_a(fn) -> bool:
    x, a, b = torch.tensor([0.5]), torch.tensor([-2.0]), torch.tensor([0.0])
    out, failed = call_student(fn, x.double(), a.double(), b.double())
    return failed is None and isinstance(out, torch.Tensor) and bool(torch.isnan(out).any())


# ----------------------------------------------------------------------------- the coupling layer
def _coupling_cases():
    g = torch.Generator().manual_seed(11)
    cases = []
    for B, D, parity in [(1, 2, 0), (4, 5, 1), (3, 6, 0)]:
        mask = ((torch.arange(D) + parity) % 2).double()                 # 1 = kept unchanged
        log_s = torch.randn(B, D, generator=g, dtype=torch.float64) * 0.7
        cases.append((log_s, mask))
    return cases


def check_coupling_log_det(fn) -> Feedback:
    """fn(log_s, mask) -> log|det dz/dx| of an affine coupling layer, one per row, (B,).
    ``log_s``: (B, D) the log-scales the network computed; ``mask``: (D,) 1 where x passes
    through unchanged."""
    def reference(log_s, mask):
        return (log_s * (1 - mask)).sum(-1)
    return judge(fn, _coupling_cases(), reference, {
        "the sum over dimensions is missing: the Jacobian is triangular, its log-determinant the "
        "sum of the log-scales on its diagonal, one number per example, shape (B,)":
            lambda s, m: s * (1 - m),
        "the sign is flipped: z = x exp(s) + t stretches by exp(s), so log|det| = +sum s":
            lambda s, m: -(s * (1 - m)).sum(-1),
        "you summed the scales exp(s); the log-determinant sums their logarithms, the "
        "log-scales s themselves":
            lambda s, m: (s.exp() * (1 - m)).sum(-1),
        "that is the determinant, prod exp(s) = exp(sum s); the flow needs its logarithm, sum s":
            lambda s, m: (s * (1 - m)).sum(-1).exp(),
        "the mask is missing: the kept dimensions (mask 1) pass through unchanged, their diagonal "
        "entries are 1 and add log 1 = 0; sum s over the transformed dimensions only":
            lambda s, m: s.sum(-1),
        "the mask is the wrong way round: mask 1 marks the kept dimensions; sum over mask 0":
            lambda s, m: (s * m).sum(-1),
    }, "log|det| = sum of the log-scales over the transformed dimensions: O(D), no determinant "
       "computed", "one log-determinant per row of log_s")


class _Net:
    """A fixed stand-in for the coupling network: (log_s, t) for every dimension, computed from
    its input (the layer uses them on the transformed dimensions, mask 0, only)."""

    def __init__(self, mask, seed):
        g = torch.Generator().manual_seed(seed)
        D = len(mask)
        self.mask = mask
        self.W_s = torch.randn(D, D, generator=g, dtype=torch.float64) * 0.4
        self.W_t = torch.randn(D, D, generator=g, dtype=torch.float64) * 0.8

    def __call__(self, x_kept):
        x_kept = torch.as_tensor(x_kept, dtype=torch.float64)
        return torch.tanh(x_kept @ self.W_s), x_kept @ self.W_t   # for every dimension


def _inverse_cases():
    g = torch.Generator().manual_seed(13)
    cases = []
    for B, D, parity in [(1, 2, 1), (4, 5, 0), (3, 6, 1)]:
        mask = ((torch.arange(D) + parity) % 2).double()
        net = _Net(mask, seed=D)
        x = torch.randn(B, D, generator=g, dtype=torch.float64)
        log_s, t = net(x * mask)
        z = mask * x + (1 - mask) * (x * log_s.exp() + t)               # the forward pass
        cases.append((z, mask, net))
    return cases


def check_coupling_inverse(fn) -> Feedback:
    """fn(z, mask, net) -> x: the inverse of z = m * x + (1 - m) * (x * exp(s) + t), where
    (s, t) = net(m * x). ``net`` takes a (B, D) tensor and returns (log_s, t), each (B, D), for
    every dimension: the layer uses them where mask = 0 only."""
    cases = _inverse_cases()
    got = []
    for z, mask, net in cases:
        out, failed = call_student(fn, z.clone(), mask.clone(), net,
                                   where=f"on z of shape {tuple(z.shape)}")
        if failed is not None:
            return failed
        got.append(out)

    def reference(z, mask, net):
        log_s, t = net(z * mask)
        return mask * z + (1 - mask) * (z - t) * (-log_s).exp()

    def unmasked(z, mask, net):
        log_s, t = net(z)
        return mask * z + (1 - mask) * (z - t) * (-log_s).exp()
    return verdict(got, cases, reference, {
        "you multiplied by exp(s): the forward pass multiplied, so the inverse divides, "
        "x = (z - t) * exp(-s)":
            lambda z, m, net: m * z + (1 - m) * (z - net(z * m)[1]) * net(z * m)[0].exp(),
        "the shift comes off first: x = (z - t) * exp(-s), not z * exp(-s) - t (the forward pass "
        "scaled, then shifted; undo the last step first)":
            lambda z, m, net: m * z + (1 - m) * (z * (-net(z * m)[0]).exp() - net(z * m)[1]),
        "the network was given the whole z: it must see only the kept half, z * mask, which equals "
        "x * mask (the forward pass computed s and t from exactly that)":
            unmasked,
        "the kept dimensions changed: where mask = 1, x = z (they passed through unchanged)":
            lambda z, m, net: (z - net(z * m)[1]) * (-net(z * m)[0]).exp(),
    }, "x = m * z + (1 - m) * (z - t) * exp(-s), with s and t from the kept half: exact, one pass",
        wrong_values=lambda i, w: f"wrong values for z of shape {tuple(cases[i][0].shape)}: "
                                  f"expected {w.flatten()[:4].tolist()}...")
