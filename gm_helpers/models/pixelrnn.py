r"""PixelRNN: two-dimensional LSTMs that read an image pixel by pixel.

Paper card
    A. van den Oord, N. Kalchbrenner & K. Kavukcuoglu, "Pixel Recurrent Neural Networks",
    ICML 2016, arXiv:1601.06759. Binarized MNIST: 79.20 nats (Diagonal BiLSTM, 7 layers, h = 16).
    Idea: keep the exact chain rule in raster order, and compute every conditional with LSTMs
    that run over the image. A Row LSTM steps down the rows (H steps), computing a whole row at
    once with 1D convolutions: it sees a triangle above the pixel. A Diagonal BiLSTM steps along
    the diagonals of a skewed image (2N - 1 steps), in both directions: it sees (almost) the
    whole past. A 7x7 type-A masked convolution first, residual LSTM layers, 1x1 convolutions last.

    p(x) = \prod_{i=1}^{H W} p(x_i | x_{<i}),    p(x_i = 1 | x_{<i}) = \sigma(a_i(x_{<i}))
    \mathcal{L}(x) = -\log p(x) = \sum_i -[x_i \log \sigma(a_i) + (1 - x_i) \log(1 - \sigma(a_i))]

Binary images only: x is (B, 1, H, W) with values 0 or 1, one Bernoulli logit per pixel.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from gm_helpers.checks import check_num_samples, check_size
from gm_helpers.models.layers import MaskedConv2d, bernoulli_log_prob, sampling_device


# ----------------------------------------------------------------------------- skewing
def skew(x: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) -> (B, C, H, W + H - 1): row i shifted right by i, zeros elsewhere.

    Pixel (i, j) lands in column i + j, so each diagonal of the image becomes one column.
    For a square N x N image the skewed width is 2N - 1.
    """
    B, C, H, W = x.shape
    # pad each row with H zeros, then re-read the flat rows with one column fewer per row:
    # element (i, j) sits at flat index i (W + H) + j = i (W + H - 1) + (i + j)
    x = F.pad(x, (0, H)).reshape(B, C, H * (W + H))  # (B, C, H (W + H))
    return x[:, :, :H * (W + H - 1)].reshape(B, C, H, W + H - 1)  # (B, C, H, W + H - 1)


def unskew(x: torch.Tensor, width: int | None = None) -> torch.Tensor:
    """(B, C, H, T) -> (B, C, H, W), the inverse of ``skew``: row i is read from column i on.

    ``width`` defaults to T - H + 1 (the width that ``skew`` started from)."""
    B, C, H, T = x.shape
    W = T - H + 1 if width is None else width
    # the same trick backwards: rows of length T + 1 put (i, i + j) at flat i (T + 1) + j
    x = F.pad(x.reshape(B, C, H * T), (0, H))  # (B, C, H T + H)
    return x.reshape(B, C, H, T + 1)[:, :, :, :W]  # (B, C, H, T + 1) -> (B, C, H, W)


def num_diagonal_steps(height: int, width: int | None = None) -> int:
    """How many sequential steps a Diagonal LSTM takes: the width of the skewed map.

    How do we get 2N - 1? Diagonal t holds the pixels (i, j) with i + j = t. For an N x N image
    i and j each run over 0..N-1, so t runs over 0..2N-2: that is 2N - 1 diagonals. In the
    skewed map pixel (i, j) sits in column i + j, so each diagonal is one column and the
    skewed width is N + (N - 1) = 2N - 1. (An H x W image has H + W - 1.)
    """
    return skew(torch.zeros(1, 1, height, width or height)).shape[-1]


# ----------------------------------------------------------------------------- building blocks
def _lstm_step(gates: torch.Tensor, c: torch.Tensor):
    """One LSTM update from pre-activations ``gates`` (B, 4h, L) and cell state ``c`` (B, h, L)."""
    o, f, i, g = gates.chunk(4, dim=1)  # 4 x (B, h, L)
    # c_t = sigma(f) * c_{t-1} + sigma(i) * tanh(g)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    # h_t = sigma(o) * tanh(c_t)
    return torch.sigmoid(o) * torch.tanh(c), c


class _RowLSTMLayer(nn.Module):
    """(B, 2h, H, W) -> (B, 2h, H, W): one Row LSTM, top to bottom, a whole row per step.

    The paper's "k x 1" kernels (k = 3) run along a row, i.e. PyTorch's (1, 3).
    """

    def __init__(self, channels: int, hidden: int):
        super().__init__()
        # K^is: along the row, mask B -> taps at (i, j-1) and (i, j) only, never to the right
        self.input_to_state = MaskedConv2d(channels, 4 * hidden, (1, 3), "B", shared_mask=True)
        # K^ss: a 1D convolution of size 3 over the previous row's hidden state, j-1 .. j+1
        self.state_to_state = nn.Conv1d(hidden, 4 * hidden, 3, padding=1, bias=False)
        self.up = nn.Conv2d(hidden, channels, 1)  # back to 2h features for the residual
        self.hidden = hidden

    def forward(self, x):
        B, _, H, W = x.shape
        x_is = self.input_to_state(x)  # (B, 4h, H, W): precomputed for every row at once
        # unbind once, not x_is[:, :, i] per step: the backward of a slice writes a full-size
        # zero gradient every step (O(H^2) memory traffic); unbind's backward is one stack
        x_rows = x_is.unbind(2)  # H x (B, 4h, W)
        h = c = x.new_zeros(B, self.hidden, W)  # h_{-1} = c_{-1} = 0: nothing above row 0
        rows = []
        for i in range(H):  # H sequential steps, each a whole row in parallel
            # [o, f, i, g] = sigma(K^ss * h_{i-1} + K^is * x_i)
            h, c = _lstm_step(self.state_to_state(h) + x_rows[i], c)  # (B, h, W)
            rows.append(h)
        # residual: features + upsampled LSTM output, position by position
        return x + self.up(torch.stack(rows, dim=2))  # (B, 2h, H, W)


class _DiagonalLSTM(nn.Module):
    """(B, 2h, H, W) -> (B, h, H, W): one direction, the diagonals from top-left to bottom-right.

    In the skewed map column t is diagonal t. The 2 x 1 kernel K^ss reads rows i-1 and i of
    column t-1, which are the original pixels above (i-1, j) and to the left (i, j-1): the state
    at (i, j) sums up the whole quadrant above and to the left of it.
    """

    def __init__(self, channels: int, hidden: int):
        super().__init__()
        self.input_to_state = nn.Conv2d(channels, 4 * hidden, 1)  # K^is: 1 x 1
        self.state_to_state = nn.Conv1d(hidden, 4 * hidden, 2, padding=1, bias=False)  # K^ss
        self.hidden = hidden

    def forward(self, x):
        B, _, H, W = x.shape
        x_is = self.input_to_state(skew(x))  # (B, 4h, H, T) with T = H + W - 1
        x_columns = x_is.unbind(3)  # T x (B, 4h, H): one slice per step, cheap in backward
        valid = skew(x.new_ones(1, 1, H, W))[0, 0]  # (H, T): 1 where a real pixel sits
        h = c = x.new_zeros(B, self.hidden, H)  # state of the previous diagonal, one per row
        columns = []
        for t in range(len(x_columns)):  # H + W - 1 sequential steps
            # K^ss * h_{t-1}: output row i reads rows i-1 and i (padding adds a zero row on top)
            h_ss = self.state_to_state(h)[:, :, :H]  # (B, 4h, H)
            h, c = _lstm_step(h_ss + x_columns[t], c)  # (B, h, H)
            # states off the image stay zero, like zero padding around it
            h, c = h * valid[:, t], c * valid[:, t]
            columns.append(h)
        return unskew(torch.stack(columns, dim=3), W)  # (B, h, H, T) -> (B, h, H, W)


class _DiagonalBiLSTMLayer(nn.Module):
    """(B, 2h, H, W) -> (B, 2h, H, W): a Diagonal LSTM in each direction, then a residual."""

    def __init__(self, channels: int, hidden: int):
        super().__init__()
        self.left = _DiagonalLSTM(channels, hidden)  # left to right
        self.right = _DiagonalLSTM(channels, hidden)  # right to left: run on the mirror image
        self.up = nn.Conv2d(hidden, channels, 1)

    def forward(self, x):
        h_left = self.left(x)  # (B, h, H, W): sees (<= i, <= j)
        h_right = self.right(x.flip(3)).flip(3)  # (B, h, H, W): sees (<= i, >= j)
        # h_right at (i, j) has seen features (i, j+1), (i, j+2), ... of the current row, and
        # those contain pixel (i, j) and pixels after it. Shifted down one row, the output at
        # (i, j) reads h_right at (i-1, j): rows <= i-1 only, all of them strictly in the past.
        h_right = F.pad(h_right, (0, 0, 1, 0))[:, :, :-1]  # (B, h, H, W), row 0 gets zeros
        return x + self.up(h_left + h_right)  # (B, 2h, H, W)


# ----------------------------------------------------------------------------- the models
class _PixelRNN(nn.Module):
    """7x7 type-A conv -> ``num_layers`` residual LSTM layers -> ReLU, 1x1, ReLU, 1x1 -> logits.

    ``logits(x)``: (B, 1, H, W) -> (B, 1, H, W).   ``log_prob(x)``: (B, 1, H, W) -> (B,) nats.
    ``sample(S)`` -> (S, 1, H, W): H * W full forward passes, one new pixel each: slow.
    """

    layer_type = None  # set by RowLSTM / DiagonalBiLSTM

    def __init__(self, hidden: int = 16, num_layers: int = 2, image_size: int = 28):
        super().__init__()
        hidden, image_size = check_size("hidden", hidden), check_size("image_size", image_size)
        num_layers = check_size("num_layers", num_layers, minimum=0)  # 0: the 7x7 layer A + head
        self.hidden, self.num_layers, self.image_size = hidden, num_layers, image_size
        channels = 2 * hidden  # the paper: 2h features between layers, h inside each LSTM
        self.conv_in = MaskedConv2d(1, channels, 7, "A", shared_mask=True)
        self.layers = nn.ModuleList(self.layer_type(channels, hidden) for _ in range(num_layers))
        # 1x1 convolutions only look at their own position: mask B is automatic here
        self.conv_out = nn.Sequential(nn.ReLU(), nn.Conv2d(channels, channels, 1),
                                      nn.ReLU(), nn.Conv2d(channels, 1, 1))

    def _check(self, x, binary: bool) -> torch.Tensor:
        if not torch.is_tensor(x):
            raise TypeError(f"x must be a torch.Tensor, got {type(x).__name__}")
        N = self.image_size
        if x.dim() != 4 or x.shape[1] != 1 or x.shape[2:] != (N, N):
            raise ValueError(f"expected images of shape (B, 1, {N}, {N}) (1 channel, binary), "
                             f"got shape {tuple(x.shape)}")
        if binary and not ((x == 0) | (x == 1)).all():
            raise ValueError("expected binary data: every pixel must be 0 or 1")
        return x.to(self.conv_in.weight.dtype)

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """a_i for every pixel at once: logit (i, j) depends only on pixels before (i, j)."""
        h = self.conv_in(self._check(x, binary=False))  # (B, 2h, H, W)
        for layer in self.layers:
            h = layer(h)  # (B, 2h, H, W)
        return self.conv_out(h)  # (B, 1, H, W)

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        x = self._check(x, binary=True)  # (B, 1, H, W) in the weights' dtype
        # log p(x) = sum_i x_i log s(a_i) + (1 - x_i) log(1 - s(a_i)) = -BCE(a, x)
        return bernoulli_log_prob(self.logits(x).flatten(1), x.flatten(1))  # (B, H W) -> (B,)

    @torch.no_grad()
    def sample(self, num_samples: int, device=None, generator=None) -> torch.Tensor:
        """Ancestral sampling in raster order: H * W forward passes of the whole net (slow)."""
        num_samples = check_num_samples(num_samples)
        weight = self.conv_in.weight
        N = self.image_size
        x = torch.zeros(num_samples, 1, N, N, device=sampling_device(weight, device, generator),
                        dtype=weight.dtype)
        for i in range(N):
            for j in range(N):
                # p(x_ij = 1 | x_<ij): pixels from (i, j) on are still 0 and are never looked at
                p = torch.sigmoid(self.logits(x)[:, 0, i, j])  # (S,)
                x[:, 0, i, j] = torch.bernoulli(p, generator=generator)
        return x

    def num_params(self) -> int:
        """Free parameters: kernel entries that a mask zeroes are not counted."""
        total = sum(p.numel() for p in self.parameters())
        for m in self.modules():
            if isinstance(m, MaskedConv2d):  # (out, in, kh, kw) weights, mask (1, 1, kh, kw)
                total -= int((m.mask == 0).sum()) * m.out_channels * m.in_channels
        return total


class RowLSTM(_PixelRNN):
    """PixelRNN with Row LSTM layers: H sequential steps, a triangular receptive field.

    Logit (i, j) sees rows above within a cone widening by one column per row on each side
    (plus the 7x7 first layer's reach), so some past pixels, up and to the right, stay unseen
    however deep the network is. ``RowLSTM(hidden=16, num_layers=2, image_size=28)``.
    """

    layer_type = _RowLSTMLayer


class DiagonalBiLSTM(_PixelRNN):
    """PixelRNN with Diagonal BiLSTM layers: 2N - 1 sequential steps, the whole past in view.

    Exception, from the 7x7 first layer: the last pixel of row i-1, (i-1, N-1), reaches the
    network only through features in rows >= i at columns >= N-4, so pixels (i, j) with
    j < N-4 cannot see it at any depth. ``DiagonalBiLSTM(hidden=16, num_layers=2, image_size=28)``.
    """

    layer_type = _DiagonalBiLSTMLayer
