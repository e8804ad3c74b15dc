"""gm_helpers.dcgan and gm_helpers.digits: shapes, the epoch loop and its resume, the command
line, and the sample-quality scores on hand-made inputs."""
import pytest
import torch

from gm_helpers.analysis.sample_quality import accuracy, class_fractions, frechet_to, logits
from gm_helpers.data import pack_bits, unpack_bits
from gm_helpers.models.classifier import DigitClassifier
from gm_helpers.models.dcgan import Discriminator, Generator, InstanceNoise, binarize, interpolate
from gm_helpers.training.classifier import split_labelled, train_classifier
from gm_helpers.training.cli import main as cli_main
from gm_helpers.training.gan import train_dcgan

IMAGES = torch.bernoulli(torch.full((96, 1, 28, 28), 0.15), generator=torch.Generator().manual_seed(0))


def test_shapes_and_ranges():
    G, D = Generator(latent=8, width=4), Discriminator(width=4)
    x = G(torch.randn(5, 8))
    assert x.shape == (5, 1, 28, 28) and x.min() >= 0 and x.max() <= 1
    assert D(x).shape == (5, 1)
    s = G.sample(3, seed=1)
    assert torch.equal(s, G.sample(3, seed=1)) and G.training  # sampling restores train mode
    assert set(binarize(s).unique().tolist()) <= {0.0, 1.0}
    z0, z1 = torch.randn(8), torch.randn(8)
    path = interpolate(G, z0, z1, steps=5)
    torch.testing.assert_close(path[0], G(z0[None])[0])
    torch.testing.assert_close(path[-1], G(z1[None])[0])
    assert DigitClassifier(width=4)(x).shape == (5, 10)


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


def test_the_command_line_dispatches_to_the_gan_and_the_classifier(capsys):
    for name in ("dcgan", "digit_classifier", "samples"):
        with pytest.raises(SystemExit) as stop:
            cli_main([name, "--help"])
        assert stop.value.code == 0
        assert f"python -m gm_helpers.train {name}" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        cli_main(["dcgan", "--loss", "wasserstein"])


def test_frechet_and_class_fractions_on_hand_made_features():
    model = DigitClassifier(width=4).eval()
    assert frechet_to(model, IMAGES, IMAGES) == pytest.approx(0, abs=1e-6)
    assert frechet_to(model, IMAGES[:48], IMAGES[48:]) > 0
    fractions = class_fractions(model, IMAGES)
    assert len(fractions) == 10 and sum(fractions) == pytest.approx(1)
    predicted = logits(model, IMAGES).argmax(1)
    assert fractions[int(predicted[0])] >= 1 / len(IMAGES)
    x_fit, y_fit, x_held, y_held = split_labelled(IMAGES, torch.arange(96) % 10, held_out=16)
    assert len(x_held) == 16 and len(x_fit) == 80
    assert torch.equal(unpack_bits(pack_bits(IMAGES)), IMAGES)


def test_classifier_learns_a_separable_toy_problem():
    """Two classes: a bright top half vs a bright bottom half (the loss must fall to ~0)."""
    x = torch.zeros(64, 1, 28, 28)
    x[:32, :, :14], x[32:, :, 14:] = 1, 1
    y = torch.cat([torch.zeros(32), torch.ones(32)]).long()
    model = train_classifier(DigitClassifier(width=4), x, y, num_epochs=15,
                                    progress=False)
    assert accuracy(model, x, y) == 1.0


@pytest.mark.parametrize("bad", [
    lambda: logits(DigitClassifier(width=4), torch.zeros(3, 784)),
    lambda: logits(DigitClassifier(width=4), torch.zeros(3, 3, 28, 28)),
])
def test_bad_inputs_get_clear_errors(bad):
    with pytest.raises(ValueError, match="28, 28"):
        bad()


def test_bernoulli_output_draws_binary_images_with_the_straight_through_gradient():
    G = Generator(latent=8, width=4, output="bernoulli")
    z = torch.randn(6, 8)
    x = G(z)  # training mode: 0/1 draws
    assert set(x.unique().tolist()) <= {0.0, 1.0}
    (grad_x,) = torch.autograd.grad(x.sum(), G.up[-1].bias)
    G.eval()
    p = G(z)  # eval mode: the probabilities
    assert ((p > 0) & (p < 1)).all()
    G.train()
    (grad_p,) = torch.autograd.grad(G(z).sum(), G.up[-1].bias)  # same z, same BN batch
    torch.testing.assert_close(grad_x, grad_p)  # the gradient is p's, whatever was drawn
    s = G.sample_binary(200, seed=3)
    assert torch.equal(s, G.sample_binary(200, seed=3)) and set(s.unique().tolist()) == {0.0, 1.0}
    with pytest.raises(ValueError, match="bernoulli"):
        Generator(output="gumbel")


def test_instance_noise_only_while_training():
    D = InstanceNoise(Discriminator(width=4), sigma=0.5)
    x = IMAGES[:4]
    D.eval()
    torch.testing.assert_close(D(x), D.D(x))
    D.train()
    assert not torch.allclose(D(x), D.D(x))
