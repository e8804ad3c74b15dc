"""RNADE: autoregressive and normalised in 2-d, sampled from its density, better with a mixture on rings."""
import pytest
import torch

from gm_helpers.training.runs import train_run


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
