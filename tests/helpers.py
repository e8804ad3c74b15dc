"""Helpers shared by the test modules: the repository's root, random weights, small random data."""
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parent.parent


def randomised(model, seed=0, scale=1.0, dtype=None):
    """Random weights everywhere, model in eval mode (and in ``dtype`` if given). Autoregressive
    tests need this: at a zero (or tiny) init a leak could hide behind zero gradients."""
    torch.manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, scale)
    return (model if dtype is None else model.to(dtype)).eval()


def random_binary(num, n, seed=0, p=None):
    """num binary vectors of length n, correlated so that every model has something to learn."""
    rng = np.random.default_rng(seed)
    x = np.zeros((num, n), dtype=np.uint8)
    x[:, 0] = rng.random(num) < 0.4
    for i in range(1, n):  # copy the previous bit with probability 0.8
        copy = rng.random(num) < 0.8
        x[:, i] = np.where(copy, x[:, i - 1], rng.random(num) < (p or 0.3))
    return x


def markov_data(num, D=16, p_first=0.5, p_copy=0.9, seed=0):
    """Binary chains: x_1 ~ Bern(p_first); each next bit copies the last with prob p_copy."""
    g = torch.Generator().manual_seed(seed)
    x = torch.zeros(num, D)
    x[:, 0] = torch.rand(num, generator=g) < p_first
    for d in range(1, D):
        copy = torch.rand(num, generator=g) < p_copy
        x[:, d] = torch.where(copy, x[:, d - 1], 1 - x[:, d - 1])
    return x  # (num, D)


def random_images(n=50, size=8, seed=0):
    """n binary images (n, 1, size, size), each pixel 1 with probability 0.3."""
    g = torch.Generator().manual_seed(seed)
    return torch.bernoulli(torch.full((n, 1, size, size), 0.3), generator=g)


# 96 binary 28x28 images, each pixel 1 with probability 0.15: input for the DCGAN and the classifier
IMAGES = torch.bernoulli(torch.full((96, 1, 28, 28), 0.15), generator=torch.Generator().manual_seed(0))


# ----------------------------------------------------------------------------- the browser suites
BROWSER_INSTALL = ("install them with: apt-get install -y chromium (as root) and pip install playwright, "
                   "or run .ci/run, which does both")


def chromium_path() -> str | None:
    """The system's Chromium (Debian's ``chromium``; ``CHROMIUM`` names another), never
    Playwright's own download."""
    import os
    import shutil
    for candidate in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        if candidate and shutil.which(candidate):
            return shutil.which(candidate)
    return None


def browser_missing() -> list[str]:
    """What this machine lacks for the browser suites (empty: they can run)."""
    import importlib.util
    return ((["no Chromium on this machine"] if chromium_path() is None else [])
            + (["the playwright package is not installed"]
               if importlib.util.find_spec("playwright") is None else []))
