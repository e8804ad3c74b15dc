"""2-d flows on lecture 06's mixtures: the entropy floor, the loop, scores, the command line."""
import math

import pytest
import torch

from gm_helpers.analysis.mixtures import mixture_entropy, mixture_log_prob, sample_mixture
from gm_helpers.models.registry import build_model
from gm_helpers.training import flows2d
from gm_helpers.training.checkpoint import load_checkpoint, read_manifest


@pytest.mark.parametrize("name, std, modes", [("ring", 0.01, 8), ("grid", 0.05, 25)])
def test_the_entropy_is_the_closed_form_of_separated_modes(name, std, modes):
    """With modes this far apart, H = log K + H(N(0, std^2 I_2)) = log K + 1 + log 2 pi + 2 log std."""
    entropy, error = mixture_entropy(name, num=200_000)
    assert entropy == pytest.approx(math.log(modes) + 1 + math.log(2 * math.pi) + 2 * math.log(std),
                                    abs=4 * error)


def test_mixture_log_prob_integrates_to_one():
    axis = torch.linspace(-6, 6, 1201, dtype=torch.float64)
    grid = torch.cartesian_prod(axis, axis)
    mass = mixture_log_prob(grid, "grid").exp().sum() * (axis[1] - axis[0]) ** 2
    assert mass.item() == pytest.approx(1.0, abs=1e-3)
    with pytest.raises(ValueError, match="mixture"):
        mixture_log_prob(grid[:3], "spiral")


def test_the_loop_lowers_the_nll_and_scores_name_the_gap(tmp_path):
    data = flows2d.mixture_splits("grid", seed=3)
    assert {k: len(v) for k, v in data.items()} == {"train": 100_000, "valid": 10_000, "test": 10_000}
    assert not torch.equal(data["train"][:5], data["test"][:5])
    torch.manual_seed(0)
    model, config = flows2d.new_flow(data["train"], {"num_layers": 2, "hidden": [16], "bins": 8})
    history = flows2d.fit_flow(model, data["train"], data["valid"], steps=200, record_every=100,
                               progress=False)
    assert history["step"] == [100, 200] and history["valid_nll"][1] < history["valid_nll"][0]
    scores = flows2d.score(model, "grid", data["test"], num_samples=2000)
    assert scores["gap"] == pytest.approx(scores["test_nll"] - scores["entropy"])
    assert scores["gap"] > 0 and 0 <= scores["modes"] <= 25 and scores["num_modes"] == 25


def test_the_command_line_trains_saves_and_records(tmp_path, monkeypatch):
    monkeypatch.setattr(flows2d, "CONFIG", {**flows2d.CONFIG, "num_layers": 2, "hidden": [8], "bins": 4})
    out = tmp_path / "flow.pt"
    results = flows2d.main(["--data", "ring", "--seeds", "0", "1", "--steps", "20", "--out", str(out)])
    assert [r["seed"] for r in results] == [0, 1]
    model, info = load_checkpoint(out, return_info=True)
    entry = read_manifest(tmp_path / "manifest.json")["flow.pt"]
    assert entry["model"] == "spline_flow" and len(entry["seeds"]) == 2
    assert entry["command"].startswith("python -m gm_helpers.train spline_flow --data ring")
    x, _, _ = sample_mixture("ring", 10, seed=0)
    assert model.log_prob(x).shape == (10,)
    assert isinstance(build_model("spline_flow", entry["config"]), type(model))
