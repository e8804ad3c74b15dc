r"""GAN networks and losses: the MLP generator and discriminator of the 2-d experiments,
PacGAN's packed discriminator, and the discriminator's and both generator losses.

Paper card: Generative Adversarial Nets
    I. Goodfellow, J. Pouget-Abadie, M. Mirza, B. Xu, D. Warde-Farley, S. Ozair, A. Courville,
    Y. Bengio. NeurIPS 2014. arXiv:1406.2661.

    \min_G \max_D V(D, G) = E_{x \sim p_data}[\log D(x)] + E_{z \sim p(z)}[\log(1 - D(G(z)))]

    Generator losses (D(x) = sigmoid(l(x)), l the discriminator's logit):
      "minimax":        descend  E[log(1 - D(G(z)))] = -E[softplus(l)]   (saturates when D wins)
      "non-saturating": descend -E[log D(G(z))]      =  E[softplus(-l)]  (the paper's fix)

Paper card: PacGAN: The power of two samples in generative adversarial networks
    Z. Lin, A. Khetan, G. Fanti, S. Oh. NeurIPS 2018. arXiv:1712.04086.
    Idea: the discriminator judges m samples at once, concatenated (``PackedDiscriminator``).
"""
from __future__ import annotations

import numbers

import torch
import torch.nn as nn
import torch.nn.functional as F

GENERATOR_LOSSES = ("minimax", "non-saturating")


def _count(name, value, low=1) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


# ----------------------------------------------------------------------------- networks
def mlp_generator(latent: int = 2, hidden: int = 128, depth: int = 3, out: int = 2):
    """z (B, latent) -> x (B, out): an MLP with ReLU."""
    layers, size = [], latent
    for _ in range(depth):
        layers += [nn.Linear(size, hidden), nn.ReLU()]
        size = hidden
    return nn.Sequential(*layers, nn.Linear(size, out))


def mlp_discriminator(inp: int = 2, hidden: int = 128, depth: int = 3):
    """x (B, inp) -> logit (B, 1): an MLP with LeakyReLU; D(x) = sigmoid(logit)."""
    layers, size = [], inp
    for _ in range(depth):
        layers += [nn.Linear(size, hidden), nn.LeakyReLU(0.2)]
        size = hidden
    return nn.Sequential(*layers, nn.Linear(size, 1))


# ----------------------------------------------------------------------------- the game
def discriminator_loss(real_logits, fake_logits) -> torch.Tensor:
    """-(E[log D(x)] + E[log(1 - D(G(z)))]): D ascends V by descending this."""
    # log D = -softplus(-l),   log(1 - D) = -softplus(l)
    return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()


def generator_loss(fake_logits, kind: str = "non-saturating") -> torch.Tensor:
    """"minimax": E[log(1 - D(G(z)))] (G descends V itself); "non-saturating": -E[log D(G(z))]."""
    if kind == "minimax":
        return -F.softplus(fake_logits).mean()  # = E[log(1 - D(G(z)))]
    if kind == "non-saturating":
        return F.softplus(-fake_logits).mean()  # = -E[log D(G(z))]
    raise ValueError(f"generator loss must be one of {GENERATOR_LOSSES}, got {kind!r}")


REMEDIES = ("none", "pacgan", "r1")


class PackedDiscriminator(nn.Module):
    """PacGAN's discriminator: x (B * pack, d) -> logits (B, 1), one per pack of ``pack``
    consecutive points. ``pack = 1`` is the plain discriminator."""

    def __init__(self, pack: int = 4, inp: int = 2, hidden: int = 128, depth: int = 3):
        super().__init__()
        self.pack, self.inp = pack, inp
        self.net = mlp_discriminator(inp * pack, hidden, depth)

    def forward(self, x):
        if len(x) % self.pack:
            raise ValueError(f"a batch of {len(x)} points does not split into packs of "
                             f"{self.pack}")
        return self.net(x.reshape(len(x) // self.pack, self.pack * self.inp))  # (B, pack*d)

    def point_logit(self, x):
        """The logit of a pack of ``pack`` copies of each point x (N, d): (N, 1). What a lone
        point looks like to a packed D, for contour plots and gradient fields."""
        return self.net(x.repeat(1, self.pack))  # (N, pack*d)


def networks(remedy: str = "none", latent: int = 2, hidden: int = 128, depth: int = 3,
             pack: int = 4):
    """(G, D) for 2-d data; ``remedy="pacgan"`` packs ``pack`` points per D input."""
    if remedy not in REMEDIES:
        raise ValueError(f"remedy must be one of {REMEDIES}, got {remedy!r}")
    G = mlp_generator(latent, hidden, depth)
    D = PackedDiscriminator(pack if remedy == "pacgan" else 1, 2, hidden, depth)
    return G, D
