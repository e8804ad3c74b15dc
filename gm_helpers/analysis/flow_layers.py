r"""Inside a flow: the density and the samples after each of its layers, counted from the noise.

A flow maps data to noise, x -> f_K(...f_1(x)) = z, with z ~ N(0, I). Run it backwards from the
noise and stop after j inverse layers: the variable y_j = f_{K-j+1}^{-1}(...f_K^{-1}(z)) has the
density given by the change of variables through the j layers it passed,

    log p_j(y) = log N(f_K(...f_{K-j+1}(y)); 0, I) + sum_{k > K-j} log|det J_{f_k}|,

so p_0 is the base N(0, I) and p_K the model's density of x. Drawn side by side, the p_j show how
each layer bends the Gaussian, step by step, into the data's shape.
"""
from __future__ import annotations

import torch

from gm_helpers.checks import InvalidArgument
from gm_helpers.models.flows import standard_normal_log_prob


def _check_step(flow, j) -> int:
    K = len(flow.layers)
    if isinstance(j, bool) or not isinstance(j, int) or not 0 <= j <= K:
        raise InvalidArgument(f"j must be an integer from 0 to the flow's {K} layers, got {j!r}")
    return j


@torch.no_grad()
def log_density_after(flow, points: torch.Tensor, j: int) -> torch.Tensor:
    """log p_j at ``points`` (N, D): the density after the last j layers' inverses, (N,)."""
    j = _check_step(flow, j)
    y, logdet = points, points.new_zeros(len(points))
    for layer in list(flow.layers)[len(flow.layers) - j:]:   # forward through layers K-j+1..K
        y, ld = layer(y)
        logdet = logdet + ld
    return standard_normal_log_prob(y) + logdet


@torch.no_grad()
def samples_after(flow, z: torch.Tensor, j: int) -> torch.Tensor:
    """The base samples ``z`` (N, D) after j inverse layers, f_{K-j+1}^{-1}(...f_K^{-1}(z))."""
    j = _check_step(flow, j)
    for layer in reversed(list(flow.layers)[len(flow.layers) - j:]):
        z, _ = layer.inverse(z)
    return z
