"""The training command line fails before it trains, never after, and never trains wrongly in
silence (issue 11, class 4). Every bad argument exits with status 2 and a message naming it,
before a single image is loaded; a divergent run is an error naming the epoch, and nothing is
saved."""
import json

import pytest

from gm_helpers.training import cli, runs


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


def test_the_manifest_is_written_atomically_and_keeps_other_entries(tmp_path, real_data_dir):
    (tmp_path / "manifest.json").write_text(json.dumps({"other.pt": {"sha256": "x"}}))
    cli.main(["fvsbn", "--set", "D=784", "--epochs", "1", "--limit", "200", "--threads", "1",
                "--no-progress", "--data-dir", str(real_data_dir), "--out", str(tmp_path / "f.pt")])
    entries = json.loads((tmp_path / "manifest.json").read_text())
    assert sorted(entries) == ["f.pt", "other.pt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.pt", "f.run.pt", "manifest.json"]


@pytest.mark.parametrize("train_nll, valid_nll, valid_epoch, diverged", [
    ([549.0], [548.9], [1], False),            # a random start, a little worse than a coin
    ([1200.0], [], [], True),                  # above twice the uniform model's: diverged
    ([500.0], [1100.0], [1], True),
    ([560.0, 555.0], [552.0, 550.0], [1, 2], False),   # above a coin but learning
    ([560.0, 570.0], [], [], True),            # above a coin and getting worse
    ([560.0, 540.0], [552.0, 553.0], [1, 2], True),    # validation: above a coin and rising
    ([300.0, 310.0], [200.0, 220.0], [1, 2], False),   # rising but far better than a coin
    ([560.0, 555.0], [552.0], [1], False),     # validation not measured this epoch
])
def test_what_counts_as_divergence(train_nll, valid_nll, valid_epoch, diverged):
    history = {"train_nll": train_nll, "valid_nll": valid_nll, "valid_epoch": valid_epoch}
    assert runs.diverged(history, 543.4) is diverged
