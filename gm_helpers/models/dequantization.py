r"""Dequantization: a density model of continuous values gives a bound on discrete data's NLL.

Paper cards:
    Uniform dequantization: L. Theis, A. van den Oord, M. Bethge, "A note on the evaluation of
        generative models", ICLR 2016. Idea: add u ~ U[0, 1)^D to discrete x and fit a density
        p(v) to v = x + u: its negative log-density is an upper bound on -log P(x).
    Variational dequantization: J. Ho, X. Chen, A. Srinivas, Y. Duan, P. Abbeel, "Flow++",
        ICML 2019. Idea: draw u from a learned q(u | x) instead, and subtract log q: a tighter
        bound, and the same importance-weighted estimate as the IWAE's.

For binary x in {0, 1}^D the cubes x + [0, 1)^D tile [0, 2)^D, and

    P(x) = \int_{[0,1)^D} p(x + u) du = E_{q(u|x)}[ p(x + u) / q(u | x) ]
    -log P(x) <= -E_q[ log p(x + u) - log q(u | x) ]                      (Jensen: the bound)
    -log P(x) <= -E[ log (1/K) \sum_k p(x + u_k) / q(u_k | x) ]            (tighter as K grows)

The uniform q has log q = 0. The continuous model here is a flow over y = logit(a + (1 - 2a) v / 2),
which maps [0, 2)^D onto the whole real space for a = 0; the map's log-derivative joins the flow's.
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from gm_helpers.checks import InvalidArgument, check_choice, check_num_samples, check_size, check_sizes
from gm_helpers.models.flows import Flow, coupling_masks, maf, realnvp, standard_normal_log_prob
from gm_helpers.models.layers import flatten_binary
from gm_helpers.models.vae import mlp


def to_logit_space(v: torch.Tensor, alpha: float = 0.0):
    """y = logit(a + (1 - 2a) v / 2) for v in [0, 2)^D, and log|dy/dv| summed per example.

    With a = 0 the map is onto the whole real space, so p(v) integrates to 1 over [0, 2)^D and
    the discrete P(x) sum to 1. With a > 0 (RealNVP's choice for images) y stays in a box and the
    mass the flow puts outside it is lost: the discrete model is sub-normalised and its NLL is
    over-stated. (s is kept a hair inside (0, 1) so that a draw of u = 0 cannot give infinity.)"""
    tiny = torch.finfo(v.dtype).tiny
    s = (alpha + (1 - 2 * alpha) * v / 2).clamp(tiny, 1 - torch.finfo(v.dtype).eps / 2)
    y = torch.log(s) - torch.log1p(-s)
    log_dy_dv = math.log((1 - 2 * alpha) / 2) - torch.log(s) - torch.log1p(-s)
    return y, log_dy_dv.sum(1)


def from_logit_space(y: torch.Tensor, alpha: float) -> torch.Tensor:
    """The inverse map: v = 2 (sigmoid(y) - a) / (1 - 2a)."""
    return 2 * (torch.sigmoid(y) - alpha) / (1 - 2 * alpha)


class UniformDequantizer(nn.Module):
    """q(u | x) = U[0, 1)^D: log q = 0, nothing to learn."""

    def forward(self, x: torch.Tensor, k: int, generator=None):
        """k draws of u for each row of x: (u (k, B, D), log q (k, B))."""
        u = torch.rand(k, *x.shape, generator=generator, dtype=x.dtype, device=x.device)
        return u, x.new_zeros(k, len(x))


class ConditionalCoupling(nn.Module):
    """An affine coupling layer whose scale and shift also see a context c (here: the image x)."""

    def __init__(self, D: int, mask: torch.Tensor, hidden=(256,), scale: float = 2.0):
        super().__init__()
        self.register_buffer("mask", mask.float())
        self.net = mlp([2 * D, *check_sizes("hidden", hidden), 2 * D], "relu")
        nn.init.zeros_(self.net[-1].weight)
        nn.init.zeros_(self.net[-1].bias)
        self.scale = scale

    def forward(self, e, c):
        """e -> h with log|dh/de|, given context c (the noise-to-u direction)."""
        raw_s, t = self.net(torch.cat([e * self.mask, c], -1)).chunk(2, -1)
        s = self.scale * torch.tanh(raw_s / self.scale) * (1 - self.mask)
        return e * s.exp() + t * (1 - self.mask), s.sum(-1)


class VariationalDequantizer(nn.Module):
    """q(u | x): e ~ N(0, I), h = g_x(e) through conditional coupling layers, u = sigmoid(h).

        log q(u | x) = log N(e; 0, I) - log|dh/de| - sum_d log sigmoid'(h_d)"""

    def __init__(self, D: int, num_layers: int = 4, hidden=(256,)):
        super().__init__()
        self.D = check_size("D", D, minimum=2)
        self.layers = nn.ModuleList(ConditionalCoupling(D, m, hidden)
                                    for m in coupling_masks(D, num_layers))

    def forward(self, x: torch.Tensor, k: int, generator=None):
        e = torch.randn(k, *x.shape, generator=generator, dtype=x.dtype, device=x.device)
        log_q = standard_normal_log_prob(e.flatten(0, 1)).view(k, len(x))
        c = (2 * x - 1).expand(k, -1, -1)   # the image, centred, as context
        h = e
        for layer in self.layers:
            h, logdet = layer(h, c)
            log_q = log_q - logdet
        # u = sigmoid(h): log du/dh = log sigmoid(h) + log sigmoid(-h)
        log_q = log_q - (F.logsigmoid(h) + F.logsigmoid(-h)).sum(-1)
        return torch.sigmoid(h), log_q


class DequantizedFlow(nn.Module):
    """A flow over v = x + u for binary x, with a dequantizer q(u | x): the discrete NLL's bound.

    ``log_weights(x, k)``: log p(x + u_k) - log q(u_k | x), (k, B). ``training_loss``: minus the
    one-sample bound. ``nll_bound(x, k)``: -log (1/k sum_k w_k), an upper bound on -log P(x) in
    expectation, tighter as k grows."""

    def __init__(self, flow: Flow, dequantizer: nn.Module | None = None, alpha: float = 0.0):
        super().__init__()
        if not isinstance(flow, Flow):
            raise InvalidArgument(f"flow must be a Flow, got {type(flow).__name__}")
        if not 0 <= alpha < 0.5:
            raise InvalidArgument(f"alpha must be in [0, 0.5), got {alpha!r}")
        self.flow, self.D, self.alpha = flow, flow.D, float(alpha)
        self.dequantizer = dequantizer if dequantizer is not None else UniformDequantizer()

    def log_density(self, v: torch.Tensor) -> torch.Tensor:
        """log p(v) for v in [0, 2)^D: the flow's density of y, times |dy/dv|, (B,)."""
        y, log_dy_dv = to_logit_space(v, self.alpha)
        return self.flow.log_prob(y) + log_dy_dv

    def log_weights(self, x: torch.Tensor, k: int = 1, generator=None) -> torch.Tensor:
        x = flatten_binary(x, self.D).to(next(self.flow.parameters()).dtype)
        u, log_q = self.dequantizer(x, check_size("k", k), generator)  # (k, B, D), (k, B)
        log_p = self.log_density((x + u).flatten(0, 1)).view(k, len(x))
        return log_p - log_q

    def training_loss(self, x) -> torch.Tensor:
        return -self.log_weights(x, 1)[0]

    @torch.no_grad()
    def nll_bound(self, x, k: int = 1, chunk: int = 100, generator=None) -> torch.Tensor:
        """-log (1/k sum_i w_i) with w_i = p(x + u_i) / q(u_i | x), ``chunk`` draws at a time, (B,)."""
        k = check_size("k", k)
        parts = torch.empty(math.ceil(k / chunk), len(x))   # one buffer: no heap fragmentation
        for i, start in enumerate(range(0, k, chunk)):
            parts[i] = torch.logsumexp(self.log_weights(x, min(chunk, k - start), generator), 0)
        return -(torch.logsumexp(parts, 0) - math.log(k))

    @torch.no_grad()
    def log_prob(self, x, num_samples: int = 5000, chunk: int = 100) -> torch.Tensor:
        """The importance-weighted estimate of log P(x) with ``num_samples`` draws of u, (B,):
        a lower bound in expectation, as the VAE's (what the training CLI evaluates)."""
        return -self.nll_bound(x, num_samples, chunk)

    @torch.no_grad()
    def sample(self, num_samples: int, device=None, generator=None) -> torch.Tensor:
        """Binary images: v from the flow, x = floor(v) (the cube it falls in), (S, D)."""
        y = self.flow.sample(check_num_samples(num_samples), device, generator)
        return from_logit_space(y, self.alpha).floor().clamp(0, 1)

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())


class DigitFlow(DequantizedFlow):
    """A dequantized flow for binary digits, built from plain values (the training CLI's registry):
    ``kind`` "maf" (MADE layers, reversed orderings) or "realnvp" (coupling layers, alternating
    pixels), and a "uniform" or "variational" dequantizer."""

    def __init__(self, D: int = 784, kind: str = "maf", num_layers: int = 5, hidden=(1024,),
                 dequantizer: str = "uniform", deq_layers: int = 4, deq_hidden=(256,)):
        kind = check_choice("kind", kind, ("maf", "realnvp"))
        flow = maf(D, num_layers, hidden) if kind == "maf" else realnvp(D, num_layers, hidden)
        dequantizer = check_choice("dequantizer", dequantizer, ("uniform", "variational"))
        q = UniformDequantizer() if dequantizer == "uniform" else \
            VariationalDequantizer(D, deq_layers, deq_hidden)
        super().__init__(flow, q)
