"""gm_helpers.train: the loop learns, hooks fire, checkpoints round-trip safely, the CLI records."""
import hashlib
import json
import math
import random
import shlex

import numpy as np
import pytest
import torch

from gm_helpers.data import load_binarized_mnist
from gm_helpers.models.fvsbn import FVSBN
from gm_helpers.models.registry import build_model
from gm_helpers.training import checkpoint
from gm_helpers.training import cli
from gm_helpers.training.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from gm_helpers.training.loop import evaluate_nll, fit, get_device, seed_everything
from gm_helpers.training.runs import train_run


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
        train_run(NanAtStep(bad=7), markov_data(500), num_epochs=3, batch_size=100, progress=False)


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
    with pytest.raises(CheckpointError, match="could run code.*Do not retry with weights_only=False"):
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
            "--no-progress", "--threads", "1"]
    entry = cli.main(argv)
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
    printed = capsys.readouterr().out
    assert "epoch 1: train" in printed and "with 1 CPU thread(s) per process" in printed
    assert len(entry["history"]["train_nll"]) == 1 and len(entry["history"]["valid_nll"]) == 1


# ----------------------------------------------------------------------------- shipped checkpoints
def test_load_shipped_checks_the_sha256(tmp_path, monkeypatch):
    """A shipped checkpoint loads only if its bytes match the manifest; else it says how to retrain."""
    from gm_helpers.training.checkpoint import load_shipped
    monkeypatch.setattr(checkpoint, "CHECKPOINT_DIR", tmp_path)
    model = FVSBN(8)
    torch.nn.init.normal_(model.W)
    sha = save_checkpoint(tmp_path / "tiny.pt", model, "fvsbn", {"D": 8})
    entry = {"sha256": sha, "command": "python -m gm_helpers.train fvsbn --set D=8"}
    (tmp_path / "manifest.json").write_text(json.dumps({"tiny.pt": entry}))
    loaded, got = load_shipped("tiny.pt")
    assert got == entry and torch.equal(loaded.W, model.W)
    with open(tmp_path / "tiny.pt", "ab") as f:
        f.write(b"\0")
    with pytest.raises(ValueError, match="sha256.*--set D=8"):
        load_shipped("tiny.pt")



# ----------------------------------------------------------------------------- resumable runs
def _weights(path):
    state = torch.load(path, weights_only=True)["state_dict"]
    return {k: v for k, v in state.items() if torch.is_tensor(v)}, state.get("_extra_state")


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


def test_cli_resume_and_its_manifest_entry(tmp_path, real_data_dir, capsys):
    """The CLI: a run stopped after 2 epochs and resumed to 3 gives the weights of 3 epochs
    in one go; the manifest keeps the original command and lists the resume."""
    common = ["made", "--set", "hidden=[32]", "num_masks=2", "--limit", "300",
              "--batch-size", "50", "--threads", "1", "--no-progress", "--lr-decay", "0.9"]
    whole = cli.main(common + ["--epochs", "3", "--out", str(tmp_path / "a" / "m.pt")])
    cli.main(common + ["--epochs", "2", "--out", str(tmp_path / "b" / "m.pt")])
    run_file = tmp_path / "b" / "m.run.pt"
    assert run_file.exists() and (run_file.stat().st_mode & 0o777) == 0o644
    entry = cli.main(["--resume", str(run_file), "--epochs", "3"])
    assert "resuming after epoch 2" in capsys.readouterr().out
    (wa, xa), (wb, xb) = _weights(tmp_path / "a" / "m.pt"), _weights(tmp_path / "b" / "m.pt")
    assert xa == xb and all(torch.equal(wa[k], wb[k]) for k in wa)
    assert entry["test_nll"] == whole["test_nll"] and entry["epochs"] == 3
    assert entry["history"]["train_nll"] == whole["history"]["train_nll"]
    assert entry["command"] == whole["command"].replace("--epochs 3", "--epochs 2").replace(
        "/a/", "/b/")
    assert entry["resumed"] == [f"python -m gm_helpers.train --resume {run_file} --epochs 3"]


def test_cli_resume_refuses_a_changed_recipe(tmp_path, real_data_dir, capsys):
    cli.main(["made", "--set", "hidden=[8]", "--limit", "100", "--epochs", "1", "--threads",
                "1", "--no-progress", "--out", str(tmp_path / "m.pt")])
    with pytest.raises(SystemExit):  # the learning rate belongs to the stored command
        cli.main(["--resume", str(tmp_path / "m.run.pt"), "--lr", "0.1"])
    with pytest.raises(SystemExit):
        cli.main(["--epochs", "3"])  # neither a model nor --resume
    for bad in (["--threads", "0"], ["--eval-every", "0"]):
        with pytest.raises(SystemExit):
            cli.main(["made", *bad])
    with pytest.raises(SystemExit):   # the checkpoint, not the run file: a usage error
        cli.main(["--resume", str(tmp_path / "m.pt")])
    assert "not a run file" in capsys.readouterr().err


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


def test_sigint_stops_the_cli_and_says_how_to_resume(tmp_path, real_data_dir):
    """A real SIGINT to the command line after its first epoch: exit code 130, the message
    names the --resume command, and the run file resumes."""
    import os
    import signal
    import subprocess
    import sys
    import time
    out = tmp_path / "m.pt"
    proc = subprocess.Popen(
        [sys.executable, "-m", "gm_helpers.train", "made", "--set", "hidden=[16]", "--limit",
         "200", "--epochs", "100000", "--threads", "1", "--no-progress", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "GM_DATA_DIR": str(real_data_dir)},
        # a test runner started in the background (`cmd &` in a script) inherits SIGINT
        # *ignored*, and Python keeps it so: give the child the terminal's default back
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    run_file = tmp_path / "m.run.pt"
    deadline = time.time() + 120
    while not run_file.exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise AssertionError("the command line did not stop within 60 s of SIGINT")
    assert proc.returncode == 130, err
    assert f"python -m gm_helpers.train --resume {run_file}" in err
    assert not out.exists()  # nothing half-trained is passed off as a result
    from gm_helpers.training.runs import load_run
    assert load_run(run_file)["epoch"] >= 1


# ----------------------------------------------------------------------------- speed options
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


def test_channels_last_and_amp_keep_the_model(tmp_path, real_data_dir):
    """--channels-last and --amp train a convolutional model; the checkpoint loads and scores
    in fp32 exactly as recorded."""
    out = tmp_path / "p.pt"
    entry = cli.main(["pixelcnn", "--set", "hidden=4", "num_layers=1", "--limit", "64",
                        "--epochs", "1", "--batch-size", "32", "--amp", "--channels-last",
                        "--threads", "1", "--no-progress", "--out", str(out)])
    model = load_checkpoint(out)
    test = load_binarized_mnist("test", download=False)
    assert evaluate_nll(model, test) == pytest.approx(entry["test_nll"], abs=1e-3)


@pytest.mark.skipif(not torch.distributed.is_available(), reason="torch.distributed missing")
def test_torchrun_two_processes_equal_one_process_with_the_doubled_batch(tmp_path, real_data_dir):
    """DistributedDataParallel on the CPU (gloo): 2 processes with batch 50 each train the same
    weights as 1 process with batch 100, up to float summation order: measured max difference
    3e-8 on weights of size ~0.1; we allow 1e-6."""
    import os
    import subprocess
    import sys
    common = ["made", "--set", "hidden=[64]", "num_masks=2", "--limit", "1000", "--epochs", "2",
              "--threads", "1", "--no-progress"]
    env = {**os.environ, "GM_DATA_DIR": str(real_data_dir)}
    subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone",
                    "--nproc_per_node=2", "-m", "gm_helpers.train", *common, "--batch-size", "50",
                    "--out", str(tmp_path / "two.pt")], check=True, env=env, capture_output=True)
    one = cli.main(common + ["--batch-size", "100", "--out", str(tmp_path / "one.pt")])
    two = json.loads((tmp_path / "manifest.json").read_text())["two.pt"]
    assert two["hardware"].endswith("2 processes") and "processes" not in one["hardware"]
    (w2, x2), (w1, x1) = _weights(tmp_path / "two.pt"), _weights(tmp_path / "one.pt")
    assert x1 == x2
    for k in w1:
        assert torch.allclose(w1[k], w2[k], rtol=0, atol=1e-6), k
    assert two["test_nll"] == pytest.approx(one["test_nll"], abs=1e-3)


def test_eval_every_validates_every_nth_and_the_last_epoch():
    history = train_run(FVSBN(16), markov_data(100), num_epochs=7, valid_data=markov_data(50),
                  eval_every=3, progress=False)
    assert history["valid_epoch"] == [3, 6, 7] and len(history["valid_nll"]) == 3
    assert len(history["train_nll"]) == len(history["seconds"]) == 7
    assert history["seconds"] == sorted(history["seconds"])
