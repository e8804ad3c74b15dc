"""Scoring samples with a digit classifier's eyes: the Frechet distance, class fractions, clear errors."""
import pytest
import torch

from gm_helpers.analysis.sample_quality import (
    class_fractions,
    feature_statistics,
    frechet_distance,
    frechet_to,
    logits,
)
from gm_helpers.data import pack_bits, unpack_bits
from gm_helpers.models.classifier import DigitClassifier
from gm_helpers.training.classifier import split_labelled
from tests.helpers import IMAGES


def test_frechet_distance_closed_forms():
    assert frechet_distance([1.0], [[4.0]], [3.0], [[1.0]]) == pytest.approx(4 + (2 - 1) ** 2)
    a, b = torch.tensor([1.0, 4.0, 9.0]), torch.tensor([4.0, 1.0, 1.0])
    fd = frechet_distance(torch.zeros(3), torch.diag(a), torch.ones(3), torch.diag(b))
    assert fd == pytest.approx(3 + ((a.sqrt() - b.sqrt()) ** 2).sum().item())
    g = torch.Generator().manual_seed(0)
    f = torch.randn(500, 4, generator=g) @ torch.randn(4, 4, generator=g)
    mu, cov = feature_statistics(f)
    assert frechet_distance(mu, cov, mu, cov) == pytest.approx(0, abs=1e-8)
    rot = torch.linalg.qr(torch.randn(4, 4, generator=g, dtype=torch.float64))[0]
    # rotating both Gaussians the same way changes nothing; a non-commuting pair is handled
    assert frechet_distance(mu, cov, mu + 1, rot @ cov @ rot.T) == pytest.approx(
        frechet_distance(rot.T @ mu, rot.T @ cov @ rot, rot.T @ (mu + 1), cov), rel=1e-8)


def test_frechet_and_class_fractions_on_hand_made_features():
    model = DigitClassifier(width=4).eval()
    assert frechet_to(model, IMAGES, IMAGES) == pytest.approx(0, abs=1e-6)
    assert frechet_to(model, IMAGES[:48], IMAGES[48:]) > 0
    fractions = class_fractions(model, IMAGES)
    assert len(fractions) == 10 and sum(fractions) == pytest.approx(1)
    predicted = logits(model, IMAGES).argmax(1)
    assert fractions[int(predicted[0])] >= 1 / len(IMAGES)
    x_fit, y_fit, x_held, y_held = split_labelled(IMAGES, torch.arange(96) % 10, held_out=16)
    assert len(x_held) == 16 and len(x_fit) == 80
    assert torch.equal(unpack_bits(pack_bits(IMAGES)), IMAGES)


@pytest.mark.parametrize("bad", [
    lambda: logits(DigitClassifier(width=4), torch.zeros(3, 784)),
    lambda: logits(DigitClassifier(width=4), torch.zeros(3, 3, 28, 28)),
])
def test_bad_inputs_get_clear_errors(bad):
    with pytest.raises(ValueError, match="28, 28"):
        bad()


def test_nan_features_are_named_not_averaged_into_a_distance():
    with pytest.raises(ValueError, match="features holds 1 NaN"):
        feature_statistics(torch.tensor([[0.0, float("nan")], [1.0, 2.0]]))
    with pytest.raises(ValueError, match="mu2 holds"):
        frechet_distance(torch.zeros(2), torch.eye(2), torch.tensor([0.0, float("nan")]), torch.eye(2))
