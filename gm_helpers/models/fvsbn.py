"""FVSBN: the fully visible sigmoid belief network, a logistic regression per pixel.

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

from gm_helpers.checks import check_num_samples, check_size
from gm_helpers.models.layers import (
    bernoulli_log_prob,
    check_order,
    flatten_binary,
    logit_of_mean,
    sampling_device,
)


class FVSBN(nn.Module):
    """Logistic autoregression over D binary variables.

    ``log_prob(x)``: x ``(B, D)`` or ``(B, 1, H, W)`` -> ``(B,)`` nats.
    ``sample(num_samples)`` -> ``(S, D)``: D passes, one new pixel each.
    """

    def __init__(self, D: int = 784, order=None):
        super().__init__()
        self.D = D = check_size("D", D)
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
        return bernoulli_log_prob(self.logits(x), x)  # (B,)

    @torch.no_grad()
    def sample(self, num_samples: int, device=None, generator=None) -> torch.Tensor:
        """Ancestral sampling in the model's order: D sequential steps (slow by nature)."""
        num_samples = check_num_samples(num_samples)
        device = sampling_device(self.W, device, generator)
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
        """Start from the independent model: b_d = logit of pixel d's mean."""
        self.b.copy_(logit_of_mean(x, self.D))
