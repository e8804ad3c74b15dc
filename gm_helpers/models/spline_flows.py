r"""Neural spline flows: coupling layers whose elementwise map is a monotone rational-quadratic spline.

Paper card: C. Durkan, A. Bekasov, I. Murray, G. Papamakarios, "Neural Spline Flows",
    NeurIPS 2019. arXiv:1906.04140.
    Idea: an affine coupling can only shift and scale each free dimension; replace that map by a
    monotone spline of K rational-quadratic pieces on [-B, B] (the identity outside), whose bin
    widths, heights and knot derivatives the conditioner network outputs. Still elementwise, so
    the Jacobian stays triangular; still invertible in closed form (a quadratic per element);
    flexible enough to split one Gaussian bump into many modes.

In bin k, with knots (x_k, y_k), width w_k, height h_k, slope s_k = h_k / w_k, knot derivatives
d_k, d_{k+1} and xi = (x - x_k) / w_k in [0, 1]:

    y = y_k + h_k (s_k xi^2 + d_k xi (1 - xi)) / (s_k + (d_{k+1} + d_k - 2 s_k) xi (1 - xi))
    dy/dx = s_k^2 (d_{k+1} xi^2 + 2 s_k xi (1 - xi) + d_k (1 - xi)^2)
            / (s_k + (d_{k+1} + d_k - 2 s_k) xi (1 - xi))^2
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from gm_helpers.checks import InvalidArgument, check_size, check_sizes
from gm_helpers.models.flows import ElementwiseAffine, Flow, check_flow_input, coupling_masks
from gm_helpers.models.vae import mlp

MIN_BIN, MIN_DERIVATIVE = 1e-3, 1e-3


def _knots(raw_widths, raw_heights, raw_derivatives, bound: float):
    """Bin edges (x, y) and knot derivatives from unconstrained network outputs (..., K), (..., K-1)."""
    K = raw_widths.shape[-1]
    widths = MIN_BIN + (1 - MIN_BIN * K) * F.softmax(raw_widths, -1)
    heights = MIN_BIN + (1 - MIN_BIN * K) * F.softmax(raw_heights, -1)
    x = F.pad(torch.cumsum(widths, -1), (1, 0)) * 2 * bound - bound   # (..., K + 1) from -B to B
    y = F.pad(torch.cumsum(heights, -1), (1, 0)) * 2 * bound - bound
    x[..., -1], y[..., -1] = bound, bound
    inner = MIN_DERIVATIVE + F.softplus(raw_derivatives)
    ones = torch.ones_like(inner[..., :1])                             # slope 1 at +-B: identity tails
    return x, y, torch.cat([ones, inner, ones], -1)


def rational_quadratic_spline(inputs, raw_widths, raw_heights, raw_derivatives, bound: float = 3.0,
                              inverse: bool = False):
    """The spline (or its inverse) elementwise, and log|d output / d input| elementwise.
    ``inputs`` (...,); raw parameters (..., K), (..., K), (..., K - 1). Identity outside [-B, B]."""
    inside = (inputs > -bound) & (inputs < bound)
    x, y, d = _knots(raw_widths, raw_heights, raw_derivatives, bound)
    edges = y if inverse else x
    k = (torch.searchsorted(edges[..., 1:-1].contiguous(), inputs.clamp(-bound, bound)[..., None])
         .clamp(0, edges.shape[-1] - 2))                               # (..., 1): the bin

    def pick(t):
        return t.gather(-1, k)[..., 0]

    x_k, y_k, w, h = pick(x), pick(y), pick(x[..., 1:] - x[..., :-1]), pick(y[..., 1:] - y[..., :-1])
    d_k, d_k1 = pick(d[..., :-1]), pick(d[..., 1:])
    s = h / w
    if inverse:
        dy = inputs.clamp(-bound, bound) - y_k
        a = h * (s - d_k) + dy * (d_k1 + d_k - 2 * s)
        b = h * d_k - dy * (d_k1 + d_k - 2 * s)
        c = -s * dy
        xi = (2 * c) / (-b - torch.sqrt((b * b - 4 * a * c).clamp_min(0)))
        outputs = xi * w + x_k
    else:
        xi = (inputs.clamp(-bound, bound) - x_k) / w
        outputs = y_k + h * (s * xi ** 2 + d_k * xi * (1 - xi)) / (s + (d_k1 + d_k - 2 * s) * xi * (1 - xi))
    one_minus = 1 - xi
    denominator = s + (d_k1 + d_k - 2 * s) * xi * one_minus
    log_derivative = (2 * torch.log(s) + torch.log(d_k1 * xi ** 2 + 2 * s * xi * one_minus
                                                    + d_k * one_minus ** 2) - 2 * torch.log(denominator))
    if inverse:
        log_derivative = -log_derivative
    outputs = torch.where(inside, outputs, inputs)
    return outputs, torch.where(inside, log_derivative, torch.zeros_like(log_derivative))


class SplineCoupling(nn.Module):
    """A coupling layer with a rational-quadratic spline of ``bins`` pieces on [-bound, bound] for
    each free dimension (mask 0), its parameters computed from the kept ones (mask 1)."""

    def __init__(self, D: int, mask, hidden=(64, 64), bins: int = 16, bound: float = 3.0):
        super().__init__()
        self.D, self.K = check_size("D", D), check_size("bins", bins, minimum=2)
        mask = torch.as_tensor(mask, dtype=torch.float32, device="cpu")   # even under a meta device
        if mask.shape != (D,) or not ((mask == 0) | (mask == 1)).all() or mask.sum() in (0, D):
            raise InvalidArgument(f"mask must be D = {D} zeros and ones, some of each")
        self.register_buffer("mask", mask)
        self.free = int(D - mask.sum())
        self.net = mlp([D, *check_sizes("hidden", hidden), self.free * (3 * bins - 1)], "relu")
        nn.init.zeros_(self.net[-1].weight)    # equal bins, unit derivatives: near the identity
        nn.init.zeros_(self.net[-1].bias)
        self.bound = float(bound)

    def _transform(self, x, inverse: bool):
        x = check_flow_input(x, self.D)
        free = self.mask == 0
        params = self.net(x * self.mask).view(len(x), self.free, 3 * self.K - 1)
        w, h, d = params.split([self.K, self.K, self.K - 1], -1)
        y_free, logdet = rational_quadratic_spline(x[:, free], w, h, d, self.bound, inverse)
        y = x.clone()
        y[:, free] = y_free
        return y, logdet.sum(1)

    def forward(self, x):
        return self._transform(x, inverse=False)

    def inverse(self, z):
        return self._transform(z, inverse=True)


def spline_flow(D: int = 2, num_layers: int = 4, hidden=(64, 64), bins: int = 16,
                bound: float = 3.0) -> Flow:
    """An elementwise affine layer (it learns the data's scale) and spline couplings with
    alternating masks."""
    return Flow([ElementwiseAffine(D)] + [SplineCoupling(D, m, hidden, bins, bound)
                                          for m in coupling_masks(D, num_layers)])
