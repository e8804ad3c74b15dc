"""The IAF posterior: its log q is the change of variables of the map eps -> z_K, it starts from a
VAE exactly, and its bound is a valid ELBO (below the exact log p(x) of a small model)."""
import math

import pytest
import torch
from torch.autograd.functional import jacobian

from gm_helpers.models.iaf_vae import IAFVAE, IAFStep
from gm_helpers.models.vae import VAE
from tests.helpers import randomised


def test_log_q_is_the_change_of_variables_of_eps_to_z():
    torch.manual_seed(0)
    model = randomised(IAFVAE(D=6, hidden=(8,), latent=3, flow_steps=2, flow_hidden=(16,)),
                       scale=0.4, dtype=torch.float64)
    x = (torch.rand(1, 6) < 0.5).double()
    h = model.encoder[:-1](x)
    mu, logvar = model.encoder[-1](h).chunk(2, -1)

    def eps_to_z(eps):
        z = mu[0] + (0.5 * logvar[0]).exp() * eps
        for step in model.steps:
            z, _ = step(z, h[0])
        return z
    torch.manual_seed(1)
    z, log_q = model.posterior(x, 4)
    torch.manual_seed(1)
    eps = torch.randn(4, 1, 3, dtype=torch.float64)
    for i in range(4):
        e = eps[i, 0]
        assert torch.allclose(eps_to_z(e), z[i, 0])
        log_det = torch.linalg.slogdet(jacobian(eps_to_z, e))[1]
        want = -0.5 * (e ** 2 + math.log(2 * math.pi)).sum() - log_det
        assert log_q[i, 0].item() == pytest.approx(want.item(), abs=1e-10)


def test_a_step_is_autoregressive_in_z():
    step = randomised(IAFStep(5, 4, (16,), order=torch.tensor([3, 1, 0, 4, 2])), scale=0.5,
                      dtype=torch.float64)
    z, h = torch.randn(5, dtype=torch.float64), torch.randn(4, dtype=torch.float64)
    J = jacobian(lambda v: step(v, h)[0], z)
    position = {d: i for i, d in enumerate(step.order.tolist())}
    for d in range(5):
        for j in range(5):
            if position[j] > position[d]:
                assert J[d, j] == 0


def test_with_no_steps_it_is_the_vae_and_from_vae_copies_the_networks():
    vae = randomised(VAE(D=12, hidden=(10,), latent=4), scale=0.3)
    x = (torch.rand(5, 12, generator=torch.Generator().manual_seed(0)) < 0.4).float()
    plain = IAFVAE.from_vae(vae, flow_steps=0)
    torch.manual_seed(3)
    a = vae.log_weights(x, 7)
    torch.manual_seed(3)
    b = plain.log_weights(x, 7)
    assert torch.allclose(a, b, atol=1e-5)
    flowing = IAFVAE.from_vae(vae, flow_steps=2, flow_hidden=(8,))
    assert not any(p.requires_grad for p in flowing.decoder.parameters())
    assert all(p.requires_grad for p in flowing.encoder.parameters())


def test_the_bound_is_below_the_exact_log_likelihood_and_the_weights_are_unbiased():
    """With a 2-d latent, log p(x) by quadrature: the IAF-posterior ELBO is below it, and the
    mean importance weight p(x, z) / q(z|x) is p(x) itself (within four standard errors)."""
    torch.manual_seed(0)
    model = IAFVAE(D=5, hidden=(8,), latent=2, flow_steps=1, flow_hidden=(8,)).double()
    with torch.no_grad():
        for p in [*model.encoder.parameters(), *model.decoder.parameters()]:
            p.normal_(0, 0.5)
        for p in model.steps.parameters():        # a step that is not the identity
            p.add_(0.1 * torch.randn_like(p))
    x = (torch.rand(3, 5) < 0.5).double()
    axis = torch.linspace(-10, 10, 401, dtype=torch.float64)
    grid = torch.cartesian_prod(axis, axis)                                  # (G, 2)
    with torch.no_grad():
        log_prior = -0.5 * (grid ** 2 + math.log(2 * math.pi)).sum(-1)
        logits = model.decode(grid)
        log_joint = torch.stack([log_prior - torch.nn.functional.binary_cross_entropy_with_logits(
            logits, xi.expand(len(grid), -1), reduction="none").sum(-1) for xi in x], 1)
        p_x = (torch.logsumexp(log_joint, 0) + 2 * math.log(axis[1] - axis[0])).exp()
        elbo = model.elbo(x, 20000)
        w = model.log_weights(x, 200_000).exp()                              # (k, 3)
    assert (elbo < p_x.log()).all()
    assert ((w.mean(0) - p_x).abs() < 4 * w.std(0) / math.sqrt(len(w))).all()


def test_training_the_posterior_raises_the_elbo_on_a_frozen_decoder():
    torch.manual_seed(0)
    x = (torch.rand(256, 16) < 0.3).float()
    x[:, 8:] = x[:, :8]
    vae = VAE(D=16, hidden=(32,), latent=2)
    opt = torch.optim.Adam(vae.parameters(), 1e-2)
    for _ in range(200):                                   # a decoder that uses z
        opt.zero_grad()
        vae.training_loss(x).mean().backward()
        opt.step()
    model = IAFVAE.from_vae(vae, flow_steps=2, flow_hidden=(32,))
    decoder_before = [p.clone() for p in model.decoder.parameters()]
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], 3e-3)
    torch.manual_seed(1)
    before = model.elbo(x, 64).mean().item()
    for _ in range(300):
        opt.zero_grad()
        model.training_loss(x).mean().backward()
        opt.step()
    torch.manual_seed(1)
    assert model.elbo(x, 64).mean().item() > before + 0.1
    assert all(torch.equal(a, b) for a, b in zip(decoder_before, model.decoder.parameters()))
