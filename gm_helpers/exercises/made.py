r"""Lecture 03's exercises: NADE's parameter count, MADE's masks, log-mean-exp, and building a
whole MADE (checked by gradients and by exact enumeration).
"""
from __future__ import annotations

import copy

import numpy as np
import torch
import torch.nn.functional as F

from gm_helpers.analysis.exact import dependencies, leaks, total_probability
from gm_helpers.exercises.core import (
    NOT_IMPLEMENTED,
    Feedback,
    call_student,
    check_cases,
)

SWAPPED_RULES = ("the two mask rules are swapped: hidden masks use >= (unit k listens to unit j "
                 "when m(k) >= m(j)) and the output mask a strict > (output d listens to units "
                 "with m(k) < m(d)); with > in the hidden layers and >= at the output nothing "
                 "leaks, but connections are lost: units with m(k) = 1 listen to no input, and "
                 "the last output never sees the input just before it (one step more is lost "
                 "with each further hidden layer)")


# ----------------------------------------------------------------------------- lecture 03
def check_nade_params(fn) -> Feedback:
    """fn(D, H): parameters of a NADE with D inputs and H hidden units (W, c, V, b)."""
    cases = [(1, 1), (4, 3), (784, 500), (10, 100)]
    return check_cases(fn, cases, lambda D, H: 2 * H * D + H + D, {
        "the biases are missing: c (H of them) and b (D of them) are parameters too":
            lambda D, H: 2 * H * D,
        "V is missing: the output weights are a second H x D matrix":
            lambda D, H: H * D + H + D,
        "that is the FVSBN count D(D + 1)/2; NADE shares W across the conditionals":
            lambda D, H: D * (D + 1) // 2,
        "only one bias vector counted: NADE has c (hidden, H) and b (output, D)":
            lambda D, H: 2 * H * D + D,
    }, "NADE: W (H x D) + c (H) + V (D x H) + b (D) = 2HD + H + D, linear in D", exact=True)


def check_made_mask(fn) -> Feedback:
    """fn(m_in, m_out, output): the MADE mask, shape (len(m_out), len(m_in)), of 0s and 1s."""
    cases = [(np.array([1, 2, 3]), np.array([1, 2, 2, 1]), False),
             (np.array([2, 1, 2, 1]), np.array([3, 1, 2]), True),
             (np.array([1, 3, 2, 4]), np.array([3, 1, 2, 4]), False),
             (np.array([2, 2, 1, 3]), np.array([4, 1, 3, 2]), True)]
    ref = lambda m_in, m_out, out: (m_out[:, None] > m_in[None, :]) if out \
        else (m_out[:, None] >= m_in[None, :])
    return check_cases(fn, cases, lambda *a: ref(*a).astype(float), {
        SWAPPED_RULES: lambda m_in, m_out, out: ((m_out[:, None] >= m_in[None, :]) if out
                                                 else (m_out[:, None] > m_in[None, :])).astype(float),
        "output masks need a strict >: with >= output d could see input d itself, a leak":
            lambda m_in, m_out, out: (m_out[:, None] >= m_in[None, :]).astype(float),
        "hidden masks use >=: with a strict > units drop connections MADE allows":
            lambda m_in, m_out, out: (m_out[:, None] > m_in[None, :]).astype(float),
        "transposed: the mask is (units out, units in), like nn.Linear's weight":
            lambda m_in, m_out, out: ref(m_in, m_out, out).T.astype(float),
    }, "hidden: M[k, j] = [m(k) >= m(j)]; output: M[d, k] = [m(d) > m(k)]")


def check_log_mean_exp(fn) -> Feedback:
    """fn(logp): log of the mean of exp(logp) along axis 0, computed stably."""
    rng = np.random.default_rng(3)
    cases = [(np.array([-1.0, -2.0, -3.0]),), (np.array([-90.0, -88.5, -89.2, -91.0]),),
             (np.array([-1000.0, -1001.0]),), (np.array([[-3.0, -800.0], [-4.0, -801.0]]),),
             (np.array([-7.5]),),                                   # K = 1: itself
             (rng.normal(-50, 20, (3, 2)),), (rng.normal(-50, 20, (2, 5)),),  # not square
             (rng.normal(-300, 100, (4, 3, 2)),)]                   # batched: (K, B, D)

    def ref(logp):
        top = logp.max(0)
        return top + np.log(np.exp(logp - top).mean(0))

    def naive(logp):
        with np.errstate(divide="ignore"):
            return np.log(np.exp(logp).mean(0))

    return check_cases(fn, cases, ref, {
        "that is the mean of the log-likelihoods (a geometric mean of probabilities); "
        "an ensemble averages the probabilities themselves": lambda logp: logp.mean(0),
        "the -log K is missing: that is log-SUM-exp, not the log of the mean":
            lambda logp: ref(logp) + np.log(len(logp)),
        "not numerically stable: exp(-1000) underflows to 0; subtract the max first":
            naive,
    }, "log (1/K sum_k p_k) = max + log mean exp(logp - max)")


# (D, hidden sizes, order, seed). No layer is square, so a transposed mask cannot fit by chance.
CONFIGS = [(6, (13,), [0, 1, 2, 3, 4, 5], 0),
           (6, (11, 9), [3, 0, 5, 1, 4, 2], 1),
           (5, (7,), [4, 2, 0, 3, 1], 2),
           (7, (10, 12), [6, 1, 3, 0, 5, 2, 4], 3)]


def reference_masks(m: list) -> list:
    """The masks MADE builds from connectivity numbers m: [m(k) >= m(j)] between hidden layers,
    [m(d) > m(k)] into the outputs; each ``(out, in)``."""
    masks = [(m_out[:, None] >= m_in[None, :]).double() for m_in, m_out in zip(m[:-1], m[1:])]
    masks.append((m[0][:, None] > m[-1][None, :]).double())
    return masks


def reachable(masks: list) -> torch.Tensor:
    """``(D, D)`` bool: is there a path of allowed connections from input j to output d?"""
    path = masks[0]
    for mask in masks[1:]:
        path = (mask @ path).clamp(max=1)
    return path.bool()


def _as_long(values):
    return torch.as_tensor(values).long().flatten()


def _numbers_mistake(m, D, order, hidden) -> str | None:
    """What is wrong with the connectivity numbers m (None if nothing)."""
    if len(m) != len(hidden) + 1:
        return (f"self.m should hold {len(hidden) + 1} tensors for hidden={hidden} (the inputs' "
                f"numbers, then one per hidden layer); it holds {len(m)}")
    position = torch.empty(D, dtype=torch.long)
    position[torch.as_tensor(order)] = torch.arange(1, D + 1)  # m(input d), 1..D
    m_in = m[0]
    if m_in.shape != (D,) or not torch.equal(m_in, position):
        if m_in.shape == (D,) and torch.equal(m_in, torch.as_tensor(order) + 1):
            return ("m(input) is the inverse permutation: order[t] is the pixel visited at step "
                    "t, so m[0][order[t]] = t + 1 (m[0][order] = arange(1, D + 1)), not "
                    "m[0][t] = order[t] + 1")
        if m_in.shape == (D,) and torch.equal(m_in, position - 1):
            return "the inputs' numbers are the positions 1..D in the ordering, not 0..D-1"
        if m_in.shape == (D,) and torch.equal(m_in, torch.arange(1, D + 1)):
            return ("the ordering is ignored: m(input d) is d's position in `order` "
                    "(m[0][order] = arange(1, D + 1)), not d + 1")
        return (f"m[0] should be each input's position in the ordering, 1..D: expected "
                f"{position.tolist()} for order={list(order)}, got {m_in.tolist()}")
    for layer, (below, numbers) in enumerate(zip(m[:-1], m[1:]), start=1):
        if numbers.shape != (hidden[layer - 1],):
            return (f"self.m[{layer}] should hold one number per unit of hidden layer {layer} "
                    f"({hidden[layer - 1]}), got shape {tuple(numbers.shape)}")
        low = int(below.min())
        if numbers.min() < 1 or numbers.max() > D - 1:
            return (f"hidden layer {layer} has connectivity numbers {numbers.min().item()}.."
                    f"{numbers.max().item()}: draw them from {{min m(previous layer), ..., D - 1}},"
                    f" not 0..D. A unit with m(k) = 0 listens to no input, and one with m(k) >= D "
                    f"reaches no output (output d needs m(d) > m(k)): wasted units")
        if numbers.min() < low:
            return (f"hidden layer {layer} has numbers below min m(previous layer) = {low}: such "
                    f"a unit listens to no unit below it; draw from {{{low}, ..., D - 1}}")
    return None


def _mask_mistake(masks, m) -> str | None:
    """Compare the student's masks with the ones their own numbers m call for."""
    want = reference_masks(m)
    if len(masks) != len(want):
        return f"self.masks should hold one mask per layer ({len(want)}), it holds {len(masks)}"
    last = len(want) - 1
    if _rules_swapped(masks, m):
        return SWAPPED_RULES
    for i, (mask, good) in enumerate(zip(masks, want)):
        m_in, m_out = (m[i], m[i + 1]) if i < last else (m[-1], m[0])
        name = "the output mask" if i == last else f"the mask into hidden layer {i + 1}"
        try:
            mask = torch.as_tensor(mask).double()
        except Exception:
            return f"{name} is not a tensor (got {type(mask).__name__})"
        if mask.shape == good.shape and torch.equal(mask, good):
            continue
        if mask.shape == good.T.shape and torch.equal(mask, good.T):
            return (f"{name} is transposed, shape {tuple(mask.shape)}: masks are (units out, "
                    f"units in) like nn.Linear's weight, M[k, j] = [m(k) >= m(j)]")
        if mask.shape != good.shape:
            return (f"{name} has shape {tuple(mask.shape)}; it must match its layer's weight, "
                    f"(units out, units in) = {tuple(good.shape)}")
        strict = (m_out[:, None] > m_in[None, :]).double()
        loose = (m_out[:, None] >= m_in[None, :]).double()
        if i < last and torch.equal(mask, strict):
            return ("hidden masks need >=, not >: unit k may listen to unit j when m(k) >= m(j); "
                    "with > every path loses a step, and output d never sees the input just "
                    "before it")
        if i == last and torch.equal(mask, loose):
            return ("the output mask needs a strict >: with >= output d listens to units with "
                    "m(k) = m(d), which may see input d itself, and p(x_d | x_<d) peeks at x_d")
        if torch.equal(mask, (m_out[:, None] <= m_in[None, :]).double()) or \
                torch.equal(mask, (m_out[:, None] < m_in[None, :]).double()):
            return (f"{name} compares the wrong way round: unit k (above) listens to unit j "
                    f"(below) when m(k) >= m(j), i.e. M[k, j] = m_out[:, None] >= m_in[None, :]")
        return f"{name} is not the MADE mask for your numbers self.m"
    return None


def _rules_swapped(masks, m) -> bool:
    """Are the hidden masks [m(k) > m(j)] and the output mask [m(d) >= m(k)], where that
    differs from the right masks?"""
    pairs = [(m[i], m[i + 1]) for i in range(len(m) - 1)] + [(m[-1], m[0])]
    try:
        masks = [torch.as_tensor(mask).double() for mask in masks]
    except Exception:  # noqa: BLE001 - not tensors: the loop below names that
        return False
    strict = [(m_out[:, None] > m_in[None, :]).double() for m_in, m_out in pairs]
    loose = [(m_out[:, None] >= m_in[None, :]).double() for m_in, m_out in pairs]
    swapped = strict[:-1] + loose[-1:]
    right = loose[:-1] + strict[-1:]
    return (all(mask.shape == s.shape and torch.equal(mask, s) for mask, s in zip(masks, swapped))
            and not all(torch.equal(s, r) for s, r in zip(swapped, right)))


def _randomised(model, seed, positive=False):
    """A float64 copy with every parameter drawn from N(0, 1): zero weights would hide leaks.

    ``positive``: |N(0, 1)| instead. With inputs >= 0, every unit is then active and every
    path's gradient a product of positive numbers, so no connection hides behind a ReLU that
    is off or behind two paths that cancel: a gradient is 0 exactly when no path exists.
    """
    model = copy.deepcopy(model).double()
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            value = torch.randn(p.shape, generator=g, dtype=p.dtype)
            p.copy_(value.abs() if positive else value)
    return model


def _log_prob(model):
    return lambda x: -F.binary_cross_entropy_with_logits(model(x), x, reduction="none").sum(1)


def check_made(cls) -> Feedback:
    """cls(D, hidden, order, seed): a small MADE, (B, D) -> (B, D) logits (see module doc)."""
    checked = 0
    for D, hidden, order, seed in CONFIGS:
        call = f"SmallMADE({D}, {hidden}, {order}, seed={seed})"
        model, failed = call_student(cls, D, hidden, order, seed, where=f"in {call}")
        if failed is not None:
            return failed
        if not hasattr(model, "m") or not hasattr(model, "masks"):
            return Feedback(False, "keep the skeleton's attributes: self.m (connectivity "
                                   "numbers, inputs first) and self.masks (one per layer)")
        m = [_as_long(v) for v in model.m]
        structural = _numbers_mistake(m, D, order, hidden) or _mask_mistake(list(model.masks), m)
        net = _randomised(model, seed)
        def run_forward():
            dep = dependencies(_randomised(model, seed, positive=True), D, seed=seed)
            x = torch.rand(64, D, dtype=torch.float64,
                           generator=torch.Generator().manual_seed(seed))
            with torch.no_grad():
                return dep, total_probability(_log_prob(net), D), net(x)
        out, failed = call_student(run_forward, where=f"in the forward pass of {call}")
        if failed is not None:
            if structural and failed.message != NOT_IMPLEMENTED:
                return Feedback(False, structural)
            return failed
        dep, total, logits = out
        leaked = leaks(dep, order)
        missing = reachable(reference_masks(m)) & ~dep
        evidence = ""
        if leaked:
            d, j = leaked[0]
            evidence = (f" (found by gradients in {call}: logit {d} depends on input {j}, "
                        f"{'itself' if d == j else 'which comes after it'}; the 2**{D} "
                        f"probabilities sum to {total:.4f})")
        elif missing.any():
            d, j = torch.nonzero(missing)[0].tolist()
            evidence = (f" (found by gradients in {call}: logit {d} does not depend on input "
                        f"{j}, which comes before it)")
        if structural:
            return Feedback(False, structural + evidence)
        if leaked:
            return Feedback(False, "your masks are right but the network leaks: does forward "
                                   "multiply each layer's weight by its mask (F.linear(h, W * M, "
                                   "b)) in every layer?" + evidence)
        if missing.any():
            d, j = torch.nonzero(missing)[0].tolist()
            return Feedback(False, f"in {call}, logit {d} should depend on input {j} (your masks "
                                   f"allow a path) but its gradient is 0: does forward use every "
                                   f"layer, each with its own mask?")
        if (logits >= 0).all():
            return Feedback(False, "the logits are never negative: no ReLU after the last "
                                   "layer (logits are any real number)")
        if abs(total - 1) > 1e-9:
            return Feedback(False, f"in {call} the probabilities of the 2**{D} states sum to "
                                   f"{total:.6f}, not 1")
        checked += 1
    return Feedback(True, f"autoregressive by gradients and normalised over all 2**D states "
                          f"({checked} networks, 1 and 2 hidden layers, several orderings): "
                          f"M[k, j] = [m(k) >= m(j)] hidden, [m(d) > m(k)] output")
