r"""Lecture 04's exercises: the type-A mask, rows above, the PixelRNN skew, the RGB mask and the
gated layer.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from gm_helpers.exercises.core import (
    Feedback,
    call_student,
    check_cases,
    read_answer,
    seeded,
    shape_only,
)
from gm_helpers.models.layers import causal_mask


# ----------------------------------------------------------------------------- lecture 04
def check_type_a_mask(fn) -> Feedback:
    """fn(k): the k x k type-A mask (odd k) as an array of 0/1: rows above, and left of centre."""
    cases = [(1,), (3,), (5,), (7,)]

    def mask(k, centre=0, transpose=False):
        m = np.zeros((k, k))
        m[: k // 2] = 1
        m[k // 2, : k // 2] = 1
        m[k // 2, k // 2] = centre
        return m.T if transpose else m

    return check_cases(fn, cases, lambda k: mask(k), {
        "the centre is 1: that is mask B; mask A (the first layer) must not see its own pixel":
            lambda k: mask(k, centre=1),
        "transposed: the rows above the centre are visible (raster order), not the columns left":
            lambda k: mask(k, transpose=True),
        "upside down: the visible pixels come before the centre in raster order, i.e. above it":
            lambda k: mask(k)[::-1, ::-1],
    }, "type A: every row above the centre, and the centre row up to (not including) it")


def check_rows_above(fn) -> Feedback:
    """fn(L): rows above the target a 7x7 type-A layer plus L 3x3 type-B layers can see."""
    cases = [(0,), (1,), (5,), (12,)]
    return check_cases(fn, cases, lambda L: 3 + L, {
        "each 3x3 layer adds one row, but the 7x7 layer already sees 3 rows above":
            lambda L: L,
        "off by one: the 7x7 layer reaches 3 rows up (its centre is row 4 of 7)":
            lambda L: 4 + L,
        "the 3x3 layers reach 1 row up each, not 3": lambda L: 3 + 3 * L,
    }, "receptive field height: 3 rows from the 7x7 layer + 1 per 3x3 layer", exact=True)


def check_skew(fn) -> Feedback:
    """fn(x): skew an (H, W) array to (H, H + W - 1), row i shifted right by i, zeros elsewhere."""
    rng = np.random.default_rng(2)
    cases = [(rng.integers(1, 9, (3, 3)).astype(float),), (rng.integers(1, 9, (2, 4)).astype(float),),
             (rng.integers(1, 9, (4, 2)).astype(float),), (np.array([[5.0]]),),
             (rng.integers(1, 9, (1, 4)).astype(float),)]

    def skew(x, shift=lambda i: i, left=False):
        H, W = x.shape
        out = np.zeros((H, H + W - 1))
        for i in range(H):
            s = shift(i) if not left else H - 1 - i
            out[i, s:s + W] = x[i]
        return out

    return check_cases(fn, cases, skew, {
        "shifted the wrong way: row i moves right by i, so the diagonals line up as columns":
            lambda x: skew(x, left=True),
        "transposed input: skew the rows of x, each row i by i places": lambda x: skew(x.T),
    }, "skew: row i shifted right by i; an N x N image becomes N x (2N - 1), whose 2N - 1 "
       "columns are the diagonals, processed one per step")


RGB = "RGB"

# (kernel_size, mask_type, in_channels, out_channels): every k, both types, non-square channels
MASK_CASES = [(k, t, c_in, c_out) for k in (1, 3, 5) for t in ("A", "B")
              for c_in, c_out in ((3, 3), (3, 6), (9, 6))]


def rgb_mask_variant(kernel_size: int, mask_type: str, in_channels: int, out_channels: int,
                     mistake: str | None = None) -> torch.Tensor:
    """``causal_mask(k, type, in, out, groups=3)``, or the same mask with one named mistake."""
    if mistake is None:
        return causal_mask(kernel_size, mask_type, in_channels, out_channels, groups=3)
    k, c = kernel_size, kernel_size // 2
    if mistake == "swapped":
        mask_type = "B" if mask_type == "A" else "A"
    mask = torch.zeros(out_channels, in_channels, k, k)  # (out, in, k, k)
    mask[:, :, :c] = 1  # rows above the centre
    mask[:, :, c, :c] = 1  # left of the centre
    if mistake == "below":
        mask[:, :, c + 1:] = 1
    if mistake == "interleaved":  # channel c in group c % 3: R, G, B, R, G, B, ...
        g_in, g_out = torch.arange(in_channels) % 3, torch.arange(out_channels) % 3
    else:  # contiguous thirds: the first third is R, the next G, the last B
        g_in = torch.arange(in_channels) // (in_channels // 3)
        g_out = torch.arange(out_channels) // (out_channels // 3)
    g_in, g_out = g_in[None, :], g_out[:, None]
    if mistake == "reversed":  # B first, then G, then R
        g_in, g_out = -g_in, -g_out
    allowed = g_in < g_out if mask_type == "A" else g_in <= g_out
    if mistake == "r_sees_itself" and mask_type == "A":
        allowed = allowed | ((g_in == 0) & (g_out == 0))
    if mistake == "no_groups":  # the one-channel rule for every channel at the centre
        allowed = torch.full_like(allowed, mask_type == "B")
    mask[:, :, c, c] = allowed.float()
    return mask.transpose(2, 3) if mistake == "transposed" else mask


MASK_MISTAKES = {
    "swapped": "types A and B swapped: type A (the first layer, on the pixels) excludes each "
               "channel's own value at the centre; type B (later layers) includes it",
    "r_sees_itself": "in type A the R outputs see the R input at the centre: that is the value "
                     "they predict (a leak); in type A, R sees no channel of its own pixel",
    "reversed": "the channel order is reversed (B before R): at the centre, G must see R, and "
                "B must see R and G, not the other way round",
    "below": "the rows below the centre are not zeroed: they come after the pixel in raster "
             "order",
    "transposed": "the mask is transposed: the visible pixels are the rows above the centre and "
                  "the left part of the centre row, not the columns to the left",
    "no_groups": "the channel groups are ignored at the centre: the one-channel rule (A: no "
                 "centre, B: the whole centre) lets R see G and B in type B, and hides R from "
                 "G and B in type A",
    "interleaved": "the groups are interleaved (R, G, B, R, G, B, ...): a stack of such masks "
                   "has no leak on its own, but the package's channels come in contiguous "
                   "thirds (the first third R, then G, then B), and PixelCNN.logits reads its "
                   "outputs that way",
}


def _as_mask(got):
    """The student's mask as a float64 tensor, or None if it breaks the type rule."""
    array, _ = read_answer(got)
    return None if array is None else torch.as_tensor(array.astype(np.float64))


def _net(masks, x):
    """A small masked stack: tanh between the layers, random weights fixed by the seed."""
    g = torch.Generator().manual_seed(0)
    h = x
    for i, mask in enumerate(masks):
        weight = torch.randn(mask.shape, generator=g, dtype=torch.float64) * mask
        h = F.conv2d(h, weight, padding=mask.shape[-1] // 2)
        h = torch.tanh(h) if i < len(masks) - 1 else h
    return h


def dependencies(masks, size: int = 5, num: int = 3) -> torch.Tensor:
    """|d output / d input| summed over ``num`` random images, shape (C, H, W, C, H, W):
    [o, r, c, i, r', c'] is nonzero when output channel o at pixel (r, c) depends on input
    channel i at (r', c'). One autograd call per output; exact zeros where a mask cuts."""
    g = torch.Generator().manual_seed(1)
    x = torch.randn(num, masks[0].shape[1], size, size, generator=g, dtype=torch.float64)
    x.requires_grad_()
    y = _net(masks, x)  # (num, C, H, W)
    C = y.shape[1]
    out = torch.zeros(C, size, size, x.shape[1], size, size, dtype=torch.float64)
    for o in range(C):
        for r in range(size):
            for c in range(size):
                (grad,) = torch.autograd.grad(y[:, o, r, c].sum(), x, retain_graph=True)
                out[o, r, c] = grad.abs().sum(0)
    return out


def _order(size: int) -> torch.Tensor:
    """Position of (channel, r, c) in the sequence: pixel by pixel, R, G, B within a pixel."""
    ch, r, c = torch.meshgrid(torch.arange(3), torch.arange(size), torch.arange(size),
                              indexing="ij")
    return (r * size + c) * 3 + ch  # (3, H, W)


def _where(ch, r, c) -> str:
    return f"{RGB[ch]} at pixel ({r}, {c})"


def autoregressive_report(masks, size: int = 5) -> tuple[list, list]:
    """(leaks, missing): outputs that see an input at or after their own position, and
    dependencies the package's masks allow (and have) that these masks cut, as strings."""
    dep = dependencies(masks, size) > 0  # (3, H, W, 3, H, W)
    ref = dependencies([causal_mask(m.shape[-1], t, m.shape[1], m.shape[0], 3)
                        for m, t in zip(masks, _stack_types(len(masks)))], size) > 0
    pos = _order(size)
    later = pos[None, None, None] >= pos[:, :, :, None, None, None]  # input at or after output
    leaks = [f"output {_where(*idx[:3])} depends on input {_where(*idx[3:])}"
             for idx in torch.nonzero(dep & later).tolist()]
    missing = [f"output {_where(*idx[:3])} cannot see input {_where(*idx[3:])}, which comes "
               f"before it" for idx in torch.nonzero(ref & ~dep).tolist()]
    return leaks, missing


def _stack_types(n):
    return ["A"] + ["B"] * (n - 1)


def _student_stack(fn):
    """The masks of a 3-layer stack built with the student's function: 5x5 type A (3 -> 6),
    3x3 type B (6 -> 9), 1x1 type B (9 -> 3)."""
    return [_as_mask(fn(5, "A", 3, 6)), _as_mask(fn(3, "B", 6, 9)), _as_mask(fn(1, "B", 9, 3))]


def check_rgb_mask(fn) -> Feedback:
    """fn(kernel_size, mask_type, in_channels, out_channels) -> (out, in, k, k) 0/1 mask whose
    channels form three contiguous groups R, G, B (``causal_mask(..., groups=3)``)."""
    got = []
    for k, t, c_in, c_out in MASK_CASES:
        mask, failed = call_student(fn, k, t, c_in, c_out, where=(
            f"on kernel_size={k}, mask_type={t!r}, in_channels={c_in}, out_channels={c_out}"))
        if failed is not None:
            return failed
        answer, problem = read_answer(mask)
        if answer is None:
            return Feedback(False, problem + " (a mask of 0s and 1s)")
        mask = _as_mask(mask)
        want = (c_out, c_in, k, k)
        if tuple(mask.shape) != want:
            if tuple(mask.shape) == (c_in, c_out, k, k):
                return Feedback(False, f"shape {tuple(mask.shape)} is (in, out, k, k): PyTorch's "
                                       f"convolution weight, and its mask, are (out_channels, "
                                       f"in_channels, k, k)")
            shaped = shape_only(answer, rgb_mask_variant(k, t, c_in, c_out), exact=True)
            if shaped:
                return Feedback(False, shaped)
            return Feedback(False, f"for kernel_size={k}, in_channels={c_in}, out_channels={c_out}"
                                   f" the mask has shape {want}; you returned {tuple(mask.shape)}")
        if not ((mask == 0) | (mask == 1)).all():
            return Feedback(False, "a mask holds only 0s and 1s: a weight is kept or cut")
        got.append(mask)
    same = lambda mistake: all(torch.equal(m, rgb_mask_variant(*case, mistake).double())
                               for m, case in zip(got, MASK_CASES))
    stack, failed = call_student(_student_stack, fn, where="building a 5x5 A, 3x3 B, 1x1 B stack")
    if failed is not None:
        return failed
    leaks, missing = autoregressive_report(stack)
    if same(None) and not leaks:
        return Feedback(True, "the RGB masks of causal_mask for k = 1, 3, 5 and non-square "
                              "channels; checked by gradients through a 5x5 A, 3x3 B, 1x1 B "
                              "stack: no output sees its own value or a later one (pixel by "
                              "pixel, R, G, B within a pixel)")
    for mistake, message in MASK_MISTAKES.items():
        if same(mistake):
            found = f" (by gradients: {leaks[0]})" if leaks else \
                f" (by gradients: {missing[0]})" if missing else ""
            return Feedback(False, message + found)
    if leaks:
        return Feedback(False, f"the autoregressive property fails, by gradients through a "
                               f"stack of your masks: {leaks[0]}, which does not come before it"
                               f" ({len(leaks)} such dependencies)")
    case, mask = next((case, m) for m, case in zip(got, MASK_CASES)
                      if not torch.equal(m, rgb_mask_variant(*case).double()))
    if missing:
        return Feedback(False, f"no leak, but too much is cut: {missing[0]}; first difference "
                               f"from causal_mask at kernel_size={case[0]}, type {case[1]}, "
                               f"{case[2]} -> {case[3]} channels")
    return Feedback(False, f"the mask differs from causal_mask at kernel_size={case[0]}, "
                           f"type {case[1]}, {case[2]} -> {case[3]} channels")


# ----------------------------------------------------------------------------- a gated layer
def _gate(a, swapped=False):  # tanh(a_f) * sigmoid(a_g), the two halves of the channels
    f, g = a.chunk(2, dim=1)
    return torch.sigmoid(f) * torch.tanh(g) if swapped else torch.tanh(f) * torch.sigmoid(g)


def gated_layer_variant(v, h, v_conv, h_conv, v_to_h, h_out, first: bool,
                        mistake: str | None = None):
    """One layer of ``pixelcnn.GatedPixelCNN.logits`` (no class bias), or the same layer with
    one named mistake. v, h: (B, C, H, W) -> (v, h) of the next layer."""
    p = v_conv.kernel_size[1] // 2
    v_pre = v_conv(F.pad(v, (p, p, p, 0)))  # (B, 2h, H, W): rows r-p..r
    v_shift = v_pre if mistake == "no_shift" else F.pad(v_pre, (0, 0, 1, 0))[:, :, :-1]
    if first and mistake != "first_unshifted":
        h_in = F.pad(h, (p + 1, 0, 0, 0))[:, :, :, :-1]  # columns < c
    else:
        h_in = F.pad(h, (p, 0, 0, 0))  # columns c-p..c
    h_pre = h_conv(h_in) + v_to_h(v_shift)
    swapped = mistake == "gates_swapped"
    h_new = h_out(_gate(h_pre, swapped))
    if mistake == "no_residual":
        h = h_new
    elif mistake == "first_residual":
        h = h + h_new  # in the first layer h is the image: it broadcasts over the channels
    else:
        h = h_new if first else h + h_new
    return _gate(v_pre, swapped), h


GATED_MISTAKES = {
    "no_shift": "the vertical stack is not shifted down one row before it joins the horizontal "
                "stack: at row r it covers rows r-p..r, so a pixel sees itself and the pixels "
                "to its right; shift v_pre down one row (pad one row on top, drop the last)",
    "first_unshifted": "the first layer's horizontal input is not shifted right: it reads "
                       "columns c-p..c, so each pixel sees its own value; in the first layer "
                       "pad p + 1 columns on the left and drop the last one (columns < c)",
    "gates_swapped": "tanh and sigmoid are swapped: the gate is tanh(first half) * "
                     "sigmoid(second half) of the 2h channels",
    "no_residual": "the horizontal stack has lost its residual connection: from the second "
                   "layer on, h_next = h + h_out(gate(h_pre))",
    "first_residual": "the first layer adds a residual: there h is the image itself, so every "
                      "pixel would see its own value; the first layer returns h_out(gate(h_pre))",
}

GATED_CASES = [(3, 4, 6, 2), (5, 3, 7, 3)]  # (kernel_size, hidden, image_size, num_layers)


def _gated_logits(layer, model, x):
    """The model's logits with ``layer`` in place of each of its layers."""
    v = h = model._inputs(x)  # (B, 1, H, W)
    for i in range(model.num_layers):
        v, h = layer(v, h, model.v_convs[i], model.h_convs[i], model.v_to_h[i],
                     model.h_out[i], i == 0)
    return model.head(h)  # (B, 1, H, W)


def _gated_model(k, hidden, size, layers):
    from gm_helpers.models.pixelcnn import GatedPixelCNN
    with seeded(0), torch.no_grad():  # the same weights every time; the notebook's RNG untouched
        model = GatedPixelCNN(hidden=hidden, num_layers=layers, kernel_size=k, image_size=size)
        for p in model.parameters():
            p.normal_(0, 0.5)
    return model.double().eval()


def _pixel_dependencies(logits_fn, size, num=6):
    """(H*W, H*W) bool: [i, j] when logit i depends on pixel j, over ``num`` random images."""
    g = torch.Generator().manual_seed(1)
    x = torch.bernoulli(torch.full((num, 1, size, size), 0.5, dtype=torch.float64), generator=g)
    x.requires_grad_()
    logits = logits_fn(x).flatten(1)  # (num, H*W)
    rows = []
    for i in range(size * size):
        (grad,) = torch.autograd.grad(logits[:, i].sum(), x, retain_graph=True)
        rows.append(grad.abs().sum(0).flatten() > 0)
    return torch.stack(rows)


def check_gated_layer(fn) -> Feedback:
    """fn(v, h, v_conv, h_conv, v_to_h, h_out, first) -> (v, h): one Gated PixelCNN layer."""
    for k, hidden, size, layers in GATED_CASES:
        model = _gated_model(k, hidden, size, layers)
        x = torch.bernoulli(torch.full((3, 1, size, size), 0.5, dtype=torch.float64),
                            generator=torch.Generator().manual_seed(2))
        got, failed = call_student(_gated_logits, fn, model, x, where=(
            f"(kernel_size={k}, hidden={hidden}, a {size}x{size} image)"))
        if failed is not None:
            return failed
        want = model.logits(x)
        if not torch.is_tensor(got) or got.shape != want.shape:
            return Feedback(False, f"the logits built from your layer have shape "
                                   f"{tuple(getattr(got, 'shape', ()))}, expected "
                                   f"{tuple(want.shape)}: return (v, h) of the same shapes as "
                                   f"the layer's outputs")
        if torch.allclose(got, want, atol=1e-9):
            continue
        for mistake, message in GATED_MISTAKES.items():
            variant = lambda *a, m=mistake: gated_layer_variant(*a, mistake=m)
            if torch.allclose(got, _gated_logits(variant, model, x), atol=1e-9):
                return Feedback(False, message)
        seen = _pixel_dependencies(lambda x: _gated_logits(fn, model, x), size)
        later = torch.ones(size * size, size * size).triu().bool()  # j >= i
        leak = torch.nonzero(seen & later)
        if len(leak):
            i, j = leak[0].tolist()
            return Feedback(False, f"by gradients, the logit of pixel {divmod(i, size)} depends "
                                   f"on pixel {divmod(j, size)}, which is not before it")
        return Feedback(False, f"no leak, but the logits differ from GatedPixelCNN.logits "
                               f"(kernel_size={k}, hidden={hidden}): compare your layer with "
                               f"the equations line by line")
    model = _gated_model(*GATED_CASES[0])
    size = GATED_CASES[0][2]
    seen = _pixel_dependencies(lambda x: _gated_logits(fn, model, x), size)
    leaks = int((seen & torch.ones(size * size, size * size).triu().bool()).sum())
    return Feedback(leaks == 0, "your layer reproduces GatedPixelCNN.logits, and by gradients "
                                "no logit depends on its own pixel or a later one")
