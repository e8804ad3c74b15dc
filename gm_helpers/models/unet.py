r"""A small U-Net for 28x28 digits, sized for a CPU: the denoiser of lecture 08's diffusion models.

Paper card:
    O. Ronneberger, P. Fischer, T. Brox, "U-Net: convolutional networks for biomedical image
    segmentation", MICCAI 2015, arXiv:1505.04597. Idea: an encoder that halves the resolution,
    a decoder that doubles it back, and skip connections that hand each decoder stage the
    encoder's features at the same resolution, so the output keeps the input's fine detail.
    Ho, Jain, Abbeel (DDPM, 2020) condition it on the noise level: a sinusoidal embedding of
    the step t, added inside every residual block.

Two resolutions (28 and 14), GroupNorm and SiLU, no attention: about 0.3 million parameters at
the default widths (32, 64). Input (B, C_in, 28, 28) and, if ``time_embedding``, t (B,) as
floats in [0, 1]; output (B, C_out, 28, 28).
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from gm_helpers.checks import InvalidArgument, check_size


def sinusoidal_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Transformer-style features of a scalar t in [0, 1]: sin and cos of 1000 t at dim / 2
    frequencies from 1 to 1/1000, (B,) -> (B, dim)."""
    half = dim // 2
    freqs = torch.exp(-math.log(1000.0) * torch.arange(half, device=t.device) / max(half - 1, 1))
    angles = 1000.0 * t.float()[:, None] * freqs[None, :]  # (B, dim / 2)
    return torch.cat([angles.sin(), angles.cos()], dim=1)  # (B, dim)


class ResBlock(nn.Module):
    """x + conv(SiLU(GN(conv(SiLU(GN(x))) + emb(t)))): two 3x3 convolutions around the time
    embedding, with a 1x1 convolution on the skip when the width changes."""

    def __init__(self, c_in: int, c_out: int, emb_dim: int | None, groups: int = 8):
        super().__init__()
        self.norm1 = nn.GroupNorm(min(groups, c_in), c_in)
        self.conv1 = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.emb = nn.Linear(emb_dim, c_out) if emb_dim else None
        self.norm2 = nn.GroupNorm(min(groups, c_out), c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1)
        self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x, emb=None):
        h = self.conv1(F.silu(self.norm1(x)))  # (B, c_out, H, W)
        if self.emb is not None:
            h = h + self.emb(emb)[:, :, None, None]  # the noise level, one shift per channel
        h = self.conv2(F.silu(self.norm2(h)))
        return self.skip(x) + h


class UNet(nn.Module):
    """28x28 -> 14x14 -> 28x28 with skips; ``blocks`` residual blocks per stage.

    in_channels, out_channels: e.g. 1 and 1 (a noisy digit in, its noise out, DDPM), or 2 and 1
    (a partly masked digit and its mask in, a logit per pixel out, masked diffusion).
    time_embedding: condition on t (B,) in [0, 1] (DDPM), or not (masked diffusion needs no t).
    """

    def __init__(self, in_channels: int = 1, out_channels: int = 1, widths=(32, 64), blocks: int = 1,
                 time_embedding: bool = True):
        super().__init__()
        widths = [check_size("widths", w) for w in widths]
        if len(widths) != 2:
            raise InvalidArgument(f"widths must give two channel counts (28x28 and 14x14), got {widths}")
        c1, c2 = widths
        self.config = dict(in_channels=in_channels, out_channels=out_channels, widths=widths,
                           blocks=blocks, time_embedding=time_embedding)
        self.emb_dim = 4 * c1 if time_embedding else None
        if time_embedding:
            self.time_mlp = nn.Sequential(nn.Linear(c1, self.emb_dim), nn.SiLU(),
                                          nn.Linear(self.emb_dim, self.emb_dim))
        self.conv_in = nn.Conv2d(check_size("in_channels", in_channels), c1, 3, padding=1)
        e = self.emb_dim
        self.down1 = nn.ModuleList([ResBlock(c1, c1, e) for _ in range(blocks)])
        self.downsample = nn.Conv2d(c1, c1, 3, stride=2, padding=1)       # 28 -> 14
        self.down2 = nn.ModuleList([ResBlock(c1 if i == 0 else c2, c2, e) for i in range(blocks)])
        self.middle = ResBlock(c2, c2, e)
        self.up2 = nn.ModuleList([ResBlock(2 * c2 if i == 0 else c2, c2, e) for i in range(blocks)])
        self.upsample = nn.Conv2d(c2, c1, 3, padding=1)                   # after 14 -> 28 nearest
        self.up1 = nn.ModuleList([ResBlock(2 * c1 if i == 0 else c1, c1, e) for i in range(blocks)])
        self.norm_out = nn.GroupNorm(8, c1)
        self.conv_out = nn.Conv2d(c1, check_size("out_channels", out_channels), 3, padding=1)
        nn.init.zeros_(self.conv_out.weight)  # start from output 0: no noise / coin-flip logits
        nn.init.zeros_(self.conv_out.bias)

    def forward(self, x: torch.Tensor, t: torch.Tensor | None = None) -> torch.Tensor:
        if x.dim() != 4 or tuple(x.shape[1:]) != (self.config["in_channels"], 28, 28):
            raise InvalidArgument(f"expected images shaped (B, {self.config['in_channels']}, 28, 28), "
                                  f"got {tuple(x.shape)}")
        emb = None
        if self.emb_dim:
            if t is None or t.shape != (len(x),):
                raise InvalidArgument(f"this U-Net needs t, one noise level per image, shaped ({len(x)},)")
            emb = self.time_mlp(sinusoidal_embedding(t, self.config["widths"][0]))  # (B, 4 c1)
        h = self.conv_in(x)                                   # (B, c1, 28, 28)
        for block in self.down1:
            h = block(h, emb)
        skip1 = h
        h = self.downsample(h)                                # (B, c1, 14, 14)
        for block in self.down2:
            h = block(h, emb)
        skip2 = h                                             # (B, c2, 14, 14)
        h = self.middle(h, emb)
        h = torch.cat([h, skip2], dim=1)                      # (B, 2 c2, 14, 14)
        for block in self.up2:
            h = block(h, emb)
        h = self.upsample(F.interpolate(h, scale_factor=2, mode="nearest"))  # (B, c1, 28, 28)
        h = torch.cat([h, skip1], dim=1)                      # (B, 2 c1, 28, 28)
        for block in self.up1:
            h = block(h, emb)
        return self.conv_out(F.silu(self.norm_out(h)))        # (B, C_out, 28, 28)
