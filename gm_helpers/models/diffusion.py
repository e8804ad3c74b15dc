r"""DDPM: a fixed chain that adds noise, and a network that learns to take it away.

Paper cards:
    J. Ho, A. Jain, P. Abbeel, "Denoising diffusion probabilistic models", NeurIPS 2020,
        arXiv:2006.11239. Idea: a Markov chain q(x_t | x_{t-1}) = N(sqrt(1 - beta_t) x_{t-1},
        beta_t I), t = 1..T, turns data into noise; a network learns the reverse steps
        p(x_{t-1} | x_t). The ELBO is a sum of Gaussian KLs, and with the network predicting
        the noise eps it simplifies to a denoising loss.
    J. Song, C. Meng, S. Ermon, "Denoising diffusion implicit models", ICLR 2021,
        arXiv:2010.02502. Idea: the same network, a deterministic sampler that may skip steps.

    alpha_t = 1 - beta_t,  alpha_bar_t = prod_{s <= t} alpha_s
    q(x_t | x_0) = N(sqrt(alpha_bar_t) x_0, (1 - alpha_bar_t) I)          (the forward marginal)
    L_simple = E_{t, x_0, eps} || eps - eps_theta(sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) eps, t) ||^2
    -log p(x_0) <= KL(q(x_T|x_0) || N(0, I)) + sum_{t=2}^T KL(q(x_{t-1}|x_t,x_0) || p(x_{t-1}|x_t))
                   - log p(x_0 | x_1)                                        (the ELBO, in nats)

Time steps are integers 1..T as in the paper; the network sees t / T. Binary images enter as
2x - 1 in {-1, +1} and leave as x_0 > 0.
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn

from gm_helpers.checks import InvalidArgument, check_choice, check_num_samples, check_size
from gm_helpers.models.layers import sampling_device
from gm_helpers.models.unet import UNet, sinusoidal_embedding
from gm_helpers.models.vae import mlp


def linear_betas(T: int = 1000, beta_1: float = 1e-4, beta_T: float = 0.02) -> torch.Tensor:
    """DDPM's schedule: beta_t rising linearly from beta_1 to beta_T, (T,) float64."""
    return torch.linspace(beta_1, beta_T, check_size("T", T, minimum=2), dtype=torch.float64)


def cosine_betas(T: int = 1000, s: float = 0.008) -> torch.Tensor:
    """Nichol and Dhariwal's schedule: alpha_bar_t = cos^2((t/T + s) / (1 + s) * pi / 2)
    (normalised to 1 at t = 0), betas clipped at 0.999, (T,) float64."""
    t = torch.arange(check_size("T", T, minimum=2) + 1, dtype=torch.float64) / T
    f = torch.cos((t + s) / (1 + s) * math.pi / 2) ** 2
    alpha_bar = f / f[0]
    return (1 - alpha_bar[1:] / alpha_bar[:-1]).clamp(max=0.999)


def gaussian_kl(mu_q, var_q, mu_p, var_p) -> torch.Tensor:
    """KL(N(mu_q, var_q) || N(mu_p, var_p)) per dimension, elementwise (lecture 05's formula)."""
    # KL = 1/2 [ log(var_p / var_q) + (var_q + (mu_q - mu_p)^2) / var_p - 1 ]
    return 0.5 * (torch.log(var_p / var_q) + (var_q + (mu_q - mu_p) ** 2) / var_p - 1)


class DDPM(nn.Module):
    """A denoising diffusion model around a noise predictor ``net(x_t, t / T)``.

    shape: one example's shape, e.g. (2,) or (1, 28, 28). binary: data in {0, 1} enter as 2x - 1
    and samples leave as x_0 > 0. ``training_loss(x)``: L_simple per example, (B,).
    ``sample(n, steps)``: ancestral sampling in T steps (steps=None), or DDIM in ``steps``.
    """

    def __init__(self, net: nn.Module, shape, T: int = 1000, schedule: str = "linear",
                 binary: bool = False):
        super().__init__()
        self.net, self.shape, self.binary = net, tuple(shape), bool(binary)
        self.T = check_size("T", T, minimum=2)
        schedule = check_choice("schedule", schedule, ("linear", "cosine"))
        betas = linear_betas(T) if schedule == "linear" else cosine_betas(T)
        alpha_bars = torch.cumprod(1 - betas, 0)
        # index t - 1 holds step t; alpha_bar_0 = 1 for the posterior at t = 1
        self.register_buffer("betas", betas.float(), persistent=False)
        self.register_buffer("alpha_bars", alpha_bars.float(), persistent=False)
        self.register_buffer("alpha_bars_prev", torch.cat([torch.ones(1, dtype=torch.float64),
                                                           alpha_bars[:-1]]).float(), persistent=False)

    # ------------------------------------------------------------------ data and the forward chain
    def to_model_space(self, x: torch.Tensor) -> torch.Tensor:
        x = x.reshape(len(x), *self.shape).float()      # (B, *shape)
        if self.binary:
            if not ((x == 0) | (x == 1)).all():
                raise InvalidArgument("expected binary images: every pixel 0 or 1")
            return 2 * x - 1
        return x

    def _per_example(self, values: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """values[t - 1], shaped to broadcast against a batch: (B, 1, ..., 1)."""
        return values[t - 1].view(-1, *([1] * len(self.shape)))

    def q_sample(self, x0: torch.Tensor, t: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
        """x_t drawn from q(x_t | x_0) with the noise ``eps``: the forward chain in one step."""
        alpha_bar = self._per_example(self.alpha_bars, t)
        # x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) eps
        return alpha_bar.sqrt() * x0 + (1 - alpha_bar).sqrt() * eps

    def eps_hat(self, x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return self.net(x_t, t.float() / self.T)

    def training_loss(self, x: torch.Tensor) -> torch.Tensor:
        """L_simple: || eps - eps_theta(x_t, t) ||^2 summed over dimensions, t ~ U{1..T}, (B,)."""
        x0 = self.to_model_space(x)
        t = torch.randint(1, self.T + 1, (len(x0),), device=x0.device)
        eps = torch.randn_like(x0)
        return (eps - self.eps_hat(self.q_sample(x0, t, eps), t)).pow(2).flatten(1).sum(1)

    # ------------------------------------------------------------------ the reverse chain
    def posterior(self, x0, x_t, t):
        """q(x_{t-1} | x_t, x_0) = N(mu_tilde, beta_tilde): its mean and variance."""
        beta, a_bar = self._per_example(self.betas, t), self._per_example(self.alpha_bars, t)
        a_bar_prev = self._per_example(self.alpha_bars_prev, t)
        # mu_tilde = [sqrt(a_bar_{t-1}) beta_t x_0 + sqrt(alpha_t) (1 - a_bar_{t-1}) x_t] / (1 - a_bar_t)
        mu = (a_bar_prev.sqrt() * beta * x0 + (1 - beta).sqrt() * (1 - a_bar_prev) * x_t) / (1 - a_bar)
        # beta_tilde_t = (1 - a_bar_{t-1}) / (1 - a_bar_t) beta_t
        return mu, (1 - a_bar_prev) / (1 - a_bar) * beta

    def reverse_mean_var(self, x_t, t):
        """p(x_{t-1} | x_t): mean from the predicted noise, variance beta_tilde_t (beta_1 at t = 1)."""
        beta, a_bar = self._per_example(self.betas, t), self._per_example(self.alpha_bars, t)
        eps = self.eps_hat(x_t, t)
        # mu_theta = (x_t - beta_t / sqrt(1 - a_bar_t) eps_theta) / sqrt(alpha_t)
        mu = (x_t - beta / (1 - a_bar).sqrt() * eps) / (1 - beta).sqrt()
        a_bar_prev = self._per_example(self.alpha_bars_prev, t)
        # sigma_t^2 = beta_tilde_t = (1 - a_bar_{t-1}) / (1 - a_bar_t) beta_t, which is 0 at t = 1
        var = torch.where(a_bar_prev < 1, (1 - a_bar_prev) / (1 - a_bar) * beta, beta)
        return mu, var, eps

    @torch.no_grad()
    def sample(self, num_samples: int, steps: int | None = None, device=None, generator=None,
               trajectory: bool = False, eta: float = 0.0):
        """Samples (S, *shape), binary if the model is. steps=None: T ancestral steps; else DDIM
        on ``steps`` evenly spaced steps: deterministic given x_T with eta = 0, fresh noise at
        every step with eta > 0 (eta = 1 on all T steps is the ancestral sampler). trajectory=True
        also returns every x_t (in model space), starting with x_T: (steps + 1, S, *shape)."""
        S = check_num_samples(num_samples)
        if not 0 <= eta <= 1:
            raise InvalidArgument(f"eta must be in [0, 1] (0: deterministic DDIM, 1: as much "
                                  f"noise as the ancestral sampler), got {eta}")
        if steps is None and eta != 0:
            raise InvalidArgument("eta chooses the noise of the strided (DDIM) sampler: give "
                                  "steps, or leave eta at 0 for the T-step ancestral sampler")
        device = sampling_device(self.betas, device, generator)
        x = torch.randn(S, *self.shape, device=device, generator=generator)
        if steps is None:
            times = list(range(self.T, -1, -1))
        else:
            steps = check_size("steps", steps, maximum=self.T)
            times = torch.linspace(self.T, 0, steps + 1).round().long().tolist()
        path = None
        if trajectory:   # every x_t in one buffer allocated up front: a thousand small tensors
            # kept between the steps' temporaries would pin freed heap memory (hundreds of MB)
            path = torch.empty(len(times), *x.shape, device=device, dtype=x.dtype)
            path[0] = x
        for i, (t_now, t_next) in enumerate(zip(times[:-1], times[1:]), 1):
            if steps is None:
                t = torch.full((S,), t_now, device=device, dtype=torch.long)
                mu, var, _ = self.reverse_mean_var(x, t)
                z = torch.randn(x.shape, device=device, generator=generator) if t_now > 1 else 0
                # x_{t-1} = mu_theta(x_t, t) + sigma_t z
                x = mu + var.sqrt() * z
            else:
                x = self.ddim_step(x, t_now, t_next, eta=eta, generator=generator)
            if trajectory:
                path[i] = x
        out = (x > 0).float() if self.binary else x
        return (out, path) if trajectory else out

    def ddim_step(self, x_t, t_now: int, t_next: int, eta: float = 0.0, generator=None) -> torch.Tensor:
        """DDIM: predict x_0 from the noise, and move to step t_next along it; eta > 0 adds fresh
        noise of variance eta^2 sigma^2 (eta = 1, t_next = t_now - 1: one ancestral step)."""
        t = torch.full((len(x_t),), t_now, device=x_t.device, dtype=torch.long)
        a_bar = self.alpha_bars[t_now - 1]
        a_next = self.alpha_bars[t_next - 1] if t_next > 0 else torch.ones((), device=x_t.device)
        eps = self.eps_hat(x_t, t)
        # x0_hat = (x_t - sqrt(1 - a_bar_t) eps) / sqrt(a_bar_t); binary data lie in [-1, 1]
        x0_hat = (x_t - (1 - a_bar).sqrt() * eps) / a_bar.sqrt()
        if self.binary:
            x0_hat = x0_hat.clamp(-1, 1)
            eps = (x_t - a_bar.sqrt() * x0_hat) / (1 - a_bar).sqrt()
        if eta == 0 or t_next == 0:
            # x_{t_next} = sqrt(a_bar_next) x0_hat + sqrt(1 - a_bar_next) eps
            return a_next.sqrt() * x0_hat + (1 - a_next).sqrt() * eps
        # sigma^2 = eta^2 (1 - a_bar_next) / (1 - a_bar_t) (1 - a_bar_t / a_bar_next)
        var = eta ** 2 * (1 - a_next) / (1 - a_bar) * (1 - a_bar / a_next)
        z = torch.randn(x_t.shape, device=x_t.device, generator=generator)
        # x_{t_next} = sqrt(a_bar_next) x0_hat + sqrt(1 - a_bar_next - sigma^2) eps + sigma z
        return a_next.sqrt() * x0_hat + (1 - a_next - var).sqrt() * eps + var.sqrt() * z

    # ------------------------------------------------------------------ the ELBO (continuous data)
    @torch.no_grad()
    def elbo_terms(self, x: torch.Tensor) -> dict:
        """The negative ELBO of continuous data term by term, every t, in nats per example:
        ``prior`` L_T (B,), ``kl`` the L_{t-1} for t = 2..T (T-1, B), ``decoder`` L_0 (B,);
        their sum (``total``) bounds -log p(x) (a density, in the data's units)."""
        if self.binary:
            raise InvalidArgument("the ELBO here is for continuous data; binary images need a "
                                  "discrete decoder (masked diffusion gives their bound)")
        x0 = self.to_model_space(x)
        B, dims = len(x0), tuple(range(1, x0.dim()))
        ones = torch.ones(B, dtype=torch.long, device=x0.device)
        a_bar_T = self.alpha_bars[-1]
        # L_T = KL(N(sqrt(a_bar_T) x_0, 1 - a_bar_T) || N(0, 1)): no parameters, almost 0
        prior = gaussian_kl(a_bar_T.sqrt() * x0, 1 - a_bar_T, torch.zeros_like(x0),
                            torch.ones_like(x0)).sum(dims)
        kl = []
        for t_int in range(2, self.T + 1):
            t = t_int * ones
            x_t = self.q_sample(x0, t, torch.randn_like(x0))
            mu_q, var_q = self.posterior(x0, x_t, t)
            mu_p, var_p, _ = self.reverse_mean_var(x_t, t)
            kl.append(gaussian_kl(mu_q, var_q, mu_p, var_p.expand_as(mu_q)).sum(dims))
        # L_0 = -log N(x_0; mu_theta(x_1, 1), beta_1)
        x_1 = self.q_sample(x0, ones, torch.randn_like(x0))
        mu, var, _ = self.reverse_mean_var(x_1, ones)
        decoder = (0.5 * torch.log(2 * math.pi * var) + (x0 - mu) ** 2 / (2 * var)).sum(dims)
        kl = torch.stack(kl)
        return {"prior": prior, "kl": kl, "decoder": decoder, "total": prior + kl.sum(0) + decoder}


class DigitDDPM(DDPM):
    """DDPM on binarized digits with the course's small U-Net, built from plain values (the
    training CLI's registry)."""

    eval_batch_size = 100  # the training CLI's validation: 100 digits per pass, not 1,000

    def __init__(self, widths=(32, 64), blocks: int = 1, T: int = 1000, schedule: str = "linear"):
        super().__init__(UNet(1, 1, widths, blocks), (1, 28, 28), T, schedule, binary=True)


class TimeMLP(nn.Module):
    """The noise predictor for 2-d points: an MLP on (x, features of t), (N, D) -> (N, D)."""

    def __init__(self, D: int = 2, hidden=(128, 128, 128), t_features: int = 32):
        super().__init__()
        self.t_features = check_size("t_features", t_features, minimum=2)
        self.net = mlp([D + t_features, *hidden, D], "relu")

    def forward(self, x, t):
        return self.net(torch.cat([x, sinusoidal_embedding(t, self.t_features)], 1))


def ddpm_2d(hidden=(128, 128, 128), T: int = 1000, schedule: str = "linear", scale: float = 1.0) -> DDPM:
    """DDPM for 2-d points with the MLP noise predictor; ``scale``: the data's units per model
    unit (points are divided by it before training; samples are multiplied by it)."""
    model = DDPM(TimeMLP(2, hidden), (2,), T, schedule)
    model.scale = float(scale)
    return model
