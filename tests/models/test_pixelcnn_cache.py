"""The cached PixelCNN sampler draws the plain sampler's images, at a fraction of the cost."""
import pytest
import torch

from gm_helpers.models.pixelcnn import GatedPixelCNN, MixturePixelCNN, PixelCNN
from gm_helpers.models.pixelcnn_cache import sample_cached, sample_cached_gated

CASES = [(PixelCNN, {"hidden": 4, "num_layers": 2, "image_size": 8}),
         (PixelCNN, {"hidden": 4, "num_layers": 0, "image_size": 5}),
         (PixelCNN, {"channels": 3, "levels": 4, "hidden": 3, "num_layers": 2, "image_size": 6}),
         (PixelCNN, {"levels": 16, "hidden": 4, "num_layers": 1, "image_size": 7}),
         (MixturePixelCNN, {"hidden": 4, "num_layers": 1, "num_mixtures": 2, "levels": 32,
                            "image_size": 7})]


def assert_same_images(model, fast):
    """For the same generator, ``fast`` draws the plain sampler's images (weights scaled up so
    that the conditionals are not all 1/2)."""
    for p in model.parameters():
        torch.nn.init.normal_(p, std=0.5)
    plain = model.sample(8, generator=torch.Generator().manual_seed(3))
    cached = fast(model, 8, generator=torch.Generator().manual_seed(3))
    assert torch.equal(plain, cached) and len(plain.unique()) > 1


@pytest.mark.parametrize("cls, config", CASES, ids=[str(c) for _, c in CASES])
def test_cached_sampling_draws_the_plain_samplers_images(cls, config):
    """Binary, colour (R, G | R, B | R, G), 16 levels, and the logistic mixture."""
    torch.manual_seed(0)
    assert_same_images(cls(**config), sample_cached)


GATED = [{"hidden": 4, "num_layers": 1, "image_size": 6},
         {"hidden": 4, "num_layers": 3, "image_size": 8, "kernel_size": 3},
         {"hidden": 3, "num_layers": 4, "image_size": 9, "kernel_size": 7}]


@pytest.mark.parametrize("config", GATED, ids=[str(c) for c in GATED])
def test_cached_gated_sampling_draws_the_plain_samplers_images(config):
    """One layer (type A only), kernels 3, 5 and 7, several residual layers."""
    torch.manual_seed(0)
    assert_same_images(GatedPixelCNN(**config), sample_cached_gated)


def test_cached_gated_sampling_of_the_shipped_model():
    from gm_helpers.training.checkpoint import load_shipped
    model, _ = load_shipped("gated_pixelcnn.pt")
    plain = model.sample(2, generator=torch.Generator().manual_seed(0))
    assert torch.equal(plain, sample_cached_gated(model, 2, generator=torch.Generator().manual_seed(0)))


def test_other_models_are_refused_by_name():
    with pytest.raises(ValueError, match="PixelCNN"):
        sample_cached_gated(PixelCNN(hidden=4, num_layers=1), 1)
    with pytest.raises(ValueError, match="num_samples"):
        sample_cached_gated(GatedPixelCNN(hidden=4, num_layers=1), -1)
    with pytest.raises(ValueError, match="GatedPixelCNN"):
        sample_cached(GatedPixelCNN(hidden=4, num_layers=1), 1)
    with pytest.raises(ValueError, match="num_samples"):
        sample_cached(PixelCNN(hidden=4, num_layers=1), -1)


@pytest.mark.slow
def test_cached_sampling_is_at_least_10_times_cheaper_at_a_lectures_batch():
    """The shipped PixelCNN's size (32 x 10 blocks), 16 samples, CPU time on one thread:
    measured 27x here (5x for a single image, where each pixel's small operations dominate)."""
    from gm_helpers.analysis.timing import cpu_time, one_thread
    model = PixelCNN(hidden=32, num_layers=10).eval()
    with one_thread():
        plain = cpu_time(lambda: model.sample(16, generator=torch.Generator().manual_seed(0)), 1)
        cached = cpu_time(lambda: sample_cached(model, 16, generator=torch.Generator().manual_seed(0)), 1)
    assert plain / cached >= 10, (plain, cached)


@pytest.mark.slow
def test_cached_gated_sampling_is_at_least_10_times_cheaper_at_a_lectures_batch():
    """The shipped Gated PixelCNN's size (16 x 5 layers), 16 samples, one thread: measured 47x."""
    from gm_helpers.analysis.timing import cpu_time, one_thread
    model = GatedPixelCNN(hidden=16, num_layers=5).eval()
    with one_thread():
        plain = cpu_time(lambda: model.sample(16, generator=torch.Generator().manual_seed(0)), 1)
        g = torch.Generator().manual_seed(0)
        cached = cpu_time(lambda: sample_cached_gated(model, 16, generator=g), 1)
    assert plain / cached >= 10, (plain, cached)
