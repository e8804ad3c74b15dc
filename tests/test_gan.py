"""gm_helpers.gan: the theory on a grid, the losses' gradients, Algorithm 1's step counts, the
mode-coverage protocol, the Frechet distance, and a tiny GAN that learns a 1-d Gaussian."""
import math

import pytest
import torch

from gm_helpers.analysis.mixtures import (
    grid_means,
    js_divergence,
    mode_coverage,
    mode_shares,
    optimal_discriminator,
    ring_means,
    sample_mixture,
    value_at_optimum,
)
from gm_helpers.analysis.sample_quality import feature_statistics, frechet_distance
from gm_helpers.models.gan import discriminator_loss, generator_loss, mlp_discriminator, mlp_generator
from gm_helpers.training.gan import train_gan

X = torch.linspace(-12, 12, 240001, dtype=torch.float64)
DX = (X[1] - X[0]).item()


def normal(mu, sigma):
    return torch.exp(-0.5 * ((X - mu) / sigma) ** 2) / (sigma * math.sqrt(2 * math.pi))


def entropy(p):
    return -torch.where(p > 0, p * torch.log(p.clamp_min(1e-300)), 0.0).sum() * DX


@pytest.mark.parametrize("mu, sigma", [(0.0, 1.0), (1.0, 1.0), (3.0, 0.5), (0.5, 2.0)])
def test_value_at_the_optimal_discriminator_is_2_jsd_minus_2_log_2(mu, sigma):
    p_data, p_g = normal(0.0, 1.0), normal(mu, sigma)
    v = value_at_optimum(p_data, p_g, DX)
    jsd = js_divergence(p_data, p_g, DX)
    jsd_by_entropies = entropy((p_data + p_g) / 2) - (entropy(p_data) + entropy(p_g)) / 2
    assert abs(jsd - jsd_by_entropies) < 1e-4  # an independent computation of the same JSD
    assert abs(v - (2 * jsd - 2 * math.log(2))) < 1e-4
    assert 0 <= jsd <= math.log(2)


def test_jsd_saturates_at_log_2_for_disjoint_supports():
    """Two boxes that do not overlap: JSD = log 2 however far apart, so V(D*, G) = 0 and its
    gradient with respect to the distance between them is zero: nothing for G to follow."""
    for gap in (0.5, 3.0):
        p = ((X > -2) & (X < -1)).double()
        q = ((X > -1 + gap) & (X < gap)).double()
        assert abs(js_divergence(p, q, DX) - math.log(2)) < 1e-3
        assert abs(value_at_optimum(p, q, DX)) < 2e-3
    d = optimal_discriminator(p, q)
    assert torch.all(d[p > 0] == 1) and torch.all(d[q > 0] == 0) and torch.all(d[(p + q) == 0] == 0.5)


def test_generator_losses_and_their_gradients():
    """minimax: d/dl E[log(1 - sigmoid(l))] = -sigmoid(l) -> 0 as D(G(z)) -> 0 (saturates);
    non-saturating: d/dl -E[log sigmoid(l)] = -(1 - sigmoid(l)) -> -1 there."""
    logits = torch.tensor([-8.0, -2.0, 0.0, 3.0], dtype=torch.float64, requires_grad=True)
    d = torch.sigmoid(logits.detach())
    for kind, value, grad in (("minimax", torch.log(1 - d), -d),
                              ("non-saturating", -torch.log(d), -(1 - d))):
        per_example = [generator_loss(l[None], kind) for l in logits]
        torch.testing.assert_close(torch.stack(per_example).detach(), value)
        (g,) = torch.autograd.grad(generator_loss(logits, kind), logits)
        torch.testing.assert_close(g, grad / len(logits))
    (g_mm,) = torch.autograd.grad(generator_loss(logits[:1], "minimax"), logits)
    (g_ns,) = torch.autograd.grad(generator_loss(logits[:1], "non-saturating"), logits)
    assert abs(g_mm[0]) < 1e-3 < 0.99 < abs(g_ns[0])  # D confident the sample is fake
    real, fake = torch.tensor([2.0]), torch.tensor([-1.0])
    expected = -(math.log(torch.sigmoid(real).item()) + math.log(1 - torch.sigmoid(fake).item()))
    assert discriminator_loss(real, fake).item() == pytest.approx(expected)


@pytest.mark.parametrize("k", [1, 3])
def test_algorithm_1_takes_k_discriminator_steps_per_generator_step(k, monkeypatch):
    steps = []
    real_step = torch.optim.Adam.step

    def counting_step(self, *args, **kwargs):
        steps.append("D" if self.param_groups[0]["params"][0] is first_d_param else "G")
        return real_step(self, *args, **kwargs)

    monkeypatch.setattr(torch.optim.Adam, "step", counting_step)
    G, D = mlp_generator(hidden=8, depth=1), mlp_discriminator(hidden=8, depth=1)
    first_d_param = next(D.parameters())
    data = torch.randn(100, 2)
    history = train_gan(G, D, data, num_steps=4, k=k, batch_size=16, progress=False)
    assert steps == (["D"] * k + ["G"]) * 4
    assert {len(v) for v in history.values()} == {4}


def test_mode_coverage_on_hand_made_points():
    means, std = ring_means(), 0.01
    assert torch.allclose(means.norm(dim=1), torch.ones(8)) and len(torch.unique(means.round(decimals=6), dim=0)) == 8
    everywhere = means.repeat(10, 1) + 0.5 * std
    one_mode = means[3].repeat(50, 1)
    off_mode = torch.zeros(20, 2)  # the centre of the ring: far from every mean
    assert mode_coverage(everywhere, means, std) | {"captured": None} == \
        {"modes": 8, "num_modes": 8, "high_quality": 1.0, "captured": None}
    result = mode_coverage(one_mode, means, std)
    assert result["modes"] == 1 and result["captured"][3] and result["high_quality"] == 1.0
    result = mode_coverage(torch.cat([one_mode, off_mode]), means, std)
    assert result["modes"] == 1 and result["high_quality"] == pytest.approx(50 / 70)
    assert mode_coverage(off_mode, means, std)["modes"] == 0
    # just inside vs just outside 3 standard deviations
    assert mode_coverage(means[:1] + torch.tensor([[2.99 * std, 0]]), means, std)["modes"] == 1
    assert mode_coverage(means[:1] + torch.tensor([[3.01 * std, 0]]), means, std)["modes"] == 0
    grid = grid_means()
    assert grid.shape == (25, 2) and grid.min() == -4 and grid.max() == 4


def test_mode_shares_count_nearest_means():
    means = ring_means()
    shares = mode_shares(torch.cat([means[2].repeat(3, 1), 5 * means[6:7]]), means)
    assert shares.tolist() == [0, 0, 0.75, 0, 0, 0, 0.25, 0]  # far points count too


def test_sample_mixture_matches_its_protocol():
    """Real samples capture every mode, and their high-quality fraction is the 2-d Gaussian's
    mass within 3 standard deviations: 1 - exp(-9/2) = 98.9 % (not 1-d's 99.7 %), so even
    perfect samples score about 98.9 % on this protocol."""
    for name, modes in (("ring", 8), ("grid", 25)):
        points, means, std = sample_mixture(name, 2500, seed=0)
        result = mode_coverage(points, means, std)
        assert result["modes"] == modes
        assert result["high_quality"] == pytest.approx(1 - math.exp(-4.5), abs=0.006)


def test_frechet_distance_closed_forms():
    assert frechet_distance([1.0], [[4.0]], [3.0], [[1.0]]) == pytest.approx(4 + (2 - 1) ** 2)
    a, b = torch.tensor([1.0, 4.0, 9.0]), torch.tensor([4.0, 1.0, 1.0])
    fd = frechet_distance(torch.zeros(3), torch.diag(a), torch.ones(3), torch.diag(b))
    assert fd == pytest.approx(3 + ((a.sqrt() - b.sqrt()) ** 2).sum().item())
    g = torch.Generator().manual_seed(0)
    f = torch.randn(500, 4, generator=g) @ torch.randn(4, 4, generator=g)
    mu, cov = feature_statistics(f)
    assert frechet_distance(mu, cov, mu, cov) == pytest.approx(0, abs=1e-8)
    rot = torch.linalg.qr(torch.randn(4, 4, generator=g, dtype=torch.float64))[0]
    # rotating both Gaussians the same way changes nothing; a non-commuting pair is handled
    assert frechet_distance(mu, cov, mu + 1, rot @ cov @ rot.T) == pytest.approx(
        frechet_distance(rot.T @ mu, rot.T @ cov @ rot, rot.T @ (mu + 1), cov), rel=1e-8)


def test_a_tiny_gan_learns_a_1d_gaussian():
    torch.manual_seed(0)
    G = mlp_generator(latent=1, hidden=16, depth=2, out=1)
    D = mlp_discriminator(inp=1, hidden=16, depth=2)
    history = train_gan(G, D, lambda n: 3.0 + 0.5 * torch.randn(n, 1), num_steps=1500,
                            batch_size=128, lr_g=2e-3, lr_d=2e-3, latent=1, progress=False, seed=0)
    with torch.no_grad():
        x = G(torch.randn(5000, 1))
    assert abs(x.mean().item() - 3.0) < 0.2 and abs(x.std().item() - 0.5) < 0.2
    assert 0.3 < history["d_real"][-1] < 0.7  # near the equilibrium D = 1/2


class NanAfter(torch.nn.Module):
    def __init__(self, calls):
        super().__init__()
        self.net, self.calls, self.left = mlp_discriminator(hidden=4, depth=1), 0, calls

    def forward(self, x):
        self.calls += 1
        out = self.net(x)
        return out * float("nan") if self.calls > self.left else out


def test_non_finite_loss_names_the_iteration():
    with pytest.raises(FloatingPointError, match="at iteration 2"):
        train_gan(mlp_generator(hidden=4, depth=1), NanAfter(calls=3 * 2 + 1),
                      torch.randn(50, 2), num_steps=5, batch_size=8, progress=False)


@pytest.mark.parametrize("bad", [
    lambda: train_gan(mlp_generator(), mlp_discriminator(), torch.randn(9, 2), 1, k=0),
    lambda: train_gan(mlp_generator(), mlp_discriminator(), torch.randn(9, 2), 0),
    lambda: train_gan(mlp_generator(), mlp_discriminator(), torch.randn(9, 2), 1,
                          loss="wasserstein"),
    lambda: train_gan(mlp_generator(), mlp_discriminator(), torch.randn(9, 2), 1,
                          batch_size=0),
    lambda: generator_loss(torch.zeros(2), "saturating"),
    lambda: sample_mixture("triangle", 10),
    lambda: sample_mixture("ring", 0),
    lambda: mode_coverage(torch.zeros(5, 3), ring_means(), 0.01),
    lambda: mode_coverage(torch.zeros(0, 2), ring_means(), 0.01),
])
def test_bad_inputs_get_clear_errors(bad):
    with pytest.raises(ValueError):
        bad()
