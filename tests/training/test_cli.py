"""The training command line: checks its arguments first, records each run, resumes, stops cleanly.

The command line fails before it trains, never after, and never trains wrongly in silence: every
bad argument exits with status 2 and a message naming it, before a single image is loaded; a
divergent run is an error naming the epoch, and nothing is saved.
"""
import hashlib
import json
import math
import shlex

import pytest
import torch

from gm_helpers.data import load_binarized_mnist
from gm_helpers.training import cli, runs
from gm_helpers.training.checkpoint import load_checkpoint
from gm_helpers.training.cli import main as cli_main
from gm_helpers.training.loop import evaluate_nll


# ----------------------------------------------------------------------------- bad arguments and failed runs
@pytest.fixture
def no_data(monkeypatch):
    """Fail the test if the command gets as far as loading data."""
    def refuse(*args, **kwargs):
        raise AssertionError("the data were loaded before the arguments were checked")
    monkeypatch.setattr(cli, "load_training_data", refuse)


BAD = [  # (arguments after the model name, what the message must say)
    (["--epochs", "0"], "--epochs: must be >= 1, got 0"),
    (["--epochs", "-2"], "--epochs: must be >= 1"),
    (["--epochs", "2.5"], "--epochs: expected an integer"),
    (["--batch-size", "0"], "--batch-size: must be >= 1"),
    (["--limit", "0"], "--limit: must be >= 1"),
    (["--limit", "-5"], "--limit: must be >= 1"),
    (["--lr", "0"], "--lr: must be a finite number in (0"),
    (["--lr=-1e-3"], "--lr: must be a finite number in (0"),
    (["--lr", "nan"], "--lr: must be a finite number"),
    (["--lr", "inf"], "--lr: must be a finite number"),
    (["--clip-grad", "-1"], "--clip-grad: must be a finite number in (0"),
    (["--clip-grad", "0"], "--clip-grad: must be a finite number in (0"),
    (["--lr-decay", "-1"], "--lr-decay: must be a finite number in (0, 1]"),
    (["--lr-decay", "0"], "--lr-decay: must be a finite number in (0, 1]"),
    (["--lr-decay", "1.5"], "--lr-decay: must be a finite number in (0, 1]"),
    (["--lr-schedule", "iwae", "--lr-decay", "0.9"], "--lr-schedule iwae sets every epoch's rate"),
    (["--lr-schedule", "cosine"], "--lr-schedule: invalid choice: 'cosine'"),
    (["--adam-eps", "0"], "--adam-eps: must be a finite number in (0"),
    (["--max-minutes", "0"], "--max-minutes: must be a finite number in (0"),
    (["--max-minutes", "-3"], "--max-minutes: must be a finite number in (0"),
    (["--weight-decay", "-0.1"], "--weight-decay: must be a finite number in [0"),
    (["--threads", "0"], "--threads: must be >= 1"),
    (["--eval-every", "0"], "--eval-every: must be >= 1"),
    (["--eval-samples", "0"], "--eval-samples: must be >= 1"),
    (["--seed", "-1"], "--seed: must be >= 0"),
    (["--set", "H=abc"], "does not accept the config {'H': 'abc'}"),
    (["--set", "H"], "--set expects KEY=VALUE"),
    (["--set", "=5"], "--set expects KEY=VALUE"),
    (["--set", "H="], "--set expects KEY=VALUE"),
    (["--set", "H=0"], "H must be an integer >= 1, got 0"),
    (["--set", "H=-3"], "H must be an integer >= 1, got -3"),
    (["--set", "nonsense=1"], "unexpected keyword argument 'nonsense'"),
    (["--set", "H=50", "H=500"], "--set gives H twice"),
    (["--data", "colour"], "--data colour gives 3 channels"),
    (["--data", "grayscale"], "--data grayscale gives one channel of many levels"),
]


@pytest.mark.parametrize("args, message", BAD, ids=[" ".join(a) for a, _ in BAD])
def test_a_bad_argument_exits_before_loading_data(tmp_path, no_data, capsys, args, message):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["nade", *args, "--no-progress", "--out", str(tmp_path / "m.pt")])
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err
    assert not list(tmp_path.iterdir())   # nothing written


@pytest.mark.parametrize("out, message", [
    ("{tmp}", "is a folder; give a file name"),
    ("{tmp}/model.txt", "should end in .pt"),
    ("/proc/gm_helpers_test/m.pt", "cannot write in /proc/gm_helpers_test"),
])
def test_an_unusable_output_fails_before_loading_data(tmp_path, no_data, capsys, out, message):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["fvsbn", "--no-progress", "--out", out.format(tmp=tmp_path)])
    assert exit_.value.code == 2 and message in capsys.readouterr().err


@pytest.mark.parametrize("text", ["{not json", "[1, 2]"])
def test_an_invalid_manifest_fails_before_loading_data(tmp_path, no_data, capsys, text):
    (tmp_path / "manifest.json").write_text(text)
    with pytest.raises(SystemExit) as exit_:
        cli.main(["fvsbn", "--no-progress", "--out", str(tmp_path / "f.pt")])
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and "is not a valid manifest" in err and "nothing was trained" in err
    assert (tmp_path / "manifest.json").read_text() == text      # left as it was


def test_resume_of_a_file_that_is_not_a_run_file(tmp_path, no_data, capsys):
    (tmp_path / "x.run.pt").write_bytes(b"")
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--resume", str(tmp_path / "x.run.pt")])
    assert exit_.value.code == 2 and "--resume" in capsys.readouterr().err


def test_a_divergent_run_is_an_error_naming_the_epoch_and_is_not_saved(tmp_path, real_data_dir,
                                                                       capsys):
    """--lr 100: the NLL explodes far above the uniform model's 784 ln 2 = 543.4 nats."""
    out = tmp_path / "f.pt"
    with pytest.raises(SystemExit) as exit_:
        cli.main(["fvsbn", "--lr", "100", "--epochs", "2", "--limit", "500", "--threads", "1",
                    "--no-progress", "--data-dir", str(real_data_dir), "--out", str(out)])
    err = capsys.readouterr().err
    assert exit_.value.code == 3
    assert "epoch 1: the NLL reached" in err and "above the uniform model's 543.4" in err
    assert not out.exists() and not (tmp_path / "f.run.pt").exists()
    assert not (tmp_path / "manifest.json").exists()


def test_a_run_on_one_image_overfits_and_is_not_called_divergent(tmp_path, real_data_dir):
    """--limit 1: the validation NLL is far above the uniform model's because the model learned
    one image, not because training diverged: the run finishes and says what it measured."""
    entry = cli.main(["fvsbn", "--limit", "1", "--epochs", "2", "--threads", "1", "--no-progress",
                      "--out", str(tmp_path / "f.pt")])
    assert entry["history"]["train_nll"][-1] < 5 < 784 * math.log(2) < entry["valid_nll"]


def test_a_divergent_first_epoch_points_at_no_run_file(tmp_path, real_data_dir, capsys):
    with pytest.raises(SystemExit):
        cli.main(["fvsbn", "--lr", "100", "--epochs", "2", "--limit", "500", "--threads", "1",
                  "--no-progress", "--out", str(tmp_path / "f.pt")])
    assert "no epoch finished, nothing was saved" in capsys.readouterr().err


@pytest.mark.parametrize("size, message", [("1", "must be >= 2"),
                                           ("60000", "more than the 50,000 training digits"),
                                           ("63 --pack 2", "does not split into packs of --pack 2")])
def test_dcgan_batch_sizes_it_cannot_train_with_are_named(tmp_path, real_data_dir, capsys, size,
                                                          message):
    with pytest.raises(SystemExit) as stop:
        cli.main(["dcgan", "--batch-size", *size.split(), "--out", str(tmp_path / "d.pt")])
    assert stop.value.code == 2 and message in capsys.readouterr().err


def test_the_manifest_is_written_atomically_and_keeps_other_entries(tmp_path, real_data_dir):
    (tmp_path / "manifest.json").write_text(json.dumps({"other.pt": {"sha256": "x"}}))
    cli.main(["fvsbn", "--set", "D=784", "--epochs", "1", "--limit", "200", "--threads", "1",
                "--no-progress", "--data-dir", str(real_data_dir), "--out", str(tmp_path / "f.pt")])
    entries = json.loads((tmp_path / "manifest.json").read_text())
    assert sorted(entries) == ["f.pt", "other.pt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.pt", "f.run.pt", "manifest.json"]


# ----------------------------------------------------------------------------- training runs and the manifest
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


# ----------------------------------------------------------------------------- resumable runs
def _weights(path):
    state = torch.load(path, weights_only=True)["state_dict"]
    return {k: v for k, v in state.items() if torch.is_tensor(v)}, state.get("_extra_state")


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


def test_cli_ema_keeps_the_averaged_weights_and_resumes_exactly(tmp_path, real_data_dir, capsys):
    """--ema: the checkpoint holds the averaged weights (not the last step's), the valid NLL of
    its manifest entry is theirs, and a resume goes on with the average the run file holds."""
    common = ["fvsbn", "--limit", "300", "--batch-size", "50", "--threads", "1", "--no-progress",
              "--lr", "0.01", "--ema", "0.9"]
    whole = cli.main(common + ["--epochs", "3", "--out", str(tmp_path / "a" / "f.pt")])
    plain = cli.main(common[:-2] + ["--epochs", "3", "--out", str(tmp_path / "c" / "f.pt")])
    assert "--ema 0.9" in whole["command"] and whole["test_nll"] != plain["test_nll"]
    cli.main(common + ["--epochs", "1", "--out", str(tmp_path / "b" / "f.pt")])
    resumed = cli.main(["--resume", str(tmp_path / "b" / "f.run.pt"), "--epochs", "3"])
    (wa, _), (wb, _) = _weights(tmp_path / "a" / "f.pt"), _weights(tmp_path / "b" / "f.pt")
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    assert resumed["test_nll"] == whole["test_nll"]
    model = load_checkpoint(tmp_path / "a" / "f.pt")
    valid = load_binarized_mnist("valid", download=False)
    assert evaluate_nll(model, valid) == pytest.approx(whole["valid_nll"], abs=1e-3)


def test_cli_iwae_schedule_and_adam_eps_resume_exactly(tmp_path, real_data_dir):
    """--lr-schedule iwae and --adam-eps: a run stopped after 2 epochs (inside stage 1) and
    resumed to 5 ends with the weights, curves and learning rate of 5 epochs in one go (epoch 6
    would be the first of stage 2: lr 10^(-2/7)); Adam's eps is the one given; the manifest's
    command records both options."""
    common = ["made", "--set", "hidden=[16]", "--limit", "100", "--batch-size", "50", "--threads",
              "1", "--no-progress", "--lr", "0.01", "--lr-schedule", "iwae", "--adam-eps", "1e-4"]
    whole = cli.main(common + ["--epochs", "5", "--out", str(tmp_path / "a" / "m.pt")])
    cli.main(common + ["--epochs", "2", "--out", str(tmp_path / "b" / "m.pt")])
    entry = cli.main(["--resume", str(tmp_path / "b" / "m.run.pt"), "--epochs", "5"])
    (wa, xa), (wb, xb) = _weights(tmp_path / "a" / "m.pt"), _weights(tmp_path / "b" / "m.pt")
    assert xa == xb and all(torch.equal(wa[k], wb[k]) for k in wa)
    assert entry["history"] == whole["history"] | {"seconds": entry["history"]["seconds"]}
    assert "--lr-schedule iwae --adam-eps 1e-4" in entry["command"]
    for run_file in (tmp_path / "a" / "m.run.pt", tmp_path / "b" / "m.run.pt"):
        group = runs.load_run(run_file)["optimizer"]["param_groups"][0]
        assert group["eps"] == 1e-4 and group["initial_lr"] == 0.01
        assert group["lr"] == 0.01 * 10 ** (-2 / 7)
    with pytest.raises(SystemExit):  # the schedule belongs to the stored recipe
        cli.main(["--resume", str(tmp_path / "b" / "m.run.pt"), "--lr-schedule", "exponential"])


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
def test_channels_last_and_amp_keep_the_model(tmp_path, real_data_dir, monkeypatch):
    """--channels-last and --amp train a convolutional model; the checkpoint loads and scores
    in fp32 exactly as recorded. (The CPU is taken to have native bf16, so that the test runs on
    every machine: it checks the model, not the speed.)"""
    monkeypatch.setattr(runs, "native_bf16", lambda: True)
    out = tmp_path / "p.pt"
    entry = cli.main(["pixelcnn", "--set", "hidden=4", "num_layers=1", "--limit", "64",
                        "--epochs", "1", "--batch-size", "32", "--amp", "--channels-last",
                        "--threads", "1", "--no-progress", "--out", str(out)])
    model = load_checkpoint(out)
    test = load_binarized_mnist("test", download=False)
    assert evaluate_nll(model, test) == pytest.approx(entry["test_nll"], abs=1e-3)


def test_amp_is_refused_before_any_data_on_a_cpu_without_native_bf16(tmp_path, monkeypatch, capsys):
    """On a CPU with AVX2 only, bf16 autocast is emulated (measured 7-10x slower than fp32):
    --amp stops at once with the reason, before the data are loaded or anything is written."""
    monkeypatch.setattr(runs, "native_bf16", lambda: False)
    monkeypatch.setattr(cli, "load_training_data", lambda *a, **k: pytest.fail("data loaded"))
    with pytest.raises(SystemExit) as stop:
        cli.main(["fvsbn", "--amp", "--device", "cpu", "--no-progress",
                  "--out", str(tmp_path / "f.pt")])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert "--amp: this CPU has no native bfloat16" in err and "without --amp" in err
    assert not list(tmp_path.iterdir())


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


# ----------------------------------------------------------------------------- other models
def test_cli_trains_a_vae_and_reports_the_nll_and_the_bound(tmp_path, real_data_dir):
    """The manifest of a VAE run names its validation number a loss (a bound), and gives the
    importance-sampled test NLL beside the test bound; the NLL is the smaller."""
    entry = cli.main(["vae", "--set", "hidden=[16]", "latent=2", "--limit", "2000",
                        "--epochs", "2", "--lr", "3e-3", "--eval-samples", "20", "--threads", "1",
                        "--no-progress", "--out", str(tmp_path / "vae.pt")])
    assert "valid_loss" in entry and "valid_nll" not in entry
    assert entry["test_nll"] < entry["test_loss"] < 784 * math.log(2)
    assert abs(entry["test_nll_subset"] - entry["test_nll"]) < 10  # 500 of the same images


def test_the_command_line_dispatches_to_the_gan_and_the_classifier(capsys):
    for name in ("dcgan", "digit_classifier", "samples"):
        with pytest.raises(SystemExit) as stop:
            cli_main([name, "--help"])
        assert stop.value.code == 0
        assert f"python -m gm_helpers.train {name}" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        cli_main(["dcgan", "--loss", "wasserstein"])


def test_cli_trains_the_mixture_pixelcnn_on_grayscale_digits(tmp_path, real_data_dir):
    """--data grayscale: the 8,000 / 1,000 / 1,000 split of the grayscale digits, 256 levels; the
    whole 1,000-image test split is scored (no quarter), and the entry says which data."""
    from gm_helpers.data import grayscale_digits
    out = tmp_path / "m.pt"
    entry = cli.main(["mixture_pixelcnn", "--data", "grayscale", "--set", "hidden=2", "num_layers=0",
                      "num_mixtures=2", "--epochs", "1", "--limit", "64", "--batch-size", "32",
                      "--threads", "1", "--no-progress", "--data-dir", str(real_data_dir),
                      "--out", str(out)])
    assert entry["data"] == "grayscale" and "test_nll_quarter" not in entry
    assert entry["test_nll"] < 784 * math.log(256)                  # below the uniform model
    model = load_checkpoint(out)
    test = grayscale_digits(256, data_dir=real_data_dir)[2]
    assert evaluate_nll(model, test) == pytest.approx(entry["test_nll"], abs=1e-3)
    assert cli.load_training_data("grayscale", real_data_dir, 256)[2].equal(test)


def test_init_from_copies_matching_tensors_and_refuses_a_stranger(tmp_path):
    """--init-from: a flow posterior starts from the shipped VAE's encoder and decoder; a checkpoint
    that shares no tensor with the model, or none at all, is refused."""
    from gm_helpers.models.registry import build_model
    from gm_helpers.training.checkpoint import load_shipped
    from gm_helpers.training.cli import init_from
    model = build_model("iaf_vae", {"flow_steps": 1, "freeze_decoder": True})
    vae, _ = load_shipped("vae.pt")
    assert init_from(model, "vae.pt") == len(vae.state_dict())
    assert all(torch.equal(a, b) for a, b in zip(model.decoder.parameters(), vae.decoder.parameters()))
    with pytest.raises(SystemExit, match="shares no tensor"):
        init_from(build_model("fvsbn", {"D": 784}), "vae.pt")
    with pytest.raises(SystemExit, match="no checkpoint"):
        init_from(model, tmp_path / "missing.pt")
