r"""Normalizing flows: invertible layers with exact log-determinants, composed into a density.

Paper cards:
    NICE / RealNVP: L. Dinh, D. Krueger, Y. Bengio (ICLR 2015 workshop); L. Dinh,
        J. Sohl-Dickstein, S. Bengio, "Density estimation using Real NVP", ICLR 2017.
        Idea: split the input; transform one half by a scale and shift computed from the other.
        The Jacobian is triangular, so its log-determinant is the sum of the log-scales.
    MAF: G. Papamakarios, T. Pavlakou, I. Murray, "Masked Autoregressive Flow for Density
        Estimation", NeurIPS 2017. Idea: a MADE computes every dimension's shift and log-scale
        from the dimensions before it: density in one pass, sampling in D.
    IAF: D. P. Kingma, T. Salimans, R. Jozefowicz, X. Chen, I. Sutskever, M. Welling, "Improved
        Variational Inference with Inverse Autoregressive Flow", NeurIPS 2016. The same layer
        run the other way: sampling in one pass, density in D.
    Glow: D. P. Kingma, P. Dhariwal, NeurIPS 2018: invertible 1x1 mixing, LU-parameterised.

Change of variables: for an invertible f with z = f(x),

    \log p_X(x) = \log p_Z(f(x)) + \log |\det \partial f / \partial x|.

Convention here: a layer's ``forward`` maps data towards noise, x -> z, and returns
(z, log|det dz/dx|) per example; ``inverse`` maps z -> x and returns (x, log|det dx/dz|), which
is minus the forward log-determinant at the same point.
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from gm_helpers.checks import InvalidArgument, check_num_samples, check_size, check_sizes
from gm_helpers.models.layers import sampling_device
from gm_helpers.models.made import MADE
from gm_helpers.models.vae import mlp


def check_flow_input(x: torch.Tensor, D: int) -> torch.Tensor:
    if not isinstance(x, torch.Tensor) or x.dim() != 2 or x.shape[1] != D:
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise InvalidArgument(f"a flow over D = {D} dimensions takes a (B, {D}) tensor, got {shape}")
    return x


class ElementwiseAffine(nn.Module):
    """z = x * exp(s) + b, one learned (s, b) per dimension: log|det| = sum_d s_d."""

    def __init__(self, D: int):
        super().__init__()
        self.D = check_size("D", D)
        self.log_scale = nn.Parameter(torch.zeros(D))
        self.shift = nn.Parameter(torch.zeros(D))

    def forward(self, x):
        x = check_flow_input(x, self.D)
        return x * self.log_scale.exp() + self.shift, self.log_scale.sum().expand(len(x))

    def inverse(self, z):
        z = check_flow_input(z, self.D)
        return (z - self.shift) * (-self.log_scale).exp(), -self.log_scale.sum().expand(len(z))


class AffineCoupling(nn.Module):
    """RealNVP's coupling layer. With a binary ``mask`` (1 = passed through unchanged):

        z = m * x + (1 - m) * (x * exp(s(m * x)) + t(m * x)),  log|det| = sum_d (1 - m_d) s_d

    The scale is s = scale * tanh(raw / scale) (|s| < scale, here 2): a bounded log-scale keeps
    early training from exploding. Inverse: x = m * z + (1 - m) * (z - t) * exp(-s), with the
    same s and t, since m * z = m * x."""

    def __init__(self, D: int, mask, hidden=(64, 64), scale: float = 2.0):
        super().__init__()
        self.D = check_size("D", D)
        mask = torch.as_tensor(mask, dtype=torch.float32, device="cpu")   # even under a meta device
        if mask.shape != (D,) or not ((mask == 0) | (mask == 1)).all():
            raise InvalidArgument(f"mask must be D = {D} zeros and ones, got {tuple(mask.shape)}")
        if mask.sum() in (0, D):
            raise InvalidArgument("mask must pass some dimensions through and transform others")
        self.register_buffer("mask", mask)
        self.net = mlp([D, *check_sizes("hidden", hidden), 2 * D], "relu")
        nn.init.zeros_(self.net[-1].weight)   # starts as the identity map
        nn.init.zeros_(self.net[-1].bias)
        self.scale = float(scale)

    def _scale_shift(self, x_kept):
        raw_s, t = self.net(x_kept).chunk(2, dim=1)
        s = self.scale * torch.tanh(raw_s / self.scale)
        free = 1 - self.mask
        return s * free, t * free          # zero on the kept dimensions

    def forward(self, x):
        x = check_flow_input(x, self.D)
        s, t = self._scale_shift(x * self.mask)
        return x * s.exp() + t, s.sum(1)   # kept dims: s = t = 0, unchanged

    def inverse(self, z):
        z = check_flow_input(z, self.D)
        s, t = self._scale_shift(z * self.mask)
        return (z - t) * (-s).exp(), -s.sum(1)


class Permutation(nn.Module):
    """z = x[:, perm]: a volume-preserving shuffle between coupling layers, log|det| = 0."""

    def __init__(self, perm):
        super().__init__()
        perm = torch.as_tensor(perm, dtype=torch.long, device="cpu")
        if perm.dim() != 1 or not torch.equal(perm.sort().values, torch.arange(len(perm), device="cpu")):
            raise InvalidArgument("perm must be a permutation of 0..D-1")
        self.D = len(perm)
        self.register_buffer("perm", perm)
        self.register_buffer("inverse_perm", torch.argsort(perm))

    def forward(self, x):
        x = check_flow_input(x, self.D)
        return x[:, self.perm], x.new_zeros(len(x))

    def inverse(self, z):
        z = check_flow_input(z, self.D)
        return z[:, self.inverse_perm], z.new_zeros(len(z))


class InvertibleLinear(nn.Module):
    """Glow's invertible mixing z = x W^T with W = P L (U + diag(s)) (LU, P fixed):
    log|det W| = sum_d log|s_d|, O(D) instead of O(D^3)."""

    def __init__(self, D: int, seed: int = 0):
        super().__init__()
        self.D = check_size("D", D)
        g = torch.Generator().manual_seed(seed)
        q, _ = torch.linalg.qr(torch.randn(D, D, generator=g, device="cpu"))  # a random rotation
        P, L, U = torch.linalg.lu(q)
        self.register_buffer("P", P)
        self.L = nn.Parameter(L)
        self.U = nn.Parameter(torch.triu(U, 1))
        self.log_s = nn.Parameter(U.diagonal().abs().log())
        self.register_buffer("sign_s", U.diagonal().sign())
        eye = torch.eye(D, device="cpu")
        self.register_buffer("lower", torch.tril(torch.ones(D, D, device="cpu"), -1))
        self.register_buffer("eye", eye)

    def weight(self):
        L = self.L * self.lower + self.eye
        U = self.U * self.lower.T + torch.diag(self.sign_s * self.log_s.exp())
        return self.P @ L @ U

    def forward(self, x):
        x = check_flow_input(x, self.D)
        return x @ self.weight().T, self.log_s.sum().expand(len(x))

    def inverse(self, z):
        z = check_flow_input(z, self.D)
        return torch.linalg.solve(self.weight(), z.T).T, -self.log_s.sum().expand(len(z))


class MaskedAutoregressive(nn.Module):
    """MAF's layer, built on lecture 03's MADE masks. With (mu_d, alpha_d) computed by a MADE
    from x_<d (in the MADE's ordering):

        z_d = (x_d - mu_d(x_<d)) * exp(-alpha_d(x_<d)),   log|det dz/dx| = -sum_d alpha_d

    ``forward`` (density) is one pass; ``inverse`` (sampling) needs D passes, one new x_d each,
    because mu_d and alpha_d depend on the x_<d being produced."""

    def __init__(self, D: int, hidden=(64, 64), order=None, seed: int = 0, scale: float = 2.0):
        super().__init__()
        self.D = check_size("D", D, minimum=2)
        hidden = check_sizes("hidden", hidden)
        # lecture 03's MADE draws the connectivity; this layer keeps only its ordering and masks
        order, masks = MADE(D, hidden=hidden, order=order, seed=seed).connectivity(0)
        self.register_buffer("order", order)
        self.register_buffer("masks", torch.cat([m.flatten() for m in masks[:-1]]), persistent=False)
        self._mask_shapes = [m.shape for m in masks[:-1]]
        sizes = [D, *hidden]
        self.hidden_layers = nn.ModuleList(nn.Linear(i, o) for i, o in zip(sizes[:-1], sizes[1:]))
        # two outputs per dimension (shift and log-scale), each with output d's mask row
        self.out = nn.Linear(hidden[-1], 2 * D)
        nn.init.zeros_(self.out.weight)     # starts as the identity map
        nn.init.zeros_(self.out.bias)
        self.register_buffer("out_mask", masks[-1].repeat(2, 1), persistent=False)
        self.scale = float(scale)

    def hidden_masks(self) -> list[torch.Tensor]:
        sizes = [r * c for r, c in self._mask_shapes]
        return [m.view(shape) for m, shape in zip(self.masks.split(sizes), self._mask_shapes)]

    def _shift_log_scale(self, x):
        h = x
        for layer, mask in zip(self.hidden_layers, self.hidden_masks()):
            h = F.relu(F.linear(h, layer.weight * mask, layer.bias))
        mu, raw = F.linear(h, self.out.weight * self.out_mask, self.out.bias).chunk(2, dim=1)
        return mu, self.scale * torch.tanh(raw / self.scale)

    def forward(self, x):
        x = check_flow_input(x, self.D)
        mu, alpha = self._shift_log_scale(x)
        return (x - mu) * (-alpha).exp(), -alpha.sum(1)

    def inverse(self, z):
        z = check_flow_input(z, self.D)
        x = torch.zeros_like(z)
        column = torch.arange(self.D, device=z.device)
        for d in self.order.tolist():           # D passes: x_d needs x_<d
            mu, alpha = self._shift_log_scale(x)
            # out of place, so that gradients flow through every step (an IAF trains this way)
            x = torch.where(column == d, z * alpha.exp() + mu, x)
        mu, alpha = self._shift_log_scale(x)    # the final x's parameters, for the log-det
        return x, alpha.sum(1)


class Inverted(nn.Module):
    """A layer run backwards: ``forward`` is the inner ``inverse`` and vice versa. An IAF layer
    is ``Inverted(MaskedAutoregressive(...))``: sampling (z -> x) in one pass, density in D."""

    def __init__(self, layer: nn.Module):
        super().__init__()
        self.layer = layer
        self.D = layer.D

    def forward(self, x):
        return self.layer.inverse(x)

    def inverse(self, z):
        return self.layer.forward(z)


class Flow(nn.Module):
    """Layers f_1..f_K composed, x -> z = f_K(...f_1(x)), with a standard normal base p_Z:

        log p(x) = log N(z; 0, I) + sum_k log|det J_k|"""

    def __init__(self, layers):
        super().__init__()
        self.layers = nn.ModuleList(layers)
        if len(self.layers) == 0:
            raise InvalidArgument("a flow needs at least one layer")
        Ds = {layer.D for layer in self.layers}
        if len(Ds) != 1:
            raise InvalidArgument(f"every layer must act on the same D, got {sorted(Ds)}")
        self.D = Ds.pop()

    def forward(self, x):
        """(z, log|det dz/dx|) through every layer."""
        logdet = x.new_zeros(len(x))
        for layer in self.layers:
            x, ld = layer(x)
            logdet = logdet + ld
        return x, logdet

    def inverse(self, z):
        """(x, log|det dx/dz|) through every layer, last first."""
        logdet = z.new_zeros(len(z))
        for layer in reversed(self.layers):
            z, ld = layer.inverse(z)
            logdet = logdet + ld
        return z, logdet

    def log_prob(self, x) -> torch.Tensor:
        z, logdet = self(check_flow_input(x, self.D))
        return standard_normal_log_prob(z) + logdet

    def training_loss(self, x) -> torch.Tensor:
        return -self.log_prob(x)

    @torch.no_grad()
    def sample(self, num_samples: int, device=None, generator=None) -> torch.Tensor:
        num_samples = check_num_samples(num_samples)
        weight = next(self.parameters())
        z = torch.randn(num_samples, self.D, generator=generator, dtype=weight.dtype,
                        device=sampling_device(weight, device, generator))
        return self.inverse(z)[0]

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())


def standard_normal_log_prob(z: torch.Tensor) -> torch.Tensor:
    """log N(z; 0, I) summed over dimensions: -(z^2 + log 2 pi) / 2 per dimension, (B,)."""
    return -0.5 * (z.pow(2) + math.log(2 * math.pi)).sum(1)


def coupling_masks(D: int, num_layers: int):
    """Alternating half masks (1 0 1 0 ..., then 0 1 0 1 ...): every dimension is transformed
    by every other layer."""
    base = (torch.arange(D, device="cpu") % 2).float()
    return [base if k % 2 == 0 else 1 - base for k in range(check_size("num_layers", num_layers))]


def realnvp(D: int = 2, num_layers: int = 6, hidden=(64, 64)) -> Flow:
    """A RealNVP for low-dimensional data: coupling layers with alternating masks, an elementwise
    affine layer first (it learns the data's scale)."""
    return Flow([ElementwiseAffine(D)] + [AffineCoupling(D, m, hidden)
                                          for m in coupling_masks(D, num_layers)])


def maf(D: int, num_layers: int = 5, hidden=(64, 64), seed: int = 0) -> Flow:
    """A MAF: MADE layers with reversed orderings between them (each layer's first dimension
    is the last one's last)."""
    layers = []
    for k in range(check_size("num_layers", num_layers)):
        order = torch.arange(D, device="cpu") if k % 2 == 0 else torch.arange(D - 1, -1, -1, device="cpu")
        layers.append(MaskedAutoregressive(D, hidden, order=order, seed=seed + k))
    return Flow(layers)
