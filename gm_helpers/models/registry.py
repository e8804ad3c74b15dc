"""The registry of trainable models: a checkpoint names its model, ``build_model`` rebuilds it.

A lecture that adds a trainable model adds it here; its config must be plain values (numbers,
strings, lists), so that a checkpoint stores it as data, never as pickled code.
"""
from __future__ import annotations

from gm_helpers.models.classifier import DigitClassifier
from gm_helpers.models.dcgan import Generator
from gm_helpers.models.dequantization import DigitFlow
from gm_helpers.models.diffusion import DigitDDPM, ddpm_2d
from gm_helpers.models.fvsbn import FVSBN
from gm_helpers.models.iaf_vae import IAFVAE
from gm_helpers.models.made import MADE
from gm_helpers.models.masked_diffusion import MaskedDiffusion
from gm_helpers.models.nade import NADE
from gm_helpers.models.pixelcnn import GatedPixelCNN, MixturePixelCNN, PixelCNN
from gm_helpers.models.pixelrnn import DiagonalBiLSTM, RowLSTM
from gm_helpers.models.spline_flows import spline_flow
from gm_helpers.models.vae import IWAE, VAE, Autoencoder

# name -> class
MODELS = {
    "fvsbn": FVSBN,
    "nade": NADE,
    "made": MADE,
    "pixelcnn": PixelCNN,
    "gated_pixelcnn": GatedPixelCNN,
    "mixture_pixelcnn": MixturePixelCNN,  # PixelCNN++'s discretized logistic mixture
    "row_lstm": RowLSTM,
    "diagonal_bilstm": DiagonalBiLSTM,
    "autoencoder": Autoencoder,
    "vae": VAE,
    "iwae": IWAE,
    "iaf_vae": IAFVAE,  # an IAF posterior (lecture 07): --init-from vae.pt --set freeze_decoder=true
    "dcgan": Generator,  # trained by its own loop (Algorithm 1), not fit
    "digit_classifier": DigitClassifier,
    "digit_flow": DigitFlow,  # a normalizing flow over dequantized digits (lecture 07)
    "spline_flow": spline_flow,  # 2-d flows on lecture 06's mixtures, trained by their own loop
    "ddpm": DigitDDPM,  # denoising diffusion on binarized digits, a small U-Net (lecture 08)
    "ddpm_2d": ddpm_2d,  # DDPM on lecture 06's 2-d mixtures, trained by its own loop
    "masked_diffusion": MaskedDiffusion,  # absorbing-state diffusion: any-order AR (lecture 08)
}


def build_model(name: str, config: dict):
    """Instantiate the registered model ``name`` with keyword arguments ``config``."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; registered: {sorted(MODELS)}")
    return MODELS[name](**config)
