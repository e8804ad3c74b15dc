r"""Scoring samples of digits without Inception weights: the eyes of a digit classifier.

A GAN has no likelihood to report, so its samples are scored by a classifier's eyes:

* **label histogram**: the classifier's label for each of 10,000 samples. A model that covers
  every mode of p_data puts about 10 % in each class; mode collapse shows as missing classes.
* **Frechet distance** (FID, Heusel et al. 2017, arXiv:1706.08500) between Gaussians fitted to
  the classifier's 10 logits on samples and on real digits (TF-GAN's ``mnist_frechet_distance``
  uses the logits the same way):

      FD = ||mu_s - mu_r||^2 + tr(C_s + C_r - 2 (C_s C_r)^{1/2})

  Lower is better; 0 only for identical feature statistics. A number is comparable only under
  the same classifier, so every score comes with a real-vs-real baseline: 10,000 training
  digits against the 10,000 validation digits.

The classifier (``gm_helpers.models.classifier``, trained by ``gm_helpers.training.classifier``)
never saw the *validation* digits, against which the models are scored.
"""
from __future__ import annotations

import torch

from gm_helpers.checks import check_no_nan


@torch.no_grad()
def logits(model, x, batch_size: int = 250) -> torch.Tensor:
    """The classifier's 10 logits for images (N, 1, 28, 28): (N, 10), fp32, eval mode; 250 images
    a pass (1,000 took 380 MB of activations, most of a lecture's memory headroom)."""
    if x.dim() != 4 or x.shape[1:] != (1, 28, 28):
        raise ValueError(f"images must be (N, 1, 28, 28), got {tuple(x.shape)}")
    model.eval()
    return torch.cat([model(chunk.float()) for chunk in x.split(batch_size)])


def accuracy(model, x, y) -> float:
    return (logits(model, x).argmax(1) == y).float().mean().item()


def class_fractions(model, x) -> list:
    """Fraction of images the classifier puts in each class 0..9 (the label histogram)."""
    counts = torch.bincount(logits(model, x).argmax(1), minlength=10)
    return (counts / len(x)).tolist()


def frechet_to(model, x, reference) -> float:
    """Frechet distance between the classifier's logits on ``x`` and on ``reference``."""
    return frechet_distance(*feature_statistics(logits(model, x)),
                            *feature_statistics(logits(model, reference)))


def score_samples(model, samples, reference) -> dict:
    """Both scores of ``samples`` (N, 1, 28, 28): Frechet distance to ``reference``, label
    histogram."""
    return {"frechet": frechet_to(model, samples, reference),
            "class_fractions": [round(f, 4) for f in class_fractions(model, samples)]}


# ----------------------------------------------------------------------------- sample quality
def frechet_distance(mu1, cov1, mu2, cov2) -> float:
    """||mu1 - mu2||^2 + tr(C1 + C2 - 2 (C1 C2)^{1/2}) between two Gaussians.

    tr((C1 C2)^{1/2}) = sum of the square roots of the eigenvalues of C1^{1/2} C2 C1^{1/2}
    (symmetric, so a stable eigh), in float64."""
    mu1, mu2, cov1, cov2 = (check_no_nan(name, torch.as_tensor(v).double()) for name, v in
                            (("mu1", mu1), ("mu2", mu2), ("cov1", cov1), ("cov2", cov2)))
    vals, vecs = torch.linalg.eigh(cov1)
    root1 = vecs @ torch.diag(vals.clamp_min(0).sqrt()) @ vecs.T  # C1^{1/2}
    cross = torch.linalg.eigvalsh(root1 @ cov2 @ root1).clamp_min(0).sqrt().sum()
    return ((mu1 - mu2) ** 2).sum().item() + (cov1.trace() + cov2.trace() - 2 * cross).item()


def feature_statistics(features) -> tuple:
    """Mean (F,) and covariance (F, F) of features (N, F), in float64."""
    features = check_no_nan("features", torch.as_tensor(features).double())
    return features.mean(0), torch.cov(features.T)
