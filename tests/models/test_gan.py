"""The GAN networks and losses: both generator losses and their gradients, PacGAN's packed discriminator."""
import math

import pytest
import torch

from gm_helpers.models.gan import PackedDiscriminator, discriminator_loss, generator_loss, networks


def test_generator_losses_and_their_gradients():
    """minimax: d/dl E[log(1 - sigmoid(l))] = -sigmoid(l) -> 0 as D(G(z)) -> 0 (saturates);
    non-saturating: d/dl -E[log sigmoid(l)] = -(1 - sigmoid(l)) -> -1 there."""
    logits = torch.tensor([-8.0, -2.0, 0.0, 3.0], dtype=torch.float64, requires_grad=True)
    d = torch.sigmoid(logits.detach())
    for kind, value, grad in (("minimax", torch.log(1 - d), -d),
                              ("non-saturating", -torch.log(d), -(1 - d))):
        per_example = [generator_loss(l[None], kind) for l in logits]
        torch.testing.assert_close(torch.stack(per_example).detach(), value)
        (g,) = torch.autograd.grad(generator_loss(logits, kind), logits)
        torch.testing.assert_close(g, grad / len(logits))
    (g_mm,) = torch.autograd.grad(generator_loss(logits[:1], "minimax"), logits)
    (g_ns,) = torch.autograd.grad(generator_loss(logits[:1], "non-saturating"), logits)
    assert abs(g_mm[0]) < 1e-3 < 0.99 < abs(g_ns[0])  # D confident the sample is fake
    real, fake = torch.tensor([2.0]), torch.tensor([-1.0])
    expected = -(math.log(torch.sigmoid(real).item()) + math.log(1 - torch.sigmoid(fake).item()))
    assert discriminator_loss(real, fake).item() == pytest.approx(expected)


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
