# %%
import inspect
import json
import math

import matplotlib.pyplot as plt
import numpy as np
import torch

from gm_helpers.analysis.mixtures import (
    mixture_entropy,
    mixture_log_prob,
    mode_coverage,
    mode_shares,
    sample_mixture,
)
from gm_helpers.analysis.scores import (
    NoiseConditionalScore,
    annealed_langevin,
    geometric_sigmas,
    langevin,
    mixture_score,
)
from gm_helpers.analysis.timing import one_thread
from gm_helpers.data import load_binarized_mnist
from gm_helpers.exercises.diffusion import check_ancestral_step, check_eps_loss, check_forward_marginal
from gm_helpers.models.diffusion import DDPM, cosine_betas, gaussian_kl, linear_betas
from gm_helpers.models.masked_diffusion import MaskedDiffusion
from gm_helpers.models.unet import UNet
from gm_helpers.training.checkpoint import (
    CHECKPOINT_DIR,
    load_shipped,
    load_shipped_samples,
    shipped_manifest,
)
from gm_helpers.training.diffusion2d import SCALE, fit_score
from gm_helpers.training.flows2d import mixture_splits
from gm_helpers.training.loop import seed_everything
from gm_helpers.viz import plot_checkpoint_curves, show_images
from gm_helpers.widgets.diffusion import draw_reverse, draw_reverse_strip, reverse_explorer, reverse_result

seed_everything(0)
torch.set_default_dtype(torch.float32)
manifest = shipped_manifest()
x_test = load_binarized_mnist("test")                    # (10000, 1, 28, 28), values 0 and 1
print(f"binarized MNIST test set: {tuple(x_test.shape)}")

