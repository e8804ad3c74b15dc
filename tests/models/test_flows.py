"""Normalizing flows: every layer inverts exactly and its log-determinant is the Jacobian's.

The log-determinant of each layer is compared with ``torch.autograd.functional.jacobian`` on small
inputs in float64; inverse after forward returns the input; MAF's Jacobian is triangular in its
ordering (output d never depends on inputs after d); a composed flow's density integrates to 1.
"""
import math

import pytest
import torch
from torch.autograd.functional import jacobian

from gm_helpers.checks import InvalidArgument
from gm_helpers.models import flows as F
from tests.helpers import randomised

D = 5
LAYERS = {
    "affine": lambda: F.ElementwiseAffine(D),
    "coupling-even": lambda: F.AffineCoupling(D, F.coupling_masks(D, 2)[0], hidden=(16,)),
    "coupling-odd": lambda: F.AffineCoupling(D, F.coupling_masks(D, 2)[1], hidden=(16, 16)),
    "permutation": lambda: F.Permutation([3, 0, 4, 1, 2]),
    "invertible-linear": lambda: F.InvertibleLinear(D, seed=1),
    "maf": lambda: F.MaskedAutoregressive(D, (16, 16), order=[2, 0, 4, 1, 3]),
    "iaf": lambda: F.Inverted(F.MaskedAutoregressive(D, (16,))),
    "realnvp": lambda: F.realnvp(D, 4, (16,)),
    "maf-flow": lambda: F.maf(D, 3, (16,)),
}


def layer(name):
    return randomised(LAYERS[name](), scale=0.3, dtype=torch.float64)


@pytest.mark.parametrize("name", LAYERS)
def test_inverse_undoes_forward_and_the_log_dets_cancel(name):
    f = layer(name)
    x = torch.randn(7, D, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    z, logdet = f(x)
    x_back, logdet_back = f.inverse(z)
    assert z.shape == x.shape and logdet.shape == (7,)
    assert torch.allclose(x_back, x, atol=1e-10)
    assert torch.allclose(logdet + logdet_back, torch.zeros(7, dtype=torch.float64), atol=1e-10)
    assert not torch.allclose(z, x)   # randomised: the layer does something


@pytest.mark.parametrize("name", LAYERS)
def test_log_det_is_the_jacobians(name):
    f = layer(name)
    x = torch.randn(4, D, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    for xi, ld in zip(x, f(x)[1]):
        J = jacobian(lambda v: f(v[None])[0][0], xi)   # (D, D)
        assert ld.item() == pytest.approx(torch.linalg.slogdet(J)[1].item(), abs=1e-9)


@pytest.mark.parametrize("name", ["coupling-even", "maf"])
def test_jacobian_is_triangular(name):
    """Coupling: kept dims pass through (identity rows); MAF: z_d depends on x_<=d only."""
    f = layer(name)
    x = torch.randn(D, dtype=torch.float64)
    J = jacobian(lambda v: f(v[None])[0][0], x)
    if name == "maf":
        order = f.order.tolist()
        position = {d: i for i, d in enumerate(order)}
        for d in range(D):
            for j in range(D):
                if position[j] > position[d]:
                    assert J[d, j] == 0
        assert (J.diagonal() != 0).all()
    else:
        kept = f.mask.bool()
        assert torch.equal(J[kept], torch.eye(D, dtype=torch.float64)[kept])


def test_iaf_samples_in_one_pass_and_maf_in_d():
    """MAF: density in one network pass, sampling in D. IAF (the same layer inverted): the reverse."""
    maf = F.MaskedAutoregressive(D, (8,))
    iaf = F.Inverted(F.MaskedAutoregressive(D, (8,)))
    calls = []
    for m in (maf, iaf.layer):   # count the passes through the network
        def counted(x, inner=m._shift_log_scale):
            calls.append(1)
            return inner(x)
        m._shift_log_scale = counted
    x = torch.randn(3, D)
    for run, expected in ((lambda: maf(x), 1), (lambda: maf.inverse(x), D + 1),
                          (lambda: iaf.inverse(x), 1), (lambda: iaf(x), D + 1)):
        calls.clear()
        run()
        assert len(calls) == expected


def test_a_2d_flow_density_integrates_to_one():
    f = randomised(F.realnvp(2, 4, (16,)), scale=0.3, dtype=torch.float64)
    axis = torch.linspace(-12, 12, 601, dtype=torch.float64)
    grid = torch.cartesian_prod(axis, axis)
    with torch.no_grad():
        mass = f.log_prob(grid).exp().sum() * (axis[1] - axis[0]) ** 2
    assert mass.item() == pytest.approx(1.0, abs=2e-3)


def test_a_flow_starts_as_the_identity_and_samples_have_the_right_shape():
    f = F.realnvp(3, 2)
    x = torch.randn(6, 3)
    z, logdet = f(x)
    assert torch.equal(z, x) and torch.equal(logdet, torch.zeros(6))
    assert torch.allclose(f.log_prob(x).detach(), -0.5 * (x ** 2 + math.log(2 * math.pi)).sum(1))
    s1 = f.sample(4, generator=torch.Generator().manual_seed(0))
    s2 = f.sample(4, generator=torch.Generator().manual_seed(0))
    assert s1.shape == (4, 3) and torch.equal(s1, s2)


def test_training_lowers_the_nll_of_a_2d_gaussian():
    torch.manual_seed(0)
    x = torch.randn(2000, 2) @ torch.tensor([[2.0, 0.0], [1.5, 0.5]]) + 3
    f = F.realnvp(2, 4, (32,))
    opt = torch.optim.Adam(f.parameters(), 1e-2)
    before = f.training_loss(x).mean().item()
    for _ in range(300):
        opt.zero_grad()
        f.training_loss(x).mean().backward()
        opt.step()
    entropy = 0.5 * math.log(torch.det(2 * math.pi * math.e * torch.cov(x.T)).item())
    assert before > entropy + 5
    assert f.training_loss(x).mean().item() == pytest.approx(entropy, abs=0.05)


@pytest.mark.parametrize("make, message", [
    (lambda: F.AffineCoupling(3, [1, 1, 1]), "some dimensions"),
    (lambda: F.AffineCoupling(3, [1, 0]), "zeros and ones"),
    (lambda: F.AffineCoupling(3, [1, 0, 2]), "zeros and ones"),
    (lambda: F.Permutation([0, 0, 1]), "permutation"),
    (lambda: F.Flow([]), "at least one layer"),
    (lambda: F.Flow([F.ElementwiseAffine(2), F.ElementwiseAffine(3)]), "same D"),
    (lambda: F.MaskedAutoregressive(1), "D"),
])
def test_bad_arguments_are_refused(make, message):
    with pytest.raises(InvalidArgument, match=message):
        make()


def test_wrong_input_shape_is_refused():
    f = F.realnvp(2, 2)
    with pytest.raises(InvalidArgument, match=r"\(B, 2\)"):
        f.log_prob(torch.zeros(3, 3))
    with pytest.raises(InvalidArgument, match=r"\(B, 2\)"):
        f.log_prob(torch.zeros(3))


# ----------------------------------------------------------------------------- spline couplings
def test_spline_coupling_inverts_and_its_log_det_is_the_jacobians():
    from gm_helpers.models.spline_flows import SplineCoupling, spline_flow
    for f in (randomised(SplineCoupling(3, [1.0, 0, 0], (16,), bins=8), scale=0.5, dtype=torch.float64),
              randomised(spline_flow(2, 4, (16,), bins=8), scale=0.5, dtype=torch.float64)):
        x = torch.randn(200, f.D, dtype=torch.float64, generator=torch.Generator().manual_seed(0)) * 2
        z, logdet = f(x)                                   # some points fall outside [-B, B]
        x_back, logdet_back = f.inverse(z)
        assert torch.allclose(x_back, x, atol=1e-8) and torch.allclose(logdet, -logdet_back, atol=1e-8)
        assert not torch.allclose(z, x)
        for xi, ld in zip(x[:10], logdet[:10]):
            J = jacobian(lambda v: f(v[None])[0][0], xi)
            assert ld.item() == pytest.approx(torch.linalg.slogdet(J)[1].item(), abs=1e-9)


def test_spline_is_monotone_and_the_identity_outside_its_bound():
    from gm_helpers.models.spline_flows import rational_quadratic_spline
    g = torch.Generator().manual_seed(0)
    x = torch.linspace(-5, 5, 2001, dtype=torch.float64)
    w, h, d = (2 * torch.randn(1, n, generator=g, dtype=torch.float64).expand(len(x), n)
               for n in (8, 8, 7))                         # one spline for every point
    y, log_derivative = rational_quadratic_spline(x, w, h, d, bound=3.0)
    assert (y[1:] > y[:-1]).all()
    outside = x.abs() >= 3
    assert torch.equal(y[outside], x[outside]) and (log_derivative[outside] == 0).all()
    assert y[x.abs() < 3].abs().max() < 3
