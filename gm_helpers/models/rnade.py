r"""RNADE: NADE for real-valued vectors, a mixture of Gaussians per conditional.

Paper card: RNADE: The real-valued neural autoregressive density-estimator
    B. Uria, I. Murray, H. Larochelle. NeurIPS 2013. arXiv:1306.0186.
    Idea: NADE's shared hidden layer and running sum, with each conditional a mixture of K
    Gaussians whose weights, means and scales the hidden layer outputs.

    p(x) = \prod_d \sum_{k=1}^{K} \pi_{d,k}(x_{<d}) N(x_d; \mu_{d,k}(x_{<d}), \sigma_{d,k}^2(x_{<d}))
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from gm_helpers.checks import check_num_samples, check_size
from gm_helpers.models.layers import check_order, sampling_device


class RNADE(nn.Module):
    """Real-valued NADE: each conditional a mixture of K Gaussians (Uria et al. 2013).

    Same shared hidden layer and running activation as NADE; the output layer gives, for step
    t, mixing logits, means and log standard deviations of K components:
        p(x_t | x_<t) = sum_k pi_k N(x_t; mu_k, sigma_k^2),  [pi, mu, log sigma] = V_t h_t + b_t
    K = 1 is a Gaussian autoregressive model; K > 1 can put mass on several separate values.
    ``log_prob(x)``: x ``(B, D)`` real -> ``(B,)`` nats (a density: it can be positive).
    """

    def __init__(self, D: int, H: int = 64, K: int = 5, order=None):
        super().__init__()
        self.D, self.H, self.K = D, H, K = (check_size("D", D), check_size("H", H),
                                            check_size("K", K))
        self.register_buffer("order", check_order(order, D))
        self.W = nn.Parameter(torch.randn(H, D) * 0.1)
        self.c = nn.Parameter(torch.zeros(H))
        self.V = nn.Parameter(torch.randn(D, H, 3 * K) * 0.1)
        self.b = nn.Parameter(torch.cat([torch.zeros(D, K), torch.randn(D, K), torch.zeros(D, K)], 1))

    def mixture(self, x: torch.Tensor):
        """Mixture parameters of every conditional, in the model's order: 3 x (B, D, K)."""
        xo = x[:, self.order]  # (B, D)
        contrib = xo.unsqueeze(2) * self.W[:, self.order].T.unsqueeze(0)  # (B, D, H)
        h = torch.sigmoid(self.c + contrib.cumsum(1) - contrib)  # h_t from x_<t only
        out = torch.einsum("bth,thk->btk", h, self.V[self.order]) + self.b[self.order]
        logit_pi, mu, log_sigma = out.split(self.K, dim=2)  # (B, D, K) each
        return logit_pi, mu, log_sigma.clamp(-7, 5)

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        if not torch.is_tensor(x) or x.dim() != 2 or x.shape[1] != self.D:
            raise ValueError(f"expected a (B, {self.D}) tensor of real values")
        x = x.to(self.W.dtype)
        logit_pi, mu, log_sigma = self.mixture(x)
        xo = x[:, self.order].unsqueeze(2)  # (B, D, 1)
        # log N(x; mu, sigma^2) = -1/2 ((x - mu)/sigma)^2 - log sigma - 1/2 log(2 pi)
        log_normal = -0.5 * ((xo - mu) / log_sigma.exp()) ** 2 - log_sigma \
            - 0.5 * math.log(2 * math.pi)
        # log sum_k pi_k N_k, with log pi = log_softmax(logits)
        log_cond = torch.logsumexp(F.log_softmax(logit_pi, 2) + log_normal, 2)  # (B, D)
        return log_cond.sum(1)

    @torch.no_grad()
    def sample(self, num_samples: int, device=None, generator=None) -> torch.Tensor:
        num_samples = check_num_samples(num_samples)
        device = sampling_device(self.W, device, generator)
        x = torch.zeros(num_samples, self.D, device=device, dtype=self.W.dtype)
        a = self.c.expand(num_samples, self.H).clone()  # running activation (S, H)
        for d in self.order.tolist():
            out = torch.sigmoid(a) @ self.V[d] + self.b[d]  # (S, 3K)
            logit_pi, mu, log_sigma = out.split(self.K, dim=1)
            k = torch.multinomial(F.softmax(logit_pi, 1), 1, generator=generator)  # (S, 1)
            noise = torch.randn(num_samples, 1, device=device, generator=generator, dtype=x.dtype)
            x[:, d] = (mu.gather(1, k) + log_sigma.clamp(-7, 5).gather(1, k).exp() * noise)[:, 0]
            a += x[:, d:d + 1] * self.W[:, d]
        return x
