r"""Pieces that several models share, written once.

* ``bernoulli_log_prob``: log p(x | logits) of binary pixels, the likelihood of every binary model.
* ``causal_mask`` and ``MaskedConv2d``: the masked convolution of PixelCNN and PixelRNN.
* ``check_order``, ``flatten_binary``, ``logit_of_mean``, ``check_images``,
  ``sampling_device``: input checks and starting values of the autoregressive models.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from gm_helpers.checks import InvalidArgument, check_kernel, check_size


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
    """``(B, D)`` binary vectors or ``(B, 1, H, W)`` binary images with H * W = D -> ``(B, D)``
    floats, with clear errors. B may be 0 (an empty batch gives empty results)."""
    if not torch.is_tensor(x):
        raise TypeError(f"x must be a torch.Tensor, got {type(x).__name__}")
    image = x.dim() == 4 and x.shape[1] == 1 and x.shape[2] * x.shape[3] == D
    if not (image or (x.dim() == 2 and x.shape[1] == D)):
        raise ValueError(f"expected {D} variables per example, in a batch shaped (B, {D}) or "
                         f"(B, 1, H, W) with H * W = {D}; got shape {tuple(x.shape)}")
    x = x.flatten(1)  # (B, D)
    if not ((x == 0) | (x == 1)).all():
        raise ValueError("expected binary data: every pixel must be 0 or 1 (no NaN)")
    return x.float()


def sampling_device(weight: torch.Tensor, device=None, generator=None) -> torch.device:
    """The device a sampler draws on (the model's, unless ``device`` says otherwise), after
    checking ``device`` and ``generator`` so that a wrong one gets a clear error, not torch's."""
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator (e.g. torch.Generator()."
                        f"manual_seed(0)) or None, got {type(generator).__name__} {generator!r}")
    try:
        device = torch.device(device) if device is not None else weight.device
    except (RuntimeError, TypeError):
        raise ValueError(f"device must be 'cpu', 'cuda', 'mps' or a torch.device, got "
                         f"{device!r}") from None
    if device.type == "meta":
        raise ValueError("device 'meta' holds shapes, not numbers: nothing can be sampled there; "
                         "sample on the model's device")
    if generator is not None and generator.device.type != device.type:
        raise ValueError(f"generator is on {generator.device}, the samples on {device}: make it "
                         f"with torch.Generator(device={device.type!r})")
    return device


def logit_of_mean(x: torch.Tensor, D: int) -> torch.Tensor:
    """log(p / (1 - p)) of each pixel's mean over the data x, clamped away from 0 and 1."""
    mean = flatten_binary(x, D).mean(0).clamp(1e-3, 1 - 1e-3)  # (D,)
    return torch.log(mean) - torch.log1p(-mean)


def bernoulli_log_prob(logits, x) -> torch.Tensor:
    """log p(x | logits) = sum_d x_d log s(l_d) + (1 - x_d) log(1 - s(l_d)), summed over dim -1.

    ``logits`` and ``x`` broadcast: (S, B, D) logits of S samples z against (B, D) images."""
    logits, x = torch.broadcast_tensors(logits, x)
    return -F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(-1)


def causal_mask(kernel_size, mask_type: str, in_channels: int = 1, out_channels: int = 1,
                groups: int = 1) -> torch.Tensor:
    """The 0/1 mask of a masked convolution, shape (out, in, kh, kw).

    Spatially: every row above the centre, and the centre row left of the centre. At the centre
    itself, channels are split into ``groups`` (R, G, B for colour): output group g sees input
    groups g' < g for type "A" and g' <= g for type "B". With one group, "A" excludes the centre
    and "B" includes it. ``kernel_size``: k for k x k, or (kh, kw), each odd.
    """
    if isinstance(kernel_size, (tuple, list)):
        kh, kw = (check_kernel(f"kernel_size[{i}]", k) for i, k in enumerate(kernel_size))
    else:
        kh = kw = check_kernel("kernel_size", kernel_size)
    if mask_type not in ("A", "B"):
        raise InvalidArgument(f"mask_type must be 'A' (centre excluded) or 'B' (centre "
                              f"included), got {mask_type!r}")
    groups = check_size("groups", groups)
    in_channels, out_channels = check_size("in_channels", in_channels), check_size(
        "out_channels", out_channels)
    if in_channels % groups or out_channels % groups:
        raise InvalidArgument(f"channels ({in_channels} in, {out_channels} out) must divide into "
                              f"{groups} groups")
    ch, cw = kh // 2, kw // 2  # the centre
    mask = torch.zeros(out_channels, in_channels, kh, kw)
    mask[:, :, :ch, :] = 1  # rows above the centre
    mask[:, :, ch, :cw] = 1  # left of the centre, same row
    g_out = torch.arange(out_channels) // (out_channels // groups)  # group of each channel
    g_in = torch.arange(in_channels) // (in_channels // groups)
    allowed = g_in[None, :] < g_out[:, None] if mask_type == "A" else g_in[None, :] <= g_out[:, None]
    mask[:, :, ch, cw] = allowed.float()
    return mask


class MaskedConv2d(nn.Conv2d):
    """A convolution whose weights are multiplied by ``causal_mask`` at every call.

    (B, in, H, W) -> (B, out, H, W). ``shared_mask=True`` stores one (1, 1, kh, kw) spatial mask
    for every pair of channels (one colour channel, no groups: the PixelRNNs); otherwise the
    mask is (out, in, kh, kw), with the centre split by colour ``groups`` (the PixelCNNs).
    """

    def __init__(self, in_channels, out_channels, kernel_size, mask_type="B", groups=1,
                 shared_mask=False):
        mask = (causal_mask(kernel_size, mask_type) if shared_mask
                else causal_mask(kernel_size, mask_type, in_channels, out_channels, groups))
        kh, kw = mask.shape[2:]
        super().__init__(in_channels, out_channels, (kh, kw), padding=(kh // 2, kw // 2))
        self.register_buffer("mask", mask)

    def forward(self, x):
        return F.conv2d(x, self.weight * self.mask, self.bias, padding=self.padding)


def check_images(x, channels: int, size: int, levels: int) -> torch.Tensor:
    """x must be a (B, channels, size, size) tensor of integers in 0..levels-1."""
    if not torch.is_tensor(x):
        raise TypeError(f"x must be a torch.Tensor, got {type(x).__name__}")
    if x.dim() != 4 or x.shape[1] != channels or x.shape[2:] != (size, size):
        raise ValueError(f"expected images (B, {channels}, {size}, {size}), got {tuple(x.shape)}")
    if levels == 2 and not ((x == 0) | (x == 1)).all():
        raise ValueError("expected binary images: every pixel must be 0 or 1")
    if levels > 2 and ((x < 0) | (x > levels - 1) | (x != x.round())).any():
        raise ValueError(f"expected integer pixel values in 0..{levels - 1}")
    return x.float()
