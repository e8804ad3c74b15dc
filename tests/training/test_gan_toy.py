"""GANs on the 2-d mixtures: runs with snapshots and annealing, the gradient field, the summary over seeds."""
import pytest
import torch

from gm_helpers.training.gan_toy import run, summarise


def test_a_run_keeps_snapshots_and_anneals_to_zero():
    result = run("ring", num_steps=40, snapshots=4, batch_size=32, hidden=16, depth=1,
                         anneal=True, remedy="r1")
    assert [s["step"] for s in result["snapshots"]] == [0, 10, 20, 30, 40]
    shot = result["snapshots"][-1]
    assert shot["points"].shape == (500, 2) and shot["d_grid"].shape == (60, 60)
    assert shot["field"].shape == shot["arrows"].shape == (225, 2)
    assert ((shot["d_grid"] >= 0) & (shot["d_grid"] <= 1)).all()
    assert result["samples"].shape == (2500, 2) and len(result["history"]["g_grad"]) == 40
    assert set(result["metrics"]) >= {"modes", "high_quality"}
    assert result["final_lr"] == pytest.approx([0, 0], abs=1e-12)  # cosine: lr_T = 0
    plain = run("ring", num_steps=5, snapshots=1, batch_size=32, hidden=16, depth=1)
    assert plain["final_lr"] == [1e-3, 1e-3]


def test_gradient_field_points_where_the_generator_loss_falls():
    """-grad_x L_G: moving a point a little along the arrow lowers G's loss at that point."""
    result = run("grid", num_steps=30, snapshots=1, batch_size=32, hidden=16, depth=1)
    D, shot = result["D"], result["snapshots"][-1]
    x, push = shot["arrows"], shot["field"]
    with torch.no_grad():
        before = torch.nn.functional.softplus(-D.point_logit(x)).squeeze(1)
        after = torch.nn.functional.softplus(-D.point_logit(x + 1e-3 * push)).squeeze(1)
    moving = push.norm(dim=1) > 1e-4
    assert (after[moving] <= before[moving] + 1e-7).float().mean() > 0.95


def test_summarise_means_and_stds_over_seeds():
    rows = [{"dataset": "ring", "remedy": "none", "seed": s, "modes": m, "high_quality": q}
            for s, m, q in ((0, 8, 0.9), (1, 6, 0.5))]
    s = summarise(rows)["ring", "none"]
    assert s == pytest.approx({"seeds": 2, "num_modes": 8, "modes_mean": 7.0, "modes_std": 1.0,
                               "hq_mean": 0.7, "hq_std": 0.2})
