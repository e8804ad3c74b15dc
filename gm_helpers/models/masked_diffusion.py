r"""Masked (absorbing-state) diffusion for binary images: an any-order autoregressive model.

Paper cards:
    J. Austin, D. D. Johnson, J. Ho, D. Tarlow, R. van den Berg, "Structured denoising diffusion
        models in discrete state-spaces" (D3PM), NeurIPS 2021, arXiv:2107.03006. Idea: a forward
        chain that replaces pixels by an absorbing MASK state; the reverse chain unmasks them.
    E. Hoogeboom, A. A. Gritsenko, J. Bastings, B. Poole, R. van den Berg, T. Salimans,
        "Autoregressive diffusion models" (ARDM), ICLR 2022, arXiv:2110.02037; and B. Uria,
        I. Murray, H. Larochelle, "A deep and tractable density estimator", ICML 2014,
        arXiv:1310.1757 (order-agnostic NADE). Idea: that ELBO is the expected NLL of an
        autoregressive model over a uniformly random ordering, so one network serves every order.

With D pixels, sigma a uniformly random ordering and m ~ U{1..D} the number still masked:

    -log p(x) <= E_sigma[ -log p_sigma(x) ] = E_sigma sum_{t=1}^D -log p(x_sigma(t) | x_sigma(<t))
              = D E_m (1/m) E_{M : |M| = m} sum_{d in M} -log p(x_d | x_{not M})

(one term of the sum for a random order and step, times D; the masked set M of a random order's
remaining pixels is a uniformly random m-subset). The network sees the unmasked pixels and the
mask, and gives a Bernoulli logit for every pixel.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from gm_helpers.checks import InvalidArgument, check_num_samples, check_size, check_sizes
from gm_helpers.models.layers import check_order, flatten_binary, sampling_device
from gm_helpers.models.unet import UNet
from gm_helpers.models.vae import mlp


class MaskedDiffusion(nn.Module):
    """Any-order binary image model, (B, 784) or (B, 1, 28, 28) binary input.

    ``logits(x, masked)``: (B, D) Bernoulli logits of every pixel given the unmasked ones.
    ``training_loss(x)``: a one-draw estimate of the bound, (B,). ``nll_bound(x, num_draws)``:
    its average over ``num_draws`` stratified draws of m. ``order_nll(x, order)``: the exact NLL
    of the autoregressive model along one fixed order (D passes).
    """

    eval_batch_size = 100  # the training CLI's validation: 100 digits per pass, not 1,000

    def __init__(self, D: int = 784, widths=(32, 64), blocks: int = 1, hidden=None):
        super().__init__()
        self.D = check_size("D", D)
        self.config = dict(D=D, widths=list(widths), blocks=blocks, hidden=hidden)
        if hidden is None:   # images: the course's U-Net, no time input
            if D != 784:
                raise InvalidArgument(f"the U-Net takes 28x28 digits (D = 784), got D = {D}; "
                                      "give hidden=[...] for an MLP on other sizes")
            self.net = UNet(2, 1, widths, blocks, time_embedding=False)
        else:                # any D (the tests' tiny models): an MLP on [visible, mask]
            self.net = mlp([2 * D, *check_sizes("hidden", hidden), D], "relu")

    def logits(self, x: torch.Tensor, masked: torch.Tensor) -> torch.Tensor:
        """x (B, D) in {0, 1}, masked (B, D) bool -> logits (B, D); masked pixels are hidden."""
        # input: the visible pixels as +-1 (0 where masked), and the mask itself
        visible = torch.where(masked, torch.zeros_like(x), 2 * x - 1)
        if isinstance(self.net, UNet):
            h = torch.stack([visible, masked.to(x.dtype)], 1).view(len(x), 2, 28, 28)  # (B, 2, 28, 28)
            return self.net(h).view(len(x), self.D)
        return self.net(torch.cat([visible, masked.to(x.dtype)], 1))  # (B, 2D) -> (B, D)

    def check_input(self, x) -> torch.Tensor:
        """(B, D) binary floats in the parameters' dtype, with clear errors for anything else."""
        return flatten_binary(x, self.D).to(next(self.parameters()).dtype)

    def random_masks(self, B: int, m: torch.Tensor, device, generator=None) -> torch.Tensor:
        """(B, D) bool: for row b a uniformly random subset of m[b] pixels."""
        scores = torch.rand(B, self.D, device=device, generator=generator)
        # the m smallest of D uniform scores are a uniform m-subset: rank < m
        ranks = scores.argsort(1).argsort(1)
        return ranks < m[:, None]

    def bound_terms(self, x: torch.Tensor, m: torch.Tensor, generator=None) -> torch.Tensor:
        """(D / m) sum_{d in M} -log p(x_d | x_{not M}) for a random m-subset M per row, (B,)."""
        masked = self.random_masks(len(x), m, x.device, generator)
        nll = F.binary_cross_entropy_with_logits(self.logits(x, masked), x, reduction="none")
        return self.D / m.float() * (nll * masked).sum(1)

    def training_loss(self, x: torch.Tensor) -> torch.Tensor:
        x = self.check_input(x)
        m = torch.randint(1, self.D + 1, (len(x),), device=x.device)
        return self.bound_terms(x, m)

    @torch.no_grad()
    def nll_bound(self, x: torch.Tensor, num_draws: int = 16, generator=None) -> torch.Tensor:
        """The bound averaged over ``num_draws`` draws of m per image, stratified (one m from each
        of ``num_draws`` equal slices of 1..D), (B,): an unbiased estimate of the ELBO's NLL."""
        x = self.check_input(x)
        n = check_size("num_draws", num_draws, maximum=self.D)
        edges = torch.linspace(0, self.D, n + 1).round().long().tolist()
        total = torch.zeros(len(x), dtype=torch.float64, device=x.device)
        for lo, hi in zip(edges[:-1], edges[1:]):
            u = torch.rand(len(x), generator=generator).to(x.device)
            m = lo + 1 + (u * (hi - lo)).long().clamp(max=hi - lo - 1)   # uniform on lo+1..hi
            total += (hi - lo) / self.D * self.bound_terms(x, m, generator).double()  # slice's share
        return total.to(x.dtype)

    @torch.no_grad()
    def log_prob(self, x: torch.Tensor, num_samples: int = 16) -> torch.Tensor:
        """Minus the stratified bound with ``num_samples`` draws: a lower bound on log p(x) in
        expectation (what the training CLI's final evaluation calls)."""
        return -self.nll_bound(x, num_samples)

    @torch.no_grad()
    def order_nll(self, x: torch.Tensor, order=None) -> torch.Tensor:
        """The exact NLL of the autoregressive model along ``order`` ("raster", "random:SEED" or a
        permutation): sum_t -log p(x_order(t) | x_order(<t)), D network passes, (B,)."""
        x = self.check_input(x)
        order = check_order(order, self.D).to(x.device)
        masked = torch.ones_like(x, dtype=torch.bool)
        total = torch.zeros(len(x), dtype=x.dtype, device=x.device)
        for d in order.tolist():
            logit = self.logits(x, masked)[:, d]
            total += F.binary_cross_entropy_with_logits(logit, x[:, d], reduction="none")
            masked[:, d] = False
        return total

    @torch.no_grad()
    def sample(self, num_samples: int, steps: int = 784, device=None, generator=None,
               trajectory: bool = False):
        """Unmask a random order of pixels in ``steps`` rounds, drawing each round's pixels from
        their Bernoulli conditionals given the pixels drawn before: steps = D is exact
        autoregressive sampling in a random order; fewer steps draw several pixels at once, as if
        independent given the rest (faster, an approximation). (S, D), and with trajectory=True
        also the list of (x, masked) after every round."""
        S = check_num_samples(num_samples)
        steps = check_size("steps", steps, maximum=self.D)
        device = sampling_device(next(self.parameters()), device, generator)
        x = torch.zeros(S, self.D, device=device, dtype=next(self.parameters()).dtype)
        masked = torch.ones(S, self.D, dtype=torch.bool, device=device)
        rank = torch.rand(S, self.D, device=device, generator=generator).argsort(1).argsort(1)
        cuts = torch.linspace(0, self.D, steps + 1).round().long().tolist()
        path = [(x.clone(), masked.clone())] if trajectory else None
        for lo, hi in zip(cuts[:-1], cuts[1:]):
            reveal = (rank >= lo) & (rank < hi)                  # this round's pixels
            p = torch.sigmoid(self.logits(x, masked))
            draw = (torch.rand(S, self.D, device=device, generator=generator) < p).float()
            x = torch.where(reveal, draw, x)
            masked = masked & ~reveal
            if trajectory:
                path.append((x.clone(), masked.clone()))
        return (x, path) if trajectory else x

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

