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

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from gm_helpers.checks import (InvalidArgument, check_num_samples, check_size,
                               check_sizes)


def check_order(order, D: int) -> torch.Tensor:
    """``order`` as a LongTensor permutation of range(D).

    None or ``"raster"``: 0, 1, ..., D-1. ``"random:SEED"``: a fixed random permutation (a short
    string, so a checkpoint's config stays readable). Or any permutation of range(D).
    """
    if order is None or order == "raster":
        return torch.arange(D, device="cpu")
    if isinstance(order, str):
        if not order.startswith("random:") or not order[7:].isdigit():
            raise ValueError(f"order must be 'raster', 'random:SEED' or a permutation, got {order!r}")
        return torch.randperm(D, generator=torch.Generator().manual_seed(int(order[7:])), device="cpu")
    order = torch.as_tensor(order, device="cpu")
    if order.dim() != 1 or order.dtype.is_floating_point or \
            not torch.equal(order.sort().values, torch.arange(D, device="cpu")):
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


def logit_of_mean(x: torch.Tensor, D: int) -> torch.Tensor:
    """log(p / (1 - p)) of each pixel's mean over the data x, clamped away from 0 and 1."""
    mean = flatten_binary(x, D).mean(0).clamp(1e-3, 1 - 1e-3)  # (D,)
    return torch.log(mean) - torch.log1p(-mean)


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
        return -F.binary_cross_entropy_with_logits(self.logits(x), x, reduction="none").sum(1)

    @torch.no_grad()
    def sample(self, num_samples: int, device=None, generator=None) -> torch.Tensor:
        """Ancestral sampling in the model's order: D sequential steps (slow by nature)."""
        num_samples = check_num_samples(num_samples)
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
        """Start from the independent model: b_d = logit of pixel d's mean."""
        self.b.copy_(logit_of_mean(x, self.D))


class NADE(nn.Module):
    """The Neural Autoregressive Distribution Estimator over D binary variables.

    One hidden layer shared by every conditional (in the model's order, t = 1..D):
        h_t = sigmoid(c + W[:, <t] x_<t)          (H,)
        p(x_t = 1 | x_<t) = sigmoid(b_t + V_t . h_t)
    Parameters 2HD + H + D, and one forward pass is O(HD) thanks to the running sum
        a_1 = c,   a_{t+1} = a_t + W[:, t] x_t,   h_t = sigmoid(a_t).

    ``log_prob(x)``: x ``(B, D)`` or ``(B, 1, H, W)`` -> ``(B,)`` nats.
    """

    def __init__(self, D: int = 784, H: int = 500, order=None):
        super().__init__()
        self.D, self.H = D, H = check_size("D", D), check_size("H", H)
        self.register_buffer("order", check_order(order, D))
        self.W = nn.Parameter(torch.randn(H, D) * 0.01)  # input -> hidden, column t = x_t
        self.c = nn.Parameter(torch.zeros(H))
        self.V = nn.Parameter(torch.randn(D, H) * 0.01)  # hidden -> output, row t = p(x_t)
        self.b = nn.Parameter(torch.zeros(D))

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """All D conditionals in one pass, streamed in K chunks of C ~ sqrt(D) steps.

        The running sum a_t = c + sum_{s<t} x_s W[:, s] is carried across chunks as one (B, H)
        vector; inside chunk k, the earlier steps of the chunk add a C x C strictly
        lower-triangular matrix product:
            a_t = acc_k + sum_{s<t, s in k} x_s W[:, s],   acc_{k+1} = acc_k + sum_{s in k} x_s W[:, s]
        Same numbers as the plain cumsum over a (B, D, H) tensor (``logits_cumsum``), but only
        a (B, C, H) block of pre-activations exists at a time, small enough to stay in the CPU's
        cache. This work is limited by memory traffic, so that is faster (here about 3x in
        training, 5x in evaluation) despite 15x the multiply-adds (lecture 3 times it).
        """
        B, D, H = x.shape[0], self.D, self.H
        C = math.isqrt(D - 1) + 1  # chunk length; K chunks, the last one padded with zeros
        K = -(-D // C)
        xo = F.pad(x[:, self.order], (0, K * C - D)).view(B, K, C)  # (B, K, C), model's order
        Wo = F.pad(self.W[:, self.order], (0, K * C - D)).T.reshape(K, C, H)  # (K, C, H)
        Vo = F.pad(self.V[self.order], (0, 0, 0, K * C - D)).view(K, C, H)  # (K, C, H)
        lower = torch.ones(C, C, dtype=x.dtype, device=x.device).tril(-1)  # [s < t] in a chunk
        acc = self.c.expand(B, H)  # (B, H): c + every step before the current chunk
        chunks = []
        for k in range(K):
            xk = xo[:, k]  # (B, C)
            a = acc.unsqueeze(1) + (xk.unsqueeze(1) * lower) @ Wo[k]  # (B, C, H)
            chunks.append((torch.sigmoid(a) * Vo[k]).sum(2))  # (B, C): V_t . h_t
            acc = acc + xk @ Wo[k]  # (B, H): the chunk's total joins the running sum
        # logit_t = b_t + V_t . h_t
        logits_o = torch.cat(chunks, 1)[:, :D] + self.b[self.order]  # (B, D), model's order
        logits = torch.empty_like(logits_o)
        logits[:, self.order] = logits_o  # back to the pixels' own positions
        return logits

    def logits_cumsum(self, x: torch.Tensor) -> torch.Tensor:
        """The same logits from the running sum written plainly, one cumsum over (B, D, H)."""
        xo = x[:, self.order]  # (B, D), in the model's order
        contrib = xo.unsqueeze(2) * self.W[:, self.order].T.unsqueeze(0)  # (B, D, H): x_t W[:, t]
        a = self.c + contrib.cumsum(1) - contrib  # a_t = c + sum_{s<t} x_s W[:, s]
        h = torch.sigmoid(a)  # (B, D, H): one hidden vector per conditional
        logits_o = torch.einsum("bth,th->bt", h, self.V[self.order]) + self.b[self.order]
        logits = torch.empty_like(logits_o)  # (B, D)
        logits[:, self.order] = logits_o
        return logits

    def logits_naive(self, x: torch.Tensor) -> torch.Tensor:
        """The same logits with one matrix product per dimension: O(H D^2). For testing."""
        logits = torch.empty_like(x)
        for t, d in enumerate(self.order.tolist()):
            before = self.order[:t]
            h = torch.sigmoid(self.c + x[:, before] @ self.W[:, before].T)  # (B, H)
            logits[:, d] = h @ self.V[d] + self.b[d]
        return logits

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        x = flatten_binary(x, self.D).to(self.W.dtype)  # (B, D)
        return -F.binary_cross_entropy_with_logits(self.logits(x), x, reduction="none").sum(1)

    @torch.no_grad()
    def sample(self, num_samples: int, device=None, generator=None, given=None,
               num_given: int = 0) -> torch.Tensor:
        """Ancestral sampling with the running activation: D steps of O(H) each per sample.

        Completion: the first ``num_given`` pixels in the order are copied from ``given``
        ``(S, D)`` (e.g. the upper half of digits, in raster order) and the rest are sampled.
        """
        num_samples = check_num_samples(num_samples)
        num_given = check_size("num_given", num_given, minimum=0, maximum=self.D)
        device = device or self.W.device
        x = torch.zeros(num_samples, self.D, device=device, dtype=self.W.dtype)  # (S, D)
        if num_given:
            given = flatten_binary(given, self.D).to(x)
            if len(given) != num_samples:
                raise ValueError(f"given has {len(given)} rows, expected {num_samples}")
        a = self.c.expand(num_samples, self.H).clone()  # (S, H)
        for t, d in enumerate(self.order.tolist()):
            if t < num_given:
                x[:, d] = given[:, d]
            else:
                p = torch.sigmoid(torch.sigmoid(a) @ self.V[d] + self.b[d])  # (S,)
                x[:, d] = torch.bernoulli(p, generator=generator)
            a += x[:, d:d + 1] * self.W[:, d]  # a_{t+1} = a_t + W[:, d] x_d
        return x

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    @torch.no_grad()
    def init_biases(self, x: torch.Tensor) -> None:
        """Output biases start at the independent model's logits, as for the FVSBN."""
        self.b.copy_(logit_of_mean(x, self.D))


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
        return -F.binary_cross_entropy_with_logits(self.logits(x), x, reduction="none").sum(1)

    @torch.no_grad()
    def sample(self, num_samples: int, device=None, generator=None, mask: int = 0):
        """D passes through the network, one new pixel each (in mask ``mask``'s order)."""
        num_samples = check_num_samples(num_samples)
        self.set_mask(mask)
        weight = self.layers[0].weight
        x = torch.zeros(num_samples, self.D, device=device or weight.device, dtype=weight.dtype)
        for d in self.order.tolist():
            x[:, d] = torch.bernoulli(torch.sigmoid(self.logits(x)[:, d]), generator=generator)
        return x

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())


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
        device = device or self.W.device
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
