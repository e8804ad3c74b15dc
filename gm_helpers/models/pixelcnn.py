"""PixelCNN and Gated PixelCNN: the chain rule over pixels, computed by masked convolutions.

Paper card: Pixel Recurrent Neural Networks (PixelCNN)
    A. van den Oord, N. Kalchbrenner, K. Kavukcuoglu. ICML 2016. arXiv:1601.06759.
    Idea: order the pixels in raster order (and, within a pixel, R then G then B) and predict
    each from the ones before it with a stack of convolutions whose kernels are masked so no
    output sees its own pixel or a later one. Training is one parallel pass; sampling is one
    pass per pixel. 81.30 nats on binarized MNIST.
Paper card: Conditional Image Generation with PixelCNN Decoders (Gated PixelCNN)
    A. van den Oord, N. Kalchbrenner, O. Vinyals, L. Espeholt, A. Graves, K. Kavukcuoglu.
    NeurIPS 2016. arXiv:1606.05328. Idea: a vertical stack (everything above) and a horizontal
    stack (everything to the left) remove the masked stack's blind spot; tanh * sigmoid gates.

    p(x) = \\prod_{i=1}^{HW} p(x_i | x_{<i}),   x_{<i}: the pixels before i in raster order

``MixturePixelCNN`` is the PixelCNN with PixelCNN++'s output layer: per pixel, the 3K parameters
of a discretized logistic mixture (``logistic_mixture``, its paper card) instead of 256 logits.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from gm_helpers.checks import (
    InvalidArgument,
    check_kernel,
    check_num_samples,
    check_size,
)
from gm_helpers.models import logistic_mixture
from gm_helpers.models.layers import MaskedConv2d, bernoulli_log_prob, check_images, sampling_device


class _Autoregressive(nn.Module):
    """What PixelCNN and Gated PixelCNN share: the likelihood and the two samplers."""

    def _check(self, x):  # validated, in the weights' dtype
        x = check_images(x, self.channels, self.image_size, self.levels)
        return x.to(next(self.parameters()).dtype)

    def _inputs(self, x):
        return x if self.levels == 2 else x / (self.levels - 1) * 2 - 1  # scale to [-1, 1]

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        x = self._check(x)  # (B, C, H, W)
        logits = self.logits(x)
        if self.levels == 2:
            # Bernoulli: log p = -BCE(logit, x), summed over pixels
            return bernoulli_log_prob(logits.flatten(1), x.flatten(1))  # (B, C H W) -> (B,)
        # 256-way softmax per channel: logits (B, levels, C, H, W)
        return -F.cross_entropy(logits, x.long(), reduction="none").sum((1, 2, 3))

    def log_prob_channels(self, x: torch.Tensor) -> torch.Tensor:
        """log p of each colour channel, summed over pixels: (B, C) nats. For RGB the columns
        are log p(R), log p(G | R), log p(B | R, G) (each also given the pixels before);
        they sum to ``log_prob(x)``."""
        x = self._check(x)  # (B, C, H, W)
        logits = self.logits(x)
        if self.levels == 2:
            return bernoulli_log_prob(logits.flatten(2), x.flatten(2))  # (B, C, H W) -> (B, C)
        return -F.cross_entropy(logits, x.long(), reduction="none").sum((2, 3))

    def _draw(self, logits, generator):
        if self.levels == 2:
            return torch.bernoulli(torch.sigmoid(logits), generator=generator)
        return torch.multinomial(F.softmax(logits, -1), 1, generator=generator)[:, 0].float()

    @torch.no_grad()
    def sample(self, num_samples: int, device=None, generator=None, given=None,
               num_given_rows: int = 0, crop: bool = True) -> torch.Tensor:
        """One pixel (and channel) at a time: H * W * C forward passes.

        ``crop``: row r depends only on rows <= r, so to sample row r we run the network on rows
        0..r alone, an exact saving of about half the work. ``given``/``num_given_rows``: keep
        the first rows of ``given`` and complete the rest.
        """
        num_samples = check_num_samples(num_samples)
        num_given_rows = check_size("num_given_rows", num_given_rows, minimum=0,
                                    maximum=self.image_size)
        weight = next(self.parameters())
        device = sampling_device(weight, device, generator)
        S, C, N = num_samples, self.channels, self.image_size
        x = torch.zeros(S, C, N, N, device=device, dtype=weight.dtype)
        if num_given_rows:
            if given is None or len(given) != num_samples:
                raise InvalidArgument(f"num_given_rows = {num_given_rows} needs given images, "
                                      f"one per sample ({num_samples})")
            x[:, :, :num_given_rows] = self._check(given).to(device)[:, :, :num_given_rows]
        for r in range(num_given_rows, N):
            for c in range(N):
                for ch in range(C):
                    rows = x[:, :, :r + 1] if crop else x  # (S, C, r+1, N)
                    logits = self.logits(rows)  # binary: (S, C, h, N); else (S, L, C, h, N)
                    logit = logits[:, ch, r, c] if self.levels == 2 else logits[:, :, ch, r, c]
                    x[:, ch, r, c] = self._draw(logit, generator)
        return x

    def num_params(self) -> int:
        """Free parameters: a masked convolution's zeroed weights do not count."""
        total = 0
        for module in self.modules():
            for name, p in module.named_parameters(recurse=False):
                masked = name == "weight" and isinstance(module, MaskedConv2d)
                total += int(module.mask.sum()) if masked else p.numel()
        return total


class PixelCNN(_Autoregressive):
    """PixelCNN: a 7x7 type-A layer, residual blocks of 3x3 type-B layers, 1x1 output layers.

    ``levels`` = 2: Bernoulli pixels, ``logits(x)`` -> (B, C, H, W).
    ``levels`` = 256: softmax pixels, ``logits(x)`` -> (B, 256, C, H, W).
    ``log_prob(x)``: x (B, C, H, W) -> (B,) nats.
    """

    def __init__(self, channels: int = 1, hidden: int = 64, num_layers: int = 7,
                 levels: int = 2, image_size: int = 28):
        super().__init__()
        channels, hidden = check_size("channels", channels), check_size("hidden", hidden)
        num_layers = check_size("num_layers", num_layers, minimum=0)  # 0: first layer + head
        levels = check_size("levels", levels, minimum=2)  # one level would be no variable at all
        image_size = check_size("image_size", image_size)
        self.channels, self.hidden, self.levels, self.image_size = channels, hidden, levels, image_size
        g = channels  # one group per colour channel: R sees nothing of its pixel, G sees R, ...
        self.first = MaskedConv2d(channels, 2 * hidden * g, 7, "A", groups=g)
        # residual block (paper, Fig. 5): 1x1 (2h -> h), 3x3 type B (h -> h), 1x1 (h -> 2h)
        self.blocks = nn.ModuleList(nn.ModuleList([
            MaskedConv2d(2 * hidden * g, hidden * g, 1, "B", groups=g),
            MaskedConv2d(hidden * g, hidden * g, 3, "B", groups=g),
            MaskedConv2d(hidden * g, 2 * hidden * g, 1, "B", groups=g)]) for _ in range(num_layers))
        out = channels if levels == 2 else channels * levels
        self.head = nn.Sequential(nn.ReLU(), MaskedConv2d(2 * hidden * g, 2 * hidden * g, 1, "B", g),
                                  nn.ReLU(), MaskedConv2d(2 * hidden * g, out, 1, "B", g))

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        h = self.first(self._inputs(x))  # (B, 2h*C, H, W)
        for a, b, c in self.blocks:
            h = h + c(F.relu(b(F.relu(a(F.relu(h))))))  # residual, every layer causal
        out = self.head(h)
        if self.levels == 2:
            return out  # (B, C, H, W)
        B, CL, H, W = out.shape
        # channels are grouped by colour: (B, C * L, H, W) -> (B, L, C, H, W) (L outputs per
        # channel: the levels' logits, or MixturePixelCNN's 3K mixture parameters)
        return out.view(B, self.channels, CL // self.channels, H, W).transpose(1, 2)


class MixturePixelCNN(PixelCNN):
    """PixelCNN with PixelCNN++'s likelihood: the same trunk, but the last 1x1 layer outputs,
    per pixel and channel, the 3K parameters of a discretized logistic mixture over the levels
    (pi's logits, mu, log s of K logistics) instead of ``levels`` logits.

    ``logits(x)``: (B, C, H, W) -> (B, 3K, C, H, W), the mixture's parameters.
    ``log_prob(x)``: x (B, C, H, W) integer levels -> (B,) nats.
    """

    def __init__(self, channels: int = 1, hidden: int = 64, num_layers: int = 7,
                 num_mixtures: int = 5, levels: int = 256, image_size: int = 28):
        # at least 3 levels: with 2, PixelCNN reads binary pixels unscaled and uses a Bernoulli
        levels = check_size("levels", levels, minimum=3)
        super().__init__(channels, hidden, num_layers, levels, image_size)
        self.num_mixtures = K = check_size("num_mixtures", num_mixtures)
        g = channels
        # the one change: 3K outputs per colour group instead of ``levels``
        self.head[-1] = MaskedConv2d(2 * hidden * g, 3 * K * channels, 1, "B", g)

    def _log_probs(self, x):  # (B, C, H, W): log P of each pixel's level given the past
        x = self._check(x)
        params = self.logits(x)  # (B, 3K, C, H, W)
        logit_pi, mu, log_s = logistic_mixture.split_params(params, self.num_mixtures)
        # each (B, K, C, H, W) -> log P of each pixel's level, (B, C, H, W)
        return logistic_mixture.log_prob(x, logit_pi, mu, log_s, self.levels)

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        return self._log_probs(x).sum((1, 2, 3))  # (B,)

    def log_prob_channels(self, x: torch.Tensor) -> torch.Tensor:
        return self._log_probs(x).sum((2, 3))  # (B, C)

    def level_probs(self, x: torch.Tensor) -> torch.Tensor:
        """Every pixel's predicted distribution over the levels, given the pixels before it:
        (B, C, H, W) -> (B, C, H, W, levels)."""
        logit_pi, mu, log_s = logistic_mixture.split_params(self.logits(self._check(x)),
                                                            self.num_mixtures)
        return logistic_mixture.level_probs(logit_pi, mu, log_s, self.levels)

    def _draw(self, params, generator):  # params (S, 3K) of one pixel and channel -> (S,)
        logit_pi, mu, log_s = logistic_mixture.split_params(params, self.num_mixtures)
        return logistic_mixture.sample(logit_pi, mu, log_s, self.levels, generator).float()


class GatedPixelCNN(_Autoregressive):
    """Gated PixelCNN: vertical and horizontal stacks, tanh * sigmoid gates, no blind spot.

    The vertical stack sees every row above (a (k//2 + 1) x k convolution shifted down one
    row); the horizontal stack sees the pixels to the left in the row (1 x (k//2 + 1)) plus the
    vertical stack's view. Optional class conditioning adds a learned bias to each gate.
    Binary, single-channel images (the MNIST benchmark).
    """

    def __init__(self, hidden: int = 32, num_layers: int = 7, kernel_size: int = 5,
                 num_classes: int = 0, image_size: int = 28):
        super().__init__()
        hidden, kernel_size = check_size("hidden", hidden), check_kernel("kernel_size", kernel_size)
        # at least one layer: the first layer is where the horizontal stack shifts right (type
        # A); with none, the head would read the input pixel it predicts
        num_layers = check_size("num_layers", num_layers, minimum=1)
        num_classes = check_size("num_classes", num_classes, minimum=0)
        image_size = check_size("image_size", image_size)
        self.channels, self.levels, self.image_size, self.hidden = 1, 2, image_size, hidden
        self.k, self.num_layers, self.num_classes = kernel_size, num_layers, num_classes
        k, p = kernel_size, kernel_size // 2
        self.v_convs = nn.ModuleList(nn.Conv2d(1 if i == 0 else hidden, 2 * hidden, (p + 1, k))
                                     for i in range(num_layers))
        self.h_convs = nn.ModuleList(nn.Conv2d(1 if i == 0 else hidden, 2 * hidden, (1, p + 1))
                                     for i in range(num_layers))
        self.v_to_h = nn.ModuleList(nn.Conv2d(2 * hidden, 2 * hidden, 1) for _ in range(num_layers))
        self.h_out = nn.ModuleList(nn.Conv2d(hidden, hidden, 1) for _ in range(num_layers))
        self.cond = nn.Embedding(num_classes, 2 * hidden * num_layers) if num_classes else None
        self.head = nn.Sequential(nn.ReLU(), nn.Conv2d(hidden, hidden, 1), nn.ReLU(),
                                  nn.Conv2d(hidden, 1, 1))

    @staticmethod
    def _gate(a):  # tanh(a_f) * sigmoid(a_g)
        f, g = a.chunk(2, dim=1)
        return torch.tanh(f) * torch.sigmoid(g)

    def logits(self, x: torch.Tensor, y=None) -> torch.Tensor:
        p = self.k // 2
        v = h = self._inputs(x)  # (B, 1, H, W)
        bias = self.cond(y).view(len(y), self.num_layers, -1, 1, 1) if self.cond is not None \
            and y is not None else None
        for i in range(self.num_layers):
            # vertical: rows r-p..r (pad p above), then shift down one row -> rows < r only
            v_pre = self.v_convs[i](F.pad(v, (p, p, p, 0)))  # (B, 2h, H, W): rows r-p..r
            v_shift = F.pad(v_pre, (0, 0, 1, 0))[:, :, :-1]  # now rows r-p-1..r-1
            # horizontal: columns c-p..c; the first layer must not see pixel c itself (type A)
            h_in = F.pad(h, (p, 0, 0, 0))
            if i == 0:
                h_in = F.pad(h, (p + 1, 0, 0, 0))[:, :, :, :-1]  # shift right: columns < c
            h_pre = self.h_convs[i](h_in) + self.v_to_h[i](v_shift)
            if bias is not None:
                v_pre, h_pre = v_pre + bias[:, i], h_pre + bias[:, i]
            v = self._gate(v_pre)  # (B, h, H, W): depends on rows <= r (unshifted, as in the paper)
            h_new = self.h_out[i](self._gate(h_pre))
            h = h_new if i == 0 else h + h_new  # residual on the horizontal stack
        return self.head(h)  # (B, 1, H, W)
