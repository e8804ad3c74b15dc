"""Half-precision checkpoints: ``--half-weights`` at the end of training, and the float16 copy of
a finished checkpoint (``python -m gm_helpers.train half``). The file holds float16, loads as
float32, and the numbers its manifest entry states are the file's own, measured again exactly."""
import json
import shlex
import shutil

import pytest
import torch

from gm_helpers.course.checkpoint_table import eval_samples
from gm_helpers.data import load_binarized_mnist
from gm_helpers.models.registry import build_model
from gm_helpers.train import main as train_main
from gm_helpers.training import cli, half
from gm_helpers.training.checkpoint import (
    CHECKPOINT_DIR,
    load_checkpoint,
    record_in_manifest,
    sha256_file,
    shipped_manifest,
)
from gm_helpers.training.saving import atomic_save, half_state_dict, round_to_half, save_checkpoint

TINY_FLOW = ["digit_flow", "--set", "num_layers=1", "hidden=[8]"]
QUICK = ["--limit", "200", "--epochs", "1", "--eval-samples", "2", "--threads", "1", "--no-progress"]
MEASURED = ("test_nll", "test_nll_quarter", "test_loss", "test_nll_subset")


def _floating_dtypes(path) -> set:
    state = torch.load(path, weights_only=True)["state_dict"]
    return {t.dtype for t in state.values() if torch.is_tensor(t) and t.is_floating_point()}


def _measured_again(path, entry) -> dict:
    """The final evaluation of the training command, on the loaded file, with the run's seed."""
    model = load_checkpoint(path)
    assert {p.dtype for p in model.parameters()} == {torch.float32}   # loads as float32
    test = load_binarized_mnist("test", download=False)
    return cli.final_evaluation(model, test, eval_samples(entry), seed=entry["seed"])


# ----------------------------------------------------------------------------- rounding and storage
def test_rounded_weights_are_stored_in_half_the_bytes_and_load_as_float32(tmp_path):
    torch.manual_seed(0)
    model = build_model("digit_flow", {"num_layers": 2, "hidden": [32]})
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(ValueError, match="round_to_half"):   # not yet float16 values
        half_state_dict(model)
    save_checkpoint(tmp_path / "f32.pt", model, "digit_flow", {"num_layers": 2, "hidden": [32]})
    assert round_to_half(model) is model
    for name, p in model.named_parameters():
        assert p.dtype == torch.float32 and torch.equal(p, p.half().float()), name
        assert (p - before[name]).abs().max() <= before[name].abs().max() * 2**-11   # nearest
    save_checkpoint(tmp_path / "f16.pt", model, "digit_flow", {"num_layers": 2, "hidden": [32]},
                    half=True)
    assert _floating_dtypes(tmp_path / "f16.pt") == {torch.float16}
    assert (tmp_path / "f16.pt").stat().st_size < 0.55 * (tmp_path / "f32.pt").stat().st_size
    loaded = load_checkpoint(tmp_path / "f16.pt")
    assert all(torch.equal(a, b) for a, b in zip(loaded.state_dict().values(),
                                                 model.state_dict().values()))
    x = (torch.rand(3, 784) < 0.5).float()
    assert torch.equal(loaded.log_weights(x, 2, torch.Generator().manual_seed(1)),
                       model.log_weights(x, 2, torch.Generator().manual_seed(1)))


def test_a_weight_beyond_float16s_range_is_refused():
    model = build_model("fvsbn", {"D": 4})
    with torch.no_grad():
        next(model.parameters()).view(-1)[0] = 1e5
    with pytest.raises(ValueError, match="beyond float16's range"):
        round_to_half(model)


# ----------------------------------------------------------------------------- --half-weights
def test_half_weights_trains_saves_float16_and_states_the_files_numbers(tmp_path, real_data_dir):
    """A tiny digit flow trained with --half-weights: the file holds float16, loads as float32,
    and its test numbers measured again (the CLI's final evaluation, same seed) are the entry's."""
    out = tmp_path / "flow.pt"
    entry = cli.main([*TINY_FLOW, *QUICK, "--half-weights", "--out", str(out)])
    assert entry["weights"] == "float16" and "--half-weights" in entry["command"]
    assert _floating_dtypes(out) == {torch.float16}
    assert entry["sha256"] == sha256_file(out)
    measured = _measured_again(out, entry)
    assert set(measured) == {"test_nll", "test_loss", "test_nll_subset"}   # a bound's numbers
    assert measured == {k: entry[k] for k in measured}
    assert load_checkpoint(out, return_info=True)[1]["metrics"]["test_loss"] == entry["test_loss"]
    # the run file keeps training in float32
    assert {t.dtype for t in torch.load(tmp_path / "flow.run.pt", weights_only=True)[
        "state_dict"].values() if torch.is_tensor(t) and t.is_floating_point()} == {torch.float32}


# ----------------------------------------------------------------------------- the copy afterwards
@pytest.mark.parametrize("model", [TINY_FLOW, ["fvsbn", "--set", "D=784"]], ids=["digit_flow", "fvsbn"])
def test_a_finished_checkpoint_gets_a_float16_copy_measured_again(tmp_path, real_data_dir, model):
    """`python -m gm_helpers.train half X.pt --out Y.pt`: Y holds float16 and loads as float32;
    its entry keeps the training command and curves, adds the export command, and states Y's own
    numbers (measured again exactly), with X's sha256 and numbers under "float32"; X is untouched."""
    source = tmp_path / "runs" / "m.pt"
    trained = cli.main([*model, *QUICK, "--out", str(source)])
    before = (tmp_path / "runs" / "manifest.json").read_text()
    out = tmp_path / "ship" / "m.pt"
    argv = [str(source), "--out", str(out), "--threads", "1"]
    entry = train_main(["half", *argv])               # as `python -m gm_helpers.train half ...`
    assert json.loads((tmp_path / "ship" / "manifest.json").read_text()) == {"m.pt": entry}
    assert (tmp_path / "runs" / "manifest.json").read_text() == before
    assert sha256_file(source) == trained["sha256"]
    assert _floating_dtypes(out) == {torch.float16} and entry["sha256"] == sha256_file(out)
    assert entry["weights"] == "float16"
    assert entry["export_command"] == "python -m gm_helpers.train half " + shlex.join(argv)
    assert entry["command"] == trained["command"] and entry["history"] == trained["history"]
    measured = _measured_again(out, entry)
    assert measured == {k: entry[k] for k in MEASURED if k in trained}
    assert entry["float32"] == {"sha256": trained["sha256"], **{k: trained[k] for k in measured}}
    for k in measured:   # rounding to float16 moves a tiny model's numbers by a hair
        assert abs(entry[k] - trained[k]) < 0.05, (k, entry[k], trained[k])


def test_the_copy_can_measure_with_more_importance_samples(tmp_path, real_data_dir):
    """``half --eval-samples K``: the bounds measured again with K draws, K recorded in the entry
    (what the checkpoint table and tests/test_repo.py read), the training command kept."""
    source = tmp_path / "runs" / "m.pt"
    trained = cli.main([*TINY_FLOW, *QUICK, "--out", str(source)])
    out = tmp_path / "ship" / "m.pt"
    entry = train_main(["half", str(source), "--out", str(out), "--threads", "1", "--eval-samples", "6"])
    assert entry["eval_samples"] == eval_samples(entry) == 6 and entry["command"] == trained["command"]
    assert "--eval-samples 2" in entry["command"]
    assert _measured_again(out, entry) == {k: entry[k] for k in MEASURED if k in entry}


@pytest.fixture
def finished(tmp_path, monkeypatch):
    """A tiny checkpoint with its manifest entry (no training), and no data to load."""
    monkeypatch.setattr(half, "load_training_data", lambda *a, **k: pytest.fail("data loaded"))
    path = tmp_path / "f.pt"
    config = {"num_layers": 1, "hidden": [8]}
    sha = save_checkpoint(path, build_model("digit_flow", config), "digit_flow", config)
    record_in_manifest(path, {"model": "digit_flow", "config": config, "seed": 0, "sha256": sha,
                              "command": "python -m gm_helpers.train " + shlex.join(
                                  [*TINY_FLOW, *QUICK, "--out", str(path)])})
    return path


def _refused(argv, capsys) -> str:
    with pytest.raises(SystemExit) as stop:
        half.main(argv)
    assert stop.value.code == 2
    return capsys.readouterr().err


def test_the_copy_refuses_what_it_cannot_measure_again(finished, tmp_path, capsys):
    out = str(tmp_path / "out" / "f.pt")
    run_file = tmp_path / "f.run.pt"
    atomic_save({"state_dict": {}, "optimizer": {}, "rng": {}, "epoch": 1}, run_file)
    assert "is a run file (for --resume)" in _refused([str(run_file), "--out", out], capsys)
    assert "no such file" in _refused([str(tmp_path / "nope.pt"), "--out", out], capsys)
    lonely = tmp_path / "lonely" / "f.pt"
    lonely.parent.mkdir()
    shutil.copy(finished, lonely)
    err = _refused([str(lonely), "--out", out], capsys)
    assert "has no entry in" in err and "manifest.json" in err
    assert "is the checkpoint itself" in _refused([str(finished), "--out", str(finished)], capsys)
    (tmp_path / "taken.pt").write_bytes(b"x")
    err = _refused([str(finished), "--out", str(tmp_path / "taken.pt")], capsys)
    assert "already exists" in err and "--overwrite" in err
    assert "should end in .pt" in _refused([str(finished), "--out", str(tmp_path / "f.txt")], capsys)
    # a 2-d flow has its own loop and scores: the training command's evaluation is not its own
    flow = tmp_path / "flows" / "flow2d_ring.pt"
    flow.parent.mkdir()
    shutil.copy(CHECKPOINT_DIR / "flow2d_ring.pt", flow)
    record_in_manifest(flow, shipped_manifest()["flow2d_ring.pt"])
    assert "copies only that command's checkpoints" in _refused([str(flow), "--out", out], capsys)
    # a file that no longer matches its entry, and one already in float16
    entry = json.loads((tmp_path / "manifest.json").read_text())["f.pt"]
    record_in_manifest(finished, {**entry, "weights": "float16"})
    assert "already holds float16" in _refused([str(finished), "--out", out], capsys)
    record_in_manifest(finished, {**entry, "sha256": "0" * 64})
    assert "does not match the sha256" in _refused([str(finished), "--out", out], capsys)
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())
