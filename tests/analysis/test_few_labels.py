"""The few-labels experiment: a good encoder makes a classifier from a handful of labels."""
import copy

import torch

from gm_helpers.analysis.few_labels import CodeClassifier, few_label_experiment


def test_few_label_experiment_runs_and_a_good_encoder_helps():
    """Two classes that differ only in which half of the image is on, hidden in noise: an
    'encoder' that already reads the two halves gives a near-perfect classifier from 10 labels."""
    g = torch.Generator().manual_seed(0)
    y = torch.randint(0, 2, (600,), generator=g)
    x = (torch.rand(600, 40, generator=g) < 0.3).float()
    x[y == 0, :20] = (torch.rand(int((y == 0).sum()), 20, generator=g) < 0.6).float()
    x[y == 1, 20:] = (torch.rand(int((y == 1).sum()), 20, generator=g) < 0.6).float()
    encoder = torch.nn.Linear(40, 2)
    with torch.no_grad():  # the "trained" encoder: the two halves' sums
        encoder.weight.zero_()
        encoder.weight[0, :20] = 0.2
        encoder.weight[1, 20:] = 0.2
        encoder.bias.zero_()
    res = few_label_experiment(encoder, 2, x[:400], y[:400], x[400:], y[400:], num_labels=(10,),
                               steps=200)
    assert set(res[10]) == {"encoder-initialised", "random init", "raw pixels"}
    assert res[10]["encoder-initialised"] > 0.9
    assert res[10]["encoder-initialised"] >= res[10]["random init"]
    clf = CodeClassifier(copy.deepcopy(encoder), 2, num_classes=2)
    assert clf(x[:3]).shape == (3, 2)
