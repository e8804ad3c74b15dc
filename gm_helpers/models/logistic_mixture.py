r"""PixelCNN++'s likelihood: a discretized mixture of logistics over a pixel's levels.

Paper card: PixelCNN++: Improving the PixelCNN with Discretized Logistic Mixture Likelihood and
    Other Modifications. T. Salimans, A. Karpathy, X. Chen, D. P. Kingma. ICLR 2017.
    arXiv:1701.05517.
    Idea: a 256-way softmax per pixel learns 256 unrelated numbers and never learns that level
    127 is close to level 128. Instead, put a continuous mixture of K logistics on the line
    and give each level the mass of its bin [x - 1/2, x + 1/2]: neighbouring levels share mass,
    3K numbers per pixel replace 256, and the lowest and highest levels take the tails (the
    data's many pure black and pure white pixels). The paper also makes G's and B's means
    depend linearly on R (and G); this file models one channel at a time.

    P(x | pi, mu, s) = \sum_{k=1}^K pi_k [ sigma((x + 1/2 - mu_k) / s_k) - sigma((x - 1/2 - mu_k) / s_k) ],
    edges: x = 0 uses sigma((1/2 - mu_k) / s_k); x = L - 1 uses 1 - sigma((L - 3/2 - mu_k) / s_k).

In code (as in the paper's) the levels 0..L-1 are rescaled to [-1, 1]: level x sits at
x~ = 2x / (L - 1) - 1 and half a bin is 1 / (L - 1). The network's mu and log s live in that
scale; sigma's argument, a distance divided by a scale, is the same in either.

    split_params(params, K)             (B, 3K, ...) -> logit_pi, mu, log_s, each (B, K, ...)
    log_prob(x, logit_pi, mu, log_s)    x (B, ...) levels -> log P(x), (B, ...) nats
    level_probs(logit_pi, mu, log_s)    P of every level: (B, ...) -> (B, ..., L)
    sample(logit_pi, mu, log_s)         one level per position: (B, ...) long
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from gm_helpers.checks import InvalidArgument, check_size

# PixelCNN++ bounds log s from below (s >= e^-7 in the [-1, 1] scale, a 250th of a level's bin):
# a narrower logistic would put all of its mass in one bin and nothing would be learned by making
# it narrower still; the bound keeps log P finite. From above, e^7 is flatter than any use needs.
LOG_S_MIN, LOG_S_MAX = -7.0, 7.0


def split_params(params: torch.Tensor, num_mixtures: int):
    """The network's 3K outputs per position as (logit_pi, mu, log_s), each (B, K, ...)."""
    if not torch.is_tensor(params):
        raise TypeError(f"params must be a torch.Tensor, got {type(params).__name__}")
    K = check_size("num_mixtures", num_mixtures)
    if params.dim() < 2 or params.shape[1] != 3 * K:
        raise InvalidArgument(f"params must be (B, 3K = {3 * K}, ...), got {tuple(params.shape)}")
    return params.split(K, dim=1)  # (B, K, ...) each: pi's logits, then mu, then log s


def _check_params(logit_pi, mu, log_s, levels):
    for name, t in (("logit_pi", logit_pi), ("mu", mu), ("log_s", log_s)):
        if not torch.is_tensor(t) or not t.is_floating_point():
            raise TypeError(f"{name} must be a floating-point torch.Tensor, got "
                            f"{getattr(t, 'dtype', type(t).__name__)}")
    if not logit_pi.shape == mu.shape == log_s.shape or mu.dim() < 2:
        raise InvalidArgument(f"logit_pi, mu and log_s must share one shape (B, K, ...), got "
                              f"{tuple(logit_pi.shape)}, {tuple(mu.shape)}, {tuple(log_s.shape)}")
    if not all(torch.isfinite(t).all() for t in (logit_pi, mu, log_s)):
        raise InvalidArgument("logit_pi, mu and log_s must be finite (a NaN or inf reached the "
                              "mixture's parameters)")
    levels = check_size("levels", levels, minimum=2)
    # at least fp32: under bf16 autocast the network's outputs arrive in bf16
    dtype = torch.promote_types(mu.dtype, torch.float32)
    return logit_pi.to(dtype), mu.to(dtype), log_s.to(dtype), levels


def _log_probs(x, logit_pi, mu, log_s, levels: int) -> torch.Tensor:
    """log P(x) for levels x that broadcast against the parameters (B, K, ...); K is dim 1."""
    x_tilde = 2 * x / (levels - 1) - 1  # level x at x~ in [-1, 1]
    half = 1 / (levels - 1)  # half a bin in that scale
    inv_s = torch.exp(-log_s.clamp(LOG_S_MIN, LOG_S_MAX))  # 1 / s_k
    # a = (x + 1/2 - mu_k) / s_k and b = (x - 1/2 - mu_k) / s_k: the bin's two edges
    a = inv_s * (x_tilde - mu + half)
    b = inv_s * (x_tilde - mu - half)
    # lowest level, P = sigma(a):          log sigma(a) = -softplus(-a)
    log_lowest = -F.softplus(-a)
    # highest level, P = 1 - sigma(b):     log(1 - sigma(b)) = -softplus(b)
    log_highest = -F.softplus(b)
    # between, P = sigma(a) - sigma(b) = sigma(a) sigma(-b) (1 - e^-(a - b)), a - b = 2 half / s:
    # every factor in log space, exact whether both sigmas are near 0, near 1 or far apart
    log_middle = log_lowest - F.softplus(b) + torch.log(-torch.expm1(-2 * half * inv_s))
    x = torch.as_tensor(x).expand_as(a)
    log_p_k = torch.where(x == 0, log_lowest, torch.where(x == levels - 1, log_highest, log_middle))
    # P(x) = sum_k pi_k P_k(x):   log P = logsumexp_k(log pi_k + log P_k)
    return torch.logsumexp(F.log_softmax(logit_pi, dim=1) + log_p_k, dim=1)


def log_prob(x, logit_pi, mu, log_s, levels: int = 256) -> torch.Tensor:
    """log P(x) in nats at every position: x (B, ...) integer levels in 0..levels-1, the
    parameters (B, K, ...) -> (B, ...). Computed in at least fp32."""
    logit_pi, mu, log_s, levels = _check_params(logit_pi, mu, log_s, levels)
    if not torch.is_tensor(x):
        raise TypeError(f"x must be a torch.Tensor of levels, got {type(x).__name__}")
    if x.shape != mu.shape[:1] + mu.shape[2:]:
        raise InvalidArgument(f"x must be (B, ...) = {tuple(mu.shape[:1] + mu.shape[2:])} for "
                              f"parameters {tuple(mu.shape)} (B, K, ...), got {tuple(x.shape)}")
    if ((x < 0) | (x > levels - 1) | (x != x.round())).any():
        raise InvalidArgument(f"x must hold integer levels in 0..{levels - 1}")
    return _log_probs(x.unsqueeze(1).to(mu.dtype), logit_pi, mu, log_s, levels)  # (B, ...)


def level_probs(logit_pi, mu, log_s, levels: int = 256) -> torch.Tensor:
    """P(x) of every level x = 0..levels-1: parameters (B, K, ...) -> (B, ..., levels). Each row
    sums to 1: the bins' CDF differences telescope from sigma(-inf) = 0 to sigma(inf) = 1."""
    logit_pi, mu, log_s, levels = _check_params(logit_pi, mu, log_s, levels)
    x = torch.arange(levels, dtype=mu.dtype, device=mu.device)  # (L,), against (B, K, ..., 1)
    return _log_probs(x, *(t.unsqueeze(-1) for t in (logit_pi, mu, log_s)), levels).exp()


def sample(logit_pi, mu, log_s, levels: int = 256, generator=None) -> torch.Tensor:
    """One level per position, exactly from P: a component k ~ pi, a logistic draw y from it,
    then the level whose bin holds y. Parameters (B, K, ...) -> (B, ...) long."""
    logit_pi, mu, log_s, levels = _check_params(logit_pi, mu, log_s, levels)
    K = mu.shape[1]
    pi = F.softmax(logit_pi, dim=1).movedim(1, -1).reshape(-1, K)  # (B * ..., K)
    k = torch.multinomial(pi, 1, generator=generator).view(mu.shape[:1] + mu.shape[2:])
    mu_k = mu.gather(1, k.unsqueeze(1)).squeeze(1)  # (B, ...): the chosen component's
    s_k = log_s.clamp(LOG_S_MIN, LOG_S_MAX).gather(1, k.unsqueeze(1)).squeeze(1).exp()
    u = torch.rand(mu_k.shape, generator=generator, dtype=mu.dtype, device=mu.device)
    # y = mu + s log(u / (1 - u)): the logistic's inverse CDF at u ~ U[0, 1)
    y = mu_k + s_k * (torch.log(u) - torch.log1p(-u))
    # the nearest level: bin x is [x~ - half, x~ + half]; the two end bins take the tails
    return torch.round((y + 1) / 2 * (levels - 1)).clamp(0, levels - 1).long()
