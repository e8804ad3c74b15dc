r"""A VAE whose posterior is a normalizing flow: inverse autoregressive flow steps on z.

Paper card: D. P. Kingma, T. Salimans, R. Jozefowicz, X. Chen, I. Sutskever, M. Welling,
    "Improved Variational Inference with Inverse Autoregressive Flow", NeurIPS 2016.
    arXiv:1606.04934.
    Idea: the diagonal Gaussian q(z|x) of lecture 05 cannot express correlations between the
    latent dimensions. Push its sample through K invertible steps whose Jacobians are triangular
    and whose inverse is never needed: each step is an autoregressive transformation of z,
    computed in one pass by a MADE that also sees the encoder's features h(x).

    z_0 = mu + sigma * eps,                      log q(z_0|x) = log N(eps; 0, I) - sum log sigma
    [m_k, s_k] = MADE_k(z_{k-1}, h),  g_k = sigmoid(s_k)
    z_k = g_k * z_{k-1} + (1 - g_k) * m_k,       log q(z_k|x) = log q(z_{k-1}|x) - sum_d log g_k,d
    ELBO = E_q[log p(x|z_K) + log p(z_K) - log q(z_K|x)]

With K = 0 this is lecture 05's VAE. ``freeze_decoder`` keeps the decoder fixed (copied from a
trained VAE by ``from_vae``), so that the ELBO gain measured is the posterior's alone.
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from gm_helpers.checks import check_size, check_sizes
from gm_helpers.models.flows import standard_normal_log_prob
from gm_helpers.models.layers import bernoulli_log_prob
from gm_helpers.models.made import MADE
from gm_helpers.models.vae import ACTIVATIONS, VAE


class IAFStep(nn.Module):
    """One IAF step on z (L dimensions) given context h: a MADE with h added to its first hidden
    layer; the gate starts near 1 (bias +2), so the step starts close to the identity."""

    def __init__(self, L: int, context: int, hidden=(200,), order=None, seed: int = 0):
        super().__init__()
        hidden = check_sizes("hidden", hidden)
        order, masks = MADE(L, hidden=hidden, order=order, seed=seed).connectivity(0)
        self.register_buffer("order", order)
        for i, mask in enumerate(masks[:-1]):
            self.register_buffer(f"mask{i}", mask, persistent=False)
        self.register_buffer("out_mask", masks[-1].repeat(2, 1), persistent=False)
        sizes = [L, *hidden]
        self.hidden_layers = nn.ModuleList(nn.Linear(i, o) for i, o in zip(sizes[:-1], sizes[1:]))
        self.context = nn.Linear(context, hidden[0])
        self.out = nn.Linear(hidden[-1], 2 * L)
        nn.init.zeros_(self.out.weight)
        with torch.no_grad():
            self.out.bias.zero_()
            self.out.bias[L:] = 2.0      # gate sigmoid(2) = 0.88: mostly the identity at first

    def forward(self, z, h):
        """(z_new, sum_d log g_d): z (..., L), h (..., context)."""
        a = z
        for i, layer in enumerate(self.hidden_layers):
            a = F.linear(a, layer.weight * getattr(self, f"mask{i}"), layer.bias)
            if i == 0:
                a = a + self.context(h)
            a = F.elu(a)
        m, s = F.linear(a, self.out.weight * self.out_mask, self.out.bias).chunk(2, dim=-1)
        gate = torch.sigmoid(s)
        return gate * z + (1 - gate) * m, F.logsigmoid(s).sum(-1)


class IAFVAE(VAE):
    """Lecture 05's VAE with ``flow_steps`` IAF steps after its Gaussian posterior (module doc)."""

    def __init__(self, D: int = 784, hidden=(200, 200), latent: int = 50, activation="tanh",
                 k: int = 1, flow_steps: int = 2, flow_hidden=(200,), freeze_decoder: bool = False):
        super().__init__(D, hidden, latent, activation, k)
        self.flow_steps = check_size("flow_steps", flow_steps, minimum=0)
        context = check_sizes("hidden", hidden)[-1]
        self.steps = nn.ModuleList(
            IAFStep(latent, context, flow_hidden, seed=s,
                    order=torch.arange(latent, device="cpu") if s % 2 == 0
                    else torch.arange(latent - 1, -1, -1, device="cpu"))
            for s in range(self.flow_steps))
        self.freeze_decoder = bool(freeze_decoder)
        self.decoder.requires_grad_(not self.freeze_decoder)

    @classmethod
    def from_vae(cls, vae: VAE, flow_steps: int = 2, flow_hidden=(200,), freeze_decoder: bool = True):
        """A flow-posterior VAE that starts from ``vae``'s encoder and decoder (same sizes)."""
        hidden = [layer.out_features for layer in vae.encoder if isinstance(layer, nn.Linear)][:-1]
        activation = next((name for name, kind in ACTIVATIONS.items()
                           if any(isinstance(layer, kind) for layer in vae.encoder)), "tanh")
        model = cls(vae.D, hidden, vae.latent, activation, vae.k, flow_steps, flow_hidden,
                    freeze_decoder)
        model.encoder.load_state_dict(vae.encoder.state_dict())
        model.decoder.load_state_dict(vae.decoder.state_dict())
        return model

    def posterior(self, x, k: int = 1, generator=None):
        """k samples z_K of q(z|x) and their log-densities: (k, B, L), (k, B)."""
        x = self._x(x)
        h = self.encoder[:-1](x)                                  # (B, H) the encoder's features
        mu, logvar = self.encoder[-1](h).chunk(2, dim=-1)
        eps = torch.randn((k, *mu.shape), generator=generator, dtype=mu.dtype, device=mu.device)
        z = mu + (0.5 * logvar).exp() * eps
        log_q = standard_normal_log_prob(eps.flatten(0, 1)).view(k, len(x)) - 0.5 * logvar.sum(-1)
        h = h.expand(k, -1, -1)
        for step in self.steps:
            z, log_gate = step(z, h)
            log_q = log_q - log_gate
        return z, log_q

    def log_weights(self, x, k: int) -> torch.Tensor:
        """log p(x, z_i) - log q(z_i|x) for z_1..z_k ~ q(z|x): (k, B)."""
        x = self._x(x)
        z, log_q = self.posterior(x, k)
        log_p_z = -0.5 * (z ** 2 + math.log(2 * math.pi)).sum(-1)
        return log_p_z + bernoulli_log_prob(self.decode(z), x) - log_q

    def elbo(self, x, num_samples: int = 1, return_terms: bool = False):
        """The ELBO by Monte Carlo (no closed-form KL with a flow posterior), (B,) nats."""
        if return_terms:
            raise ValueError("a flow posterior has no closed-form KL: the ELBO comes as one number")
        return self.log_weights(x, check_size("num_samples", num_samples)).mean(0)

    def training_loss(self, x) -> torch.Tensor:
        return -self.elbo(x) if self.k == 1 else -self.iwae_bound(x, self.k)
