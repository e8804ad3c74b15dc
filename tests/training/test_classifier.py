"""Training the digit classifier: it learns a separable toy problem."""
import torch

from gm_helpers.analysis.sample_quality import accuracy
from gm_helpers.models.classifier import DigitClassifier
from gm_helpers.training.classifier import train_classifier


def test_classifier_learns_a_separable_toy_problem():
    """Two classes: a bright top half vs a bright bottom half (the loss must fall to ~0)."""
    x = torch.zeros(64, 1, 28, 28)
    x[:32, :, :14], x[32:, :, 14:] = 1, 1
    y = torch.cat([torch.zeros(32), torch.ones(32)]).long()
    model = train_classifier(DigitClassifier(width=4), x, y, num_epochs=15,
                                    progress=False)
    assert accuracy(model, x, y) == 1.0
