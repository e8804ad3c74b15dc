"""NADE and MADE (with FVSBN alongside): autoregressive, normalised, sampled correctly, fast.

The same claims for every model and ordering: what pytorch-made's self-test checks by
gradients, plus exact normalisation over all 2**D states and a chi-square test of sampling.
"""
import math

import numpy as np
import pytest
import torch
from conftest import randomised

from gm_helpers.models.fvsbn import FVSBN
from gm_helpers.models.made import MADE
from gm_helpers.models.nade import NADE
from gm_helpers.models.tabular import all_binary_states
from gm_helpers.training.runs import train_run

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


def test_nade_fast_forward_equals_the_naive_loop():
    """The running-activation recurrence a_{t+1} = a_t + W[:, t] x_t gives the same logits."""
    for order in ORDERS.values():
        model = randomised(NADE(D, H=16, order=order)).double()
        x = torch.bernoulli(torch.full((5, D), 0.4, dtype=torch.float64))
        torch.testing.assert_close(model.logits(x), model.logits_naive(x))


@pytest.mark.parametrize("D", [1, 2, 3, 10, 17, 50])
def test_nade_streamed_running_sum_for_any_D(D):
    """The streamed running sum (chunks of ceil(sqrt(D)), the last one zero-padded, the sum
    carried across chunks) equals the naive loop whether or not D is a multiple of the chunk
    length, and so do its gradients, which training follows."""
    order = torch.randperm(D, generator=torch.Generator().manual_seed(D)).tolist()
    model = randomised(NADE(D, H=6, order=order)).double()
    x = torch.bernoulli(torch.full((4, D), 0.5, dtype=torch.float64))
    torch.testing.assert_close(model.logits(x), model.logits_naive(x))
    grads = []
    for logits_fn in (model.logits, model.logits_naive):
        model.zero_grad()
        (logits_fn(x) * torch.linspace(-1, 1, D, dtype=x.dtype)).sum().backward()
        grads.append([p.grad.clone() for p in (model.W, model.c, model.V, model.b)])
    for fast, naive in zip(*grads):
        torch.testing.assert_close(fast, naive)


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


@pytest.mark.parametrize("name", BUILDERS)
def test_shapes(name):
    model = BUILDERS[name](None)
    x = torch.bernoulli(torch.full((4, D), 0.5))
    assert model.logits(x).shape == (4, D)
    assert model.log_prob(x).shape == (4,)
    assert model.sample(3).shape == (3, D)


def test_image_shaped_input():
    model = NADE(784, H=8)
    x = torch.bernoulli(torch.full((2, 1, 28, 28), 0.2))
    assert model.log_prob(x).shape == (2,)


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


def test_bad_made_arguments():
    with pytest.raises(ValueError, match="num_masks"):
        MADE(D, num_masks=0)


# ----------------------------------------------------------------------------- RNADE
def test_rnade_is_autoregressive_and_normalised_in_2d():
    """The density integrates to 1 over the plane (grid sum), and log p(x_1) ignores x_2."""
    from gm_helpers.models.rnade import RNADE
    torch.manual_seed(0)
    model = RNADE(2, H=8, K=3).double()
    grid = torch.linspace(-8, 8, 801, dtype=torch.float64)
    xx, yy = torch.meshgrid(grid, grid, indexing="ij")
    with torch.no_grad():
        density = model.log_prob(torch.stack([xx.flatten(), yy.flatten()], 1)).exp()
    step = (grid[1] - grid[0]).item()
    assert density.sum().item() * step**2 == pytest.approx(1.0, abs=2e-3)
    x = torch.randn(3, 2, dtype=torch.float64, requires_grad=True)
    logit_pi, mu, log_sigma = model.mixture(x)
    (grad,) = torch.autograd.grad((logit_pi[:, 0] + mu[:, 0] + log_sigma[:, 0]).sum(), x,
                                  retain_graph=True)
    assert torch.all(grad == 0), "the first conditional must not see any input"
    (grad,) = torch.autograd.grad((mu[:, 1]).sum(), x)
    assert torch.all(grad[:, 1] == 0) and torch.any(grad[:, 0] != 0)


def test_rnade_samples_follow_the_density():
    """Moments of 20,000 samples agree with the moments of the exact density (grid)."""
    from gm_helpers.models.rnade import RNADE
    torch.manual_seed(1)
    model = RNADE(2, H=8, K=3)
    x = model.sample(20_000, generator=torch.Generator().manual_seed(0)).double()
    grid = torch.linspace(-8, 8, 401, dtype=torch.float64)
    xx, yy = torch.meshgrid(grid, grid, indexing="ij")
    points = torch.stack([xx.flatten(), yy.flatten()], 1)
    with torch.no_grad():
        w = model.double().log_prob(points).exp()
    w = w / w.sum()
    torch.testing.assert_close(x.mean(0), (w[:, None] * points).sum(0), atol=0.05, rtol=0)
    torch.testing.assert_close(x.std(0), ((w[:, None] * points**2).sum(0)
                                          - ((w[:, None] * points).sum(0))**2).sqrt(),
                               atol=0.05, rtol=0)


def test_rnade_mixture_beats_a_single_gaussian_on_rings():
    """The lecture's claim, small: on two rings, K = 5 fits far better than K = 1."""
    from gm_helpers.data import two_rings
    from gm_helpers.models.rnade import RNADE
    from gm_helpers.training.loop import evaluate_nll
    train, test = two_rings(3000, seed=0), two_rings(2000, seed=1)
    nll = {}
    for K in (1, 5):
        torch.manual_seed(0)
        model = RNADE(2, H=32, K=K)
        train_run(model, train, num_epochs=40, lr=1e-2, batch_size=100, progress=False)
        nll[K] = evaluate_nll(model, test)
    assert nll[5] < nll[1] - 0.3, nll


def test_nade_completion_keeps_the_given_pixels():
    model = randomised(NADE(D, H=8))
    given = torch.bernoulli(torch.full((4, D), 0.5))
    x = model.sample(4, given=given, num_given=5, generator=torch.Generator().manual_seed(0))
    assert torch.equal(x[:, :5], given[:, :5])
    with pytest.raises(ValueError, match="rows"):
        model.sample(3, given=given, num_given=5)


def test_named_orderings():
    """'raster' is the identity; 'random:SEED' is a fixed permutation, the same every time."""
    from gm_helpers.models.layers import check_order
    assert torch.equal(check_order("raster", 5), torch.arange(5))
    a, b = check_order("random:3", 50), check_order("random:3", 50)
    assert torch.equal(a, b) and not torch.equal(a, torch.arange(50))
    assert torch.equal(a.sort().values, torch.arange(50))
    assert torch.equal(MADE(50, hidden=(8,), order="random:3").base_order, a)
    for bad in ("random", "random:x", "snake"):
        with pytest.raises(ValueError, match="raster"):
            check_order(bad, 5)
