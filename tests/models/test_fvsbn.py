"""FVSBN: autoregressive by construction, exactly normalised, sampled correctly, strict about its inputs."""
import numpy as np
import pytest
import torch

from gm_helpers.models.fvsbn import FVSBN
from gm_helpers.models.tabular import all_binary_states

D = 10
ORDERS = {"raster": None}
ORDERS.update({f"random{s}": np.random.default_rng(s).permutation(D).tolist() for s in range(3)})


def random_fvsbn(D, order=None, seed=0, scale=1.0, dtype=torch.float32):
    """An FVSBN with random (non-zero) weights and biases."""
    torch.manual_seed(seed)
    model = FVSBN(D, order=order).to(dtype)
    torch.nn.init.normal_(model.W, std=scale)
    torch.nn.init.normal_(model.b, std=scale)
    return model


@pytest.mark.parametrize("order", ORDERS.values(), ids=ORDERS.keys())
def test_autoregressive_property_by_gradients(order):
    """logit d depends on every pixel before d in the ordering and on none at or after it."""
    model = random_fvsbn(D, order)
    position = {pixel: t for t, pixel in enumerate(order or range(D))}  # step of each pixel
    x = torch.bernoulli(torch.full((1, D), 0.5)).requires_grad_()
    logits = model.logits(x)  # (1, D)
    for d in range(D):
        (grad,) = torch.autograd.grad(logits[0, d], x, retain_graph=True)
        for j in range(D):
            if position[j] >= position[d]:
                assert grad[0, j] == 0, f"logit {d} depends on pixel {j}, not before it"
            else:
                assert grad[0, j] != 0, f"logit {d} ignores earlier pixel {j}"


def test_zero_weights_would_hide_a_leak():
    """Why the weights are randomised: at the zero init every gradient is zero anyway."""
    x = torch.ones(1, D, requires_grad=True)
    FVSBN(D).logits(x)[0, -1].backward()
    assert torch.all(x.grad == 0)


@pytest.mark.parametrize("order", ORDERS.values(), ids=ORDERS.keys())
@pytest.mark.parametrize("dtype, tol", [(torch.float64, 1e-12), (torch.float32, 1e-5)])
def test_exact_normalisation(order, dtype, tol):
    """sum over all 2**D binary vectors of p(x) is 1."""
    model = random_fvsbn(D, order, scale=2.0, dtype=dtype)
    states = torch.from_numpy(all_binary_states(D)).to(dtype)  # (2**D, D)
    with torch.no_grad():
        total = model.log_prob(states).double().exp().sum().item()
    assert total == pytest.approx(1.0, abs=tol)


@pytest.mark.parametrize("order", [None, [2, 0, 1], [1, 2, 0]])
def test_sampling_matches_the_model(order):
    """Ancestral samples of a 3-pixel model pass a chi-square test against p(x)."""
    model = random_fvsbn(3, order, seed=1, scale=2.0)
    num = 20_000
    x = model.sample(num, generator=torch.Generator().manual_seed(0))
    assert x.shape == (num, 3) and set(torch.unique(x).tolist()) <= {0.0, 1.0}
    index = (x.long() * torch.tensor([4, 2, 1])).sum(1)  # state number, x_1 most significant
    observed = torch.bincount(index, minlength=8).double()
    with torch.no_grad():
        expected = num * model.log_prob(torch.from_numpy(all_binary_states(3)).float()).double().exp()
    chi2 = ((observed - expected) ** 2 / expected).sum().item()
    assert chi2 < 24.32  # chi-square critical value, 7 degrees of freedom, p = 0.001


def test_sampling_ignoring_the_order_would_be_caught():
    """The chi-square test has power: raster-order samples do not fit a reordered model."""
    model = random_fvsbn(3, [2, 0, 1], seed=1, scale=2.0)
    wrong = random_fvsbn(3, None, seed=1, scale=2.0)  # same weights, raster order
    x = wrong.sample(20_000, generator=torch.Generator().manual_seed(0))
    observed = torch.bincount((x.long() * torch.tensor([4, 2, 1])).sum(1), minlength=8).double()
    with torch.no_grad():
        p = model.log_prob(torch.from_numpy(all_binary_states(3)).float()).double().exp()
    assert ((observed - 20_000 * p) ** 2 / (20_000 * p)).sum().item() > 24.32


@pytest.mark.parametrize("D", [1, 4, 784])
def test_num_params(D):
    """D biases and D(D - 1)/2 weights: D(D + 1)/2, whatever the order."""
    assert FVSBN(D).num_params() == D * (D + 1) // 2
    assert FVSBN(D, order=torch.randperm(D)).num_params() == D * (D + 1) // 2


def test_shapes():
    """log_prob takes (B, 1, 28, 28) or (B, 784) and returns (B,); both agree."""
    model = random_fvsbn(784, scale=0.01)
    x = torch.bernoulli(torch.full((5, 1, 28, 28), 0.3))
    lp = model.log_prob(x)
    assert lp.shape == (5,) and torch.all(lp < 0)
    assert torch.equal(lp, model.log_prob(x.view(5, 784)))
    assert model.logits(x.view(5, 784)).shape == (5, 784)
    # sampling takes D sequential passes, so its shape is checked on a small model
    assert random_fvsbn(16, order=torch.randperm(16)).sample(3).shape == (3, 16)


@pytest.mark.parametrize("x, error, match", [
    (torch.full((2, 4), 0.5), ValueError, "0 or 1"),
    (torch.zeros(2, 5), ValueError, "4 variables.*\\(2, 5\\)"),
    (torch.zeros(2, 1, 3, 3), ValueError, "4 variables"),
    (torch.zeros(4), ValueError, "4 variables"),
    (np.zeros((2, 4)), TypeError, "torch.Tensor.*ndarray"),
    ([[0, 1, 0, 1]], TypeError, "torch.Tensor.*list"),
])
def test_bad_x(x, error, match):
    with pytest.raises(error, match=match):
        FVSBN(4).log_prob(x)


@pytest.mark.parametrize("order", [[0, 1, 1, 3], [0, 1, 2], [0, 1, 2, 3, 4], [0., 1., 2., 3.],
                                   [[0, 1], [2, 3]], [1, 2, 3, 4]])
def test_order_must_be_a_permutation(order):
    with pytest.raises(ValueError, match=r"permutation of range\(4\)"):
        FVSBN(4, order=order)


def test_init_biases_are_logits_of_the_means():
    """init_biases starts from the independent model: sigmoid(b_d) = mean of pixel d."""
    x = torch.tensor([[1., 0., 1., 0.], [1., 0., 0., 0.], [1., 0., 1., 1.], [1., 0., 0., 0.]])
    model = FVSBN(4)
    model.init_biases(x)
    mean = torch.tensor([1., 0., 0.5, 0.25]).clamp(1e-3, 1 - 1e-3)  # clamped: finite logits
    assert torch.allclose(model.b, torch.logit(mean), atol=1e-5)
    assert torch.allclose(torch.sigmoid(model.b[2:]), mean[2:])
