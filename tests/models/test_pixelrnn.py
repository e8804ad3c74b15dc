"""PixelRNN (Row LSTM, Diagonal BiLSTM): causal, receptive fields as claimed, normalised, sampled, strict."""
import functools
import math

import numpy as np
import pytest
import torch

from gm_helpers.models.pixelrnn import DiagonalBiLSTM, RowLSTM, num_diagonal_steps, skew, unskew
from gm_helpers.models.tabular import all_binary_states
from tests.helpers import randomised as _randomised

# float64: exact zero/non-zero gradient checks and normalisation to 1e-6
randomised = functools.partial(_randomised, scale=0.5, dtype=torch.float64)

MODELS = {"row": RowLSTM, "diagonal": DiagonalBiLSTM}


def dependency_matrix(model, N, seed=0):
    """seen[t, s]: does logit t depend on pixel s (raster indices)? One exact Jacobian.

    One copy of the image per target pixel: the copies in a batch are independent, so a single
    backward of sum_t logit_t(copy t) gives row t of the Jacobian in copy t's gradient.
    """
    P = N * N
    g = torch.Generator().manual_seed(seed)
    x = torch.bernoulli(torch.full((P, 1, N, N), 0.5, dtype=torch.float64), generator=g)
    x.requires_grad_()
    logits = model.logits(x).reshape(P, P)  # (copy t, pixel)
    logits.diagonal().sum().backward()
    return x.grad.reshape(P, P) != 0  # (target t, source s)


def strictly_before(N):
    """before[t, s] = s comes strictly before t in raster order."""
    return torch.ones(N * N, N * N, dtype=torch.bool).tril(-1)


# ----------------------------------------------------------------------------- skewing
@pytest.mark.parametrize("shape", [(2, 3, 5, 5), (1, 1, 1, 1), (2, 1, 4, 7), (3, 2, 6, 3)])
def test_skew_shifts_row_i_right_by_i_and_unskew_undoes_it(shape):
    x = torch.randn(shape)
    B, C, H, W = shape
    reference = torch.zeros(B, C, H, W + H - 1)
    for i in range(H):  # the definition, one row at a time
        reference[:, :, i, i:i + W] = x[:, :, i]
    assert torch.equal(skew(x), reference)
    assert torch.equal(unskew(skew(x)), x)
    assert torch.equal(unskew(skew(x), W), x)


@pytest.mark.parametrize("N", [1, 2, 3, 8, 28])
def test_diagonal_order_takes_2N_minus_1_steps(N):
    assert skew(torch.zeros(2, 1, N, N)).shape == (2, 1, N, 2 * N - 1)
    assert num_diagonal_steps(N) == 2 * N - 1
    # pixel (i, j) sits in column i + j: each column of the skewed map is one diagonal
    index = skew(torch.arange(1, N * N + 1.0).reshape(1, 1, N, N))[0, 0]  # (N, 2N - 1)
    for t in range(2 * N - 1):
        on_diagonal = {i * N + j + 1 for i in range(N) for j in range(N) if i + j == t}
        assert set(index[:, t][index[:, t] > 0].long().tolist()) == on_diagonal


def test_num_diagonal_steps_of_a_rectangle():
    assert num_diagonal_steps(3, 5) == 7 and num_diagonal_steps(5, 3) == 7


# ----------------------------------------------------------------------------- causality
@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("name", MODELS)
def test_autoregressive_property_by_gradients(name, num_layers):
    """Logit (i, j) has exactly zero gradient at pixel (i, j) and every pixel after it, and
    non-zero gradient at some earlier pixel (every pixel but the first has a context)."""
    N = 8
    seen = dependency_matrix(randomised(MODELS[name](hidden=4, num_layers=num_layers,
                                                     image_size=N)), N)
    for t in range(N * N):
        leaks = [divmod(s, N) for s in range(t, N * N) if seen[t, s]]
        assert not leaks, f"logit {divmod(t, N)} depends on pixels {leaks}"
        assert t == 0 or seen[t, :t].any(), f"logit {divmod(t, N)} sees no earlier pixel"


def test_row_lstm_receptive_field_is_a_triangle():
    """Exactly: pixel (r, c) before (i, j) is seen iff j - d - L - 3 <= c <= j + d + 2, d = i - r.

    Each row step of the state-to-state kernel widens the cone by one column on each side; each
    layer's input-to-state kernel adds one column to the left; the 7x7 first layer adds 3.
    """
    N = 8
    for L in (1, 2, 3):
        seen = dependency_matrix(randomised(RowLSTM(hidden=4, num_layers=L, image_size=N), L), N)
        for t in range(N * N):
            i, j = divmod(t, N)
            for s in range(t):
                r, c = divmod(s, N)
                d = i - r
                assert seen[t, s] == (j - d - L - 3 <= c <= j + d + 2), (L, (i, j), (r, c))


def test_row_lstm_misses_part_of_the_past():
    """Concrete pixels: depth extends the cone to the left but never to the right."""
    N = 8
    one, three = (dependency_matrix(randomised(RowLSTM(hidden=4, num_layers=L, image_size=N)), N)
                  for L in (1, 3))
    target, up_right, far_left = 4 * N + 2, 3 * N + 6, 4 * N + 6  # (4, 2), (3, 6); (4, 6)
    assert not one[target, up_right] and not three[target, up_right]  # never, at any depth
    assert one[target, 3 * N + 5] and three[target, 3 * N + 5]  # (3, 5) is just inside
    assert not one[far_left, 4 * N + 1] and three[far_left, 4 * N + 1]  # (4, 1): depth helps
    assert (strictly_before(N) & ~three).any(), "the Row LSTM does not see the whole past"


@pytest.mark.parametrize("num_layers", [1, 2])
def test_diagonal_bilstm_sees_the_whole_past_of_the_centre_and_last_pixels(num_layers):
    N = 6
    seen = dependency_matrix(randomised(DiagonalBiLSTM(hidden=4, num_layers=num_layers,
                                                       image_size=N)), N)
    for t in (N * N // 2 + N // 2, N * N - 1):  # (3, 3) and (5, 5)
        assert seen[t, :t].all(), f"{divmod(t, N)} misses {(~seen[t, :t]).nonzero().tolist()}"


@pytest.mark.parametrize("num_layers", [1, 2])
def test_diagonal_bilstm_receptive_field_exactly(num_layers):
    """Every earlier pixel, except one blind spot that depth cannot remove: the last pixel of
    the previous row, (i-1, N-1), for targets (i, j) with j < N - 4. Only features at (i, >= N-4)
    or below contain that pixel (the 7x7 type-A kernel sees 3 columns either side), and at row i
    the network may only use features left of (i, j)."""
    N = 8
    seen = dependency_matrix(randomised(DiagonalBiLSTM(hidden=4, num_layers=num_layers,
                                                       image_size=N)), N)
    expected = strictly_before(N)
    for i in range(1, N):
        for j in range(N - 4):
            expected[i * N + j, (i - 1) * N + N - 1] = False
    assert torch.equal(seen, expected)


def test_without_the_down_shift_the_right_direction_sees_the_future(monkeypatch):
    """Why the right-to-left map is shifted down a row: unshifted, logit (i, j) depends on
    pixel (i, j) itself, through features (i, j+1..j+3) of the right-to-left LSTM."""
    from gm_helpers.models.pixelrnn import _DiagonalBiLSTMLayer

    def unshifted(layer, x):
        return x + layer.up(layer.left(x) + layer.right(x.flip(3)).flip(3))

    monkeypatch.setattr(_DiagonalBiLSTMLayer, "forward", unshifted)
    N = 6
    seen = dependency_matrix(randomised(DiagonalBiLSTM(hidden=4, num_layers=1, image_size=N)), N)
    assert seen.diagonal()[:N - 1].all()  # (0, j) sees itself for j < N - 1


# ----------------------------------------------------------------------------- probabilities
@pytest.mark.parametrize("name", MODELS)
def test_exact_normalisation(name):
    """Summed over all 2**9 binary 3x3 images, p(x) is 1."""
    model = randomised(MODELS[name](hidden=4, num_layers=2, image_size=3), scale=1.0)
    states = torch.from_numpy(all_binary_states(9)).double().reshape(-1, 1, 3, 3)  # (512, 1, 3, 3)
    with torch.no_grad():
        total = model.log_prob(states).exp().sum().item()
    assert total == pytest.approx(1.0, abs=1e-6)


def chi_square_of_samples(model, samples):
    """Pearson's statistic of 2x2 samples against the model's 16 probabilities."""
    index = (samples.reshape(-1, 4).long() * torch.tensor([8, 4, 2, 1])).sum(1)  # (S,)
    observed = torch.bincount(index, minlength=16).double()
    states = torch.from_numpy(all_binary_states(4)).reshape(16, 1, 2, 2)  # x_1 most significant
    with torch.no_grad():
        expected = len(samples) * model.log_prob(states.to(model.conv_in.weight)).double().exp()
    assert expected.min() > 5, "too few expected counts for a chi-square test"
    return ((observed - expected) ** 2 / expected).sum().item()


SEEDS = {"row": 3, "diagonal": 1}  # weights whose 16 probabilities are all above 1%


@pytest.mark.parametrize("name", MODELS)
def test_sampling_matches_the_model(name):
    """Ancestral samples of a 2x2 model pass a chi-square test against exp(log_prob)."""
    model = randomised(MODELS[name](hidden=4, num_layers=1, image_size=2), seed=SEEDS[name])
    model = model.float()
    x = model.sample(20_000, generator=torch.Generator().manual_seed(0))
    assert x.shape == (20_000, 1, 2, 2) and set(torch.unique(x).tolist()) == {0.0, 1.0}
    assert chi_square_of_samples(model, x) < 37.70  # 15 degrees of freedom, p = 0.001


@pytest.mark.parametrize("name", MODELS)
def test_the_chi_square_test_has_power(name):
    """Samples with pixels (0, 1) and (1, 0) swapped (transposed images) fail it."""
    model = randomised(MODELS[name](hidden=4, num_layers=1, image_size=2), seed=SEEDS[name])
    model = model.float()
    x = model.sample(20_000, generator=torch.Generator().manual_seed(0))
    assert chi_square_of_samples(model, x.transpose(2, 3)) > 37.70


@pytest.mark.parametrize("name", MODELS)
def test_shapes(name):
    model = MODELS[name](hidden=4, num_layers=2, image_size=5)
    x = torch.bernoulli(torch.full((3, 1, 5, 5), 0.3))
    assert model.logits(x).shape == (3, 1, 5, 5)
    lp = model.log_prob(x)
    assert lp.shape == (3,) and torch.all(lp < 0)
    assert model.log_prob(x[:0]).shape == (0,)
    s = model.sample(2, generator=torch.Generator().manual_seed(0))
    assert s.shape == (2, 1, 5, 5) and torch.all((s == 0) | (s == 1))
    assert MODELS[name](hidden=4, num_layers=0, image_size=5).log_prob(x).shape == (3,)


@pytest.mark.parametrize("name", MODELS)
def test_sampling_is_reproducible_from_the_generator(name):
    model = randomised(MODELS[name](hidden=4, num_layers=1, image_size=4)).float()
    a, b = (model.sample(5, generator=torch.Generator().manual_seed(3)) for _ in range(2))
    assert torch.equal(a, b)


def test_num_params():
    """Free parameters, h = hidden, C = 2h: masked kernel entries do not count."""
    h, L = 16, 3
    C = 2 * h
    common = (24 * C + C) + (C * C + C) + (C + 1)  # 7x7 type A: 24 taps; two 1x1 outputs
    up = h * C + C  # 1x1 back to C features for the residual
    row = (2 * C * 4 * h + 4 * h) + 3 * h * 4 * h + up  # 1x3 mask B: 2 taps; K^ss: 3 taps
    diagonal = 2 * ((C * 4 * h + 4 * h) + 2 * h * 4 * h) + up  # two directions, K^ss: 2 taps
    assert RowLSTM(hidden=h, num_layers=L).num_params() == common + L * row
    assert DiagonalBiLSTM(hidden=h, num_layers=L).num_params() == common + L * diagonal


@pytest.mark.parametrize("name", MODELS)
def test_tiny_overfit(name):
    """On 4 fixed 4x4 images the NLL falls from about 11 nats to near log 4.

    Two layers: a one-layer Row LSTM stalls at log 4 + log(2)/2 here. Row 0 has no recurrence,
    and black pixels look like the zero padding, so pixels (0, 1), (0, 2), (0, 3) of different
    images see identical contexts and must share one prediction."""
    x = torch.tensor([[1, 0, 1, 0, 0, 1, 0, 1, 1, 0, 1, 0, 0, 1, 0, 1],
                      [1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1],
                      [0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1],
                      [0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0]], dtype=torch.float32)
    x = x.reshape(4, 1, 4, 4)
    torch.manual_seed(0)
    model = MODELS[name](hidden=8, num_layers=2, image_size=4)
    opt = torch.optim.Adam(model.parameters(), lr=0.02)
    first = None
    for _ in range(150):
        loss = -model.log_prob(x).mean()
        first = first or loss.item()
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        final = -model.log_prob(x).mean().item()
    assert first > 8 and final < math.log(4) + 0.3, (first, final)


# ----------------------------------------------------------------------------- bad inputs
@pytest.mark.parametrize("x, error, match", [
    (torch.full((2, 1, 4, 4), 0.5), ValueError, "0 or 1"),
    (torch.zeros(2, 3, 4, 4), ValueError, r"\(B, 1, 4, 4\).*1 channel.*\(2, 3, 4, 4\)"),
    (torch.zeros(2, 1, 5, 5), ValueError, r"\(B, 1, 4, 4\).*\(2, 1, 5, 5\)"),
    (torch.zeros(2, 16), ValueError, r"\(B, 1, 4, 4\).*\(2, 16\)"),
    (torch.zeros(1, 4, 4), ValueError, r"\(B, 1, 4, 4\)"),
    (np.zeros((2, 1, 4, 4)), TypeError, "torch.Tensor.*ndarray"),
    ([[0, 1], [1, 0]], TypeError, "torch.Tensor.*list"),
])
@pytest.mark.parametrize("name", MODELS)
def test_bad_x(name, x, error, match):
    model = MODELS[name](hidden=2, num_layers=1, image_size=4)
    with pytest.raises(error, match=match):
        model.log_prob(x)
    if match != "0 or 1":  # logits accepts real values (for gradients) but checks the shape
        with pytest.raises(error, match=match):
            model.logits(x)


@pytest.mark.parametrize("kwargs, match", [
    ({"hidden": 0}, "hidden must be an integer >= 1"),
    ({"hidden": 2.5}, "hidden must be an integer"),
    ({"num_layers": -1}, "num_layers must be an integer >= 0"),
    ({"image_size": (28, 28)}, "image_size must be an integer"),
    ({"image_size": True}, "image_size must be an integer"),
])
@pytest.mark.parametrize("name", MODELS)
def test_bad_arguments(name, kwargs, match):
    with pytest.raises(ValueError, match=match):
        MODELS[name](**kwargs)
    model = MODELS[name](hidden=2, num_layers=1, image_size=3)
    for bad in (-1, 2.0, "3"):
        with pytest.raises(ValueError, match="num_samples must be an integer from 0 to"):
            model.sample(bad)
