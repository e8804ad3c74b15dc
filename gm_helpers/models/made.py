r"""MADE: the masked autoencoder for distribution estimation.

Paper card: MADE: Masked Autoencoder for Distribution Estimation
    M. Germain, K. Gregor, I. Murray, H. Larochelle. ICML 2015. arXiv:1502.03509.
    Idea: take an ordinary autoencoder and zero some of its weights with binary masks so that
    output d depends only on the inputs before d in an ordering: its outputs are then the
    conditionals of the chain rule, all of them in one forward pass. Drawing new masks (and
    orderings) during training gives an ensemble in one network.

    p(x) = \prod_d p(x_d | x_{<d}),   p(x_d = 1 | x_{<d}) = \sigma(\mathrm{logits}_d(x))
    with (W^1 \odot M^1), ..., (W^L \odot M^L) so that \partial \mathrm{logits}_d / \partial x_j = 0
    for every j not before d
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from gm_helpers.checks import (
    InvalidArgument,
    check_num_samples,
    check_size,
    check_sizes,
)
from gm_helpers.models.layers import bernoulli_log_prob, check_order, flatten_binary, sampling_device


class MADE(nn.Module):
    """The Masked Autoencoder for Distribution Estimation over D binary variables.

    An MLP x -> logits whose weight matrices are multiplied by binary masks, so that output d
    sees only inputs before d in the ordering. Each unit k gets a connectivity number m(k):
        inputs: m(d) = position of x_d in the order (1..D)
        hidden: m(k) ~ Uniform{min m(previous layer), ..., D - 1}
        mask (hidden k <- unit j)  = [m(k) >= m(j)];   mask (output d <- unit k) = [m(d) > m(k)]
    With ``num_masks`` > 1 each training call draws the next of ``num_masks`` connectivities
    (and orderings, if ``order_agnostic``): one network, an ensemble of models. At test time
    ``log_prob`` averages *probabilities* over the masks: log (1/K sum_k p_k(x)).
    """

    def __init__(self, D: int = 784, hidden=(500,), num_masks: int = 1, order=None,
                 order_agnostic: bool = False, seed: int = 0):
        super().__init__()
        hidden = check_sizes("hidden", hidden, allow_empty=True)
        # hidden units take connectivity numbers 1..D-1: with hidden layers, D must be >= 2
        D = check_size("D", D, minimum=2 if hidden else 1)
        self.D, self.hidden, self.num_masks = D, hidden, check_size("num_masks", num_masks)
        if not isinstance(order_agnostic, bool):
            raise InvalidArgument(f"order_agnostic must be True or False, got {order_agnostic!r}")
        self.order_agnostic, self.seed = order_agnostic, check_size("seed", seed, minimum=0)
        self.register_buffer("base_order", check_order(order, D))
        sizes = [D, *self.hidden, D]
        self.layers = nn.ModuleList(nn.Linear(i, o) for i, o in zip(sizes[:-1], sizes[1:]))
        self.mask_index = 0
        self.set_mask(0)

    def connectivity(self, k: int, return_numbers: bool = False):
        """Ordering and masks of mask number k, drawn from a generator seeded with seed + k
        (and the connectivity numbers m of every layer, if ``return_numbers``)."""
        k = self._mask_number(k)
        g = torch.Generator().manual_seed(self.seed + k)
        cpu = torch.device("cpu")   # on the CPU even when built on the meta device
        order = torch.randperm(self.D, generator=g, device=cpu) if self.order_agnostic and k > 0 \
            else self.base_order.cpu()
        m = [torch.empty(self.D, dtype=torch.long, device=cpu)]
        m[0][order] = torch.arange(1, self.D + 1, device=cpu)  # m(input d) = its position, 1..D
        for size in self.hidden:
            low = int(m[-1].min()) if len(m) > 1 else 1
            m.append(torch.randint(low, self.D, (size,), generator=g, device=cpu))  # [low, D - 1]
        masks = [(m_out[:, None] >= m_in[None, :]) for m_in, m_out in zip(m[:-1], m[1:])]
        masks.append(m[0][:, None] > m[-1][None, :])  # output d sees units with m(k) < m(d)
        masks = [mask.float() for mask in masks]
        return (order, masks, m) if return_numbers else (order, masks)

    def _mask_number(self, k) -> int:
        """A mask number in 0..num_masks-1 (an error otherwise: never silently wrapped)."""
        return check_size("mask", k, minimum=0, maximum=self.num_masks - 1)

    def set_mask(self, k: int) -> None:
        self.mask_index = self._mask_number(k)
        order, masks = self.connectivity(self.mask_index)
        device = self.layers[0].weight.device
        self.order = order.to(device)
        self.masks = [mask.to(device) for mask in masks]  # plain attributes: rebuilt, not saved

    def get_extra_state(self) -> dict:
        """Saved in ``state_dict``: which mask training uses next, so a resumed run goes on
        exactly where it stopped (the masks themselves are rebuilt from the seed)."""
        return {"mask_index": self.mask_index}

    def set_extra_state(self, state: dict) -> None:
        self.set_mask(int(state["mask_index"]))

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        h = x  # (B, D)
        for i, (layer, mask) in enumerate(zip(self.layers, self.masks)):
            mask = mask.to(layer.weight)  # follows the model's device and dtype
            h = F.linear(h, layer.weight * mask, layer.bias)  # masked weights: (out, in)
            if i < len(self.layers) - 1:
                h = F.relu(h)
        return h  # (B, D)

    def log_prob(self, x: torch.Tensor, masks=None) -> torch.Tensor:
        """Training: the next mask's log p(x). Evaluation: log-mean-exp over ``masks``
        (default: all ``num_masks``), an average of probabilities, never of logits."""
        x = flatten_binary(x, self.D).to(self.layers[0].weight.dtype)  # (B, D)
        if self.training and masks is None:
            if self.num_masks > 1:
                self.set_mask((self.mask_index + 1) % self.num_masks)   # the next mask, cyclically
            return self._log_prob_current(x)
        masks = range(self.num_masks) if masks is None else [self._mask_number(k) for k in masks]
        if len(masks) == 0:
            raise InvalidArgument("masks must name at least one mask")
        logps = []
        for k in masks:
            self.set_mask(k)
            logps.append(self._log_prob_current(x))
        logps = torch.stack(logps)  # (K, B)
        # log (1/K sum_k p_k(x)) = logsumexp_k log p_k(x) - log K
        return torch.logsumexp(logps, 0) - math.log(len(logps))

    def _log_prob_current(self, x):
        return bernoulli_log_prob(self.logits(x), x)  # (B,)

    @torch.no_grad()
    def sample(self, num_samples: int, device=None, generator=None, mask: int = 0):
        """D passes through the network, one new pixel each (in mask ``mask``'s order)."""
        num_samples = check_num_samples(num_samples)
        self.set_mask(mask)
        weight = self.layers[0].weight
        x = torch.zeros(num_samples, self.D, device=sampling_device(weight, device, generator),
                        dtype=weight.dtype)
        for d in self.order.tolist():
            x[:, d] = torch.bernoulli(torch.sigmoid(self.logits(x)[:, d]), generator=generator)
        return x

    @torch.no_grad()
    def sample_incremental(self, num_samples: int, device=None, generator=None, mask: int = 0):
        """The samples of ``sample`` (the same draws for the same generator), at the cost of
        about one forward pass instead of D.

        ``sample`` recomputes every hidden unit for each of the D pixels, although a hidden unit
        of degree m(k) cannot change once the pixels at positions 1..m(k) are drawn. Here each
        layer's pre-activations are running sums (as in NADE): a drawn pixel adds its column of
        the first masked weight matrix, and a unit that has just become final (its degree is the
        position just drawn) adds its column to the next layer, once.
        """
        num_samples = check_num_samples(num_samples)
        if self._mask_number(mask) != self.mask_index:
            self.set_mask(mask)
        weight = self.layers[0].weight
        device = sampling_device(weight, device, generator)
        W = [layer.weight.to(device) for layer in self.layers]   # (out, in), masked as used
        M = [mask.to(W[0]) for mask in self.masks]
        b = [layer.bias.to(device) for layer in self.layers]
        W_in = (W[0] * M[0]).T.contiguous()  # (D, H_1): pixel d's masked column as a row
        x = torch.zeros(num_samples, self.D, device=device, dtype=weight.dtype)  # (S, D)
        a = [b_l.expand(num_samples, -1).clone() for b_l in b[:-1]]  # (S, H_l) running sums
        # the units of hidden layer l that become final when position p is drawn: m_l(k) == p
        m = self.connectivity(self.mask_index, return_numbers=True)[2] if len(a) > 1 else []
        final = [[torch.nonzero(m_l == p).flatten().to(device) for p in range(self.D + 1)]
                 for m_l in m[1:-1]]
        for p, d in enumerate(self.order.tolist(), start=1):
            h = F.relu(a[-1]) if a else x  # last hidden layer; units not yet final are masked
            logit = h @ (W[-1][d] * M[-1][d]) + b[-1][d]  # (S,): sees units of degree < p only
            x[:, d] = torch.bernoulli(torch.sigmoid(logit), generator=generator)
            if not a:
                continue
            a[0] += x[:, d, None] * W_in[d]  # the new pixel enters layer 1: (S, H_1)
            for l in range(1, len(a)):  # units of layer l-1 finished by it feed layer l, once
                idx = final[l - 1][p]
                if len(idx):
                    a[l] += F.relu(a[l - 1][:, idx]) @ (W[l][:, idx] * M[l][:, idx]).T
        return x

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())
