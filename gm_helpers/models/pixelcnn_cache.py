r"""Sampling a PixelCNN without recomputing the past: each layer's outputs cached, pixel by pixel.

Paper card: Fast Generation for Convolutional Autoregressive Models
    P. Ramachandran, T. Le Paine, P. Khorrami, M. Babaeizadeh, S. Chang, Y. Zhang,
    M. Hasegawa-Johnson, R. Campbell, T. Huang. ICLR 2017 workshop. arXiv:1704.06001.
    Idea: the plain sampler runs the whole network over the whole image for each of the H W
    pixels, although a layer's output at a pixel already drawn can never change again: every
    output is a function of the pixels before it only (that is what the masks guarantee). Keep
    each layer's outputs in a cache as they are computed, and for each new pixel compute every
    layer at that one position only, from the cached neighbourhood of the layer below.

For the course's ``PixelCNN`` (a 7 x 7 type-A layer, residual blocks of 1x1, 3x3 type-B and 1x1
layers, a 1x1 head): at pixel (r, c) the first layer reads a 7 x 7 patch of the image, each
block's 3 x 3 layer reads a 3 x 3 patch of its input, and everything else is 1 x 1, so one
pixel costs about 1 / (H W) of a full pass. The samples are the plain sampler's: the same
conditionals, drawn in the same order from the same generator.

With colour channels (R, then G given R, then B), each channel's step recomputes the layers at
(r, c): the masks let the outputs at (r, c) depend on the channels already drawn there, and the
last recomputation (after all but the last channel) leaves the cache with the final values.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from gm_helpers.checks import InvalidArgument, check_num_samples
from gm_helpers.models.layers import sampling_device


def _masked(conv) -> torch.Tensor:
    return conv.weight * conv.mask  # (out, in, kh, kw)


@torch.no_grad()
def sample_cached(model, num_samples: int, device=None, generator=None) -> torch.Tensor:
    """``model.sample(num_samples, generator=...)`` of a ``PixelCNN`` (or ``MixturePixelCNN``),
    computed with per-layer caches: (S, C, N, N), the same images for the same generator."""
    from gm_helpers.models.pixelcnn import PixelCNN  # the model this sampler knows the layout of
    if not isinstance(model, PixelCNN):
        raise InvalidArgument(f"sample_cached knows the PixelCNN's layers; got a "
                              f"{type(model).__name__} (use its own sample method)")
    S = check_num_samples(num_samples)
    weight = model.first.weight
    device = sampling_device(weight, device, generator)
    C, N, dtype = model.channels, model.image_size, weight.dtype
    k0 = model.first.kernel_size[0]
    p0 = k0 // 2
    W0, b0 = _masked(model.first).to(device), model.first.bias.to(device)
    blocks = [[(_masked(conv).to(device), conv.bias.to(device)) for conv in block]
              for block in model.blocks]
    head = [(_masked(conv).flatten(1).to(device), conv.bias.to(device))
            for conv in model.head if hasattr(conv, "mask")]
    # caches, zero-padded as the convolutions pad: the first layer's input (the image, scaled
    # as the model reads it) and each block's 3x3 input; pixels not drawn yet stay 0, where
    # the masks ignore them anyway
    x = torch.zeros(S, C, N, N, device=device, dtype=dtype)
    x_pad = torch.zeros(S, C, N + 2 * p0, N + 2 * p0, device=device, dtype=dtype)
    t_pad = [torch.zeros(S, conv_b.shape[1], N + 2, N + 2, device=device, dtype=dtype)
             for (_, _), (conv_b, _), (_, _) in blocks]
    for r in range(N):
        for c in range(N):
            for ch in range(C):
                # first layer at (r, c): its 7x7 type-A patch of the image
                patch = x_pad[:, :, r:r + k0, c:c + k0]  # (S, C, 7, 7)
                h = F.conv2d(patch, W0, b0).flatten(1)  # (S, 2h)
                for i, ((Wa, ba), (Wb, bb), (Wc, bc)) in enumerate(blocks):
                    t = F.relu(F.linear(F.relu(h), Wa.flatten(1), ba))  # 1x1: (S, h)
                    t_pad[i][:, :, r + 1, c + 1] = t  # cached: later pixels' 3x3 patches read it
                    u = F.relu(F.conv2d(t_pad[i][:, :, r:r + 3, c:c + 3], Wb, bb).flatten(1))
                    h = h + F.linear(u, Wc.flatten(1), bc)  # residual, 1x1: (S, 2h)
                out = F.linear(F.relu(F.linear(F.relu(h), *head[0])), *head[1])  # (S, C * L)
                logit = out[:, ch] if model.levels == 2 else \
                    out.view(S, C, -1).transpose(1, 2)[:, :, ch]  # (S,) or (S, L)
                x[:, ch, r, c] = model._draw(logit, generator)
                x_pad[:, ch, r + p0, c + p0] = model._inputs(x[:, ch, r, c])
    return x


@torch.no_grad()
def sample_cached_gated(model, num_samples: int, device=None, generator=None) -> torch.Tensor:
    """``model.sample(num_samples, generator=...)`` of a ``GatedPixelCNN``, computed with caches:
    (S, 1, N, N), the same images for the same generator.

    The vertical stack at row r depends on rows <= r only, and the horizontal stack reads it
    shifted down one row; so when row r begins, every layer's vertical output for row r - 1 is
    final: compute it once for the whole row (one convolution per layer over p + 1 cached
    rows). Then, pixel by pixel, each layer's horizontal stack at (r, c) reads its 1 x (p + 1)
    patch of the layer below in row r (cached as it is computed) and the row's vertical view.
    """
    from gm_helpers.models.pixelcnn import GatedPixelCNN  # the model this sampler knows the layout of
    if not isinstance(model, GatedPixelCNN):
        raise InvalidArgument(f"sample_cached_gated knows the Gated PixelCNN's stacks; got a "
                              f"{type(model).__name__} (sample_cached is the PixelCNN's)")
    S = check_num_samples(num_samples)
    weight = model.v_convs[0].weight
    device = sampling_device(weight, device, generator)
    N, p, dtype, L = model.image_size, model.k // 2, weight.dtype, model.num_layers
    conv = [(m.weight.to(device), m.bias.to(device)) for m in model.v_convs]
    h_conv = [(m.weight.to(device), m.bias.to(device)) for m in model.h_convs]
    v_to_h = [(m.weight.flatten(1).to(device), m.bias.to(device)) for m in model.v_to_h]
    h_out = [(m.weight.flatten(1).to(device), m.bias.to(device)) for m in model.h_out]
    head = [(m.weight.flatten(1).to(device), m.bias.to(device)) for m in model.head
            if isinstance(m, torch.nn.Conv2d)]
    x = torch.zeros(S, 1, N, N, device=device, dtype=dtype)
    # the vertical stack's inputs (the image for layer 0, layer i - 1's v for layer i), padded
    # as the model pads them: p rows above, p columns either side
    v_in = [torch.zeros(S, 1 if i == 0 else model.hidden, N + p, N + 2 * p, device=device,
                        dtype=dtype) for i in range(L)]
    for r in range(N):
        # this row's vertical view for each layer: v_pre at row r - 1 (0 above the first row)
        view = []
        for i in range(L):
            if r == 0:
                shifted = torch.zeros(S, conv[i][0].shape[0], N, device=device, dtype=dtype)
            else:
                shifted = F.conv2d(v_in[i][:, :, r - 1:r + p], *conv[i])[:, :, 0]  # (S, 2h, N)
                if i + 1 < L:   # layer i's v at row r - 1: layer i + 1's vertical input
                    v_in[i + 1][:, :, r - 1 + p, p:p + N] = model._gate(shifted)
            # v_to_h, a 1x1 convolution: (S, 2h, N)
            view.append(torch.einsum("oc,scn->son", v_to_h[i][0], shifted) + v_to_h[i][1][:, None])
        # the horizontal stack's inputs in this row, padded p columns on the left (one more
        # for the first layer, which must not see pixel c itself)
        h_row = [torch.zeros(S, 1 if i == 0 else model.hidden, N + p + (i == 0), device=device,
                             dtype=dtype) for i in range(L)]
        for c in range(N):
            h = None
            for i in range(L):
                patch = h_row[i][:, :, c:c + p + 1]   # columns c - p - 1..c - 1 (i = 0), else c - p..c
                pre = torch.einsum("oik,sik->so", h_conv[i][0][:, :, 0], patch) + h_conv[i][1] \
                    + view[i][:, :, c]                                   # (S, 2h)
                new = F.linear(model._gate(pre[:, :, None])[:, :, 0], *h_out[i])   # (S, h)
                h = new if i == 0 else h + new   # residual on the horizontal stack
                if i + 1 < L:
                    h_row[i + 1][:, :, c + p] = h
            out = F.linear(F.relu(F.linear(F.relu(h), *head[0])), *head[1])  # (S, 1)
            x[:, 0, r, c] = model._draw(out[:, 0], generator)
            pixel = model._inputs(x[:, 0, r, c])
            h_row[0][:, 0, c + p + 1] = pixel
            v_in[0][:, 0, r + p, c + p] = pixel
    return x
