"""The DCGAN's networks: shapes, ranges, the Bernoulli output's straight-through gradient, instance noise."""
import pytest
import torch

from gm_helpers.models.classifier import DigitClassifier
from gm_helpers.models.dcgan import Discriminator, Generator, InstanceNoise, binarize, interpolate
from tests.helpers import IMAGES


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
