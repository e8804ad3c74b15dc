"""The steps-against-quality table: one row per step count, seeds repeat, the baseline is real."""
import pytest
import torch

from gm_helpers.models.diffusion import DigitDDPM
from gm_helpers.models.masked_diffusion import MaskedDiffusion
from gm_helpers.training import diffusion_tables as diffusion_steps
from gm_helpers.training.checkpoint import load_shipped
from tests.helpers import randomised


@pytest.fixture(scope="module")
def classifier():
    return load_shipped("digit_classifier.pt")[0]


def test_a_row_per_step_count(classifier):
    model = randomised(DigitDDPM(widths=(8, 16), T=20), scale=0.05)
    table = diffusion_steps.steps_table(model, classifier, [2, 20], num=50)
    assert [r["steps"] for r in table["rows"]] == [2, 20]
    for row in table["rows"]:
        assert len(row["class_fractions"]) == 10 and sum(row["class_fractions"]) == pytest.approx(1, abs=1e-3)
        assert row["frechet"] > table["frechet_real_vs_real"] >= 0
    a = diffusion_steps.sample_with_steps(model, 4, 3, seed=1)
    b = diffusion_steps.sample_with_steps(model, 4, 3, seed=1)
    assert a.shape == (4, 1, 28, 28) and (a == b).all()
    masked = randomised(MaskedDiffusion(widths=(8, 16)), scale=0.05)
    assert diffusion_steps.sample_with_steps(masked, 3, 7, seed=0).shape == (3, 1, 28, 28)


def test_a_row_per_step_count_and_noise_level(classifier):
    model = randomised(DigitDDPM(widths=(8, 16), T=20), scale=0.05)
    table = diffusion_steps.steps_table(model, classifier, [2, 20], num=30, etas=(0.0, 1.0))
    # the strided sampler gets a row per eta; the T-step ancestral sampler one row, with no eta
    assert [(r["steps"], r.get("eta")) for r in table["rows"]] == [(2, 0.0), (2, 1.0), (20, None)]
    a = diffusion_steps.sample_with_steps(model, 6, 3, seed=1, eta=1.0)
    b = diffusion_steps.sample_with_steps(model, 6, 3, seed=1, eta=1.0)
    assert torch.equal(a, b)


def test_refuses_a_model_without_steps(tmp_path):
    with pytest.raises(SystemExit):
        diffusion_steps.main(["--of", "vae.pt", "--steps", "5", "--out", str(tmp_path / "t.json")])


@pytest.mark.parametrize("argv, message", [
    (["--of", "ddpm.pt", "--eta", "1.5"], "must be in"),
    (["--of", "masked_diffusion.pt", "--eta", "1"], "no strided DDPM sampler"),
])
def test_refuses_a_bad_eta(tmp_path, capsys, argv, message):
    with pytest.raises(SystemExit):
        diffusion_steps.main(argv + ["--steps", "5", "--out", str(tmp_path / "t.json")])
    assert message in capsys.readouterr().err


def test_orderings_are_permutations_and_the_table_has_a_row_each():
    orders = diffusion_steps.named_orders()
    for order in orders.values():
        assert torch.equal(order.sort().values, torch.arange(784))
    assert orders["column by column"][:3].tolist() == [0, 28, 56]
    assert orders["centre outwards"][0].item() in (13 * 28 + 13, 13 * 28 + 14, 14 * 28 + 13, 14 * 28 + 14)
    model = randomised(MaskedDiffusion(widths=(8, 16)), scale=0.05)
    x = (torch.rand(2, 784, generator=torch.Generator().manual_seed(0)) < 0.3).float()
    table = diffusion_steps.orders_table(model, x, num_draws=4)
    assert len(table["rows"]) == len(orders) and table["num"] == 2 and table["bound"] > 0
    # --random 0: the four named orderings only, the same numbers, the same bound
    fewer = diffusion_steps.orders_table(model, x, num_draws=4, num_random=0)
    assert [r["order"] for r in fewer["rows"]] == [r["order"] for r in table["rows"]][:4]
    assert [r["nll"] for r in fewer["rows"]] == [r["nll"] for r in table["rows"]][:4]
    assert fewer["bound"] == table["bound"]
