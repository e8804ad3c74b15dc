"""Diffusion on lecture 06's 2-d mixtures: the DDPM loop, its scores in the data's units, the
denoising score-matching loop, and the command line."""
import pytest
import torch

from gm_helpers.analysis.mixtures import sample_mixture
from gm_helpers.analysis.scores import NoiseConditionalScore
from gm_helpers.models.registry import build_model
from gm_helpers.training import diffusion2d
from gm_helpers.training.checkpoint import load_checkpoint, read_manifest


def test_the_loop_lowers_the_loss_and_scores_are_in_the_datas_units(monkeypatch):
    monkeypatch.setattr(diffusion2d, "CONFIG", {**diffusion2d.CONFIG, "hidden": [32]})
    model, history, scores = diffusion2d.train_one("grid", seed=0, steps=300, progress=False)
    assert history["step"] == [250, 300] and len(history["valid_loss"]) == 2
    assert history["train_loss"][-1] < 1.9                    # from about 2 = E||eps||^2 at the start
    assert scores["gap"] == pytest.approx(scores["neg_elbo"] - scores["entropy"])
    assert scores["gap"] > 0 and scores["num_modes"] == 25
    assert model.scale == 0.25 and model.sample(5).shape == (5, 2)   # model units: data / 4


def test_score_matching_loop():
    data, _, _ = sample_mixture("ring", 2000, seed=0)
    net = NoiseConditionalScore((16,))
    losses = diffusion2d.fit_score(net, data, torch.tensor([0.5, 0.1]), steps=200, batch_size=256,
                                   progress=False)
    assert len(losses) == 200 and sum(losses[-20:]) < sum(losses[:20])


def test_the_command_line_trains_saves_and_records(tmp_path, monkeypatch):
    monkeypatch.setattr(diffusion2d, "CONFIG", {**diffusion2d.CONFIG, "hidden": [8], "T": 20})
    out = tmp_path / "ddpm.pt"
    results = diffusion2d.main(["--data", "ring", "--seeds", "0", "1", "--steps", "20", "--out", str(out)])
    assert [r["seed"] for r in results] == [0, 1]
    model, info = load_checkpoint(out, return_info=True)
    entry = read_manifest(tmp_path / "manifest.json")["ddpm.pt"]
    assert entry["model"] == "ddpm_2d" and len(entry["seeds"]) == 2 and entry["config"]["scale"] == 0.25
    assert entry["command"].startswith("python -m gm_helpers.train ddpm_2d --data ring")
    assert model.scale == 0.25 and model.sample(3).shape == (3, 2)
    assert build_model("ddpm_2d", entry["config"]).T == 20
