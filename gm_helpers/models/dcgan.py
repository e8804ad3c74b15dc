r"""A DCGAN for 28x28 binary digits: the generator, the discriminator and instance noise.

Paper card: Unsupervised Representation Learning with Deep Convolutional Generative
Adversarial Networks
    A. Radford, L. Metz, S. Chintala. ICLR 2016. arXiv:1511.06434.
    Idea: the GAN game of Goodfellow et al. with convolutional nets that train stably:
    strided (transposed) convolutions instead of pooling, batch normalisation in G, ReLU in G
    and LeakyReLU in D, Adam with lr 2e-4 and beta1 = 0.5.

    \min_G \max_D E_{x \sim p_data}[\log D(x)] + E_{z \sim N(0, I)}[\log(1 - D(G(z)))]
    (G trained with the non-saturating loss -E[log D(G(z))] by default)

G's last layer is a sigmoid, so a sample is a grey image in [0, 1]; the data are 0s and 1s, so
D pushes G towards nearly binary pixels. ``binarize`` rounds a sample to the data's {0, 1}.

Trained by Algorithm 1 epoch by epoch (``gm_helpers.training.gan.train_dcgan``), from the
command line::

    python -m gm_helpers.train dcgan --epochs 12 --out gm_helpers/checkpoints/dcgan.pt
    python -m gm_helpers.train dcgan --resume gm_helpers/checkpoints/dcgan.run.pt
"""
from __future__ import annotations

import torch
import torch.nn as nn

from gm_helpers.checks import check_choice, check_num_samples, check_size
from gm_helpers.models.layers import sampling_device


class Generator(nn.Module):
    """z (B, latent) -> x (B, 1, 28, 28) in [0, 1]: project to 7x7, then two stride-2
    transposed convolutions (7 -> 14 -> 28).

    ``output="sigmoid"``: x is the sigmoid image itself. ``output="bernoulli"``: the sigmoid
    gives pixel probabilities p and, while training, x ~ Bernoulli(p) with the straight-through
    gradient of p (Bengio et al. 2013), so D compares binary samples with binary digits,
    speckle and all, as the VAE's and PixelCNN's samples are drawn. In eval mode forward
    returns p; ``sample_binary`` draws."""

    def __init__(self, latent: int = 64, width: int = 64, output: str = "sigmoid"):
        super().__init__()
        check_choice("output", output, ("sigmoid", "bernoulli"))
        latent, width = check_size("latent", latent), check_size("width", width)
        self.latent, self.width, self.output = latent, width, output
        self.project = nn.Sequential(nn.Linear(latent, 2 * width * 7 * 7, bias=False),
                                     nn.BatchNorm1d(2 * width * 7 * 7), nn.ReLU())
        self.up = nn.Sequential(
            nn.ConvTranspose2d(2 * width, width, 4, 2, 1, bias=False),  # (B, w, 14, 14)
            nn.BatchNorm2d(width), nn.ReLU(),
            nn.ConvTranspose2d(width, 1, 4, 2, 1))  # (B, 1, 28, 28)

    def forward(self, z):
        h = self.project(z).view(len(z), 2 * self.width, 7, 7)  # (B, 2w, 7, 7)
        p = torch.sigmoid(self.up(h))  # (B, 1, 28, 28)
        if self.output == "bernoulli" and self.training:
            return p + (torch.bernoulli(p) - p).detach()  # value: a 0/1 draw; gradient: p's
        return p

    @torch.no_grad()
    def sample(self, num: int, seed: int | None = None, device=None) -> torch.Tensor:
        """``num`` images (num, 1, 28, 28) in [0, 1], from N(0, I) noise (seeded if asked)."""
        num = check_num_samples(num, "num")
        weight = next(self.parameters())
        device = sampling_device(weight, device)
        g = torch.Generator().manual_seed(check_size("seed", seed, 0)) if seed is not None else None
        z = torch.randn(num, self.latent, generator=g).to(device=device, dtype=weight.dtype)
        if num == 0:
            return torch.zeros(0, 1, 28, 28, device=device, dtype=weight.dtype)
        was_training = self.training
        self.eval()
        x = torch.cat([self(chunk) for chunk in z.split(250)])  # 250 at a time: ~80 MB of activations
        self.train(was_training)
        return x


    @torch.no_grad()
    def sample_binary(self, num: int, seed: int = 0) -> torch.Tensor:
        """``num`` binary images: Bernoulli draws from p (``output="bernoulli"``), else the
        sigmoid image rounded at 1/2 (``binarize``)."""
        p = self.sample(num, seed)
        if self.output == "bernoulli":
            return torch.bernoulli(p, generator=torch.Generator().manual_seed(seed + 1))
        return binarize(p)


class Discriminator(nn.Module):
    """x (B, 1, 28, 28) -> logit (B, 1): two stride-2 convolutions (28 -> 14 -> 7), LeakyReLU.

    ``pack = m > 1`` is PacGAN's discriminator (Lin et al. 2018; lecture 06, section 6): it
    judges m images at once, stacked as m channels, so x (B, 1, 28, 28) -> (B / m, 1), one logit
    per pack of m consecutive images. A generator that draws too few kinds of digit makes packs
    with too little variety, which a packed D can see and a D of single images cannot."""

    def __init__(self, width: int = 64, pack: int = 1):
        super().__init__()
        width, self.pack = check_size("width", width), check_size("pack", pack)
        self.net = nn.Sequential(
            nn.Conv2d(pack, width, 4, 2, 1), nn.LeakyReLU(0.2),  # (B/m, w, 14, 14)
            nn.Conv2d(width, 2 * width, 4, 2, 1), nn.LeakyReLU(0.2),  # (B/m, 2w, 7, 7)
            nn.Flatten(), nn.Linear(2 * width * 7 * 7, 1))  # (B/m, 1)

    def forward(self, x):
        if len(x) % self.pack:
            raise ValueError(f"a batch of {len(x)} images does not split into packs of {self.pack}")
        return self.net(x.reshape(len(x) // self.pack, self.pack, *x.shape[-2:]))  # (B/m, m, 28, 28)


class InstanceNoise(nn.Module):
    """D's input plus Gaussian noise of std ``sigma`` while training, on data and samples alike
    (Sonderby et al. 2016, arXiv:1610.04490; Arjovsky & Bottou 2017). Binary digits and G's
    grey images live on different sets; the noise makes the two distributions overlap, so D
    cannot win by the support alone and the JSD is not stuck at log 2 (lecture 06, section 4)."""

    def __init__(self, D, sigma: float = 0.0):
        super().__init__()
        self.D, self.sigma = D, sigma

    def forward(self, x):
        if self.training and self.sigma > 0:
            x = x + self.sigma * torch.randn_like(x)
        return self.D(x)


def binarize(x: torch.Tensor) -> torch.Tensor:
    """Round G's grey samples to the data's 0s and 1s (threshold 1/2)."""
    return (x > 0.5).float()


def interpolate(G, z0, z1, steps: int = 9) -> torch.Tensor:
    """Images along the straight line from z0 to z1 in latent space: (steps, 1, 28, 28)."""
    t = torch.linspace(0, 1, steps).view(-1, 1)
    z = (1 - t) * z0.view(1, -1) + t * z1.view(1, -1)  # (steps, latent)
    G.eval()
    with torch.no_grad():
        return G(z.to(next(G.parameters()).device))
