"""gm_helpers.train: the loop learns, hooks fire, checkpoints round-trip safely, the CLI records."""
import hashlib
import json
import math
import pickle
import random
import shlex

import numpy as np
import pytest
import torch

from gm_helpers import train
from gm_helpers.data import load_binarized_mnist
from gm_helpers.nade import FVSBN
from gm_helpers.train import (build_model, evaluate_nll, fit, get_device, load_checkpoint,
                              save_checkpoint, seed_everything)


def markov_data(num, D=16, p_first=0.5, p_copy=0.9, seed=0):
    """Binary chains: x_1 ~ Bern(p_first); each next bit copies the last with prob p_copy."""
    g = torch.Generator().manual_seed(seed)
    x = torch.zeros(num, D)
    x[:, 0] = torch.rand(num, generator=g) < p_first
    for d in range(1, D):
        copy = torch.rand(num, generator=g) < p_copy
        x[:, d] = torch.where(copy, x[:, d - 1], 1 - x[:, d - 1])
    return x  # (num, D)


def entropy_nats(D=16, p_first=0.5, p_copy=0.9):
    h = lambda p: -(p * math.log(p) + (1 - p) * math.log(1 - p))
    return h(p_first) + (D - 1) * h(p_copy)


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
def test_fit_learns_a_known_distribution():
    """A tiny FVSBN overfits a Markov chain: its NLL falls from D log 2 to near the entropy."""
    torch.manual_seed(0)
    x = markov_data(1000)
    model = FVSBN(16)
    start = evaluate_nll(model, x)
    assert start == pytest.approx(16 * math.log(2), rel=1e-6)  # zero init: every p = 1/2
    history = fit(model, x, num_epochs=15, lr=0.05, batch_size=100, progress=False)
    assert set(history) == {"train_nll", "valid_nll"}
    assert len(history["train_nll"]) == 15 and history["valid_nll"] == []
    final = evaluate_nll(model, x)
    assert final < 0.6 * start
    assert final < entropy_nats() + 0.5  # the true entropy is about 5.57 nats


def test_keep_best_restores_the_best_validation_epoch():
    """Valid data unlike train get worse every epoch; keep_best returns the best epoch."""
    train_x = markov_data(300, p_copy=0.95, seed=1)  # neighbours agree
    valid_x = markov_data(200, p_copy=0.05, seed=2)  # neighbours disagree
    runs = {}
    for keep_best in (True, False):
        torch.manual_seed(0)
        model = FVSBN(16)
        history = fit(model, train_x, num_epochs=4, lr=0.05, valid_data=valid_x,
                      keep_best=keep_best, progress=False)
        runs[keep_best] = (history["valid_nll"], evaluate_nll(model, valid_x))
    valid_nll, now = runs[True]
    assert len(valid_nll) == 4 and int(np.argmin(valid_nll)) != 3  # the last is not the best
    assert now == pytest.approx(min(valid_nll), abs=1e-5)
    valid_nll, now = runs[False]
    assert now == pytest.approx(valid_nll[-1], abs=1e-5) and now > min(valid_nll) + 0.1


def test_hooks_are_called_once_per_batch_and_per_epoch():
    """250 examples in batches of 100 for 3 epochs: 9 batch calls (steps 0..8), 3 epoch calls."""
    batches, epochs = [], []
    fit(FVSBN(16), markov_data(250), num_epochs=3, batch_size=100, valid_data=markov_data(50),
        progress=False, on_batch_end=lambda step, loss: batches.append((step, loss)),
        on_epoch_end=lambda epoch, h: epochs.append((epoch, len(h["train_nll"]),
                                                     len(h["valid_nll"]))))
    assert [s for s, _ in batches] == list(range(9))
    assert all(isinstance(loss, float) and loss > 0 for _, loss in batches)
    assert epochs == [(0, 1, 1), (1, 2, 2), (2, 3, 3)]


def test_lr_decay_and_time_budget():
    """lr_decay multiplies the learning rate each epoch; max_seconds=0 stops after one epoch."""
    x = markov_data(64, D=8)
    model = FVSBN(8)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.1)
    history = fit(model, x, num_epochs=3, batch_size=16, optimizer=optimizer, lr_decay=0.5,
                  progress=False)
    assert len(history["train_nll"]) == 3
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.1 * 0.5**3)
    history = fit(FVSBN(8), x, num_epochs=5, batch_size=16, progress=False, max_seconds=0)
    assert len(history["train_nll"]) == 1


def test_progress_false_prints_nothing(capsys):
    fit(FVSBN(16), markov_data(200), num_epochs=2, progress=False)
    assert capsys.readouterr().err == ""
    fit(FVSBN(16), markov_data(200), num_epochs=2, progress=True)
    assert "epoch" in capsys.readouterr().err  # the bars do appear when asked for


class NanAtStep(torch.nn.Module):
    """log_prob is finite, except on call number ``bad`` where it is NaN."""

    def __init__(self, bad):
        super().__init__()
        self.w = torch.nn.Parameter(torch.zeros(16))
        self.bad, self.calls = bad, 0

    def log_prob(self, x):
        lp = -((x - self.w) ** 2).sum(1)  # (B,)
        if self.calls == self.bad:
            lp = lp * float("nan")
        self.calls += 1
        return lp


def test_non_finite_loss_names_the_step():
    """A NaN loss stops training with a FloatingPointError that says where it happened."""
    with pytest.raises(FloatingPointError, match=r"nan at step 7 \(epoch 2\)"):
        fit(NanAtStep(bad=7), markov_data(500), num_epochs=3, batch_size=100, progress=False)


def test_evaluate_nll_is_the_mean_negative_log_prob():
    """Batched evaluation (with a short last batch) equals -log_prob(x).mean() in one go."""
    model = FVSBN(16)
    torch.nn.init.normal_(model.W)
    x = markov_data(250)
    with torch.no_grad():
        manual = -model.log_prob(x).double().mean().item()
    assert evaluate_nll(model, x, batch_size=100) == pytest.approx(manual, rel=1e-6)
    assert evaluate_nll(model, x[:100], batch_size=100) != pytest.approx(manual, rel=1e-3)


# ----------------------------------------------------------------------------- checkpoints
def test_checkpoint_round_trip(tmp_path):
    """Save then load gives the same model; the write is atomic; the sha256 is the file's."""
    order = torch.randperm(16).tolist()
    model = FVSBN(16, order=order)
    torch.nn.init.normal_(model.W)
    torch.nn.init.normal_(model.b)
    path = tmp_path / "ckpt" / "fvsbn.pt"
    sha = save_checkpoint(path, model, "fvsbn", {"D": 16, "order": order}, {"test_nll": 1.5})
    assert sha == hashlib.sha256(path.read_bytes()).hexdigest()
    assert sorted(p.name for p in path.parent.iterdir()) == ["fvsbn.pt"]  # no .part left
    loaded, info = load_checkpoint(path, return_info=True)
    assert isinstance(loaded, FVSBN) and not loaded.training
    assert info["metrics"] == {"test_nll": 1.5} and info["config"]["order"] == order
    x = markov_data(20)
    with torch.no_grad():
        assert torch.equal(loaded.log_prob(x), model.log_prob(x))


UNPICKLED = []


def _mark_unpickled():
    UNPICKLED.append(True)
    return "payload ran"


class Booby:
    """Unpickling this object runs code: what weights_only=True must refuse."""

    def __reduce__(self):
        return (_mark_unpickled, ())


def test_load_checkpoint_refuses_pickled_code(tmp_path):
    path = tmp_path / "evil.pt"
    model = FVSBN(4)
    torch.save({"model": "fvsbn", "config": {"D": 4}, "state_dict": model.state_dict(),
                "metrics": {"note": Booby()}}, path)
    UNPICKLED.clear()
    with pytest.raises(pickle.UnpicklingError):
        load_checkpoint(path)
    assert UNPICKLED == []
    torch.load(path, weights_only=False)  # the file really does carry code (the test has teeth)
    assert UNPICKLED == [True]


def test_build_model():
    assert isinstance(build_model("fvsbn", {"D": 9}), FVSBN)
    with pytest.raises(ValueError, match="unknown model 'pixelcnn9'.*fvsbn"):
        build_model("pixelcnn9", {})


# ----------------------------------------------------------------------------- command line
def test_cli_trains_saves_and_records_in_the_manifest(tmp_path, real_data_dir, capsys):
    """One short run writes the checkpoint and a manifest entry that describes it truthfully."""
    out = tmp_path / "fvsbn.pt"
    (tmp_path / "manifest.json").write_text(json.dumps({"other.pt": {"sha256": "x"}}))
    argv = ["fvsbn", "--limit", "200", "--epochs", "1", "--set", "D=784", "--out", str(out),
            "--no-progress"]
    entry = train.main(argv)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert set(manifest) == {"other.pt", "fvsbn.pt"}  # earlier entries are kept
    assert manifest["fvsbn.pt"] == entry
    assert entry["command"] == "python -m gm_helpers.train " + shlex.join(argv)
    assert entry["model"] == "fvsbn" and entry["config"] == {"D": 784}
    assert entry["seed"] == 0 and entry["epochs"] == 1 and entry["best_epoch"] == 1
    assert entry["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    assert isinstance(entry["hardware"], str) and entry["hardware"]
    assert isinstance(entry["wall_time_s"], float) and entry["wall_time_s"] >= 0
    assert 0 < entry["test_nll"] < 784 * math.log(2)  # better than a coin per pixel
    # the recorded test NLL is the saved model's
    model = load_checkpoint(out)
    test = load_binarized_mnist("test", download=False)
    assert evaluate_nll(model, test) == pytest.approx(entry["test_nll"], abs=1e-3)
    assert "epoch 1: train" in capsys.readouterr().out


# ----------------------------------------------------------------------------- shipped checkpoints
def test_load_shipped_checks_the_sha256(tmp_path, monkeypatch):
    """A shipped checkpoint loads only if its bytes match the manifest; else it says how to retrain."""
    monkeypatch.setattr(train, "CHECKPOINT_DIR", tmp_path)
    model = FVSBN(8)
    torch.nn.init.normal_(model.W)
    sha = save_checkpoint(tmp_path / "tiny.pt", model, "fvsbn", {"D": 8})
    entry = {"sha256": sha, "command": "python -m gm_helpers.train fvsbn --set D=8"}
    (tmp_path / "manifest.json").write_text(json.dumps({"tiny.pt": entry}))
    loaded, got = train.load_shipped("tiny.pt")
    assert got == entry and torch.equal(loaded.W, model.W)
    with open(tmp_path / "tiny.pt", "ab") as f:
        f.write(b"\0")
    with pytest.raises(ValueError, match="sha256.*--set D=8"):
        train.load_shipped("tiny.pt")

