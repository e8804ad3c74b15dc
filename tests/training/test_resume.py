"""Runs you can trust, tried the way a user meets them: through the command line.

``--resume PATH`` continues the run in PATH (wherever it was copied or moved), for the models'
command and the DCGAN's; a new run never writes over a checkpoint or a stopped run's file; the
manifest loses no entry when runs finish together.
"""
import json
import multiprocessing
import shutil

import pytest
import torch

from gm_helpers.training import cli
from gm_helpers.training.checkpoint import record_in_manifest
from gm_helpers.training.resume import checkpoint_path_for

MADE = ["made", "--set", "hidden=[16]", "--limit", "200", "--batch-size", "50", "--threads", "1",
        "--no-progress", "--lr-decay", "0.9"]


def _weights(path):
    state = torch.load(path, weights_only=True)["state_dict"]
    return {k: v for k, v in state.items() if torch.is_tensor(v)}


def _same(a, b):
    wa, wb = _weights(a), _weights(b)
    return wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa)


def test_resume_continues_the_run_in_the_file_given_even_when_moved(tmp_path, real_data_dir):
    """A run file copied to another folder (say, from a laptop to a server) resumes there: its
    run file goes on in the new place, the checkpoint is written beside it, and the result is
    the uninterrupted run's. The original folder is not touched."""
    whole = cli.main(MADE + ["--epochs", "3", "--out", str(tmp_path / "whole" / "m.pt")])
    cli.main(MADE + ["--epochs", "2", "--out", str(tmp_path / "a" / "m.pt")])
    moved = tmp_path / "b" / "copy.run.pt"
    moved.parent.mkdir()
    shutil.copy(tmp_path / "a" / "m.run.pt", moved)
    before = (tmp_path / "a" / "m.pt").read_bytes()
    entry = cli.main(["--resume", str(moved), "--epochs", "3"])
    assert _same(tmp_path / "b" / "copy.pt", tmp_path / "whole" / "m.pt")
    assert entry["test_nll"] == whole["test_nll"] and entry["epochs"] == 3
    assert json.loads((tmp_path / "b" / "manifest.json").read_text())["copy.pt"] == entry
    assert (tmp_path / "a" / "m.pt").read_bytes() == before  # the original run is untouched
    assert torch.load(moved, weights_only=True)["epoch"] == 3


def test_resume_never_continues_another_run_that_took_the_same_out(tmp_path, real_data_dir,
                                                                   capsys):
    """Run A stops; its file is kept aside; run B may not take A's --out without --overwrite;
    when it does, resuming A's kept file continues A (its own weights), not B."""
    out = tmp_path / "m.pt"
    cli.main(MADE + ["--epochs", "1", "--out", str(out)])
    kept = tmp_path / "kept" / "a.run.pt"
    kept.parent.mkdir()
    shutil.copy(tmp_path / "m.run.pt", kept)
    with pytest.raises(SystemExit) as stop:  # B with A's --out: refused, nothing written
        cli.main(MADE + ["--epochs", "1", "--seed", "7", "--out", str(out)])
    err = capsys.readouterr().err
    assert stop.value.code == 2 and "already exist" in err and "--overwrite" in err
    assert f"--resume {tmp_path / 'm.run.pt'}" in err
    cli.main(MADE + ["--epochs", "1", "--seed", "7", "--overwrite", "--out", str(out)])
    a = cli.main(["--resume", str(kept), "--epochs", "2"])
    assert a["seed"] == 0 and "--seed" not in a["command"]
    cli.main(MADE + ["--epochs", "2", "--out", str(tmp_path / "straight" / "a.pt")])
    assert _same(tmp_path / "kept" / "a.pt", tmp_path / "straight" / "a.pt")


def test_out_may_not_name_a_run_file(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(MADE + ["--out", str(tmp_path / "x.run.pt")])
    assert stop.value.code == 2 and "names a run file" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


def test_checkpoint_path_for_a_run_file():
    assert checkpoint_path_for("a/b.run.pt").as_posix() == "a/b.pt"
    for bad in ("a/b.pt", "a/.run.pt", "b.run"):
        with pytest.raises(ValueError, match="ends in .run.pt"):
            checkpoint_path_for(bad)


def _write_entries(folder, writer, count):
    for i in range(count):
        record_in_manifest(folder / f"w{writer}_{i}.pt", {"sha256": f"{writer}-{i}", "i": i})


def test_two_writers_finishing_together_lose_no_manifest_entry(tmp_path):
    """2 processes x 100 entries into one manifest at the same moment: all 200 survive, and no
    temporary or lock file is left in the folder."""
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_write_entries, args=(tmp_path, w, 100)) for w in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    entries = json.loads((tmp_path / "manifest.json").read_text())
    assert len(entries) == 200
    assert [p.name for p in tmp_path.iterdir()] == ["manifest.json"]


# ----------------------------------------------------------------------------- the DCGAN's command
@pytest.fixture
def small_digits(monkeypatch, real_data_dir):
    """The DCGAN's command on 256 training digits (4 iterations an epoch): minutes become
    seconds; everything else (the classifier, the scores, the files) is real."""
    import gm_helpers.data as data
    real = data.load_binarized_mnist

    def first_256(split, *args, **kwargs):
        return real(split, *args, **kwargs)[:256]
    monkeypatch.setattr(data, "load_binarized_mnist", first_256)


DCGAN = ["dcgan", "--width", "8", "--latent", "8", "--threads", "1", "--no-progress",
         "--score-samples", "200"]


def test_dcgan_resume_resumes(tmp_path, small_digits, capsys):
    """Stopped after epoch 1 and resumed to 2: the weights of 2 epochs in one go, the run file
    goes on, the manifest keeps the original command and lists the resume."""
    whole = cli.main(DCGAN + ["--epochs", "2", "--out", str(tmp_path / "a" / "d.pt")])
    cli.main(DCGAN + ["--epochs", "1", "--out", str(tmp_path / "b" / "d.pt")])
    run_file = tmp_path / "b" / "d.run.pt"
    capsys.readouterr()
    entry = cli.main(["dcgan", "--resume", str(run_file), "--epochs", "2"])
    assert "resuming after epoch 1" in capsys.readouterr().out
    assert entry["epochs"] == 2 and _same(tmp_path / "a" / "d.pt", tmp_path / "b" / "d.pt")
    assert entry["frechet"] == whole["frechet"]
    assert entry["command"] == whole["command"].replace("--epochs 2", "--epochs 1").replace(
        "/a/", "/b/")
    assert entry["resumed"] == [f"python -m gm_helpers.train dcgan --resume {run_file} --epochs 2"]
    # the models' command recognises a DCGAN's run file and hands it over
    again = cli.main(["--resume", str(run_file), "--epochs", "2"])
    assert again["epochs"] == 2


def test_dcgan_with_an_average_and_epoch_scores_resumes_and_records_them(tmp_path, small_digits,
                                                                        capsys):
    """--ema ships the averaged generator; --epoch-scores N scores N samples after every epoch
    (printed, and kept in the manifest as a learning curve of sample quality); a resumed run
    keeps both, and its recipe (--ema) cannot change."""
    flags = ["--ema", "0.9", "--epoch-scores", "200"]
    whole = cli.main(DCGAN + flags + ["--epochs", "2", "--out", str(tmp_path / "a" / "d.pt")])
    assert "200 samples: Frechet" in capsys.readouterr().out
    assert whole["ema"] == 0.9 and whole["epoch_scores"]["samples"] == 200
    assert [s["epoch"] for s in whole["epoch_scores"]["scores"]] == [1, 2]
    assert all(len(s["class_fractions"]) == 10 for s in whole["epoch_scores"]["scores"])
    cli.main(DCGAN + flags + ["--epochs", "1", "--out", str(tmp_path / "b" / "d.pt")])
    with pytest.raises(SystemExit):
        cli.main(["dcgan", "--resume", str(tmp_path / "b" / "d.run.pt"), "--ema", "0.5"])
    entry = cli.main(["dcgan", "--resume", str(tmp_path / "b" / "d.run.pt"), "--epochs", "2"])
    assert entry["epoch_scores"] == whole["epoch_scores"] and entry["frechet"] == whole["frechet"]
    assert _same(tmp_path / "a" / "d.pt", tmp_path / "b" / "d.pt")


def test_dcgan_resume_refuses_a_changed_recipe(tmp_path, small_digits, capsys):
    cli.main(DCGAN + ["--epochs", "1", "--out", str(tmp_path / "d.pt")])
    for changed in (["--width", "16"], ["--loss", "minimax"], ["--lr", "0.1"]):
        with pytest.raises(SystemExit) as stop:
            cli.main(["dcgan", "--resume", str(tmp_path / "d.run.pt"), *changed])
        assert stop.value.code == 2 and "only" in capsys.readouterr().err, changed
    with pytest.raises(SystemExit):  # a model's run file is not the DCGAN's to continue
        cli.main(["dcgan", "--resume", str(tmp_path / "d.pt")])


def test_dcgan_checks_its_classifier_and_outputs_before_training(tmp_path, monkeypatch, capsys):
    import gm_helpers.training.gan as gan
    monkeypatch.setattr(gan, "train_dcgan", lambda *a, **k: pytest.fail("trained first"))
    with pytest.raises(SystemExit) as stop:
        cli.main(DCGAN + ["--classifier", str(tmp_path / "none.pt"), "--out", str(tmp_path / "d.pt")])
    assert stop.value.code == 2 and "--classifier" in capsys.readouterr().err
    (tmp_path / "manifest.json").write_text("[1, 2]")
    with pytest.raises(SystemExit) as stop:
        cli.main(DCGAN + ["--out", str(tmp_path / "d.pt")])
    assert stop.value.code == 2 and "not a valid manifest" in capsys.readouterr().err
    (tmp_path / "d.pt").write_bytes(b"")
    with pytest.raises(SystemExit):
        cli.main(DCGAN + ["--out", str(tmp_path / "d.pt")])
    assert "already exists" in capsys.readouterr().err
