"""MADE, with FVSBN and NADE beside it: autoregressive, normalised, sampled correctly; MADE's masks.

The same claims for every model and ordering: what pytorch-made's self-test checks by
gradients, plus exact normalisation over all 2**D states and a chi-square test of sampling.
Then MADE alone: the mask ensemble averages probabilities, masks follow the seed, and mask
numbers are checked.
"""
import math

import numpy as np
import pytest
import torch

from gm_helpers.checks import InvalidArgument
from gm_helpers.models.fvsbn import FVSBN
from gm_helpers.models.made import MADE
from gm_helpers.models.nade import NADE
from gm_helpers.models.tabular import all_binary_states
from tests.helpers import randomised

# ----------------------------------------------------------------------------- FVSBN, NADE and MADE
D = 8
ORDERS = {"natural": None, **{f"random{s}": np.random.default_rng(s).permutation(D).tolist()
                              for s in range(2)}}


BUILDERS = {
    "fvsbn": lambda order: FVSBN(D, order=order),
    "nade": lambda order: NADE(D, H=16, order=order),
    "made-1hl": lambda order: MADE(D, hidden=(32,), order=order),
    "made-2hl-4masks": lambda order: MADE(D, hidden=(32, 32), num_masks=4, order=order, seed=3),
    "made-order-agnostic": lambda order: MADE(D, hidden=(32,), num_masks=3, order=order,
                                              order_agnostic=True, seed=5),
}


def positions(order):
    return {pixel: t for t, pixel in enumerate(order.tolist())}


def model_orders(model):
    """(mask index, ordering) pairs to check: every mask of a MADE, the one order otherwise."""
    if isinstance(model, MADE):
        out = []
        for k in range(model.num_masks):
            model.set_mask(k)
            out.append((k, model.order.clone()))
        return out
    return [(None, model.order)]


@pytest.mark.parametrize("order", ORDERS.values(), ids=ORDERS.keys())
@pytest.mark.parametrize("name", BUILDERS)
def test_autoregressive_property_by_gradients(name, order):
    """Logit d depends on no input at or after d in the ordering (for every MADE mask)."""
    model = randomised(BUILDERS[name](order))
    for k, ordering in model_orders(model):
        if k is not None:
            model.set_mask(k)
        pos = positions(ordering)
        x = torch.bernoulli(torch.full((1, D), 0.5)).requires_grad_()
        logits = model.logits(x)
        for d in range(D):
            (grad,) = torch.autograd.grad(logits[0, d], x, retain_graph=True)
            leaks = [j for j in range(D) if pos[j] >= pos[d] and grad[0, j] != 0]
            assert not leaks, f"{name} mask {k}: logit {d} depends on later inputs {leaks}"


@pytest.mark.parametrize("order", ORDERS.values(), ids=ORDERS.keys())
@pytest.mark.parametrize("name", BUILDERS)
def test_exact_normalisation(name, order):
    """Summed over all 2**D binary vectors, p(x) is 1 (MADE: the ensemble too)."""
    model = randomised(BUILDERS[name](order), scale=1.5).double()
    states = torch.from_numpy(all_binary_states(D)).double()  # (256, D)
    with torch.no_grad():
        assert model.log_prob(states).exp().sum().item() == pytest.approx(1.0, abs=1e-10)


@pytest.mark.parametrize("name", ["nade", "made-1hl", "made-order-agnostic"])
def test_sampling_matches_the_model(name):
    """Sample frequencies of a 3-variable model agree with its exact probabilities."""
    model = randomised({"nade": lambda: NADE(3, H=8, order=[2, 0, 1]),
                        "made-1hl": lambda: MADE(3, hidden=(16,), order=[1, 2, 0]),
                        "made-order-agnostic": lambda: MADE(3, hidden=(16,), num_masks=2,
                                                            order_agnostic=True, seed=1),
                        }[name](), seed=2, scale=1.5)
    num = 20_000
    masks = [0] if isinstance(model, MADE) else [None]
    for k in masks:
        x = model.sample(num, generator=torch.Generator().manual_seed(0), **(
            {"mask": k} if k is not None else {}))
        observed = torch.bincount((x.long() * torch.tensor([4, 2, 1])).sum(1), minlength=8)
        with torch.no_grad():
            states = torch.from_numpy(all_binary_states(3)).float()
            logp = model.log_prob(states, masks=[k]) if k is not None else model.log_prob(states)
        expected = num * logp.double().exp()
        chi2 = ((observed - expected) ** 2 / expected).sum().item()
        assert chi2 < 24.32  # 7 degrees of freedom, p = 0.001


@pytest.mark.parametrize("name", BUILDERS)
def test_shapes(name):
    model = BUILDERS[name](None)
    x = torch.bernoulli(torch.full((4, D), 0.5))
    assert model.logits(x).shape == (4, D)
    assert model.log_prob(x).shape == (4,)
    assert model.sample(3).shape == (3, D)


def test_parameter_counts():
    assert NADE(784, H=500).num_params() == 2 * 500 * 784 + 500 + 784
    assert MADE(784, hidden=(500,)).num_params() == 784 * 500 + 500 + 500 * 784 + 784


@pytest.mark.parametrize("name", ["nade", "made-1hl", "made-2hl-4masks"])
def test_tiny_overfit(name):
    """On 4 fixed vectors the NLL falls towards log 4, the entropy of that data."""
    torch.manual_seed(0)
    model = BUILDERS[name](None)
    x = torch.tensor([[1, 0, 1, 0, 1, 0, 1, 0], [0, 0, 0, 0, 1, 1, 1, 1],
                      [1, 1, 0, 0, 1, 1, 0, 0], [0, 1, 1, 0, 0, 1, 1, 0]], dtype=torch.float32)
    opt = torch.optim.Adam(model.parameters(), lr=0.03)
    model.train()
    for _ in range(300):
        loss = -model.log_prob(x).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        assert -model.log_prob(x, **({"masks": [0]} if isinstance(model, MADE) else {})).mean() \
            < math.log(4) + 0.3


@pytest.mark.parametrize("name", BUILDERS)
def test_bad_inputs(name):
    model = BUILDERS[name](None)
    with pytest.raises(ValueError, match="0 or 1"):
        model.log_prob(torch.full((2, D), 0.5))
    with pytest.raises(ValueError, match=f"expected {D} variables"):
        model.log_prob(torch.zeros(2, D + 1))
    with pytest.raises(TypeError, match="torch.Tensor"):
        model.log_prob(np.zeros((2, D)))


@pytest.mark.parametrize("order", [[0, 0, 1, 2, 3, 4, 5, 6], list(range(7)), [0.0] * 8])
def test_bad_orders(order):
    for build in (lambda: NADE(D, H=4, order=order), lambda: MADE(D, hidden=(8,), order=order)):
        with pytest.raises(ValueError, match="permutation"):
            build()


# ----------------------------------------------------------------------------- MADE's masks
def test_made_ensemble_averages_probabilities_not_logits():
    model = randomised(MADE(D, hidden=(32,), num_masks=4, seed=1), scale=1.5)
    x = torch.bernoulli(torch.full((6, D), 0.5))
    with torch.no_grad():
        per_mask = torch.stack([model.log_prob(x, masks=[k]) for k in range(4)])  # (4, B)
        ensemble = model.log_prob(x)
    torch.testing.assert_close(ensemble, per_mask.exp().mean(0).log())
    assert (ensemble >= per_mask.mean(0) - 1e-6).all()  # Jensen: beats the average log-lik


def test_made_masks_are_reproducible_from_the_seed():
    a, b = MADE(D, hidden=(32,), num_masks=3, seed=7), MADE(D, hidden=(32,), num_masks=3, seed=7)
    for k in range(3):
        oa, ma = a.connectivity(k)
        ob, mb = b.connectivity(k)
        assert torch.equal(oa, ob) and all(torch.equal(p, q) for p, q in zip(ma, mb))
    assert not torch.equal(a.connectivity(0)[1][0], a.connectivity(1)[1][0])


def test_bad_made_arguments():
    with pytest.raises(ValueError, match="num_masks"):
        MADE(D, num_masks=0)


def test_made_mask_numbers_are_checked_not_wrapped():
    model = MADE(4, hidden=[3], num_masks=2)
    for bad in (2, -1, 7):
        with pytest.raises(InvalidArgument, match="mask must be an integer from 0 to 1"):
            model.sample(1, mask=bad)
        with pytest.raises(InvalidArgument, match="mask must be an integer from 0 to 1"):
            model.eval().log_prob(torch.zeros(1, 4), masks=[0, bad])
        with pytest.raises(InvalidArgument, match="mask must be an integer from 0 to 1"):
            model.connectivity(bad)
    with pytest.raises(InvalidArgument, match="at least one mask"):
        model.log_prob(torch.zeros(1, 4), masks=[])
    model.train()
    for _ in range(5):   # training still cycles through the masks, 0, 1, 0, ...
        model.log_prob(torch.zeros(1, 4))
    assert model.mask_index in (0, 1)


@pytest.mark.parametrize("config", [
    {"D": 16, "hidden": []}, {"D": 16, "hidden": [12]}, {"D": 16, "hidden": [12, 10]},
    {"D": 20, "hidden": [30, 30, 30], "num_masks": 3, "order_agnostic": True, "order": "random:3"},
])
def test_incremental_sampling_draws_the_same_samples_as_the_plain_sampler(config):
    """Running sums instead of D full passes: for the same generator, the same images, for
    every mask (weights scaled up so that the conditionals are far from 1/2 and from each other)."""
    torch.manual_seed(0)
    model = MADE(**config)
    for layer in model.layers:
        torch.nn.init.normal_(layer.weight, std=1.0)
    for k in range(model.num_masks):
        plain = model.sample(64, generator=torch.Generator().manual_seed(5), mask=k)
        fast = model.sample_incremental(64, generator=torch.Generator().manual_seed(5), mask=k)
        assert torch.equal(plain, fast) and 0.2 < plain.mean() < 0.8


@pytest.mark.slow
def test_incremental_sampling_is_at_least_100_times_cheaper_for_a_wide_made():
    """1 x 8,000 hidden units, 16 samples, CPU time on one thread: the plain sampler makes 784
    full passes, the incremental one about one (measured 173x here; 100x is the goal)."""
    from gm_helpers.analysis.timing import cpu_time, one_thread
    model = MADE(784, [8000])
    with one_thread():
        plain = cpu_time(lambda: model.sample(16, generator=torch.Generator().manual_seed(0)), 1)
        fast = cpu_time(lambda: model.sample_incremental(16, generator=torch.Generator().manual_seed(0)))
    assert plain / fast >= 100, (plain, fast)
