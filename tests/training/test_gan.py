"""Training GANs: Algorithm 1's steps, the R1 penalty, a GAN learning a 1-d Gaussian, the DCGAN's resume."""
import math

import pytest
import torch

from gm_helpers.analysis.mixtures import mode_coverage, ring_means, sample_mixture
from gm_helpers.models.dcgan import Discriminator, Generator
from gm_helpers.models.gan import generator_loss, mlp_discriminator, mlp_generator
from gm_helpers.training.checkpoint import CheckpointError
from gm_helpers.training.gan import d_step, train_dcgan, train_gan
from tests.helpers import IMAGES


@pytest.mark.parametrize("k", [1, 3])
def test_algorithm_1_takes_k_discriminator_steps_per_generator_step(k, monkeypatch):
    steps = []
    real_step = torch.optim.Adam.step

    def counting_step(self, *args, **kwargs):
        steps.append("D" if self.param_groups[0]["params"][0] is first_d_param else "G")
        return real_step(self, *args, **kwargs)

    monkeypatch.setattr(torch.optim.Adam, "step", counting_step)
    G, D = mlp_generator(hidden=8, depth=1), mlp_discriminator(hidden=8, depth=1)
    first_d_param = next(D.parameters())
    data = torch.randn(100, 2)
    history = train_gan(G, D, data, num_steps=4, k=k, batch_size=16, progress=False)
    assert steps == (["D"] * k + ["G"]) * 4
    assert {len(v) for v in history.values()} == {4}


def test_a_tiny_gan_learns_a_1d_gaussian():
    torch.manual_seed(0)
    G = mlp_generator(latent=1, hidden=16, depth=2, out=1)
    D = mlp_discriminator(inp=1, hidden=16, depth=2)
    history = train_gan(G, D, lambda n: 3.0 + 0.5 * torch.randn(n, 1), num_steps=1500,
                            batch_size=128, lr_g=2e-3, lr_d=2e-3, latent=1, progress=False, seed=0)
    with torch.no_grad():
        x = G(torch.randn(5000, 1))
    assert abs(x.mean().item() - 3.0) < 0.2 and abs(x.std().item() - 0.5) < 0.2
    assert 0.3 < history["d_real"][-1] < 0.7  # near the equilibrium D = 1/2


class NanAfter(torch.nn.Module):
    def __init__(self, calls):
        super().__init__()
        self.net, self.calls, self.left = mlp_discriminator(hidden=4, depth=1), 0, calls

    def forward(self, x):
        self.calls += 1
        out = self.net(x)
        return out * float("nan") if self.calls > self.left else out


def test_non_finite_loss_names_the_iteration():
    with pytest.raises(FloatingPointError, match="iteration 2"):
        train_gan(mlp_generator(hidden=4, depth=1), NanAfter(calls=3 * 2 + 1),
                      torch.randn(50, 2), num_steps=5, batch_size=8, progress=False)


def _weights(*nets):
    return [p.detach().clone() for net in nets for p in net.parameters()]


def test_a_nan_never_reaches_the_networks_and_the_cause_is_named():
    """A notebook's GAN, trained for hours, meets one bad batch: the error names the data (not
    the learning rates), and G and D keep the weights they had before that iteration."""
    torch.manual_seed(0)
    G, D = mlp_generator(hidden=8, depth=1), mlp_discriminator(hidden=8, depth=1)
    data = torch.randn(64, 2)
    train_gan(G, D, data, num_steps=3, batch_size=8, progress=False)
    before = _weights(G, D)
    data[5] = float("nan")
    bad = lambda n: data  # noqa: E731 - every batch holds the NaN row
    with pytest.raises(FloatingPointError, match="data batch holds 2 NaN") as err:
        train_gan(G, D, bad, num_steps=3, batch_size=8, progress=False)
    assert "learning rate" not in str(err.value)
    assert all(torch.equal(a, b) for a, b in zip(before, _weights(G, D)))
    # a loss that becomes NaN inside D (not in the data): the learning rates are named, and
    # again nothing is written into the weights
    D_nan = NanAfter(calls=2)
    before = _weights(G, D_nan)
    with pytest.raises(FloatingPointError, match="lower the learning rates"):
        train_gan(G, D_nan, torch.randn(50, 2), num_steps=5, batch_size=8, progress=False)
    after = _weights(G, D_nan)
    assert all(torch.isfinite(p).all() for p in after)


@pytest.mark.parametrize("bad", [
    lambda: train_gan(mlp_generator(), mlp_discriminator(), torch.randn(9, 2), 1, k=0),
    lambda: train_gan(mlp_generator(), mlp_discriminator(), torch.randn(9, 2), 0),
    lambda: train_gan(mlp_generator(), mlp_discriminator(), torch.randn(9, 2), 1,
                          loss="wasserstein"),
    lambda: train_gan(mlp_generator(), mlp_discriminator(), torch.randn(9, 2), 1,
                          batch_size=0),
    lambda: generator_loss(torch.zeros(2), "saturating"),
    lambda: sample_mixture("triangle", 10),
    lambda: sample_mixture("ring", 0),
    lambda: mode_coverage(torch.zeros(5, 3), ring_means(), 0.01),
    lambda: mode_coverage(torch.zeros(0, 2), ring_means(), 0.01),
])
def test_bad_inputs_get_clear_errors(bad):
    with pytest.raises(ValueError):
        bad()


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


def test_resumed_training_equals_one_uninterrupted_run(tmp_path):
    def make():
        torch.manual_seed(0)
        return Generator(latent=4, width=4), Discriminator(width=4)

    z = torch.randn(4, 4)
    G, D = make()
    straight = train_dcgan(G, D, IMAGES, 2, batch_size=32, progress=False, snapshot_z=z)
    G2, D2 = make()
    run_path = tmp_path / "g.run.pt"
    train_dcgan(G2, D2, IMAGES, 1, batch_size=32, progress=False, snapshot_z=z,
                      run_path=run_path)
    G3, D3 = make()  # a fresh process: new weights, and the run file restores everything
    resumed = train_dcgan(G3, D3, IMAGES, 2, batch_size=32, progress=False, snapshot_z=z,
                                run_path=run_path, resume=True)
    for a, b in zip(G.state_dict().values(), G3.state_dict().values()):
        torch.testing.assert_close(a, b)
    assert resumed["history"] == straight["history"] and len(resumed["history"]["d_loss"]) == 6
    assert len(resumed["snapshots"]) == 2 and resumed["snapshots"][0].dtype == torch.uint8


def test_the_averaged_generator_is_the_moving_average_of_the_generators_steps(monkeypatch):
    """``ema=d``: after every generator step w_ema <- d w_ema + (1 - d) w, starting from the
    first step's weights; the run returns the averaged G with standing batch-norm statistics,
    and the training G is left as it was."""
    from gm_helpers.training import gan
    torch.manual_seed(0)
    G, D = Generator(latent=4, width=4), Discriminator(width=4)
    seen = []  # G's weights after each of its steps, recorded by the same hook as the average
    real_train_gan = gan.train_gan

    def recording_train_gan(*args, on_step=None, **kwargs):
        def both(step, history):
            seen.append([p.detach().clone() for p in G.parameters()])
            on_step(step, history)
        return real_train_gan(*args, on_step=both, **kwargs)

    monkeypatch.setattr(gan, "train_gan", recording_train_gan)
    run = train_dcgan(G, D, IMAGES, 2, batch_size=32, progress=False, ema=0.9)
    expected = seen[0]
    for weights in seen[1:]:
        expected = [0.9 * e + 0.1 * w for e, w in zip(expected, weights)]
    averaged = run["generator"]
    assert averaged is not G and len(seen) == 2 * (len(IMAGES) // 32)
    for a, e, g in zip(averaged.parameters(), expected, G.parameters()):
        torch.testing.assert_close(a, e)
        assert not torch.equal(a, g)
    # standing statistics: the eval-mode statistics are those of the averaged G's own outputs
    bn = averaged.project[1]
    z = torch.randn(10_000, 4, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        pre = averaged.project[0](z)
    torch.testing.assert_close(bn.running_mean, pre.mean(0), atol=1e-5, rtol=1e-4)
    assert not averaged.training


def test_an_averaged_run_resumes_exactly_and_refuses_the_wrong_flag(tmp_path):
    def make():
        torch.manual_seed(0)
        return Generator(latent=4, width=4), Discriminator(width=4)

    scores = []

    def score(G):
        scores.append(G.training)
        return {"mean": round(G.sample(8, seed=0).mean().item(), 6)}

    straight = train_dcgan(*make(), IMAGES, 2, batch_size=32, progress=False, ema=0.5, score=score)
    run_path = tmp_path / "g.run.pt"
    train_dcgan(*make(), IMAGES, 1, batch_size=32, progress=False, ema=0.5, score=score,
                run_path=run_path)
    resumed = train_dcgan(*make(), IMAGES, 2, batch_size=32, progress=False, ema=0.5,
                          score=score, run_path=run_path, resume=True)
    for a, b in zip(straight["generator"].state_dict().values(),
                    resumed["generator"].state_dict().values()):
        torch.testing.assert_close(a, b)
    assert resumed["epoch_scores"] == straight["epoch_scores"]
    assert [s["epoch"] for s in resumed["epoch_scores"]] == [1, 2] and not any(scores)
    with pytest.raises(CheckpointError, match="without --ema"):
        train_dcgan(*make(), IMAGES, 2, batch_size=32, progress=False, ema=0.5,
                    run_path=_without_average(run_path, tmp_path), resume=True)
    with pytest.raises(CheckpointError, match="with --ema"):
        train_dcgan(*make(), IMAGES, 2, batch_size=32, progress=False, run_path=run_path,
                    resume=True)
    with pytest.raises(ValueError, match="ema must be in"):
        train_dcgan(*make(), IMAGES, 1, batch_size=32, progress=False, ema=1.0)


def _without_average(run_path, tmp_path):
    saved = torch.load(run_path, weights_only=True)
    del saved["ema_state"]
    plain = tmp_path / "plain.run.pt"
    torch.save(saved, plain)
    return plain


def test_a_packed_discriminator_judges_consecutive_images_together():
    """PacGAN for images: D(pack=m) gives one logit per m consecutive images, and a pack's
    logit depends on its own m images only."""
    torch.manual_seed(0)
    D = Discriminator(width=4, pack=2)
    x = torch.rand(6, 1, 28, 28)
    logits = D(x)
    assert logits.shape == (3, 1)
    changed = x.clone()
    changed[3] = 1 - changed[3]          # the second image of the second pack
    moved = D(changed)
    assert torch.equal(moved[0], logits[0]) and torch.equal(moved[2], logits[2])
    assert not torch.equal(moved[1], logits[1])
    with pytest.raises(ValueError, match="packs of 2"):
        D(x[:5])


def test_a_packed_dcgan_with_a_gradient_penalty_trains():
    """Both remedies of section 6 on the DCGAN: an epoch runs with packs of 2, and R1 reaches
    D's loss: on the same first batch from the same weights, the penalty adds to it."""
    def first_d_loss(r1):
        torch.manual_seed(0)
        G, D = Generator(latent=4, width=4), Discriminator(width=4, pack=2)
        return train_dcgan(G, D, IMAGES, 1, batch_size=32, progress=False, r1=r1)["history"]

    plain, penalised = first_d_loss(0.0), first_d_loss(10.0)
    assert len(penalised["d_loss"]) == len(IMAGES) // 32
    assert all(math.isfinite(v) for v in penalised["d_loss"])
    assert penalised["d_loss"][0] > plain["d_loss"][0]
