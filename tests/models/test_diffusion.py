"""DDPM: the forward marginal q(x_t | x_0) against simulating the chain, the schedules, the
posterior q(x_{t-1} | x_t, x_0), the loss at its optimum, the ELBO's terms, samplers' shapes,
determinism with a seed, and clear errors."""
import math

import pytest
import torch

from gm_helpers.checks import InvalidArgument
from gm_helpers.models.diffusion import (
    DDPM,
    DigitDDPM,
    TimeMLP,
    cosine_betas,
    ddpm_2d,
    gaussian_kl,
    linear_betas,
)
from gm_helpers.models.unet import UNet
from tests.helpers import randomised


@pytest.fixture(scope="module")
def model():
    return randomised(ddpm_2d(hidden=(16,), T=50), seed=1, scale=0.3)


def test_schedules():
    b = linear_betas(1000)
    assert b[0].item() == pytest.approx(1e-4) and b[-1].item() == pytest.approx(0.02)
    alpha_bar_T = torch.prod(1 - b).item()
    assert alpha_bar_T < 1e-4                                   # x_T is almost pure noise
    c = cosine_betas(1000)
    assert (c > 0).all() and (c <= 0.999).all() and torch.prod(1 - c).item() < 1e-6


def test_forward_marginal_matches_the_chain(model):
    """x_t by t single steps x_t = sqrt(1 - beta_t) x_{t-1} + sqrt(beta_t) z has the closed-form
    marginal's mean and variance."""
    torch.manual_seed(0)
    x0 = torch.tensor([[1.5, -0.5]]).repeat(200_000, 1)
    x, t = x0.clone(), 30
    for s in range(t):
        beta = model.betas[s]
        x = (1 - beta).sqrt() * x + beta.sqrt() * torch.randn_like(x)
    closed = model.q_sample(x0, torch.full((len(x0),), t), torch.randn_like(x0))
    a_bar = model.alpha_bars[t - 1]
    for sample in (x, closed):
        assert torch.allclose(sample.mean(0), a_bar.sqrt() * x0[0], atol=0.01)
        assert torch.allclose(sample.var(0), (1 - a_bar).expand(2), atol=0.01)


def test_posterior_is_bayes(model):
    """q(x_{t-1} | x_t, x_0) is proportional to q(x_t | x_{t-1}) q(x_{t-1} | x_0): compare the
    closed form with the product of the two Gaussians, on a grid of x_{t-1}."""
    t = torch.tensor([20])
    x0, xt = torch.tensor([[0.7, 0.0]]), torch.tensor([[0.2, 0.0]])
    mu, var = model.posterior(x0, xt, t)
    grid = torch.linspace(-3, 3, 20001, dtype=torch.float64)
    beta, a_prev = model.betas[19].double(), model.alpha_bars[18].double()
    log_w = (-(0.2 - (1 - beta).sqrt() * grid) ** 2 / (2 * beta)          # q(x_t | x_{t-1})
             - (grid - a_prev.sqrt() * 0.7) ** 2 / (2 * (1 - a_prev)))    # q(x_{t-1} | x_0)
    w = torch.softmax(log_w, 0)
    mean = (w * grid).sum()
    assert mean.item() == pytest.approx(mu[0, 0].item(), abs=1e-4)
    assert (w * (grid - mean) ** 2).sum().item() == pytest.approx(var.item(), rel=1e-3)


def test_loss_is_minimised_by_the_true_noise(model):
    """A predictor that returns the noise itself gives L_simple = 0; any other prediction more."""
    x0 = torch.randn(64, 2)
    t = torch.randint(1, 51, (64,))
    eps = torch.randn_like(x0)
    xt = model.q_sample(x0, t, eps)
    a_bar = model.alpha_bars[t - 1][:, None]
    recovered = (xt - a_bar.sqrt() * x0) / (1 - a_bar).sqrt()   # the noise, from x_t and x_0
    assert torch.allclose(recovered, eps, atol=1e-4)


def test_gaussian_kl():
    assert gaussian_kl(torch.tensor(0.), torch.tensor(1.), torch.tensor(0.), torch.tensor(1.)).item() == 0
    kl = gaussian_kl(torch.tensor(1.), torch.tensor(2.), torch.tensor(0.), torch.tensor(1.)).item()
    assert kl == pytest.approx(0.5 * (-math.log(2) + 2 + 1 - 1))


def test_elbo_is_above_the_data_entropy_for_a_trained_model():
    """On one Gaussian, 1,500 steps of training: -ELBO >= the entropy, within a couple of nats."""
    torch.manual_seed(0)
    model = DDPM(TimeMLP(2, (64, 64)), (2,), T=100)
    data = 0.5 * torch.randn(4096, 2) + 1.0
    opt = torch.optim.Adam(model.parameters(), 3e-3)
    for _ in range(1500):
        loss = model.training_loss(data[torch.randint(4096, (256,))]).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    terms = model.elbo_terms(data[:1000])
    entropy = 2 * (0.5 * math.log(2 * math.pi * math.e * 0.25))
    assert terms["kl"].shape == (99, 1000) and terms["total"].shape == (1000,)
    assert entropy < terms["total"].mean().item() < entropy + 3
    assert (terms["kl"] >= 0).all()


def test_samplers_shapes_and_seeds(model):
    a = model.sample(7, generator=torch.Generator().manual_seed(0))
    b = model.sample(7, generator=torch.Generator().manual_seed(0))
    assert a.shape == (7, 2) and torch.equal(a, b)
    c, path = model.sample(5, steps=10, generator=torch.Generator().manual_seed(1), trajectory=True)
    assert c.shape == (5, 2) and len(path) == 11
    d = model.sample(5, steps=10, generator=torch.Generator().manual_seed(1))
    assert torch.equal(c, d)                    # DDIM: deterministic given x_T


def test_ddim_with_eta_one_on_every_step_is_the_ancestral_sampler(model):
    # sigma^2 at eta = 1 and stride 1 is beta_tilde_t, and the mean is mu_theta rewritten through
    # x0_hat: the same noise draws in the same order give the same samples, up to round-off
    ancestral = model.sample(50, generator=torch.Generator().manual_seed(3))
    strided = model.sample(50, steps=model.T, eta=1.0, generator=torch.Generator().manual_seed(3))
    torch.testing.assert_close(strided, ancestral, rtol=1e-4, atol=1e-4)
    # with a stride, eta > 0 draws fresh noise: same x_T and seed, different samples from eta = 0
    a = model.sample(50, steps=5, eta=1.0, generator=torch.Generator().manual_seed(3))
    b = model.sample(50, steps=5, eta=1.0, generator=torch.Generator().manual_seed(3))
    c = model.sample(50, steps=5, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a, b) and not torch.allclose(a, c)


def test_digit_ddpm_shapes():
    model = randomised(DigitDDPM(widths=(8, 16), T=20), scale=0.05)
    x = (torch.rand(3, 784) < 0.3).float()
    assert model.training_loss(x).shape == (3,)
    s = model.sample(2, steps=4, generator=torch.Generator().manual_seed(0))
    assert s.shape == (2, 1, 28, 28) and ((s == 0) | (s == 1)).all()


def test_errors():
    with pytest.raises(InvalidArgument, match="binary"):
        DigitDDPM(widths=(8, 16), T=5).training_loss(torch.full((2, 784), 0.5))
    with pytest.raises(InvalidArgument, match="continuous"):
        DigitDDPM(widths=(8, 16), T=5).elbo_terms(torch.zeros(2, 784))
    with pytest.raises(ValueError, match="schedule"):
        ddpm_2d(schedule="quadratic")
    with pytest.raises(ValueError, match="steps"):
        ddpm_2d(T=10).sample(2, steps=11)
    with pytest.raises(InvalidArgument, match="eta must be in"):
        ddpm_2d(T=10).sample(2, steps=5, eta=1.5)
    with pytest.raises(InvalidArgument, match="give steps"):
        ddpm_2d(T=10).sample(2, eta=0.5)
    with pytest.raises(InvalidArgument, match="28, 28"):
        UNet()(torch.zeros(2, 1, 14, 14), torch.zeros(2))
    with pytest.raises(InvalidArgument, match="needs t"):
        UNet()(torch.zeros(2, 1, 28, 28))
