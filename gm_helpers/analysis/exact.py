"""Exact checks on tiny autoregressive models: what the tests and lecture 3 prove by enumeration.

For D binary variables there are only 2**D states, so for D up to ~16 we can *add up* a model's
probabilities instead of trusting the algebra, and read which inputs each output depends on off
the gradients (pytorch-made's self-test). Three tools:

* ``total_probability(log_prob, D)``: sum_x p(x) over all 2**D states, in float64;
* ``dependencies(logits_fn, D)``: the (D, D) matrix [d logit_d / d x_j != 0], and ``leaks``:
  the pairs (d, j) where output d depends on an input j at or after d in the ordering;
* ``combine_masks(made, x)``: three ways to combine the K masks of one MADE,

      mixture:               p(x) = 1/K sum_k prod_d p_k(x_d | x_<d)      (MADE and EoNADE)
      mean of logits:        p(x_d = 1 | .) = sigma(1/K sum_k logit_{k,d}(x))
      mean of probabilities: p(x_d = 1 | .) = 1/K sum_k sigma(logit_{k,d}(x))

  The mixture is normalised whatever the masks. The other two are products of per-pixel
  Bernoullis: normalised when every mask uses the *same ordering* (conditional d still sees
  only x_<d, so the product is a chain rule), and in general not when the masks also change
  the ordering (conditional d then sees pixels after it). ``combination_totals`` adds each up.
"""
from __future__ import annotations

import copy

import numpy as np
import torch
import torch.nn.functional as F

from gm_helpers.models.layers import bernoulli_log_prob
from gm_helpers.models.tabular import all_binary_states


def binary_states(D: int, dtype=torch.float64) -> torch.Tensor:
    """All 2**D binary vectors as a ``(2**D, D)`` tensor (x_1 the most significant bit)."""
    if not 1 <= D <= 20:
        raise ValueError(f"enumerating 2**D states needs 1 <= D <= 20, got D = {D}")
    return torch.from_numpy(all_binary_states(D)).to(dtype)


@torch.no_grad()
def total_probability(log_prob, D: int) -> float:
    """sum over all 2**D binary x of exp(log_prob(x)), in float64: 1 for a normalised model."""
    return log_prob(binary_states(D)).double().exp().sum().item()


def dependencies(logits_fn, D: int, num_inputs: int = 8, seed: int = 0) -> torch.Tensor:
    """``dep[d, j]``: does output d depend on input j? Read off gradients at random points.

    ``logits_fn`` maps ``(B, D)`` float64 inputs to ``(B, D)`` outputs; the inputs are random
    binary vectors and random reals in [0, 1], so a ReLU that happens to be off at one point
    does not hide a connection. A dependency found is certain; one missed is unlikely.
    """
    g = torch.Generator().manual_seed(seed)
    x = torch.cat([torch.bernoulli(torch.full((num_inputs, D), 0.5, dtype=torch.float64),
                                   generator=g),
                   torch.rand(num_inputs, D, generator=g, dtype=torch.float64)])  # (2N, D)
    x.requires_grad_()
    out = logits_fn(x)  # (2N, D)
    if tuple(out.shape) != tuple(x.shape):
        raise ValueError(f"expected outputs of shape {tuple(x.shape)}, got {tuple(out.shape)}")
    dep = torch.zeros(D, D, dtype=torch.bool)
    for d in range(D):
        (grad,) = torch.autograd.grad(out[:, d].sum(), x, retain_graph=True, allow_unused=True)
        if grad is not None:  # each row of x only affects its own row of out
            dep[d] = (grad != 0).any(0)
    return dep


def leaks(dep: torch.Tensor, order) -> list[tuple[int, int]]:
    """Pairs (d, j), output d depending on input j at or after d in ``order`` (visit order)."""
    position = {int(pixel): t for t, pixel in enumerate(order)}
    return [(d, j) for d, j in torch.nonzero(dep).tolist() if position[j] >= position[d]]


@torch.no_grad()
def mask_logits(made, x: torch.Tensor, masks) -> torch.Tensor:
    """Logits of every mask in ``masks``: ``(K, B, D)``; the model's current mask is restored."""
    current = made.mask_index
    out = []
    for k in masks:
        made.set_mask(k)
        out.append(made.logits(x))
    made.set_mask(current)
    return torch.stack(out)


@torch.no_grad()
def combine_masks(made, x: torch.Tensor, masks=None) -> dict[str, torch.Tensor]:
    """log p(x) ``(B,)`` of three ways to combine a MADE's masks (see the module docstring)."""
    masks = list(range(made.num_masks) if masks is None else masks)
    logits = mask_logits(made, x, masks)  # (K, B, D)
    K = len(masks)
    # mixture: log (1/K sum_k p_k(x)) = logsumexp_k log p_k(x) - log K
    mixture = torch.logsumexp(bernoulli_log_prob(logits, x), 0) - np.log(K)
    mean_logits = bernoulli_log_prob(logits.mean(0), x)
    # p_d = 1/K sum_k sigma(logit_k,d); log p_d and log(1 - p_d) from logsumexp for stability
    log_p1 = torch.logsumexp(F.logsigmoid(logits), 0) - np.log(K)  # (B, D)
    log_p0 = torch.logsumexp(F.logsigmoid(-logits), 0) - np.log(K)
    mean_probs = (x * log_p1 + (1 - x) * log_p0).sum(-1)
    return {"mixture": mixture, "mean of logits": mean_logits,
            "mean of probabilities": mean_probs}


def combination_totals(made, masks=None) -> dict[str, float]:
    """sum over all 2**D states of each combination's p(x), computed in float64.

    1 for the mixture, always; 1 for the other two when the masks share one ordering.
    """
    model = copy.deepcopy(made).double()
    model.set_mask(model.mask_index)  # rebuild the masks on the copy
    states = binary_states(made.D)
    return {name: logp.exp().sum().item()
            for name, logp in combine_masks(model, states, masks).items()}
