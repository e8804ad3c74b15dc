"""The 2-d benchmark mixtures: the optimal discriminator and JSD on a grid, and the mode-coverage protocol."""
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


def test_mode_coverage_on_hand_made_points():
    means, std = ring_means(), 0.01
    assert (torch.allclose(means.norm(dim=1), torch.ones(8))
            and len(torch.unique(means.round(decimals=6), dim=0)) == 8)
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


def test_nan_inputs_are_named_not_propagated():
    from gm_helpers.analysis.mixtures import js_divergence, mode_coverage, optimal_discriminator, ring_means
    nan = torch.tensor([float("nan"), 1.0])
    for call, name in ((lambda: optimal_discriminator(nan, torch.ones(2)), "p_data"),
                       (lambda: js_divergence(torch.ones(2), nan, 0.1), "q"),
                       (lambda: mode_coverage(torch.full((3, 2), float("nan")), ring_means(), 0.05),
                        "samples")):
        with pytest.raises(ValueError, match=f"{name} holds"):
            call()
