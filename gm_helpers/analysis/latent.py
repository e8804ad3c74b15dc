r"""Looking inside a VAE: exact integrals for small latents, and walks through the latent space.

With a 1-d or 2-d latent z, the integrals the VAE cannot do in general are a sum over a grid:

    p(x) = \int p(z) p(x|z) dz  \approx  \sum_g p(z_g) p(x|z_g) \Delta,
    p(z|x) = p(z) p(x|z) / p(x)

so every line of the ELBO derivation can be evaluated and compared (``elbo_derivation``).
The other functions serve the lecture's figures and widgets: the mean code of each image,
KL per latent dimension (which units are active), interpolation in latent space against
pixel space, and traversals of one latent dimension.
"""
from __future__ import annotations

import copy
import math

import torch
import torch.nn.functional as F

from gm_helpers.models.vae import gaussian_log_prob, kl_diag_gaussians


def latent_grid(latent: int, limit: float = 4.0, num: int = 201, dtype=torch.float64):
    """Points of a regular grid over [-limit, limit]^latent, (G, latent), and a cell's volume."""
    if latent not in (1, 2):
        raise ValueError(f"a grid covers 1 or 2 latent dimensions, got {latent}")
    axis = torch.linspace(-limit, limit, num, dtype=dtype)
    step = (axis[1] - axis[0]).item()
    if latent == 1:
        return axis[:, None], step
    zz = torch.cartesian_prod(axis, axis)  # (num^2, 2), the first coordinate slowest
    return zz, step ** 2


def _float64(model):
    """A float64 copy: quadrature sums thousands of tiny terms (the caller's model is untouched)."""
    return copy.deepcopy(model).double().eval()


@torch.no_grad()
def _log_prior_and_likelihood(model, x, grid):
    """log p(z_g), (G, 1), and log p(x | z_g), (G, B), on the grid."""
    x = model._x(x)  # (B, D)
    log_prior = gaussian_log_prob(grid, torch.zeros_like(grid), torch.zeros_like(grid))  # (G,)
    # log p(x|z) = sum_d [x_d log s(l_d) + (1 - x_d) log(1 - s(l_d))] = x . l - sum_d softplus(l_d)
    # with l = decode(z): one matrix product for every (grid point, image) pair, never a
    # (G, B, D) tensor; the grid is decoded in chunks of 1,024 points
    log_lik = torch.cat([logits @ x.T - F.softplus(logits).sum(-1, keepdim=True)
                         for logits in map(model.decode, grid.split(1024))])  # (G, B)
    return log_prior[:, None], log_lik


@torch.no_grad()
def exact_log_prob(model, x, limit: float = 6.0, num: int | None = None, fitted: bool = False):
    """log p(x) by quadrature, (B,): exact up to the grid's resolution.

    One grid of ``num`` points per dimension (default 401) over [-limit, limit]^L shared by
    every image, or with ``fitted`` fine cells where each image's posterior lives
    (``fitted_grids``, ``num`` coarse cells per dimension, default 161): slower per image,
    and accurate to the fourth decimal where a trained model's posterior is narrower than the
    shared grid's step."""
    model = _float64(model)
    num = num or (161 if fitted else 401)
    if fitted:
        x = model._x(x)
        parts = []
        for image, (grid, cell) in zip(x, fitted_grids(model, x, limit, num)):
            log_prior, log_lik = _log_prior_and_likelihood(model, image[None], grid)
            parts.append(torch.logsumexp(log_prior + log_lik, 0) + math.log(cell))
        return torch.cat(parts)
    grid, cell = latent_grid(model.latent, limit, num)
    log_prior, log_lik = _log_prior_and_likelihood(model, x, grid)
    log_joint = log_prior + log_lik  # (G, B)
    log_px = torch.logsumexp(log_joint, 0) + math.log(cell)
    _check_resolved(log_joint, log_px, model.latent, num, cell, limit)
    return log_px


# a shared grid's estimate must not move by more than this when every other point is dropped
RESOLUTION_TOL = 0.01  # nats


def _check_resolved(log_joint, log_px, L: int, num: int, cell: float, limit: float) -> None:
    """Refuse a shared grid that does not resolve the posteriors: the sum over every other point
    (cells 2^L times larger) must agree with the full sum to ``RESOLUTION_TOL`` nats, and the
    outermost ring of cells must hold a negligible share of the mass. Otherwise the "exact"
    value can be off by tens of nats (a posterior narrower than the step falls between points)."""
    shape = (num,) * L + (log_joint.shape[1],)
    joint = log_joint.reshape(shape)  # (num, [num,] B)
    half = joint[::2] if L == 1 else joint[::2, ::2]
    log_half = torch.logsumexp(half.reshape(-1, shape[-1]), 0) + math.log(cell * 2 ** L)
    gap = (log_half - log_px).abs()
    edge = torch.ones(shape[:-1], dtype=torch.bool)
    edge[(slice(1, -1),) * L] = False
    edge_share = (torch.logsumexp(joint[edge], 0) + math.log(cell) - log_px).exp()
    bad = torch.nonzero((gap > RESOLUTION_TOL) | (edge_share > 1e-6)).flatten().tolist()
    if bad:
        i = bad[0]
        raise ValueError(
            f"the grid ({num} points per dimension over [-{limit}, {limit}]) does not resolve the "
            f"posterior of {len(bad)} image(s), e.g. image {i}: {log_px[i].item():.3f} nats with "
            f"every point, {log_half[i].item():.3f} with every other point, "
            f"{edge_share[i].item():.1e} of the mass on the grid's edge. Use fitted=True (fine "
            f"cells where each posterior lives), or a larger num or limit")


def box_grid(low, high, num: int):
    """A regular grid over the box [low_1, high_1] x ... (1 or 2 dims): points (G, L) and the
    volume of one cell."""
    axes = [torch.linspace(lo, hi, num, dtype=torch.float64) for lo, hi in zip(low, high)]
    cell = math.prod((a[1] - a[0]).item() for a in axes)
    return (axes[0][:, None] if len(axes) == 1 else torch.cartesian_prod(*axes)), cell


@torch.no_grad()
def _coarse_search(model, x, limit: float, coarse: int):
    """log p(x, z) of every image on a shared coarse grid, and q's parameters: float64 model."""
    grid, _ = latent_grid(model.latent, limit, coarse)
    log_prior, log_lik = _log_prior_and_likelihood(model, x, grid)
    mu, logvar = model.encode(x)
    return grid, log_prior + log_lik, mu, (0.5 * logvar).exp()  # (G, L), (G, B), (B, L), (B, L)


@torch.no_grad()
def fitted_grids(model, x, limit: float = 6.0, num: int = 161, drop: float = 40.0,
                 sub: int | None = None) -> list:
    """For each image, quadrature points where its posterior and q have their mass: a list of
    (points (G, L), volume of one fine cell). ``model`` is float64, ``x`` is (B, D).

    A trained VAE's posterior can be much narrower than a global grid's step (sigma ~ 0.02 in
    a 2-d model) and can have several modes far apart, so a single grid either misses the fourth
    decimal or costs millions of points. Instead: cut [-limit, limit]^L into ``num`` cells per
    dimension; keep the cells where log p(x, z) is within ``drop`` nats of the image's best
    (the posterior) or log q(z|x) within ``drop`` of its peak (q), and their neighbours; split
    each kept cell into ``sub`` x ``sub`` fine cells (default: fine enough for a quarter of q's
    smallest standard deviation, at most 16). A midpoint sum over the fine cells is then the
    integral over the kept region, which holds all but e^-drop of the mass.
    """
    x = model._x(x)  # (B, D)
    grid, log_joint, mu, sigma = _coarse_search(model, x, limit, num)
    step = 2 * limit / (num - 1)
    L = model.latent
    out = []
    for b in range(len(x)):
        log_q = gaussian_log_prob(grid, mu[b], 2 * sigma[b].log())  # (G,)
        keep = (log_joint[:, b] > log_joint[:, b].max() - drop) | (log_q > log_q.max() - drop)
        keep = keep.view((1, 1) + (num,) * L).double()
        pool = torch.nn.functional.max_pool1d if L == 1 else torch.nn.functional.max_pool2d
        keep = pool(keep, 3, stride=1, padding=1).flatten().bool()  # and the neighbours
        n_sub = sub or int(min(16, max(1, math.ceil(4 * step / sigma[b].min().item()))))
        offsets = (torch.arange(n_sub, dtype=torch.float64) + 0.5) / n_sub * step - step / 2
        offsets = offsets[:, None] if L == 1 else torch.cartesian_prod(offsets, offsets)
        points = (grid[keep][:, None, :] + offsets[None]).reshape(-1, L)  # (kept * sub^L, L)
        out.append((points, (step / n_sub) ** L))
    return out


@torch.no_grad()
def _fitted_box(model, x, limit: float = 6.0, num: int = 201, coarse: int = 161,
                drop: float = 40.0):
    """A regular ``num``-point grid over the box that holds one image's posterior and q (x is
    (1, D), float64 model): for drawing the two densities."""
    grid, log_joint, mu, sigma = _coarse_search(model, x, limit, coarse)
    keep = grid[log_joint[:, 0] > log_joint[:, 0].max() - drop]  # (K, L)
    pad = 2 * 2 * limit / (coarse - 1)
    low = torch.minimum(keep.min(0).values - pad, mu[0] - 6 * sigma[0])
    high = torch.maximum(keep.max(0).values + pad, mu[0] + 6 * sigma[0])
    return box_grid(low.tolist(), high.tolist(), num)


@torch.no_grad()
def elbo_derivation(model, x, limit: float = 6.0, num: int = 161) -> dict:
    """Each line of the ELBO derivation for each image, by quadrature: name -> (B,) nats.

    (1) log p(x)
    (2)   = E_q[log p(x)]                                  (q integrates to 1; p(x) has no z)
    (3)   = E_q[log p(x, z) / p(z|x)]                      (Bayes' rule)
    (4)   = E_q[log p(x, z) / q] + E_q[log q / p(z|x)]     (multiply by q / q, split the log)
    (5)   = E_q[log p(x|z)] - KL(q || p(z)) + KL(q || p(z|x))   (p(x, z) = p(z) p(x|z))
    and ELBO = the first two terms: log p(x) - ELBO = KL(q || p(z|x)) >= 0.
    Each image gets its own quadrature points (``fitted_grids``, ``num`` coarse cells per
    dimension, refined where the posterior and q live), in float64; ``derivation_lines``
    evaluates the lines on them.
    "q mass on the grid" should be 1: the grid covers q, so the sums are expectations.
    """
    model = _float64(model)
    x = model._x(x)
    rows = [derivation_lines(model, image[None], grid, cell)
            for image, (grid, cell) in zip(x, fitted_grids(model, x, limit, num))]
    return {name: torch.cat([row[name] for row in rows]) for name in rows[0]}


def derivation_lines(model, x, grid, cell) -> dict:
    """The lines of ``elbo_derivation`` for images x (B, D) on the quadrature points grid
    (G, L), each of area ``cell``: row name -> (B,) nats."""
    log_prior, log_lik = _log_prior_and_likelihood(model, x, grid)  # (G, 1), (G, B)
    log_joint = log_prior + log_lik  # log p(x, z_g)
    log_px = torch.logsumexp(log_joint, 0) + math.log(cell)  # (B,)
    log_post = log_joint - log_px  # log p(z_g | x), Bayes' rule
    mu, logvar = model.encode(x)  # (B, L)
    log_q = gaussian_log_prob(grid[:, None, :], mu, logvar)  # (G, B)
    q = log_q.exp() * cell  # quadrature weights: E_q[f] = sum_g q_g f(z_g)
    expected_log_lik = (q * log_lik).sum(0)  # E_q[log p(x|z)]
    kl_prior = kl_diag_gaussians(mu, logvar)  # KL(q || p(z)) in closed form
    kl_post = (q * (log_q - log_post)).sum(0)  # KL(q || p(z|x)) by quadrature
    return {
        "log p(x)": log_px,
        "E_q[log p(x)]": (q * log_px).sum(0),
        "E_q[log p(x,z) / p(z|x)]": (q * (log_joint - log_post)).sum(0),
        "E_q[log p(x,z)/q + log q/p(z|x)]": (q * ((log_joint - log_q) + (log_q - log_post))).sum(0),
        "E_q[log p(x|z)] - KL(q||p(z)) + KL(q||p(z|x))": expected_log_lik - kl_prior + kl_post,
        "ELBO": expected_log_lik - kl_prior,
        "KL(q||p(z|x))": kl_post,
        "q mass on the grid": q.sum(0),
    }


@torch.no_grad()
def posterior_on_grid(model, x, limit: float = 4.0, num: int = 201):
    """The true posterior p(z|x) and the encoder's q(z|x) as densities on the grid, each
    (B, G), with the grid (G, latent): to draw them side by side."""
    model = _float64(model)
    grid, cell = latent_grid(model.latent, limit, num)
    log_prior, log_lik = _log_prior_and_likelihood(model, x, grid)
    log_joint = log_prior + log_lik
    log_post = log_joint - (torch.logsumexp(log_joint, 0) + math.log(cell))
    mu, logvar = model.encode(x)
    log_q = gaussian_log_prob(grid[:, None, :], mu, logvar)
    return log_post.exp().T, log_q.exp().T, grid


@torch.no_grad()
def posterior_on_fitted_grid(model, x, num: int = 201, limit: float = 6.0):
    """For one image x, (1, D): p(z|x) and q(z|x) as densities on a ``num``-point grid over the
    box where they live, each (num, num) for a 2-d latent (rows: z_1), and the two axes: to draw
    them side by side."""
    model = _float64(model)
    x = model._x(x)
    grid, cell = _fitted_box(model, x, limit, num)
    log_prior, log_lik = _log_prior_and_likelihood(model, x, grid)
    log_joint = (log_prior + log_lik)[:, 0]
    post = (log_joint - exact_log_prob(model, x, limit, fitted=True)).exp()  # p(x,z) / p(x)
    mu, logvar = model.encode(x)
    q = gaussian_log_prob(grid, mu, logvar).exp()
    axes = [grid[:, 0].unique(), grid[:, -1].unique()]
    shape = (num,) * model.latent
    return post.view(shape), q.view(shape), axes[:model.latent]


@torch.no_grad()
def encode_mean(model, x, batch_size: int = 1000) -> torch.Tensor:
    """The mean code mu(x) of every image, (N, latent)."""
    model.eval()
    return torch.cat([model.encode(b)[0] for b in x.split(batch_size)])


@torch.no_grad()
def kl_per_dimension(model, x, batch_size: int = 1000) -> torch.Tensor:
    """Average KL(q(z_j|x) || N(0, 1)) of each latent dimension j over ``x``, (latent,).

    A dimension whose KL is near 0 carries no information about x: it is "inactive", the
    encoder outputs the prior there whatever x is (posterior collapse, dimension by dimension).
    """
    model.eval()
    total = 0
    for b in x.split(batch_size):
        mu, logvar = model.encode(b)
        total = total + (-0.5 * (1 + logvar - mu ** 2 - logvar.exp())).sum(0)  # (latent,)
    return total / len(x)


@torch.no_grad()
def interpolate(model, x_a, x_b, steps: int = 9):
    """Decoded means along the straight line between the codes of x_a and x_b, and the pixel
    average of the two images at the same fractions: two (steps, D) tensors."""
    if steps < 2:
        raise ValueError(f"steps must be at least 2, got {steps}")
    t = torch.linspace(0, 1, steps)[:, None]  # (steps, 1)
    mu = encode_mean(model, torch.stack([model._x(x_a[None])[0], model._x(x_b[None])[0]]))
    z = (1 - t) * mu[0] + t * mu[1]  # (steps, latent)
    xa, xb = model._x(x_a[None]), model._x(x_b[None])
    return torch.sigmoid(model.decode(z)), (1 - t) * xa + t * xb


@torch.no_grad()
def traverse(model, x, dims, values) -> torch.Tensor:
    """Decode mu(x) with latent dimension d set to each value: (len(dims), len(values), D)."""
    mu = encode_mean(model, model._x(x[None]))[0]  # (latent,)
    values = torch.as_tensor(values, dtype=mu.dtype)
    rows = []
    for d in dims:
        z = mu.repeat(len(values), 1)  # (V, latent)
        z[:, d] = values
        rows.append(torch.sigmoid(model.decode(z)))
    return torch.stack(rows)
