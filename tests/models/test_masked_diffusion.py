"""Masked diffusion: its bound is the average over orderings of the autoregressive NLLs, which is
above the exact NLL of the mixture over orderings (enumerated on 4 pixels); every ordering's
model sums to 1; the stratified estimate is unbiased; samplers and errors."""
import itertools

import pytest
import torch

from gm_helpers.checks import InvalidArgument
from gm_helpers.models.masked_diffusion import MaskedDiffusion
from tests.helpers import randomised

D = 4
XS = torch.tensor(list(itertools.product([0.0, 1.0], repeat=D)), dtype=torch.float64)   # (16, 4)
ORDERS = list(itertools.permutations(range(D)))


@pytest.fixture(scope="module")
def model():
    return randomised(MaskedDiffusion(D=D, hidden=[32]), seed=2, scale=0.5, dtype=torch.float64)


@pytest.fixture(scope="module")
def order_nlls(model):
    return torch.stack([model.order_nll(XS, list(o)) for o in ORDERS])   # (24, 16)


def test_every_ordering_is_a_distribution(order_nlls):
    assert torch.allclose(torch.exp(-order_nlls).sum(1), torch.ones(len(ORDERS), dtype=torch.float64))


def test_bound_is_above_the_exact_nll(model, order_nlls):
    exact = -torch.exp(-order_nlls).mean(0).log()       # the mixture over orders, enumerated
    bound = order_nlls.mean(0)                          # E_sigma[-log p_sigma(x)]
    assert (bound >= exact).all() and (bound - exact).max() > 0.1
    # the sampler's own estimate: unbiased for the bound (stratified draws of m)
    draws = torch.stack([model.nll_bound(XS, num_draws=D, generator=torch.Generator().manual_seed(s))
                         for s in range(4000)])
    assert torch.allclose(draws.mean(0), bound, atol=0.1)
    # with one draw per slice of 1..4 (every m once) the only noise left is the mask's
    assert draws.std(0).max() < bound.max()


def test_training_loss_has_the_bounds_mean(model, order_nlls):
    torch.manual_seed(0)
    losses = torch.stack([model.training_loss(XS) for _ in range(4000)]).mean(0)
    assert torch.allclose(losses, order_nlls.mean(0), atol=0.15)


def test_full_step_sampling_draws_from_the_mixture(model, order_nlls):
    """With D rounds, a sample is exact AR sampling in a uniformly random order: its frequencies
    match the mixture over orders."""
    s = model.sample(40_000, steps=D, generator=torch.Generator().manual_seed(0))
    codes = (s * torch.tensor([8.0, 4.0, 2.0, 1.0], dtype=s.dtype)).sum(1).long()
    freq = torch.bincount(codes, minlength=16).double() / len(codes)
    assert torch.allclose(freq, torch.exp(-order_nlls).mean(0), atol=0.01)


def test_image_model_shapes_and_seeds():
    model = randomised(MaskedDiffusion(widths=(8, 16)), scale=0.05)
    x = (torch.rand(3, 1, 28, 28) < 0.3).float()
    assert model.training_loss(x).shape == (3,) and model.nll_bound(x, 2).shape == (3,)
    a = model.sample(2, steps=8, generator=torch.Generator().manual_seed(0))
    b = model.sample(2, steps=8, generator=torch.Generator().manual_seed(0))
    assert a.shape == (2, 784) and torch.equal(a, b)
    _, path = model.sample(2, steps=8, generator=torch.Generator().manual_seed(0), trajectory=True)
    assert len(path) == 9 and not path[-1][1].any() and path[0][1].all()


def test_errors():
    with pytest.raises(InvalidArgument, match="28x28"):
        MaskedDiffusion(D=10)
    with pytest.raises(ValueError, match="binary"):
        MaskedDiffusion(D=4, hidden=[8]).training_loss(torch.full((2, 4), 0.5))
    with pytest.raises(ValueError, match="steps"):
        MaskedDiffusion(D=4, hidden=[8]).sample(2, steps=5)
    with pytest.raises(ValueError, match="permutation"):
        MaskedDiffusion(D=4, hidden=[8]).order_nll(XS, [0, 0, 1, 2])
