r"""Generative adversarial networks: Algorithm 1, both generator losses, and mode coverage.

Paper card: Generative Adversarial Nets
    I. Goodfellow, J. Pouget-Abadie, M. Mirza, B. Xu, D. Warde-Farley, S. Ozair, A. Courville,
    Y. Bengio. NeurIPS 2014. arXiv:1406.2661.
    Idea: an implicit model, a sampler x = G(z), trained against a classifier D that tells data
    from samples. No likelihood: only the game. For a fixed G the best D is
    D*(x) = p_data(x) / (p_data(x) + p_g(x)), and then V(D*, G) = 2 JSD(p_data || p_g) - 2 log 2.

    \min_G \max_D V(D, G) = E_{x \sim p_data}[\log D(x)] + E_{z \sim p(z)}[\log(1 - D(G(z)))]

    Generator losses (D(x) = sigmoid(l(x)), l the discriminator's logit):
      "minimax":        descend  E[log(1 - D(G(z)))] = -E[softplus(l)]   (saturates when D wins)
      "non-saturating": descend -E[log D(G(z))]      =  E[softplus(-l)]  (the paper's fix)
"""
from __future__ import annotations

import math
import numbers

import torch
import torch.nn as nn
import torch.nn.functional as F
from tqdm.auto import tqdm

GENERATOR_LOSSES = ("minimax", "non-saturating")


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


def mode_coverage(samples, means, std, num_std: float = 3.0) -> dict:
    """The protocol of VEEGAN / PacGAN: a sample is *high quality* when it lies within
    ``num_std`` standard deviations of its nearest mean; a mode is *captured* when it is the
    nearest mean of at least one high-quality sample. Returns the counts and fractions."""
    samples = torch.as_tensor(samples, dtype=torch.float32)
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
    nearest = torch.cdist(torch.as_tensor(samples, dtype=torch.float32), means.float()).argmin(1)
    return torch.bincount(nearest, minlength=len(means)).float() / len(nearest)


# ----------------------------------------------------------------------------- networks
def mlp_generator(latent: int = 2, hidden: int = 128, depth: int = 3, out: int = 2):
    """z (B, latent) -> x (B, out): an MLP with ReLU."""
    layers, size = [], latent
    for _ in range(depth):
        layers += [nn.Linear(size, hidden), nn.ReLU()]
        size = hidden
    return nn.Sequential(*layers, nn.Linear(size, out))


def mlp_discriminator(inp: int = 2, hidden: int = 128, depth: int = 3):
    """x (B, inp) -> logit (B, 1): an MLP with LeakyReLU; D(x) = sigmoid(logit)."""
    layers, size = [], inp
    for _ in range(depth):
        layers += [nn.Linear(size, hidden), nn.LeakyReLU(0.2)]
        size = hidden
    return nn.Sequential(*layers, nn.Linear(size, 1))


# ----------------------------------------------------------------------------- the game
def discriminator_loss(real_logits, fake_logits) -> torch.Tensor:
    """-(E[log D(x)] + E[log(1 - D(G(z)))]): D ascends V by descending this."""
    # log D = -softplus(-l),   log(1 - D) = -softplus(l)
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def generator_loss(fake_logits, kind: str = "non-saturating") -> torch.Tensor:
    """"minimax": E[log(1 - D(G(z)))] (G descends V itself); "non-saturating": -E[log D(G(z))]."""
    if kind == "minimax":
        return -F.softplus(fake_logits).mean()  # = E[log(1 - D(G(z)))]
    if kind == "non-saturating":
        return F.softplus(-fake_logits).mean()  # = -E[log D(G(z))]
    raise ValueError(f"generator loss must be one of {GENERATOR_LOSSES}, got {kind!r}")


def _grad_norm(module) -> float:
    norms = [p.grad.norm() for p in module.parameters() if p.grad is not None]
    return torch.stack(norms).norm().item() if norms else 0.0


def d_step(G, D, x_real, optimizer_d, latent: int, amp: bool = False, r1: float = 0.0) -> dict:
    """One discriminator update on a batch of data and as many fresh samples of G.

    ``r1 > 0`` adds Mescheder et al.'s (2018) gradient penalty on the data,
    r1/2 * E_data ||grad_x l(x)||^2: D may not change steeply where the data are, which damps
    the game's oscillation around the equilibrium."""
    z = torch.randn(len(x_real), latent, device=x_real.device)
    x_real = x_real.detach().requires_grad_(r1 > 0)
    with torch.autocast(x_real.device.type, dtype=torch.bfloat16, enabled=amp):
        with torch.no_grad():
            x_fake = G(z)
        real_logits, fake_logits = D(x_real).float(), D(x_fake).float()
    loss = discriminator_loss(real_logits, fake_logits)
    if r1 > 0:
        (grad,) = torch.autograd.grad(real_logits.sum(), x_real, create_graph=True)
        loss = loss + r1 / 2 * grad.pow(2).flatten(1).sum(1).mean()
    optimizer_d.zero_grad(set_to_none=True)
    loss.backward()
    grad = _grad_norm(D)
    optimizer_d.step()
    return {"d_loss": loss.item(), "d_real": torch.sigmoid(real_logits).mean().item(),
            "d_fake": torch.sigmoid(fake_logits).mean().item(), "d_grad": grad}


def g_step(G, D, batch_size: int, optimizer_g, latent: int, kind: str, device,
           amp: bool = False) -> dict:
    """One generator update through the (fixed) discriminator."""
    z = torch.randn(batch_size, latent, device=device)
    with torch.autocast(torch.device(device).type, dtype=torch.bfloat16, enabled=amp):
        fake_logits = D(G(z)).float()
    loss = generator_loss(fake_logits, kind)
    optimizer_g.zero_grad(set_to_none=True)
    loss.backward()
    grad = _grad_norm(G)
    optimizer_g.step()
    D.zero_grad(set_to_none=True)  # G's step left gradients in D: not D's to use
    return {"g_loss": loss.item(), "g_grad": grad}


def train_gan(G, D, data, num_steps: int, k: int = 1, loss: str = "non-saturating",
              batch_size: int = 256, lr_g: float = 1e-4, lr_d: float = 1e-4, latent: int = 2,
              betas=(0.5, 0.999), device="cpu", progress: bool = True, on_step=None,
              seed: int | None = None, optimizers=None, amp: bool = False,
              r1: float = 0.0) -> dict:
    """Algorithm 1 of Goodfellow et al.: each of ``num_steps`` iterations takes ``k``
    discriminator steps (each on a fresh minibatch of ``data``), then one generator step.

    ``data``: a tensor (N, ...) to draw minibatches from, or a function ``batch_size -> batch``.
    Returns the history, one entry per iteration: d_loss, g_loss, d_real = mean D(x),
    d_fake = mean D(G(z)) (before the G step), d_grad, g_grad (gradient norms).
    A non-finite loss stops training with the iteration named.

    ``optimizers``: (optimizer_g, optimizer_d) to go on with (the DCGAN's epochs call this
    once per epoch and keep Adam's state); by default two fresh Adams. ``amp``: bfloat16
    autocast for the networks (the losses stay fp32). ``r1``: D's gradient penalty (d_step).
    """
    num_steps, k = _count("num_steps", num_steps), _count("k", k)
    batch_size = _count("batch_size", batch_size)
    if loss not in GENERATOR_LOSSES:
        raise ValueError(f"loss must be one of {GENERATOR_LOSSES}, got {loss!r}")
    if seed is not None:
        torch.manual_seed(seed)
    device = torch.device(device)
    G.to(device).train(), D.to(device).train()
    optimizer_g, optimizer_d = optimizers or (
        torch.optim.Adam(G.parameters(), lr=lr_g, betas=betas),
        torch.optim.Adam(D.parameters(), lr=lr_d, betas=betas))

    def batch():
        if callable(data):
            return data(batch_size).to(device)
        return data[torch.randint(len(data), (batch_size,))].to(device)

    history = {key: [] for key in ("d_loss", "g_loss", "d_real", "d_fake", "d_grad", "g_grad")}
    for step in tqdm(range(num_steps), desc="GAN", disable=not progress):
        for _ in range(k):  # k steps of D: ascend V(D, G)
            d_stats = d_step(G, D, batch(), optimizer_d, latent, amp, r1)
        g_stats = g_step(G, D, batch_size, optimizer_g, latent, loss, device, amp)  # one step of G
        for key, value in {**d_stats, **g_stats}.items():
            if not math.isfinite(value):
                raise FloatingPointError(f"{key} is {value} at iteration {step}: lower the "
                                         "learning rates")
            history[key].append(value)
        if on_step is not None:
            on_step(step, history)
    return history


def train_discriminator(G, D, data, num_steps: int, batch_size: int = 512, lr: float = 1e-3,
                        latent: int = 1, progress: bool = False) -> list:
    """The inner max of the game alone: ``num_steps`` of ``d_step`` against a fixed G, so D
    approaches D* = p_data / (p_data + p_g). ``data``: a function ``batch_size -> batch``.
    Returns D's loss per step."""
    optimizer_d = torch.optim.Adam(D.parameters(), lr=lr)
    losses = []
    for _ in tqdm(range(_count("num_steps", num_steps)), desc="D", disable=not progress):
        losses.append(d_step(G, D, data(batch_size), optimizer_d, latent)["d_loss"])
    return losses


# ----------------------------------------------------------------------------- theory on a grid
def optimal_discriminator(p_data, p_g):
    """D*(x) = p_data(x) / (p_data(x) + p_g(x)), elementwise on densities (0/0 -> 1/2)."""
    total = p_data + p_g
    return torch.where(total > 0, p_data / total.clamp_min(1e-300), torch.full_like(total, 0.5))


def value_at_optimum(p_data, p_g, dx: float):
    """V(D*, G) = E_data[log D*] + E_g[log(1 - D*)], by quadrature on a grid of spacing dx.

    log D* = log p_data - log(p_data + p_g) and log(1 - D*) = log p_g - log(p_data + p_g),
    computed as differences of logs: 1 - D* itself rounds to 0 where p_data >> p_g."""
    log_total = torch.log((p_data + p_g).clamp_min(1e-300))
    # 0 log 0 = 0: a density that is zero contributes nothing
    term_data = torch.where(p_data > 0, p_data * (torch.log(p_data.clamp_min(1e-300)) - log_total), 0.0)
    term_g = torch.where(p_g > 0, p_g * (torch.log(p_g.clamp_min(1e-300)) - log_total), 0.0)
    return (term_data.sum() + term_g.sum()) * dx


def js_divergence(p, q, dx: float):
    """JSD(p || q) = 1/2 KL(p || m) + 1/2 KL(q || m), m = (p + q)/2, by quadrature (nats)."""
    m = (p + q) / 2
    kl_pm = torch.where(p > 0, p * torch.log(p.clamp_min(1e-300) / m.clamp_min(1e-300)), 0.0)
    kl_qm = torch.where(q > 0, q * torch.log(q.clamp_min(1e-300) / m.clamp_min(1e-300)), 0.0)
    return 0.5 * (kl_pm.sum() + kl_qm.sum()) * dx


# ----------------------------------------------------------------------------- sample quality
def frechet_distance(mu1, cov1, mu2, cov2) -> float:
    """||mu1 - mu2||^2 + tr(C1 + C2 - 2 (C1 C2)^{1/2}) between two Gaussians.

    tr((C1 C2)^{1/2}) = sum of the square roots of the eigenvalues of C1^{1/2} C2 C1^{1/2}
    (symmetric, so a stable eigh), in float64."""
    mu1, mu2 = torch.as_tensor(mu1).double(), torch.as_tensor(mu2).double()
    cov1, cov2 = torch.as_tensor(cov1).double(), torch.as_tensor(cov2).double()
    vals, vecs = torch.linalg.eigh(cov1)
    root1 = vecs @ torch.diag(vals.clamp_min(0).sqrt()) @ vecs.T  # C1^{1/2}
    cross = torch.linalg.eigvalsh(root1 @ cov2 @ root1).clamp_min(0).sqrt().sum()
    return ((mu1 - mu2) ** 2).sum().item() + (cov1.trace() + cov2.trace() - 2 * cross).item()


def feature_statistics(features) -> tuple:
    """Mean (F,) and covariance (F, F) of features (N, F), in float64."""
    features = torch.as_tensor(features).double()
    return features.mean(0), torch.cov(features.T)
