"""Autoencoders, the VAE and the IWAE: the bounds against exact integrals on a model with a 1-d latent.

With one latent dimension, p(x) = int p(z) p(x|z) dz and the true posterior p(z|x) can be
computed by quadrature on a fine grid, so every identity of the ELBO derivation can be checked
to many digits rather than only "it trains".
"""
import math

import numpy as np
import pytest
import torch

from gm_helpers.models.layers import bernoulli_log_prob
from gm_helpers.models.vae import (
    IWAE,
    VAE,
    Autoencoder,
    gaussian_decoder_log_prob,
    gaussian_log_prob,
    kl_diag_gaussians,
)
from gm_helpers.training.runs import train_run
from tests.helpers import randomised

D = 6
GRID = torch.linspace(-30, 30, 60001, dtype=torch.float64)  # z values for the quadrature
DZ = GRID[1] - GRID[0]


def tiny_vae(seed=0, **kw):
    """A 6-pixel VAE with a 1-d latent and random weights, in float64."""
    return randomised(VAE(D, hidden=(8,), latent=1, **kw), seed=seed, scale=0.7,
                      dtype=torch.float64)


def binary_states():
    return torch.tensor(list(np.ndindex(*[2] * D)), dtype=torch.float64)  # (64, D)


def exact(model, x):
    """Quadrature over z: log p(x) (B,), and the log of the true posterior on GRID (B, G)."""
    with torch.no_grad():
        log_prior = -0.5 * (math.log(2 * math.pi) + GRID ** 2)  # (G,)
        log_lik = bernoulli_log_prob(model.decode(GRID[:, None, None]), x)  # (G, B)
        log_joint = log_prior[:, None] + log_lik  # (G, B)
        log_px = torch.logsumexp(log_joint, 0) + math.log(DZ)  # (B,)
    return log_px, (log_joint - log_px).T  # posterior density on the grid, (B, G)


def test_exact_likelihood_is_normalised():
    """Quadrature is accurate: p(x) sums to 1 over all 2^6 binary images."""
    log_px, _ = exact(tiny_vae(), binary_states())
    assert log_px.exp().sum().item() == pytest.approx(1.0, abs=1e-9)


def test_elbo_derivation_identities():
    """log p(x) = ELBO + KL(q || p(z|x)), every term by quadrature, to 1e-6 nats; the gap is
    the KL to the true posterior, so log p(x) >= ELBO."""
    model = tiny_vae()
    x = binary_states()
    log_px, log_post = exact(model, x)
    with torch.no_grad():
        mu, logvar = model.encode(x)  # (B, 1)
        log_q = gaussian_log_prob(GRID[:, None, None], mu, logvar)  # (G, B)
        q = log_q.exp()
        log_lik = bernoulli_log_prob(model.decode(GRID[:, None, None]), x)  # (G, B)
        expected_log_lik = (q * log_lik).sum(0) * DZ  # E_q[log p(x|z)]
        kl_prior = kl_diag_gaussians(mu, logvar)  # closed form, (B,)
        elbo = expected_log_lik - kl_prior
        kl_post = (q * (log_q - log_post.T)).sum(0) * DZ  # KL(q(z|x) || p(z|x))
    torch.testing.assert_close(elbo + kl_post, log_px, atol=1e-6, rtol=0)
    assert (kl_post > 0).all() and (elbo < log_px).all()
    # the model's own Monte Carlo ELBO estimates the same number
    torch.manual_seed(0)
    mc = model.elbo(x[:4], num_samples=200_000)
    torch.testing.assert_close(mc, elbo[:4], atol=0.01, rtol=0)


def test_closed_form_kl_against_torch_and_monte_carlo():
    torch.manual_seed(0)
    mu_q, logvar_q = torch.randn(5, 3, dtype=torch.float64), torch.randn(5, 3, dtype=torch.float64)
    mu_p, logvar_p = torch.randn(5, 3, dtype=torch.float64), torch.randn(5, 3, dtype=torch.float64)
    Normal = torch.distributions.Normal
    for args, p in (((mu_q, logvar_q), Normal(0.0, 1.0)),
                    ((mu_q, logvar_q, mu_p, logvar_p), Normal(mu_p, (0.5 * logvar_p).exp()))):
        q = Normal(mu_q, (0.5 * logvar_q).exp())
        ours = kl_diag_gaussians(*args)
        torch.testing.assert_close(ours, torch.distributions.kl_divergence(q, p).sum(-1))
        z = q.sample((400_000,))  # Monte Carlo: E_q[log q - log p]
        mc = (q.log_prob(z) - p.log_prob(z)).sum(-1).mean(0)
        torch.testing.assert_close(mc, ours, atol=0.03, rtol=0.01)


def test_iwae_bound_grows_with_k_and_stays_below_log_p():
    """E[L_1] < E[L_5] < E[L_50] <= log p(x) (each expectation over 4,000 draws)."""
    model = tiny_vae(seed=3)
    x = binary_states()[[5, 22, 63]]
    log_px, _ = exact(model, x)
    torch.manual_seed(0)
    with torch.no_grad():
        bounds = {k: model.iwae_bound(x.repeat(4000, 1), k).view(4000, 3).mean(0)
                  for k in (1, 5, 50)}
    assert (bounds[1] < bounds[5]).all() and (bounds[5] < bounds[50]).all()
    assert (bounds[50] <= log_px + 1e-3).all()
    # L_1 is the ELBO (its KL sampled rather than in closed form): same expectation
    torch.testing.assert_close(bounds[1], model.elbo(x, num_samples=100_000), atol=0.02, rtol=0)


def fit_encoder(model, x, steps=300):
    """Maximise the ELBO over the encoder alone (the decoder fixed): q moves towards p(z|x)."""
    optimizer = torch.optim.Adam(model.encoder.parameters(), lr=0.02)
    torch.manual_seed(0)
    for _ in range(steps):
        loss = -model.elbo(x, num_samples=16).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model


def test_importance_sampling_estimate_converges_to_log_p():
    """With an encoder fitted as training fits it, the k-sample estimate reaches log p(x): error
    below 0.005 nats at k = 20,000 (measured 0.0026), and much smaller than at k = 1 (the ELBO)."""
    model = tiny_vae(seed=1)
    x = binary_states()
    fit_encoder(model, x)
    log_px, _ = exact(model, x)
    torch.manual_seed(0)
    errors = [(model.log_prob(x, num_samples=k, chunk=5000) - log_px).abs().max().item()
              for k in (1, 100, 20000)]
    assert errors[2] < 0.005 and errors[2] < errors[1] < errors[0], errors


def test_log_prob_chunks_combine_exactly():
    """Splitting the samples into chunks changes nothing but memory: the same draws give the
    same estimate (checked by seeding each way so both see identical samples)."""
    model = tiny_vae(seed=2)
    x = binary_states()[:5]
    torch.manual_seed(0)
    whole = torch.logsumexp(model.log_weights(x, 12), 0) - math.log(12)
    torch.manual_seed(0)
    parts = [model.log_weights(x, 12)]  # the same 12 samples, then split into 3 chunks of 4
    split = torch.logsumexp(torch.stack([torch.logsumexp(w, 0) for w in parts[0].split(4)]), 0)
    torch.testing.assert_close(whole, split - math.log(12))


def test_shapes_sampling_and_training_loss():
    model = VAE()  # IWAE's Appendix D sizes
    assert model.num_params() == (784 * 200 + 200 + 200 * 200 + 200 + 200 * 100 + 100
                                  + 50 * 200 + 200 + 200 * 200 + 200 + 200 * 784 + 784)
    x = torch.bernoulli(torch.full((3, 1, 28, 28), 0.2))
    mu, logvar = model.encode(x)
    assert mu.shape == logvar.shape == (3, 50)
    assert model.decode(torch.zeros(7, 3, 50)).shape == (7, 3, 784)
    elbo, rec, kl = model.elbo(x, return_terms=True)
    assert elbo.shape == rec.shape == kl.shape == (3,) and (kl >= 0).all()
    torch.testing.assert_close(elbo, rec - kl)
    assert model.iwae_bound(x, 4).shape == (3,) and model.log_prob(x, 10).shape == (3,)
    s = model.sample(5, generator=torch.Generator().manual_seed(0))
    assert s.shape == (5, 784) and ((s == 0) | (s == 1)).all()
    assert model.sample(5, mean=True).shape == (5, 784)
    assert model.sample(0).shape == (0, 784)
    ae = Autoencoder(latent=2)
    assert ae.encode(x).shape == (3, 2) and ae.training_loss(x).shape == (3,)
    assert IWAE().k == 5 and VAE().k == 1


def test_fit_trains_a_vae_and_an_autoencoder_with_the_same_loop():
    """The one training loop minimises -ELBO for the VAE and squared error for the autoencoder."""
    g = torch.Generator().manual_seed(0)
    proto = torch.bernoulli(torch.full((4, 16), 0.5), generator=g)
    x = proto[torch.randint(0, 4, (400,), generator=g)]  # 4 prototypes: easy to compress
    for model in (VAE(16, hidden=(32,), latent=2), IWAE(16, hidden=(32,), latent=2, k=3),
                  Autoencoder(16, hidden=(32,), latent=2)):
        torch.manual_seed(0)
        history = train_run(model, x, num_epochs=30, lr=1e-2, batch_size=50, progress=False,
                            valid_data=x[:100])
        assert history["valid_nll"][-1] < 0.5 * history["valid_nll"][0], type(model).__name__


@pytest.mark.parametrize("bad", [
    lambda: VAE(latent=0), lambda: VAE(k=0), lambda: VAE(hidden=(0,)), lambda: VAE(D=-1),
    lambda: VAE(activation="sigmoid"), lambda: Autoencoder(latent=0),
    lambda: VAE(beta=0), lambda: VAE(beta=-1.0), lambda: VAE(beta="2"), lambda: VAE(k=5, beta=2.0),
    lambda: VAE(4, hidden=(3,), latent=1).iwae_bound(torch.ones(2, 4), 0),
    lambda: VAE(4, hidden=(3,), latent=1).elbo(torch.ones(2, 4), num_samples=0),
    lambda: VAE(4, hidden=(3,), latent=1).log_prob(torch.ones(2, 4), num_samples=0),
    lambda: VAE(4, hidden=(3,), latent=1).elbo(torch.full((2, 4), 0.5)),  # not binary
    lambda: VAE(4, hidden=(3,), latent=1).elbo(torch.ones(2, 5)),  # wrong size
    lambda: VAE(4, hidden=(3,), latent=1).sample(-1),
    lambda: VAE(4, hidden=(3,), latent=1).sample(2.5),
])
def test_bad_inputs_get_clear_errors(bad):
    with pytest.raises(ValueError):
        bad()


def test_numpy_integers_are_counts():
    model = VAE(4, hidden=(3,), latent=1, k=np.int64(2))
    assert model.k == 2 and model.sample(np.int64(3)).shape == (3, 4)


def test_beta_weighs_the_kl_term():
    """training_loss = -(reconstruction - beta KL): with the same noise, beta = 4 adds 3 KLs."""
    x = torch.bernoulli(torch.full((5, 6), 0.5))
    losses = {}
    for beta in (1.0, 4.0):
        model = randomised(VAE(6, hidden=(8,), latent=2, beta=beta), seed=0)
        torch.manual_seed(1)
        losses[beta] = model.training_loss(x)
        torch.manual_seed(1)
        _, rec, kl = model.elbo(x, return_terms=True)
    torch.testing.assert_close(losses[4.0] - losses[1.0], 3 * kl)
    torch.testing.assert_close(losses[1.0], -(rec - kl))


def test_gaussian_decoder_against_torch_and_squared_error():
    """log N(x; mu, s^2 I) equals torch.distributions' value; with a fixed sigma it is
    -SE / (2 s^2) - D/2 log(2 pi s^2), the autoencoder's squared error up to scale and constant."""
    g = torch.Generator().manual_seed(0)
    x = torch.rand(5, 7, generator=g, dtype=torch.float64)
    mu = torch.rand(5, 7, generator=g, dtype=torch.float64)
    logvar = torch.randn(5, 7, generator=g, dtype=torch.float64)
    ours = gaussian_decoder_log_prob(x, mu, logvar)  # a variance per pixel
    normal = torch.distributions.Normal(mu, (0.5 * logvar).exp())
    assert ours.shape == (5,)
    torch.testing.assert_close(ours, normal.log_prob(x).sum(-1))
    squared_error = ((x - mu) ** 2).sum(-1)
    for sigma in (1.0, 0.1, 3.0):
        fixed = gaussian_decoder_log_prob(x, mu, math.log(sigma ** 2))
        torch.testing.assert_close(
            fixed, -squared_error / (2 * sigma ** 2) - 7 / 2 * math.log(2 * math.pi * sigma ** 2))
    # leading dimensions broadcast through, and a float32 mean gives a float32 answer
    out = gaussian_decoder_log_prob(torch.zeros(3, 2, 4), torch.zeros(3, 2, 4))
    assert out.shape == (3, 2) and out.dtype == torch.float32


def test_gaussian_density_on_binary_data_is_unbounded():
    """A density is not a probability: on binary x with mu = x it is -D/2 log(2 pi s^2), which
    grows without bound as sigma -> 0, while a Bernoulli log-likelihood is never above 0."""
    x = torch.bernoulli(torch.full((4, 10), 0.5, dtype=torch.float64))
    values = [gaussian_decoder_log_prob(x, x, 2 * math.log(s)) for s in (1.0, 0.1, 1e-3)]
    assert values[0].max() < 0 < values[1].min() and values[1].max() < values[2].min()
    torch.testing.assert_close(values[2], torch.full((4,), -5 * math.log(2 * math.pi * 1e-6),
                                                     dtype=torch.float64))
    logits = torch.randn(4, 10, dtype=torch.float64) * 5
    assert (bernoulli_log_prob(logits, x) < 0).all()


@pytest.mark.parametrize("bad, error", [
    (lambda: gaussian_decoder_log_prob(np.zeros((2, 3)), torch.zeros(2, 3)), TypeError),
    (lambda: gaussian_decoder_log_prob(torch.zeros(2, 3), torch.zeros(2, 4)), ValueError),
    (lambda: gaussian_decoder_log_prob(torch.zeros(2, 3), torch.zeros(2, 3), torch.zeros(5)),
     ValueError),
    (lambda: gaussian_decoder_log_prob(torch.zeros(2, 3), torch.zeros(2, 3), float("-inf")),
     ValueError),
    (lambda: gaussian_decoder_log_prob(torch.zeros(2, 3), torch.zeros(2, 3, dtype=torch.long)),
     ValueError),
])
def test_gaussian_decoder_bad_inputs(bad, error):
    with pytest.raises(error):
        bad()


@pytest.mark.parametrize("chunk, error", [(-1, ValueError), (0, ValueError), (2.5, TypeError),
                                          ("10", TypeError)])
def test_log_prob_names_a_bad_chunk(chunk, error):
    from gm_helpers.models.vae import VAE
    with pytest.raises(error, match="chunk"):
        VAE(hidden=[8], latent=2).log_prob(torch.zeros(2, 784), num_samples=10, chunk=chunk)
