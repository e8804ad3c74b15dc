r"""The 2-d benchmark mixtures of the GAN papers, their mode-coverage protocol, and the optimal
discriminator and Jensen-Shannon divergence computed on a grid.

Protocol (VEEGAN, PacGAN): 2,500 generated points; a point is *high quality* when it lies within
3 standard deviations of the nearest mixture mean; a mode is *captured* when it is the nearest
mean of at least one high-quality point. For a fixed G the best discriminator is
D*(x) = p_data(x) / (p_data(x) + p_g(x)), and then V(D*, G) = 2 JSD(p_data || p_g) - 2 log 2.
"""
from __future__ import annotations

import functools
import math
import numbers

import torch

from gm_helpers.checks import check_no_nan


def _count(name, value, low=1) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


# ----------------------------------------------------------------------------- 2-d data
def ring_means(num_modes: int = 8, radius: float = 1.0) -> torch.Tensor:
    """Means at angles 2 pi i / num_modes, i = 0..num_modes-1 (distinct): (num_modes, 2)."""
    angles = 2 * math.pi * torch.arange(num_modes) / num_modes
    return radius * torch.stack([angles.cos(), angles.sin()], 1)


def grid_means(side: int = 5, spacing: float = 2.0) -> torch.Tensor:
    """Means on {-4, -2, 0, 2, 4}^2 for side 5, spacing 2: (side^2, 2)."""
    axis = (torch.arange(side) - (side - 1) / 2) * spacing
    return torch.cartesian_prod(axis, axis)


MIXTURES = {"ring": (ring_means, 0.01), "grid": (grid_means, 0.05)}  # the benchmark's stds


def sample_mixture(name: str, num: int, seed: int | None = None):
    """``num`` points of the benchmark mixture ``name`` ("ring" or "grid"): equal weights.
    Returns (points (num, 2), means (K, 2), std)."""
    if name not in MIXTURES:
        raise ValueError(f"mixture must be one of {sorted(MIXTURES)}, got {name!r}")
    num = _count("num", num)
    make_means, std = MIXTURES[name]
    means = make_means()
    g = torch.Generator().manual_seed(seed) if seed is not None else None
    which = torch.randint(len(means), (num,), generator=g)
    return means[which] + std * torch.randn(num, 2, generator=g), means, std


def mixture_log_prob(x, name: str) -> torch.Tensor:
    """log p(x) of the benchmark mixture ``name`` (equal weights, isotropic std), (N,):
    log (1/K) sum_k N(x; m_k, std^2 I)."""
    if name not in MIXTURES:
        raise ValueError(f"mixture must be one of {sorted(MIXTURES)}, got {name!r}")
    make_means, std = MIXTURES[name]
    means = make_means().to(torch.as_tensor(x).dtype)
    x = check_no_nan("x", torch.as_tensor(x))
    sq = torch.cdist(x, means) ** 2                                    # (N, K)
    log_normal = -sq / (2 * std ** 2) - x.shape[1] * (math.log(std) + 0.5 * math.log(2 * math.pi))
    return torch.logsumexp(log_normal, 1) - math.log(len(means))


@functools.lru_cache(maxsize=16)
def mixture_entropy(name: str, num: int = 1_000_000, seed: int = 0) -> tuple[float, float]:
    """The mixture's differential entropy H = -E[log p(x)] in nats, by Monte Carlo with ``num``
    draws, and its standard error: the floor of any model's expected test NLL on it (float64)."""
    x, _, _ = sample_mixture(name, _count("num", num), seed=seed)
    x = x.double()
    # 100,000 points at a time: the (N, K) distances of a million points would take ~200 MB
    values = torch.cat([-mixture_log_prob(x[i:i + 100_000], name) for i in range(0, len(x), 100_000)])
    return values.mean().item(), (values.std() / math.sqrt(len(values))).item()


def mode_coverage(samples, means, std, num_std: float = 3.0) -> dict:
    """The protocol of VEEGAN / PacGAN: a sample is *high quality* when it lies within
    ``num_std`` standard deviations of its nearest mean; a mode is *captured* when it is the
    nearest mean of at least one high-quality sample. Returns the counts and fractions."""
    samples = check_no_nan("samples", torch.as_tensor(samples, dtype=torch.float32))
    if samples.dim() != 2 or samples.shape[1] != means.shape[1] or len(samples) == 0:
        raise ValueError(f"samples must be (N, {means.shape[1]}) with N >= 1, got "
                         f"{tuple(samples.shape)}")
    distance, nearest = torch.cdist(samples, means.float()).min(1)  # (N,)
    good = distance <= num_std * std
    captured = torch.zeros(len(means), dtype=torch.long).index_add_(
        0, nearest[good], torch.ones(int(good.sum()), dtype=torch.long)) > 0
    return {"modes": int(captured.sum()), "num_modes": len(means),
            "high_quality": good.float().mean().item(), "captured": captured}


def mode_shares(samples, means) -> torch.Tensor:
    """The fraction of samples whose nearest mean is each mode, however far: (K,). Equal shares
    1/K for a generator that covers the mixture; one share near 1 for a collapsed one."""
    samples = check_no_nan("samples", torch.as_tensor(samples, dtype=torch.float32))
    nearest = torch.cdist(samples, means.float()).argmin(1)
    return torch.bincount(nearest, minlength=len(means)).float() / len(nearest)


# ----------------------------------------------------------------------------- theory on a grid
def optimal_discriminator(p_data, p_g):
    """D*(x) = p_data(x) / (p_data(x) + p_g(x)), elementwise on densities (0/0 -> 1/2)."""
    check_no_nan("p_data", p_data), check_no_nan("p_g", p_g)
    total = p_data + p_g
    return torch.where(total > 0, p_data / total.clamp_min(1e-300), torch.full_like(total, 0.5))


def value_at_optimum(p_data, p_g, dx: float):
    """V(D*, G) = E_data[log D*] + E_g[log(1 - D*)], by quadrature on a grid of spacing dx.

    log D* = log p_data - log(p_data + p_g) and log(1 - D*) = log p_g - log(p_data + p_g),
    computed as differences of logs: 1 - D* itself rounds to 0 where p_data >> p_g."""
    check_no_nan("p_data", p_data), check_no_nan("p_g", p_g)
    log_total = torch.log((p_data + p_g).clamp_min(1e-300))
    # 0 log 0 = 0: a density that is zero contributes nothing
    term_data = torch.where(p_data > 0, p_data * (torch.log(p_data.clamp_min(1e-300)) - log_total), 0.0)
    term_g = torch.where(p_g > 0, p_g * (torch.log(p_g.clamp_min(1e-300)) - log_total), 0.0)
    return (term_data.sum() + term_g.sum()) * dx


def js_divergence(p, q, dx: float):
    """JSD(p || q) = 1/2 KL(p || m) + 1/2 KL(q || m), m = (p + q)/2, by quadrature (nats)."""
    check_no_nan("p", p), check_no_nan("q", q)
    m = (p + q) / 2
    kl_pm = torch.where(p > 0, p * torch.log(p.clamp_min(1e-300) / m.clamp_min(1e-300)), 0.0)
    kl_qm = torch.where(q > 0, q * torch.log(q.clamp_min(1e-300) / m.clamp_min(1e-300)), 0.0)
    return 0.5 * (kl_pm.sum() + kl_qm.sum()) * dx
