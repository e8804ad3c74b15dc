"""The shared layers: causal masks (types A and B, colour groups), masked convolutions and named orderings."""
import pytest
import torch
import torch.nn.functional as F

from gm_helpers.models.layers import causal_mask
from gm_helpers.models.made import MADE


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


@pytest.mark.parametrize("bad, match", [(dict(kernel_size=4), "odd"),
                                        (dict(kernel_size=0), "kernel_size must be an integer >= 1"),
                                        (dict(mask_type="C"), "'A'"),
                                        (dict(in_channels=4, groups=3), "groups")])
def test_bad_mask_arguments(bad, match):
    args = dict(kernel_size=3, mask_type="A", in_channels=3, out_channels=3, groups=1) | bad
    with pytest.raises(ValueError, match=match):
        causal_mask(**args)


def test_first_layer_mask_excludes_the_centre():
    """Type A on pixels, type B on features: the only difference is the centre tap."""
    from gm_helpers.models.layers import MaskedConv2d
    a = MaskedConv2d(1, 1, 7, "A", shared_mask=True).mask[0, 0]
    b = MaskedConv2d(1, 1, 7, "B", shared_mask=True).mask[0, 0]
    assert a[3, 3] == 0 and b[3, 3] == 1 and a.sum() == 24 and torch.equal(b - a, F.one_hot(
        torch.tensor(24), 49).reshape(7, 7).float())
    assert MaskedConv2d(1, 1, (1, 3), "B", shared_mask=True).mask.flatten().tolist() == [1, 1, 0]


def test_named_orderings():
    """'raster' is the identity; 'random:SEED' is a fixed permutation, the same every time."""
    from gm_helpers.models.layers import check_order
    assert torch.equal(check_order("raster", 5), torch.arange(5))
    a, b = check_order("random:3", 50), check_order("random:3", 50)
    assert torch.equal(a, b) and not torch.equal(a, torch.arange(50))
    assert torch.equal(a.sort().values, torch.arange(50))
    assert torch.equal(MADE(50, hidden=(8,), order="random:3").base_order, a)
    for bad in ("random", "random:x", "snake"):
        with pytest.raises(ValueError, match="raster"):
            check_order(bad, 5)


FLAT = {"fvsbn": {}, "nade": {"H": 8}, "made": {"hidden": [8]}, "vae": {"hidden": [8], "latent": 2},
        "iwae": {"hidden": [8], "latent": 2}, "autoencoder": {}}


@pytest.mark.parametrize("name", FLAT)
def test_flat_models_take_an_empty_batch_like_the_image_models(name):
    from gm_helpers.models.registry import build_model
    model = build_model(name, FLAT[name])
    score = model.log_prob if hasattr(model, "log_prob") else model.training_loss
    for x in (torch.zeros(0, 784), torch.zeros(0, 1, 28, 28)):
        assert score(x).shape == (0,)


@pytest.mark.parametrize("shape", [(3, 28, 28), (3, 2, 392), (3, 784, 1, 1), (3, 1, 27, 29)])
def test_flat_models_refuse_shapes_that_only_hold_d_values(shape):
    from gm_helpers.models.layers import flatten_binary
    with pytest.raises(ValueError, match=r"784 variables per example, in a batch shaped \(B, 784\)"):
        flatten_binary(torch.zeros(shape), 784)
    assert flatten_binary(torch.zeros(2, 1, 28, 28), 784).shape == (2, 784)
    assert flatten_binary(torch.zeros(2, 1, 4, 4), 16).shape == (2, 16)


SAMPLERS = {"fvsbn": {}, "nade": {"H": 8}, "made": {"hidden": [8]},
            "row_lstm": {"hidden": 4, "num_layers": 1}, "pixelcnn": {"hidden": 4, "num_layers": 1},
            "vae": {"hidden": [8], "latent": 2}}


@pytest.mark.parametrize("name", SAMPLERS)
@pytest.mark.parametrize("kwargs, error, says", [
    ({"generator": 1}, TypeError, "generator must be a torch.Generator"),
    ({"generator": "seed"}, TypeError, "generator must be a torch.Generator"),
    ({"device": "meta"}, ValueError, "holds shapes, not numbers"),
    ({"device": "nonsense"}, ValueError, "device must be 'cpu', 'cuda', 'mps'"),
])
def test_samplers_name_a_wrong_generator_or_device(name, kwargs, error, says):
    from gm_helpers.models.registry import build_model
    with pytest.raises(error, match=says):
        build_model(name, SAMPLERS[name]).sample(1, **kwargs)


def test_nade_completion_without_images_names_the_missing_argument():
    from gm_helpers.models.nade import NADE
    with pytest.raises(ValueError, match="pass given="):
        NADE(16, 4).sample(2, num_given=4)


def test_the_dcgan_sampler_names_a_wrong_device():
    from gm_helpers.models.dcgan import Generator
    with pytest.raises(ValueError, match="holds shapes, not numbers"):
        Generator(latent=4, width=4).sample(2, seed=0, device="meta")
