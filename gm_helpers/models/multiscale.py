r"""Multi-scale sampling orders: which pixels are drawn at which sequential network pass.

Paper card: Parallel Multiscale Autoregressive Density Estimation. S. Reed, A. van den Oord,
    N. Kalchbrenner, S. Gomez Colmenarejo, Z. Wang, Y. Chen, D. Belov, N. de Freitas. ICML 2017.
    arXiv:1703.03664.
    Idea: a PixelCNN draws one pixel per network pass, N^2 passes for an N x N image. Instead,
    draw a small b x b image first (every (N/b)-th pixel of each row and column, by an
    ordinary PixelCNN), then double the resolution again and again. A doubling adds the other
    three pixels of every 2 x 2 block in three groups (top right, bottom left, bottom right);
    the pixels of a group are modelled as independent given all the groups before, so one
    pass of a network draws a whole group:

    p(x) = p(x^{(1)}) \prod_{g > 1} \prod_{i \in G_g} p(x_i | x^{(1)}, ..., x^{(g-1)}),
    passes = b^2 + 3 log2(N / b):  O(log N) instead of O(N^2) for a fixed base.

Paper card: Pixel Recurrent Neural Networks, sec. 3.5, the Multi-Scale PixelRNN.
    A. van den Oord, N. Kalchbrenner, K. Kavukcuoglu. ICML 2016. arXiv:1601.06759.
    An unconditional PixelRNN draws a subsampled s x s image; a conditional PixelRNN then draws
    the full image, pixel by pixel, given it: s^2 + N^2 passes. The small image gives the model
    global structure; it does not make sampling cheaper.

(PixelCNN++ downsamples too, inside one network: strided convolutions shrink 32 x 32 feature
maps to 16 x 16 and 8 x 8 and back, so that a few layers see far; its sampling stays one pass
per pixel.)

    sampling_steps(N, scheme, base_size)   (N, N) long: the pass (from 0) that draws each pixel
    num_passes(N, scheme, base_size)       how many sequential passes a sample needs
"""
from __future__ import annotations

import torch

from gm_helpers.checks import InvalidArgument, check_choice, check_size

SCHEMES = ("raster", "multiscale_pixelrnn", "parallel_multiscale")


def _doublings(image_size: int, base_size: int) -> int:
    """m with image_size = base_size * 2^m, or a clear error."""
    m, size = 0, base_size
    while size < image_size:
        size, m = 2 * size, m + 1
    if size != image_size:
        raise InvalidArgument(f"image_size must be base_size times a power of 2 (each step "
                              f"doubles the resolution), got image_size = {image_size}, "
                              f"base_size = {base_size}")
    return m


def sampling_steps(image_size: int = 28, scheme: str = "raster", base_size: int = 7) -> torch.Tensor:
    """For every pixel of an ``image_size`` x ``image_size`` image, the sequential network pass
    (0, 1, ...) that draws it: (N, N) long. Pixels with the same number are drawn together.

    ``"raster"``: the PixelCNN, one pixel per pass. ``"multiscale_pixelrnn"``: a subsampled
    ``base_size`` x ``base_size`` image first (passes 0..b^2-1, not part of the map), then every
    pixel in raster order. ``"parallel_multiscale"``: the base's pixels (every (N/b)-th, from the
    top-left corner) in raster order, then three passes per doubling.
    """
    N = check_size("image_size", image_size)
    scheme = check_choice("scheme", scheme, SCHEMES)
    raster = torch.arange(N * N).view(N, N)  # (N, N)
    if scheme == "raster":
        return raster
    b = check_size("base_size", base_size, maximum=N)
    if scheme == "multiscale_pixelrnn":
        return b * b + raster  # the small image took the first b^2 passes
    m = _doublings(N, b)
    steps = torch.empty(N, N, dtype=torch.long)
    stride = 2 ** m
    # group 1, the base: every stride-th pixel from the top-left corner, one pass each
    steps[::stride, ::stride] = torch.arange(b * b).view(b, b)
    t = b * b
    for level in range(m):  # each doubling halves the stride: three groups, one pass each
        half = stride // 2
        steps[::stride, half::stride] = t  # top right of every block
        steps[half::stride, ::stride] = t + 1  # bottom left
        steps[half::stride, half::stride] = t + 2  # bottom right
        stride, t = half, t + 3
    return steps


def num_passes(image_size: int = 28, scheme: str = "raster", base_size: int = 7) -> int:
    """Sequential network passes to draw one sample: the last pass number plus one."""
    return int(sampling_steps(image_size, scheme, base_size).max()) + 1
