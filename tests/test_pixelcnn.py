"""gm_helpers.pixelcnn: masks as the seed draws them, causality by gradients, the blind spot."""
import functools

import numpy as np
import pytest
import torch
from conftest import randomised as _randomised

from gm_helpers.models.layers import MaskedConv2d, causal_mask
from gm_helpers.models.pixelcnn import GatedPixelCNN, PixelCNN
from gm_helpers.models.tabular import all_binary_states

randomised = functools.partial(_randomised, scale=0.5)


def test_5x5_type_a_mask_is_the_seeds_table():
    rows = ["11111", "11111", "11000", "00000", "00000"]
    assert causal_mask(5, "A")[0, 0].int().tolist() == [[int(c) for c in r] for r in rows]
    b = causal_mask(5, "B")[0, 0]
    assert b[2, 2] == 1 and b.sum() == causal_mask(5, "A")[0, 0].sum() + 1


@pytest.mark.parametrize("k", [1, 3, 7])
def test_masks_for_any_odd_kernel(k):
    a = causal_mask(k, "A")[0, 0]
    assert a.sum() == (k * k - 1) // 2  # exactly the pixels before the centre in raster order
    assert causal_mask(k, "B")[0, 0].sum() == (k * k + 1) // 2


def test_colour_groups_at_the_centre():
    """Output R sees no input channel of its own pixel (A), G sees R, B sees R and G."""
    m = causal_mask(3, "A", in_channels=3, out_channels=3, groups=3)[:, :, 1, 1]
    assert m.int().tolist() == [[0, 0, 0], [1, 0, 0], [1, 1, 0]]
    m = causal_mask(3, "B", in_channels=3, out_channels=3, groups=3)[:, :, 1, 1]
    assert m.int().tolist() == [[1, 0, 0], [1, 1, 0], [1, 1, 1]]


@pytest.mark.parametrize("bad, match", [(dict(kernel_size=4), "odd"), (dict(kernel_size=0), "kernel_size must be an integer >= 1"),
                                        (dict(mask_type="C"), "'A'"),
                                        (dict(in_channels=4, groups=3), "groups")])
def test_bad_mask_arguments(bad, match):
    args = dict(kernel_size=3, mask_type="A", in_channels=3, out_channels=3, groups=1) | bad
    with pytest.raises(ValueError, match=match):
        causal_mask(**args)


def dependencies(model, x, index, channel=0, level=None, num=8):
    """|d logit / d input| summed over ``num`` random images like x: (C, H, W).

    One image can hide a dependency (every ReLU on a path may be off for it), never invent one;
    summing over several random images makes "sees" checks reliable and "blind" checks exact.
    """
    g = torch.Generator().manual_seed(1)
    levels = 2 if level is None and getattr(model, "levels", 2) == 2 else 256
    xs = torch.randint(0, levels, (num, *x.shape[1:]), generator=g).to(x)
    xs = xs.clone().requires_grad_()
    logits = model.logits(xs)
    r, c = index
    out = logits[:, channel, r, c] if level is None else logits[:, level, channel, r, c]
    (grad,) = torch.autograd.grad(out.sum(), xs)
    return grad.abs().sum(0)


MODELS = {
    "pixelcnn": lambda: PixelCNN(hidden=4, num_layers=2, image_size=8),
    "gated": lambda: GatedPixelCNN(hidden=4, num_layers=3, kernel_size=3, image_size=8),
}


@pytest.mark.parametrize("name", MODELS)
def test_causality_by_gradients(name):
    """Logit of pixel i depends on no pixel at or after i in raster order."""
    model = randomised(MODELS[name]())
    x = torch.bernoulli(torch.full((1, 1, 8, 8), 0.5))
    for r, c in [(0, 0), (0, 5), (3, 3), (4, 0), (7, 7), (5, 6)]:
        g = dependencies(model, x, (r, c))[0].flatten()
        i = r * 8 + c
        assert torch.all(g[i:] == 0), f"{name}: pixel {(r, c)} sees itself or the future"
        if i > 0:
            assert torch.any(g[:i] != 0), f"{name}: pixel {(r, c)} sees nothing"


def test_grayscale_and_rgb_causality():
    """256-way grayscale, and RGB: G of a pixel sees R of that pixel but not G or B."""
    gray = randomised(PixelCNN(hidden=2, num_layers=1, levels=256, image_size=6))
    x = torch.randint(0, 256, (1, 1, 6, 6)).float()
    g = dependencies(gray, x, (3, 2), level=17)[0].flatten()
    assert torch.all(g[3 * 6 + 2:] == 0) and torch.any(g[:3 * 6 + 2] != 0)
    rgb = randomised(PixelCNN(channels=3, hidden=2, num_layers=1, levels=256, image_size=6))
    x = torch.randint(0, 256, (1, 3, 6, 6)).float()
    for channel, sees in [(0, []), (1, [0]), (2, [0, 1])]:
        g = dependencies(rgb, x, (3, 2), channel=channel, level=5)
        for other in range(3):
            at_pixel = g[other, 3, 2]
            assert (at_pixel != 0) == (other in sees), (channel, other)
        assert torch.all(g[:, 3, 3:] == 0) and torch.all(g[:, 4:] == 0)


def test_the_blind_spot():
    """Plain PixelCNN (7x7 A, then 3x3 B) never sees (r-1, c+4), however deep; Gated does."""
    deep = randomised(PixelCNN(hidden=4, num_layers=6, image_size=12))
    gated = randomised(GatedPixelCNN(hidden=4, num_layers=2, kernel_size=5, image_size=12))
    x = torch.bernoulli(torch.full((1, 1, 12, 12), 0.5))
    target, blind = (8, 4), (7, 8)  # one row up, four columns right: before the target
    assert blind[0] * 12 + blind[1] < target[0] * 12 + target[1]
    assert dependencies(deep, x, target)[0][blind] == 0
    assert dependencies(gated, x, target)[0][blind] != 0
    # the plain stack does see what is straight above and to the upper left
    assert dependencies(deep, x, target)[0][7, 4] != 0 and dependencies(deep, x, target)[0][2, 0] != 0


@pytest.mark.parametrize("name", MODELS)
def test_exact_normalisation_on_2x2_images(name):
    model = randomised({"pixelcnn": lambda: PixelCNN(hidden=3, num_layers=1, image_size=2),
                        "gated": lambda: GatedPixelCNN(hidden=3, num_layers=2, kernel_size=3,
                                                       image_size=2)}[name]()).double()
    states = torch.from_numpy(all_binary_states(4)).double().view(16, 1, 2, 2)
    with torch.no_grad():
        assert model.log_prob(states).exp().sum().item() == pytest.approx(1.0, abs=1e-10)


def test_sampling_matches_the_model_and_cropping_is_exact():
    model = randomised(PixelCNN(hidden=3, num_layers=1, image_size=2), seed=3, scale=1.0)
    a = model.sample(5000, generator=torch.Generator().manual_seed(0), crop=True)
    b = model.sample(5000, generator=torch.Generator().manual_seed(0), crop=False)
    assert torch.equal(a, b), "row cropping must not change a single sample"
    index = (a.view(-1, 4).long() * torch.tensor([8, 4, 2, 1])).sum(1)
    observed = torch.bincount(index, minlength=16).double()
    with torch.no_grad():
        p = model.log_prob(torch.from_numpy(all_binary_states(4)).float().view(16, 1, 2, 2)).exp()
    expected = 5000 * p.double()
    assert ((observed - expected) ** 2 / expected).sum().item() < 37.70  # 15 dof, p = 0.001


def test_completion_keeps_the_given_rows():
    model = randomised(PixelCNN(hidden=2, num_layers=1, image_size=4))
    given = torch.bernoulli(torch.full((3, 1, 4, 4), 0.5))
    x = model.sample(3, given=given, num_given_rows=2, generator=torch.Generator().manual_seed(0))
    assert torch.equal(x[:, :, :2], given[:, :, :2]) and x.shape == (3, 1, 4, 4)


def test_shapes_and_class_conditioning():
    assert PixelCNN(hidden=4, num_layers=1).logits(torch.zeros(2, 1, 28, 28)).shape == (2, 1, 28, 28)
    gray = PixelCNN(hidden=2, num_layers=1, levels=256, image_size=8)
    assert gray.logits(torch.zeros(2, 1, 8, 8)).shape == (2, 256, 1, 8, 8)
    assert gray.log_prob(torch.full((2, 1, 8, 8), 255.0)).shape == (2,)
    cond = randomised(GatedPixelCNN(hidden=4, num_layers=2, num_classes=10, image_size=8))
    x = torch.bernoulli(torch.full((2, 1, 8, 8), 0.5))
    a = cond.logits(x, torch.tensor([1, 1]))
    b = cond.logits(x, torch.tensor([1, 7]))
    assert torch.equal(a[0], b[0]) and not torch.equal(a[1], b[1])


def test_tiny_overfit():
    torch.manual_seed(0)
    model = PixelCNN(hidden=8, num_layers=2, image_size=4)
    x = torch.bernoulli(torch.full((4, 1, 4, 4), 0.5), generator=torch.Generator().manual_seed(1))
    opt = torch.optim.Adam(model.parameters(), lr=0.02)
    first = None
    for _ in range(150):
        loss = -model.log_prob(x).mean()
        first = first if first is not None else loss.item()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < np.log(4) + 1.0 < first


def test_bad_inputs():
    model = PixelCNN(hidden=2, num_layers=1, image_size=8)
    with pytest.raises(ValueError, match="0 or 1"):
        model.log_prob(torch.full((1, 1, 8, 8), 0.5))
    with pytest.raises(ValueError, match=r"\(B, 1, 8, 8\)"):
        model.log_prob(torch.zeros(1, 3, 8, 8))
    with pytest.raises(ValueError, match=r"\(B, 1, 8, 8\)"):
        model.log_prob(torch.zeros(1, 1, 9, 9))
    with pytest.raises(TypeError, match="torch.Tensor"):
        model.log_prob(np.zeros((1, 1, 8, 8)))
    with pytest.raises(ValueError, match="0..255"):
        PixelCNN(hidden=2, num_layers=1, levels=256, image_size=8).log_prob(torch.full((1, 1, 8, 8), 256.0))
    with pytest.raises(ValueError, match="odd"):
        MaskedConv2d(1, 1, 4)
    with pytest.raises(ValueError, match="odd"):
        GatedPixelCNN(kernel_size=4)


def test_num_params_counts_only_free_weights():
    model = PixelCNN(hidden=2, num_layers=1, image_size=8)
    everything = sum(p.numel() for p in model.parameters())
    zeroed = sum(int((m.mask == 0).sum()) for m in model.modules() if isinstance(m, MaskedConv2d))
    assert zeroed > 0 and model.num_params() == everything - zeroed
