"""Autoregressive models of binary vectors with neural conditionals.

Paper card: FVSBN, the fully visible sigmoid belief network
    B. J. Frey, "Graphical models for machine learning and digital communication", MIT Press
    1998; benchmarked in H. Larochelle & I. Murray, "The Neural Autoregressive Distribution
    Estimator", AISTATS 2011 (97.45 nats on binarized MNIST).
    Idea: keep the exact chain rule, but replace each conditional table (2**(d-1) numbers) by
    a logistic regression on the pixels before it: D(D+1)/2 parameters instead of 2**D - 1.

    p(x) = \\prod_{d=1}^{D} p(x_d | x_{<d}),
    p(x_d = 1 | x_{<d}) = \\sigma(b_d + \\sum_{j<d} W_{dj} x_j)

The ordering says which pixel is "before" which: ``order[t]`` is the pixel visited at step t.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F


def check_order(order, D: int) -> torch.Tensor:
    """``order`` as a LongTensor permutation of range(D); None means raster order."""
    if order is None:
        return torch.arange(D)
    order = torch.as_tensor(order)
    if order.dim() != 1 or order.dtype.is_floating_point or \
            not torch.equal(order.sort().values, torch.arange(D)):
        raise ValueError(f"order must be a permutation of range({D}), got {order.tolist()[:12]}")
    return order.long()


def flatten_binary(x: torch.Tensor, D: int) -> torch.Tensor:
    """``(B, 1, H, W)`` or ``(B, D)`` binary images -> ``(B, D)`` floats, with clear errors."""
    if not torch.is_tensor(x):
        raise TypeError(f"x must be a torch.Tensor, got {type(x).__name__}")
    x = x.reshape(x.shape[0], -1) if x.dim() > 2 else x  # (B, D); B may be 0
    if x.dim() != 2 or x.shape[1] != D:
        raise ValueError(f"expected {D} variables per example, got shape {tuple(x.shape)}")
    if not ((x == 0) | (x == 1)).all():
        raise ValueError("expected binary data: every pixel must be 0 or 1")
    return x.float()


class FVSBN(nn.Module):
    """Logistic autoregression over D binary variables.

    ``log_prob(x)``: x ``(B, D)`` or ``(B, 1, H, W)`` -> ``(B,)`` nats.
    ``sample(num_samples)`` -> ``(S, D)``: D passes, one new pixel each.
    """

    def __init__(self, D: int = 784, order=None):
        super().__init__()
        self.D = D
        order = check_order(order, D)
        rank = torch.empty(D, dtype=torch.long)
        rank[order] = torch.arange(D)  # rank[i] = step at which pixel i is visited
        self.register_buffer("order", order)
        # mask[d, j] = 1 iff pixel j comes before pixel d: strictly lower triangular in the order
        self.register_buffer("mask", (rank[None, :] < rank[:, None]).float())  # (D, D)
        self.W = nn.Parameter(torch.zeros(D, D))
        self.b = nn.Parameter(torch.zeros(D))

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        # a_d = b_d + sum_{j before d} W_dj x_j, for every d in one matrix product
        return x @ (self.W * self.mask).T + self.b  # (B, D)

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        x = flatten_binary(x, self.D).to(self.W.dtype)  # (B, D), the weights' dtype
        # log p(x) = sum_d x_d log s(a_d) + (1 - x_d) log(1 - s(a_d)) = -BCE(a, x)
        return -F.binary_cross_entropy_with_logits(self.logits(x), x, reduction="none").sum(1)

    @torch.no_grad()
    def sample(self, num_samples: int, device=None, generator=None) -> torch.Tensor:
        """Ancestral sampling in the model's order: D sequential steps (slow by nature)."""
        device = device or self.W.device
        W = (self.W * self.mask).to(device)  # (D, D)
        x = torch.zeros(num_samples, self.D, device=device, dtype=self.W.dtype)  # (S, D)
        for d in self.order.tolist():
            # only row d is needed: a_d = b_d + sum_{j before d} W_dj x_j, O(S D) per step
            p = torch.sigmoid(x @ W[d] + self.b[d])  # (S,) uses only pixels already drawn
            x[:, d] = torch.bernoulli(p, generator=generator)
        return x

    def num_params(self) -> int:
        """Free parameters: the D biases and the D(D-1)/2 unmasked weights."""
        return int(self.mask.sum().item()) + self.D

    @torch.no_grad()
    def init_biases(self, x: torch.Tensor) -> None:
        """Start from the independent model: b_d = logit of pixel d's mean (clamped)."""
        mean = flatten_binary(x, self.D).mean(0).clamp(1e-3, 1 - 1e-3)
        self.b.copy_(torch.log(mean) - torch.log1p(-mean))
