"""gm_helpers.gan_toy and gm_helpers.gan_widgets: packing, the gradient penalty, runs with
snapshots, the seed summary, and the explorers driven through their callbacks."""
import pytest
import torch
from matplotlib.figure import Figure

from gm_helpers.models.dcgan import Generator
from gm_helpers.models.gan import PackedDiscriminator, mlp_discriminator, mlp_generator, networks
from gm_helpers.training.gan import d_step
from gm_helpers.training.gan_toy import run, summarise
from gm_helpers.widgets.gan import dcgan_explorer, draw_run, toy_gan_explorer


def test_packed_discriminator_judges_packs():
    D = PackedDiscriminator(pack=4, hidden=8, depth=1)
    x = torch.randn(12, 2)
    assert D(x).shape == (3, 1)
    # a pack is 4 consecutive points, concatenated: (B*4, 2) -> (B, 8)
    torch.testing.assert_close(D(x)[1], D.net(x[4:8].reshape(1, 8))[0])
    assert D.point_logit(x).shape == (12, 1)
    with pytest.raises(ValueError, match="packs of 4"):
        D(torch.randn(10, 2))
    with pytest.raises(ValueError, match="remedy"):
        networks("unrolled")


def test_r1_penalty_adds_half_gamma_times_the_squared_gradient_on_data():
    G, D = mlp_generator(hidden=8, depth=1), mlp_discriminator(hidden=8, depth=1)
    x = torch.randn(16, 2)
    losses = []
    for r1 in (0.0, 5.0):
        torch.manual_seed(0)
        optimizer = torch.optim.SGD(D.parameters(), lr=0.0)  # measure, do not move
        losses.append(d_step(G, D, x, optimizer, latent=2, r1=r1)["d_loss"])
    x_req = x.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(D(x_req).sum(), x_req)
    # fp32 losses near 0.7: their difference is good to ~1e-7, so the penalty is made large
    assert losses[1] - losses[0] == pytest.approx(2.5 * grad.pow(2).sum(1).mean().item(), rel=1e-4)


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


def test_toy_explorer_trains_on_click_and_scrubs():
    explorer = toy_gan_explorer(num_steps=200)
    assert isinstance(explorer.figure, Figure)
    first = explorer.run_result
    explorer.settings["dataset"].value = "grid"
    assert explorer.run_result is first  # settings alone do not train
    explorer.settings["remedy"].value = "pacgan"
    explorer.settings["num_steps"].value = 200
    explorer.button.click()
    assert explorer.run_result is not first and explorer.run_result["metrics"]["num_modes"] == 25
    slider = explorer.controls["index"]
    assert slider.max == len(explorer.run_result["snapshots"]) - 1 == slider.value
    slider.value = 0
    assert explorer.result["index"] == 0 and isinstance(explorer.figure, Figure)
    assert isinstance(draw_run(explorer.run_result, steps=[0, 200]), Figure)


def test_dcgan_explorer_follows_its_seeds():
    G = Generator(latent=8, width=4)
    explorer = dcgan_explorer(G)
    explorer.controls["seed"].value = 5
    torch.testing.assert_close(explorer.result["grid"], G.sample(36, seed=5))
    explorer.controls["seed_b"].value = 7
    z7 = torch.randn(1, 8, generator=torch.Generator().manual_seed(7))
    G.eval()
    torch.testing.assert_close(explorer.result["path"][-1], G(z7)[0])
