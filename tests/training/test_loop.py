"""The training loop: devices and seeds, hooks, the epoch mean over examples, evaluation in fp32."""
import math
import random

import numpy as np
import pytest
import torch

from gm_helpers.models.fvsbn import FVSBN
from gm_helpers.models.nade import NADE
from gm_helpers.training.loop import evaluate_loss, evaluate_nll, fit, get_device, seed_everything
from tests.helpers import markov_data


# ----------------------------------------------------------------------------- set-up helpers
def test_get_device_prefers_cuda_then_mps_then_cpu(monkeypatch):
    assert isinstance(get_device(), torch.device)
    mps = getattr(torch.backends, "mps", None)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    if mps is not None:
        monkeypatch.setattr(mps, "is_available", lambda: False)
    assert get_device() == torch.device("cpu")
    if mps is not None:
        monkeypatch.setattr(mps, "is_available", lambda: True)
        assert get_device() == torch.device("mps")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert get_device() == torch.device("cuda")


def test_seed_everything_repeats_python_numpy_and_torch():
    def draw():
        return random.random(), float(np.random.rand()), torch.rand(3).tolist()

    seed_everything(3)
    first = draw()
    seed_everything(3)
    assert draw() == first
    seed_everything(4)
    assert draw() != first


# ----------------------------------------------------------------------------- the loop
def test_hooks_are_called_once_per_batch_and_per_epoch():
    """250 examples in batches of 100 for 3 epochs: 9 batch calls (steps 0..8), 3 epoch calls."""
    model, steps, epochs = FVSBN(16), [], []
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    optimizer.register_step_post_hook(lambda opt, args, kwargs: steps.append(len(steps)))
    fit(model, markov_data(250), markov_data(50), num_epochs=3, batch_size=100,
        optimizer=optimizer, progress=False,
        on_epoch_end=lambda epoch, h: epochs.append((epoch, len(h["train_nll"]),
                                                     len(h["valid_nll"]))))
    assert steps == list(range(9))
    assert epochs == [(0, 1, 1), (1, 2, 2), (2, 3, 3)]


def test_on_epoch_end_returning_true_stops_the_loop():
    history = fit(FVSBN(8), markov_data(100, D=8), num_epochs=5, progress=False,
                  on_epoch_end=lambda epoch, h: epoch == 1)
    assert len(history["train_nll"]) == 2


def test_progress_false_prints_nothing(capsys):
    fit(FVSBN(16), markov_data(200), num_epochs=2, progress=False)
    assert capsys.readouterr().err == ""
    fit(FVSBN(16), markov_data(200), num_epochs=2, progress=True)
    assert "epoch" in capsys.readouterr().err  # the bars do appear when asked for


def test_the_epoch_mean_is_over_examples_not_batches():
    """101 examples in batches of 100 and 1; with a learning rate of 0 the weights do not move,
    so the epoch's mean training NLL must equal the mean over the 101 examples. The mean of the
    two batch means would give the lone last example the weight of a hundred."""
    model = NADE(D=6, H=3)
    with torch.no_grad():
        model.V.zero_()
        model.b.fill_(-3.0)             # all-ones images cost ~18 nats, all-zeros ~0.3
    x = torch.cat([torch.ones(50, 6), torch.zeros(51, 6)])
    optimizer = torch.optim.SGD(model.parameters(), lr=0.0)
    torch.manual_seed(0)
    mean = fit(model, x, num_epochs=1, batch_size=100, optimizer=optimizer,
               progress=False)["train_nll"][0]
    per_example = -model.log_prob(x).detach()
    assert abs(mean - per_example.mean().item()) < 1e-5
    assert abs(mean - evaluate_loss(model, x)) < 1e-5
    torch.manual_seed(0)
    perm = torch.randperm(101)          # the shuffle fit drew
    batch_means = (per_example[perm[:100]].mean() + per_example[perm[100:]].mean()) / 2
    assert abs(batch_means.item() - per_example.mean().item()) > 4   # what the mutant reports


# ----------------------------------------------------------------------------- evaluation
def test_evaluate_nll_is_the_mean_negative_log_prob():
    """Batched evaluation (with a short last batch) equals -log_prob(x).mean() in one go."""
    model = FVSBN(16)
    torch.nn.init.normal_(model.W)
    x = markov_data(250)
    with torch.no_grad():
        manual = -model.log_prob(x).double().mean().item()
    assert evaluate_nll(model, x, batch_size=100) == pytest.approx(manual, rel=1e-6)
    assert evaluate_nll(model, x[:100], batch_size=100) != pytest.approx(manual, rel=1e-3)


def test_evaluate_nll_is_fp32_inside_autocast_and_bf16_stays_close(binarized_test):
    """Training may run in bf16; evaluation never does. A trained PixelCNN's NLL scored in bf16
    differs from fp32 (that is why we always evaluate in fp32) but only slightly."""
    from gm_helpers.training.checkpoint import load_shipped
    model, _ = load_shipped("pixelcnn.pt")
    x = binarized_test[::50]  # 200 test images, every digit class
    fp32 = evaluate_nll(model, x)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert evaluate_nll(model, x) == fp32  # autocast is switched off inside
        with torch.no_grad():
            bf16 = -model.log_prob(x).double().mean().item()
    assert bf16 != fp32 and abs(bf16 - fp32) < 0.5, (bf16, fp32)


def test_uniform_colour_model_costs_two_bits_per_dimension():
    from gm_helpers.training.loop import bits_per_dim
    assert bits_per_dim(784 * 3 * math.log(4), 784 * 3) == pytest.approx(2.0)
