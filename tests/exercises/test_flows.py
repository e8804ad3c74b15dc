"""Lecture 07's checkers accept right answers and name each usual mistake."""
import math

import numpy as np
import pytest
import torch

from gm_helpers.exercises.flows import (
    check_affine_log_density,
    check_coupling_inverse,
    check_coupling_log_det,
)


def good_density(x, a, b):
    z = (x - b) / a
    return -0.5 * z ** 2 - 0.5 * math.log(2 * math.pi) - torch.log(torch.abs(a))


def not_done(*args):
    raise NotImplementedError


@pytest.mark.parametrize("answer, message", [
    (good_density, None),
    (lambda x, a, b: torch.distributions.Normal(b, a.abs()).log_prob(x), None),   # the same model
    (lambda x, a, b: good_density(x, a, b).float(), None),                        # float32 is fine
    (lambda x, a, b: good_density(x, a, b) + torch.log(a.abs()), "Jacobian term is missing"),
    (lambda x, a, b: good_density(x, a, b) + 2 * torch.log(a.abs()), "wrong sign"),
    (lambda x, a, b: -0.5 * x ** 2 - 0.5 * math.log(2 * math.pi) - a.abs().log(), "at x itself"),
    (lambda x, a, b: -0.5 * (a * x + b) ** 2 - 0.5 * math.log(2 * math.pi) - a.abs().log(), "inverse map"),
    (lambda x, a, b: good_density(x, a, b) - a.abs().log(), "log a^2"),
    (lambda x, a, b: good_density(x, a, b) + a.abs().log() - a.log(), "absolute value"),
    (lambda x, a, b: good_density(x, a, b).sum(), "one log-density per x"),
    (not_done, "not implemented yet"),
])
def test_check_affine_log_density(answer, message):
    feedback = check_affine_log_density(answer)
    assert bool(feedback) is (message is None), feedback
    if message:
        assert message in repr(feedback)


def good_log_det(log_s, mask):
    return ((1 - mask) * log_s).sum(dim=1)


@pytest.mark.parametrize("answer, message", [
    (good_log_det, None),
    (lambda s, m: (s * (1 - m)).sum(-1).numpy(), None),                           # NumPy is fine
    (lambda s, m: s[:, m == 0].sum(1), None),
    (lambda s, m: (1 - m) * s, "sum over dimensions is missing"),
    (lambda s, m: -good_log_det(s, m), "sign is flipped"),
    (lambda s, m: ((1 - m) * s.exp()).sum(1), "summed the scales"),
    (lambda s, m: good_log_det(s, m).exp(), "that is the determinant"),
    (lambda s, m: s.sum(1), "the mask is missing"),
    (lambda s, m: (m * s).sum(1), "wrong way round"),
    (lambda s, m: good_log_det(s, m).sum(), "one log-determinant per row"),
    (not_done, "not implemented yet"),
])
def test_check_coupling_log_det(answer, message):
    feedback = check_coupling_log_det(answer)
    assert bool(feedback) is (message is None), feedback
    if message:
        assert message in repr(feedback)


def good_inverse(z, mask, net):
    log_s, t = net(z * mask)
    return mask * z + (1 - mask) * (z - t) * torch.exp(-log_s)


@pytest.mark.parametrize("answer, message", [
    (good_inverse, None),
    (lambda z, m, net: np.asarray(good_inverse(z, m, net)), None),
    (lambda z, m, net: m * z + (1 - m) * (z - net(z * m)[1]) * net(z * m)[0].exp(), "multiplied by exp(s)"),
    (lambda z, m, net: m * z + (1 - m) * (z * (-net(z * m)[0]).exp() - net(z * m)[1]), "shift comes off"),
    (lambda z, m, net: m * z + (1 - m) * (z - net(z)[1]) * (-net(z)[0]).exp(), "given the whole z"),
    (lambda z, m, net: (z - net(z * m)[1]) * (-net(z * m)[0]).exp(), "kept dimensions changed"),
    (lambda z, m, net: z, "wrong values"),
    (not_done, "not implemented yet"),
])
def test_check_coupling_inverse(answer, message):
    feedback = check_coupling_inverse(answer)
    assert bool(feedback) is (message is None), feedback
    if message:
        assert message in repr(feedback)


def test_the_inverse_checker_inverts_the_package_coupling_layer():
    """The reference is the package's AffineCoupling run backwards (same formula, same masks)."""
    from gm_helpers.models.flows import AffineCoupling
    from tests.helpers import randomised
    layer = randomised(AffineCoupling(4, [1.0, 0, 1.0, 0], (8,)), scale=0.3, dtype=torch.float64)
    x = torch.randn(3, 4, dtype=torch.float64)
    z, _ = layer(x)

    def net(kept):
        raw_s, t = layer.net(kept).chunk(2, dim=1)
        return layer.scale * torch.tanh(raw_s / layer.scale), t
    assert torch.allclose(good_inverse(z, layer.mask, net), x, atol=1e-12)
