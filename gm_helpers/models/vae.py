r"""Autoencoders, the variational autoencoder and the importance-weighted bound.

Paper card: Auto-Encoding Variational Bayes (the VAE)
    D. P. Kingma, M. Welling. ICLR 2014. arXiv:1312.6114.
    Idea: a latent-variable model p(x) = \int p(z) p_\theta(x|z) dz whose integral we cannot
    compute, trained through a lower bound. An encoder q_\phi(z|x) = N(mu(x), diag s^2(x))
    proposes the z that could have made x; sampling z = mu + s * eps with eps ~ N(0, I) (the
    reparameterisation) lets gradients flow into the encoder. The decoder p_\theta(x|z) is a
    Bernoulli per pixel for binary data (this course's), a Gaussian for real-valued data.

    \log p(x) \ge \mathrm{ELBO}(x) = E_{q(z|x)}[\log p(x|z)] - KL(q(z|x) \,\|\, p(z))
    \log p(x) = \mathrm{ELBO}(x) + KL(q(z|x) \,\|\, p(z|x))

Paper card: Importance Weighted Autoencoders (IWAE)
    Y. Burda, R. Grosse, R. Salakhutdinov. ICLR 2016. arXiv:1509.00519.
    Idea: average k importance weights inside the log: a tighter bound that grows with k and
    reaches log p(x) as k -> infinity; with k = 5000 it is the standard estimate of log p(x).
    Appendix D's MNIST model: 784-200-200-50, tanh, Bernoulli decoder; 88.71 nats (k = 1).

    \mathcal{L}_k(x) = E_{z_1..z_k \sim q}\Big[\log \frac{1}{k}\sum_{i=1}^k
        \frac{p(x, z_i)}{q(z_i|x)}\Big],  \quad \mathcal{L}_1 = \mathrm{ELBO} \le \mathcal{L}_k
        \le \mathcal{L}_{k+1} \le \log p(x)
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn
from tqdm.auto import tqdm

from gm_helpers.checks import check_float, check_size, check_sizes
from gm_helpers.models.layers import bernoulli_log_prob, flatten_binary, sampling_device

LOG_2PI = math.log(2 * math.pi)

ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU}


def _count(name, value, low=1) -> int:
    """An integer >= low (NumPy integers welcome), else an error that names it."""
    return check_size(name, value, minimum=low)


def kl_diag_gaussians(mu_q, logvar_q, mu_p=None, logvar_p=None) -> torch.Tensor:
    """KL(N(mu_q, diag e^logvar_q) || N(mu_p, diag e^logvar_p)), summed over the last dim.

    Default p = N(0, I). Kingma & Welling, Appendix B, for two diagonal Gaussians:
    KL = 1/2 sum_j [ logvar_p - logvar_q + (e^logvar_q + (mu_q - mu_p)^2) / e^logvar_p - 1 ]
    """
    mu_p = torch.zeros_like(mu_q) if mu_p is None else mu_p
    logvar_p = torch.zeros_like(logvar_q) if logvar_p is None else logvar_p
    kl = 0.5 * (logvar_p - logvar_q + (logvar_q.exp() + (mu_q - mu_p) ** 2) / logvar_p.exp() - 1)
    return kl.sum(-1)


def gaussian_log_prob(z, mu, logvar) -> torch.Tensor:
    """log N(z; mu, diag e^logvar), summed over the last dim."""
    # log N = -1/2 sum_j [ log 2 pi + logvar_j + (z_j - mu_j)^2 / e^logvar_j ]
    return -0.5 * (LOG_2PI + logvar + (z - mu) ** 2 / logvar.exp()).sum(-1)


def gaussian_decoder_log_prob(x, mu, logvar=0.0) -> torch.Tensor:
    """log p(x|z) = log N(x; mu, diag e^logvar) of a Gaussian decoder, summed over the last dim.

    For real-valued data; binary pixels want the Bernoulli decoder (``bernoulli_log_prob``).
    ``x``, ``mu``: tensors of one shape (..., D); ``logvar``: a number (one fixed variance for
    every pixel) or a tensor that broadcasts against ``mu`` (a decoder that outputs it too).
    Returns (...,) nats. With a fixed sigma it is the squared error, scaled, plus a constant:
    log p(x|z) = -1/(2 sigma^2) sum_d (x_d - mu_d)^2 - D/2 log(2 pi sigma^2).
    It is a density, not a probability: on binary x it grows without bound as sigma -> 0, so
    its nats cannot be compared with a Bernoulli likelihood's.
    """
    if not (torch.is_tensor(x) and torch.is_tensor(mu)):
        raise TypeError(f"x and mu must be torch tensors, got {type(x).__name__} and "
                        f"{type(mu).__name__}")
    if x.shape != mu.shape:
        raise ValueError(f"x and mu must have the same shape, got {tuple(x.shape)} and "
                         f"{tuple(mu.shape)}")
    if not (mu.is_floating_point() and x.dim() >= 1):
        raise ValueError("mu must be a float tensor with at least one dimension (..., D)")
    logvar = torch.as_tensor(logvar, dtype=mu.dtype, device=mu.device)
    if not torch.isfinite(logvar).all():
        raise ValueError("logvar must be finite: sigma^2 = exp(logvar) must be positive")
    try:
        logvar = logvar.expand_as(mu)  # (..., D)
    except RuntimeError:
        raise ValueError(f"logvar of shape {tuple(logvar.shape)} does not broadcast against mu "
                         f"{tuple(mu.shape)}") from None
    # log N(x; mu, s^2) = -1/2 sum_d [ log 2 pi s^2 + (x_d - mu_d)^2 / s^2 ]
    return gaussian_log_prob(x.to(mu.dtype), mu, logvar)


def mlp(sizes, activation="tanh") -> nn.Sequential:
    """Linear layers of ``sizes`` with ``activation`` between them (none after the last)."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(ACTIVATIONS[activation]())
    return nn.Sequential(*layers)


class Autoencoder(nn.Module):
    """A deterministic autoencoder: x -> z = f(x) -> x_hat = sigmoid(g(z)).

    ``encode(x)``: (B, D) or (B, 1, H, W) -> z (B, latent).  ``decode(z)``: -> logits (B, D).
    ``training_loss(x)``: squared error sum_d (x_hat_d - x_d)^2 per example, (B,).
    It has no prior over z, so it cannot sample: decoding random codes gives no digits.
    """

    def __init__(self, D: int = 784, hidden=(200, 200), latent: int = 50, activation="tanh"):
        super().__init__()
        self.D, self.latent = _count("D", D), _count("latent", latent)
        hidden = check_sizes("hidden", hidden, allow_empty=True)
        self.encoder = mlp([D, *hidden, latent], activation)
        self.decoder = mlp([latent, *reversed(hidden), D], activation)

    def encode(self, x) -> torch.Tensor:
        return self.encoder(flatten_binary(x, self.D).to(self.decoder[0].weight.dtype))

    def decode(self, z) -> torch.Tensor:
        return self.decoder(z)  # logits of x_hat

    def training_loss(self, x) -> torch.Tensor:
        x = flatten_binary(x, self.D).to(self.decoder[0].weight.dtype)  # (B, D)
        x_hat = torch.sigmoid(self.decode(self.encode(x)))  # (B, D)
        return ((x_hat - x) ** 2).sum(-1)  # (B,)


class VAE(nn.Module):
    """Gaussian encoder q(z|x) = N(mu, diag e^logvar), prior N(0, I), Bernoulli decoder p(x|z).

    The default sizes are IWAE's Appendix D: 784-200-200-50 with tanh. ``k`` is the number of
    importance samples of the training objective: 1 trains the ELBO (a VAE), k > 1 the IWAE
    bound. ``beta`` weighs the KL term (a beta-VAE, Higgins et al. 2017; k = 1 only): beta > 1
    buys a simpler code with worse reconstructions, beta < 1 the reverse; beta = 1 is the ELBO,
    beta > 1 a looser bound on log p(x), beta < 1 no bound. ``training_loss(x)`` = -objective,
    (B,) nats.
    Shapes: ``encode`` (B, D) -> mu, logvar (B, L); ``decode`` (..., L) -> logits (..., D);
    ``elbo``, ``iwae_bound``, ``log_prob``: (B,) nats; ``sample(S)`` -> (S, D).
    """

    def __init__(self, D: int = 784, hidden=(200, 200), latent: int = 50, activation="tanh",
                 k: int = 1, beta: float = 1.0):
        super().__init__()
        self.D, self.latent, self.k = _count("D", D), _count("latent", latent), _count("k", k)
        beta = check_float("beta", beta, minimum=0, open_low=True)
        if beta != 1 and self.k != 1:
            raise ValueError("beta weighs the ELBO's KL term: use it with k = 1")
        self.beta = float(beta)
        hidden = check_sizes("hidden", hidden, allow_empty=True)
        self.encoder = mlp([D, *hidden, 2 * latent], activation)  # -> [mu, logvar]
        self.decoder = mlp([latent, *reversed(hidden), D], activation)

    def _x(self, x) -> torch.Tensor:
        return flatten_binary(x, self.D).to(self.decoder[0].weight.dtype)  # (B, D)

    def encode(self, x):
        """q(z|x): its mean and log-variance, each (B, L)."""
        mu, logvar = self.encoder(self._x(x)).chunk(2, dim=-1)
        return mu, logvar

    def decode(self, z) -> torch.Tensor:
        """The Bernoulli logits of p(x|z), (..., D)."""
        return self.decoder(z)

    @staticmethod
    def reparameterize(mu, logvar, num_samples: int = 1, generator=None) -> torch.Tensor:
        """z = mu + sigma * eps, eps ~ N(0, I): (S, B, L), differentiable in mu and logvar."""
        eps = torch.randn((num_samples, *mu.shape), generator=generator, dtype=mu.dtype,
                          device=mu.device)
        return mu + (0.5 * logvar).exp() * eps  # sigma = exp(logvar / 2)

    def elbo(self, x, num_samples: int = 1, return_terms: bool = False):
        """ELBO(x) = E_q[log p(x|z)] - KL(q(z|x) || p(z)), (B,) nats; KL in closed form.

        ``return_terms``: also the two terms, (reconstruction (B,), kl (B,)).
        """
        num_samples = _count("num_samples", num_samples)
        x = self._x(x)
        mu, logvar = self.encode(x)
        z = self.reparameterize(mu, logvar, num_samples)  # (S, B, L)
        # E_q[log p(x|z)] by Monte Carlo over S samples
        reconstruction = bernoulli_log_prob(self.decode(z), x).mean(0)  # (B,)
        # KL(N(mu, s^2) || N(0, I)) = -1/2 sum(1 + log s^2 - mu^2 - s^2)
        kl = -0.5 * (1 + logvar - mu ** 2 - logvar.exp()).sum(-1)  # (B,)
        elbo = reconstruction - kl
        return (elbo, reconstruction, kl) if return_terms else elbo

    def log_weights(self, x, k: int) -> torch.Tensor:
        """log w_i = log p(x, z_i) - log q(z_i|x) for z_1..z_k ~ q(z|x): (k, B)."""
        x = self._x(x)
        mu, logvar = self.encode(x)
        z = self.reparameterize(mu, logvar, k)  # (k, B, L)
        log_p_z = gaussian_log_prob(z, torch.zeros_like(z), torch.zeros_like(z))  # (k, B)
        log_p_x_given_z = bernoulli_log_prob(self.decode(z), x)  # (k, B)
        return log_p_z + log_p_x_given_z - gaussian_log_prob(z, mu, logvar)

    def iwae_bound(self, x, k: int) -> torch.Tensor:
        """L_k(x) = log 1/k sum_i w_i, (B,) nats: the ELBO for k = 1 (sampled KL), tighter
        as k grows."""
        k = _count("k", k)
        return torch.logsumexp(self.log_weights(x, k), 0) - math.log(k)  # (B,)

    def training_loss(self, x) -> torch.Tensor:
        """-ELBO (closed-form KL) for k = 1, else -L_k: what training minimises, (B,).
        With beta != 1: -(E_q[log p(x|z)] - beta KL)."""
        if self.k > 1:
            return -self.iwae_bound(x, self.k)
        _, reconstruction, kl = self.elbo(x, return_terms=True)
        return -(reconstruction - self.beta * kl)

    @torch.no_grad()
    def log_prob(self, x, num_samples: int = 5000, chunk: int | None = None,
                 progress: bool = False) -> torch.Tensor:
        """The importance-sampled estimate of log p(x) with ``num_samples`` samples, (B,).

        It is L_k with k = num_samples, computed ``chunk`` samples at a time (default: ~1M
        decoder outputs per chunk) so that 5000 samples fit in memory: the chunks' log-sum-exps
        are combined exactly. A lower bound in expectation; it converges to log p(x).
        """
        num_samples = _count("num_samples", num_samples)
        x = self._x(x)
        chunk = max(1, min(num_samples, 1_000_000 // max(1, len(x) * self.D))) if chunk is None \
            else _count("chunk", chunk)  # samples per chunk: an integer >= 1
        starts = range(0, num_samples, chunk)
        # one (chunks, B) buffer allocated up front: a small tensor kept from each round would sit
        # between the rounds' large freed blocks and fragment the heap (measured: +300 MB of
        # resident memory over 417 rounds at k = 5000 when the rounds' results were appended)
        parts = torch.empty(len(starts), len(x), dtype=x.dtype, device=x.device)
        for i, start in enumerate(tqdm(starts, disable=not progress, desc="log p(x)")):
            k = min(chunk, num_samples - start)
            torch.logsumexp(self.log_weights(x, k), 0, out=parts[i])  # (B,)
        return torch.logsumexp(parts, 0) - math.log(num_samples)

    @torch.no_grad()
    def sample(self, num_samples: int, device=None, generator=None, mean: bool = False):
        """z ~ N(0, I), x ~ p(x|z): (S, D) binary images, or their Bernoulli means."""
        num_samples = _count("num_samples", num_samples, low=0)
        weight = self.decoder[0].weight
        z = torch.randn(num_samples, self.latent, generator=generator, dtype=weight.dtype,
                        device=sampling_device(weight, device, generator))
        probs = torch.sigmoid(self.decode(z))  # (S, D)
        return probs if mean else torch.bernoulli(probs, generator=generator)

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())


class IWAE(VAE):
    """The same model trained on the IWAE bound with k = 5 importance samples (Burda et al.)."""

    def __init__(self, D: int = 784, hidden=(200, 200), latent: int = 50, activation="tanh",
                 k: int = 5):
        super().__init__(D, hidden, latent, activation, k)
