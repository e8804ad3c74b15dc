"""Runs around the loop: the best epoch kept, schedules, budgets, run files, resuming, divergence, Ctrl-C."""
import math

import numpy as np
import pytest
import torch

from gm_helpers.models.fvsbn import FVSBN
from gm_helpers.training import runs
from gm_helpers.training.checkpoint import CheckpointError
from gm_helpers.training.loop import evaluate_nll
from gm_helpers.training.runs import load_run, save_run, train_run
from tests.helpers import markov_data


def entropy_nats(D=16, p_first=0.5, p_copy=0.9):
    h = lambda p: -(p * math.log(p) + (1 - p) * math.log(1 - p))
    return h(p_first) + (D - 1) * h(p_copy)


def test_fit_learns_a_known_distribution():
    """A tiny FVSBN overfits a Markov chain: its NLL falls from D log 2 to near the entropy."""
    torch.manual_seed(0)
    x = markov_data(1000)
    model = FVSBN(16)
    start = evaluate_nll(model, x)
    assert start == pytest.approx(16 * math.log(2), rel=1e-6)  # zero init: every p = 1/2
    history = train_run(model, x, num_epochs=15, lr=0.05, batch_size=100, progress=False)
    assert set(history) == {"train_nll", "valid_nll", "valid_epoch", "seconds"}
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
        history = train_run(model, train_x, num_epochs=4, lr=0.05, valid_data=valid_x,
                      keep_best=keep_best, progress=False)
        runs[keep_best] = (history["valid_nll"], evaluate_nll(model, valid_x))
    valid_nll, now = runs[True]
    assert len(valid_nll) == 4 and int(np.argmin(valid_nll)) != 3  # the last is not the best
    assert now == pytest.approx(min(valid_nll), abs=1e-5)
    valid_nll, now = runs[False]
    assert now == pytest.approx(valid_nll[-1], abs=1e-5) and now > min(valid_nll) + 0.1


def test_lr_decay_and_time_budget():
    """lr_decay multiplies the learning rate each epoch; max_seconds=0 stops after one epoch."""
    x = markov_data(64, D=8)
    model = FVSBN(8)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.1)
    history = train_run(model, x, num_epochs=3, batch_size=16, optimizer=optimizer, lr_decay=0.5,
                  progress=False)
    assert len(history["train_nll"]) == 3
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.1 * 0.5**3)
    history = train_run(FVSBN(8), x, num_epochs=5, batch_size=16, progress=False, max_seconds=0)
    assert len(history["train_nll"]) == 1


def test_iwae_schedule_has_eight_stages_of_3_to_the_i_epochs():
    """Stage i lasts 3^i epochs at 10^(-i/7) of the initial rate: 3,280 epochs, then the last
    rate holds."""
    factors = [runs.iwae_lr_factor(e) for e in range(3400)]
    for i in range(8):
        first = (3**i - 1) // 2   # 1 + 3 + ... + 3^(i-1) epochs come before stage i
        assert factors[first:first + 3**i] == [10 ** (-i / 7)] * 3**i
    assert sum(3**i for i in range(8)) == 3280 and factors[3280:] == [10 ** (-7 / 7)] * 120
    with pytest.raises(ValueError, match="epoch must be >= 0"):
        runs.iwae_lr_factor(-1)


def _rates_per_step(optimizer):
    """The learning rate of every optimizer step, recorded by a step pre-hook."""
    rates = []
    optimizer.register_step_pre_hook(lambda opt, args, kwargs: rates.append(
        opt.param_groups[0]["lr"]))
    return rates


def test_the_iwae_schedule_sets_each_epochs_rate_and_resumes_exactly(tmp_path):
    """One step per epoch: 1 epoch at lr, 3 at lr 10^(-1/7), 9 at lr 10^(-2/7), then 10^(-3/7);
    a run stopped after 2 epochs (inside stage 1) and resumed to 14 steps at the same rates and
    ends with the same weights as one uninterrupted run."""
    x = markov_data(32, D=8)

    def run(epochs, path, resume=False):
        torch.manual_seed(0)
        model = FVSBN(8)
        optimizer = torch.optim.Adam(model.parameters(), lr=0.1)
        rates = _rates_per_step(optimizer)
        train_run(model, x, epochs, batch_size=32, optimizer=optimizer, progress=False,
                  lr_schedule=runs.iwae_lr_factor, run_path=path, resume=resume)
        return model, rates

    whole, rates = run(14, tmp_path / "whole.run.pt")
    stages = [0] + [1] * 3 + [2] * 9 + [3]
    assert rates == [0.1 * 10 ** (-i / 7) for i in stages]
    _, first = run(2, tmp_path / "split.run.pt")
    resumed, rest = run(14, tmp_path / "split.run.pt", resume=True)
    assert first + rest == rates
    assert all(torch.equal(a, b) for a, b in zip(whole.parameters(), resumed.parameters()))
    with pytest.raises(ValueError, match="lr_schedule or lr_decay, not both"):
        train_run(FVSBN(8), x, 1, lr_schedule=runs.iwae_lr_factor, lr_decay=0.9, progress=False)


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
        train_run(NanAtStep(bad=7), markov_data(500), num_epochs=3, batch_size=100, progress=False)


def test_fit_resumed_equals_one_uninterrupted_run(tmp_path):
    """2 epochs, stop, resume to 4 gives bitwise the weights of 4 epochs in one go: the run
    file carries weights, Adam's moments, the learning rate after decay, the RNG states (the
    shuffles) and MADE's next training mask."""
    from gm_helpers.models.made import MADE
    x, v = markov_data(300), markov_data(100, seed=5)

    def run(epochs, path, resume=False):
        torch.manual_seed(0)
        model = MADE(16, hidden=[32], num_masks=3)
        history = train_run(model, x, epochs, lr=0.01, batch_size=64, valid_data=v, lr_decay=0.9,
                      progress=False, run_path=path, resume=resume)
        return model, history

    whole, h_whole = run(4, tmp_path / "whole.run.pt")
    run(2, tmp_path / "split.run.pt")
    resumed, h_resumed = run(4, tmp_path / "split.run.pt", resume=True)
    assert h_resumed["train_nll"] == h_whole["train_nll"]
    assert h_resumed["valid_nll"] == h_whole["valid_nll"]
    for (k, a), b in zip(whole.state_dict().items(), resumed.state_dict().values()):
        assert torch.equal(a, b) if torch.is_tensor(a) else a == b, k


def test_interrupt_keeps_the_best_weights_and_the_run_file(tmp_path):
    """Ctrl-C in epoch 3: fit re-raises, the model holds the best epoch's weights, and the run
    file holds epoch 2, ready to resume."""
    from gm_helpers.training.runs import load_run
    x, v = markov_data(200), markov_data(100, seed=5)

    steps = []

    def stop(optimizer, args, kwargs):
        steps.append(1)
        if len(steps) == 5:  # 2 batches per epoch: the 5th step is in epoch 3
            raise KeyboardInterrupt

    model = FVSBN(16)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    optimizer.register_step_pre_hook(stop)
    with pytest.raises(KeyboardInterrupt):
        train_run(model, x, 5, valid_data=v, optimizer=optimizer, progress=False,
                  run_path=tmp_path / "r.run.pt")
    saved = load_run(tmp_path / "r.run.pt")
    assert saved["epoch"] == 2 and len(saved["history"]["valid_nll"]) == 2
    best = saved["best_state"]
    assert torch.equal(model.W, best["W"]) and torch.equal(model.b, best["b"])


def test_eval_every_validates_every_nth_and_the_last_epoch():
    history = train_run(FVSBN(16), markov_data(100), num_epochs=7, valid_data=markov_data(50),
                  eval_every=3, progress=False)
    assert history["valid_epoch"] == [3, 6, 7] and len(history["valid_nll"]) == 3
    assert len(history["train_nll"]) == len(history["seconds"]) == 7
    assert history["seconds"] == sorted(history["seconds"])


@pytest.mark.parametrize("train_nll, valid_nll, valid_epoch, diverged, train_now", [
    ([549.0], [548.9], [1], False, None),            # a random start, a little worse than a coin
    ([1200.0], [], [], True, None),                  # above twice the uniform model's: diverged
    ([500.0], [1100.0], [1], True, None),
    ([560.0, 555.0], [552.0, 550.0], [1, 2], False, None),   # above a coin but learning
    ([560.0, 570.0], [], [], True, None),            # above a coin and getting worse
    ([560.0, 540.0], [552.0, 553.0], [1, 2], True, None),    # validation: above a coin and rising
    ([300.0, 310.0], [200.0, 220.0], [1, 2], False, None),   # rising but far better than a coin
    ([560.0, 555.0], [552.0], [1], False, None),     # validation not measured this epoch
    ([500.0], [1100.0], [1], False, 20.0),     # the weights fit the training images: overfitting
    ([500.0], [1100.0], [1], True, 900.0),     # they fit nothing: diverged late in the epoch
    ([1200.0], [], [], True, 20.0),            # the epoch's mean training NLL: diverged anyway
])
def test_what_counts_as_divergence(train_nll, valid_nll, valid_epoch, diverged, train_now):
    history = {"train_nll": train_nll, "valid_nll": valid_nll, "valid_epoch": valid_epoch}
    assert runs.diverged(history, 543.4, train_now) is diverged


def test_a_run_file_with_nan_weights_cannot_be_resumed(tmp_path):
    model = FVSBN(4)
    optimizer = torch.optim.Adam(model.parameters())
    with torch.no_grad():
        model.W[0, 0] = float("inf")
    save_run(tmp_path / "x.run.pt", model, optimizer, {"epoch": 1, "history": {}})
    with pytest.raises(CheckpointError, match="W has NaN or infinite"):
        load_run(tmp_path / "x.run.pt")


def test_amp_problem_names_the_cpus_without_native_bf16(monkeypatch):
    monkeypatch.setattr(runs, "native_bf16", lambda: False)
    assert "no native bfloat16" in runs.amp_problem("cpu")
    monkeypatch.setattr(runs, "native_bf16", lambda: True)
    assert runs.amp_problem("cpu") is None
    monkeypatch.setattr(runs, "native_bf16", lambda: None)  # flags unreadable: allowed
    assert runs.amp_problem("cpu") is None
    assert "CPU and CUDA only" in runs.amp_problem("mps")


def test_native_bf16_reads_the_cpu_flags(monkeypatch, tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    real_path = runs.Path
    monkeypatch.setattr(runs, "Path", lambda p: cpuinfo if p == "/proc/cpuinfo" else real_path(p))
    cpuinfo.write_text("flags\t\t: fpu avx2 avx512f avx512_bf16\n")
    assert runs.native_bf16() is True
    cpuinfo.write_text("flags\t\t: fpu avx2 fma\n")
    assert runs.native_bf16() is False
    cpuinfo.unlink()
    assert runs.native_bf16() is None



def test_a_run_file_stores_the_best_weights_once_when_they_are_the_current_ones(tmp_path):
    """While a run improves, the best epoch is the last one: the run file holds its weights
    once (a NADE's file shrinks from 12.5 to 9.4 MB), and loading gives back an independent copy."""
    model = FVSBN(16)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    run = {"epoch": 1, "history": {}, "best_state": {k: v.clone() for k, v in
                                                     model.state_dict().items()}}
    save_run(tmp_path / "a.run.pt", model, optimizer, run)
    stored = torch.load(tmp_path / "a.run.pt", weights_only=True)
    assert stored["best_state"] is None and stored["best_is_current"] is True
    loaded = load_run(tmp_path / "a.run.pt")
    assert "best_is_current" not in loaded
    assert all(torch.equal(loaded["best_state"][k], v) for k, v in model.state_dict().items())
    loaded["state_dict"]["W"].add_(1.0)
    assert not torch.equal(loaded["best_state"]["W"], loaded["state_dict"]["W"])  # a copy
    with torch.no_grad():
        model.W.add_(1.0)  # the current weights move past the best: both are stored
    save_run(tmp_path / "b.run.pt", model, optimizer, run)
    stored = torch.load(tmp_path / "b.run.pt", weights_only=True)
    assert stored["best_state"] is not None and "best_is_current" not in stored


def test_clip_grad_bounds_every_step_and_training_goes_on():
    """--clip-grad: the gradient's norm is clipped before each step (a pre-hook that returns
    None; one that returned the norm made torch refuse the step)."""
    torch.manual_seed(0)
    data = markov_data(200)
    model = FVSBN(data.shape[1])
    norms = []
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    optimizer.register_step_post_hook(lambda opt, args, kwargs: norms.append(
        torch.nn.utils.get_total_norm([p.grad for p in model.parameters()]).item()))
    history = train_run(model, data, num_epochs=2, batch_size=50, optimizer=optimizer,
                        clip_grad=0.01, progress=False)
    assert len(history["train_nll"]) == 2 and len(norms) == 8
    assert max(norms) <= 0.01 + 1e-6


# ----------------------------------------------------------------------------- weight averages
def test_ema_holds_the_average_of_every_steps_weights():
    """ema_decay=d: the model ends with w_ema, where w_ema starts at the first step's weights
    and w_ema <- d w_ema + (1 - d) w after each later step (computed here by hand from the
    weights after every step), not with the last step's weights."""
    x = markov_data(96, D=8)
    torch.manual_seed(0)
    model = FVSBN(8)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.1)
    after_each_step = []
    optimizer.register_step_post_hook(lambda o, a, k: after_each_step.append(
        {n: p.detach().clone() for n, p in model.named_parameters()}))
    train_run(model, x, num_epochs=2, batch_size=16, optimizer=optimizer, ema_decay=0.8,
              progress=False)
    assert len(after_each_step) == 12
    by_hand = dict(after_each_step[0])
    for weights in after_each_step[1:]:
        by_hand = {n: 0.8 * by_hand[n] + 0.2 * w for n, w in weights.items()}
    for n, p in model.named_parameters():
        assert torch.allclose(p, by_hand[n], atol=1e-6), n
        assert not torch.allclose(p, after_each_step[-1][n], atol=1e-3), n


def test_ema_validates_and_keeps_the_averaged_weights():
    """With validation data the NLL recorded is the averaged weights', and the best epoch kept
    is theirs."""
    x, v = markov_data(200, seed=1), markov_data(100, seed=2)
    torch.manual_seed(0)
    model = FVSBN(16)
    history = train_run(model, x, num_epochs=3, lr=0.05, batch_size=50, valid_data=v,
                        ema_decay=0.9, progress=False)
    assert evaluate_nll(model, v) == pytest.approx(min(history["valid_nll"]), abs=1e-5)


def test_an_ema_run_resumed_equals_one_uninterrupted_run(tmp_path):
    """The run file carries the average too: 1 epoch + resume to 3 gives bitwise the averaged
    weights of 3 epochs in one go; resuming with or without ema_decay against the run file's
    kind is refused."""
    x, v = markov_data(300), markov_data(100, seed=5)

    def run(epochs, path, resume=False, ema_decay=0.95):
        torch.manual_seed(0)
        model = FVSBN(16)
        train_run(model, x, epochs, lr=0.02, batch_size=64, valid_data=v, ema_decay=ema_decay,
                  progress=False, run_path=path, resume=resume)
        return model

    whole = run(3, tmp_path / "whole.run.pt")
    run(1, tmp_path / "split.run.pt")
    resumed = run(3, tmp_path / "split.run.pt", resume=True)
    for (k, a), b in zip(whole.state_dict().items(), resumed.state_dict().values()):
        assert torch.equal(a, b), k
    with pytest.raises(CheckpointError, match="ema_decay"):
        run(4, tmp_path / "split.run.pt", resume=True, ema_decay=None)
    run(1, tmp_path / "plain.run.pt", ema_decay=None)
    with pytest.raises(CheckpointError, match="ema_decay"):
        run(2, tmp_path / "plain.run.pt", resume=True)


@pytest.mark.parametrize("decay", [0.0, 1.0, 1.5])
def test_an_ema_decay_outside_0_1_is_refused(decay):
    with pytest.raises(ValueError, match="ema_decay"):
        train_run(FVSBN(4), markov_data(8, D=4), ema_decay=decay, progress=False)


def test_ema_averages_parameters_and_copies_buffers():
    """An ordering or a mask is a buffer: averaging two orderings gives no ordering (PyTorch's
    use_buffers=True turned an FVSBN's int64 ordering into another one). The averaged model
    keeps the trained model's buffers exactly; only parameters are averaged."""
    x = markov_data(200)
    order = torch.randperm(16, generator=torch.Generator().manual_seed(3))
    torch.manual_seed(0)
    model = FVSBN(16, order=order)
    reference = FVSBN(16, order=order)
    train_run(model, x, num_epochs=2, lr=0.05, batch_size=50, ema_decay=0.9, progress=False)
    assert torch.equal(model.order, order) and torch.equal(model.mask, reference.mask)
    assert not torch.equal(model.W, reference.W)          # the parameters did train
