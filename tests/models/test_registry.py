"""Every model at once: build_model, each model at its edge configurations, bad configurations refused.

Every model is built at its smallest and edge configurations and checked the way the package's
own tests check the shipped ones: the autoregressive property by gradients (no output depends on
its own variable or a later one), exact normalisation by enumerating every state, and its
sampler (shapes, 0 samples, float64 weights). Configurations that would break a model are
refused by the shared validation of ``gm_helpers.checks``, with a message naming the argument.
"""
import itertools
import math

import numpy as np
import pytest
import torch

from gm_helpers.checks import MAX_SAMPLES, InvalidArgument
from gm_helpers.models.classifier import DigitClassifier
from gm_helpers.models.dcgan import Discriminator, Generator
from gm_helpers.models.fvsbn import FVSBN
from gm_helpers.models.layers import causal_mask
from gm_helpers.models.made import MADE
from gm_helpers.models.nade import NADE
from gm_helpers.models.pixelcnn import GatedPixelCNN, MixturePixelCNN, PixelCNN
from gm_helpers.models.pixelrnn import DiagonalBiLSTM, RowLSTM
from gm_helpers.models.registry import build_model
from gm_helpers.models.rnade import RNADE
from gm_helpers.models.vae import IWAE, VAE, Autoencoder

torch.set_default_dtype(torch.float32)


# ----------------------------------------------------------------------------- the registry
def test_build_model():
    assert isinstance(build_model("fvsbn", {"D": 9}), FVSBN)
    with pytest.raises(ValueError, match="unknown model 'pixelcnn9'.*fvsbn"):
        build_model("pixelcnn9", {})


# ----------------------------------------------------------------------------- every model at its edges
FLAT = [  # (class, config): models over D binary variables, logits(x) -> (B, D)
    (FVSBN, {"D": 1}), (FVSBN, {"D": 2, "order": [1, 0]}), (FVSBN, {"D": 5, "order": "random:3"}),
    (NADE, {"D": 1, "H": 1}), (NADE, {"D": 4, "H": 1}), (NADE, {"D": 5, "H": 3, "order": "random:1"}),
    (MADE, {"D": 1, "hidden": []}), (MADE, {"D": 4, "hidden": []}), (MADE, {"D": 2, "hidden": [1]}),
    (MADE, {"D": 5, "hidden": [1, 1]}),
    (MADE, {"D": 5, "hidden": [3, 2], "num_masks": 3, "order_agnostic": True, "seed": 4}),
]
IMAGE = [  # (class, config): image models, logits(x) on (B, C, N, N)
    (PixelCNN, {"channels": 1, "hidden": 1, "num_layers": 0, "image_size": 1}),
    (PixelCNN, {"channels": 1, "hidden": 1, "num_layers": 1, "image_size": 3}),
    (PixelCNN, {"channels": 3, "hidden": 1, "num_layers": 0, "image_size": 2}),
    (PixelCNN, {"channels": 3, "hidden": 1, "num_layers": 1, "image_size": 2}),
    (PixelCNN, {"channels": 1, "hidden": 2, "num_layers": 1, "levels": 3, "image_size": 2}),
    (MixturePixelCNN, {"hidden": 1, "num_layers": 0, "num_mixtures": 1, "levels": 3, "image_size": 2}),
    (MixturePixelCNN, {"channels": 3, "hidden": 1, "num_layers": 1, "num_mixtures": 1, "levels": 3,
                       "image_size": 1}),
    (GatedPixelCNN, {"hidden": 1, "num_layers": 1, "kernel_size": 1, "image_size": 1}),
    (GatedPixelCNN, {"hidden": 1, "num_layers": 1, "kernel_size": 1, "image_size": 3}),
    (GatedPixelCNN, {"hidden": 1, "num_layers": 1, "kernel_size": 3, "image_size": 3}),
    (GatedPixelCNN, {"hidden": 2, "num_layers": 2, "kernel_size": 3, "image_size": 3}),
    (RowLSTM, {"hidden": 1, "num_layers": 0, "image_size": 1}),
    (RowLSTM, {"hidden": 1, "num_layers": 1, "image_size": 3}),
    (DiagonalBiLSTM, {"hidden": 1, "num_layers": 0, "image_size": 2}),
    (DiagonalBiLSTM, {"hidden": 1, "num_layers": 2, "image_size": 3}),
]


def _build(cls, config, seed=0):
    torch.manual_seed(seed)
    model = cls(**config).double()
    with torch.no_grad():   # positive weights on positive inputs: no ReLU is dead, so no real
        for p in model.parameters():   # dependency can hide behind a zero gradient
            p.abs_().add_(0.05)
    return model.eval()


def _position(model):
    """rank[v]: when variable v (flat index) is generated."""
    if hasattr(model, "order"):
        rank = torch.empty_like(model.order)
        rank[model.order] = torch.arange(len(model.order))
        return rank
    C = getattr(model, "channels", 1)
    N = model.image_size
    # raster order over pixels, R then G then B within a pixel; flat index = (ch, r, c)
    rank = torch.empty(C * N * N, dtype=torch.long)
    for ch, r, c in itertools.product(range(C), range(N), range(N)):
        rank[ch * N * N + r * N + c] = (r * N + c) * C + ch
    return rank


def _dependencies(model, D, logits_fn, shape, trials=4):
    """dep[i, j]: output variable i's logits change with input j (by autograd, several x)."""
    dep = torch.zeros(D, D, dtype=torch.bool)
    for t in range(trials):
        x = torch.rand((1, *shape), dtype=torch.float64, generator=torch.Generator().manual_seed(t))
        x.requires_grad_(True)
        out = logits_fn(x)
        out = out.reshape(1, -1, D) if out.dim() > 2 and out.numel() != D else out.reshape(1, 1, D)
        for i in range(D):
            grad, = torch.autograd.grad(out[..., i].abs().sum(), x, retain_graph=True)
            dep[i] |= grad.reshape(D) != 0
    return dep


def _check_autoregressive(model, D, logits_fn, shape):
    rank = _position(model)
    dep = _dependencies(model, D, logits_fn, shape)
    allowed = rank[None, :] < rank[:, None]              # j strictly before i
    leaks = (dep & ~allowed).nonzero().tolist()
    assert not leaks, f"output i depends on input j not before it: {leaks[:5]}"


@pytest.mark.parametrize("cls, config", FLAT, ids=[f"{c.__name__}{k}" for c, k in FLAT])
def test_flat_model_at_its_edges_is_autoregressive_and_normalised(cls, config):
    model = _build(cls, config)
    D = config["D"]
    masks = range(getattr(model, "num_masks", 1))
    for k in masks:
        if isinstance(model, MADE):
            model.set_mask(k)
        _check_autoregressive(model, D, model.logits, (D,))
    states = torch.tensor(list(itertools.product([0.0, 1.0], repeat=D)), dtype=torch.float64)
    with torch.no_grad():
        total = model.log_prob(states).exp().sum().item()
    assert abs(total - 1) < 1e-9, f"sum over all {2 ** D} states = {total}"
    _check_sampler(model, (D,))


def _image_logits(model):
    if getattr(model, "levels", 2) == 2:
        return model.logits
    return lambda x: model.logits(x).transpose(1, 2)  # (B, L, C, H, W) -> (B, C, L, H, W)


@pytest.mark.parametrize("cls, config", IMAGE, ids=[f"{c.__name__}{k}" for c, k in IMAGE])
def test_image_model_at_its_edges_is_autoregressive_and_normalised(cls, config):
    model = _build(cls, config)
    C, N, L = getattr(model, "channels", 1), model.image_size, getattr(model, "levels", 2)
    D = C * N * N
    logits = _image_logits(model)
    if L == 2:
        _check_autoregressive(model, D, logits, (C, N, N))
    else:   # every level's logit of variable i must not depend on a later input
        rank = _position(model)
        for level in range(L):
            dep = _dependencies(model, D, lambda x: logits(x)[:, :, level], (C, N, N))
            assert not (dep & ~(rank[None, :] < rank[:, None])).any()
    if L ** D <= 5000:
        states = torch.tensor(list(itertools.product(range(L), repeat=D)), dtype=torch.float64)
        with torch.no_grad():
            total = model.log_prob(states.view(-1, C, N, N)).exp().sum().item()
        assert abs(total - 1) < 1e-9, f"sum over all {L ** D} states = {total}"
    _check_sampler(model, (C, N, N))


def _check_sampler(model, shape):
    """Shapes, zero samples, a NumPy count, float64 weights; bad counts are clear errors."""
    g = torch.Generator().manual_seed(0)
    x = model.sample(3, generator=g)
    assert tuple(x.shape[1:]) == shape and len(x) == 3 and x.dtype == torch.float64
    assert len(model.sample(0)) == 0
    assert len(model.sample(np.int64(2))) == 2
    for bad in (-1, 2.5, None, "3", True, MAX_SAMPLES + 1):
        with pytest.raises(InvalidArgument, match="num_samples must be an integer"):
            model.sample(bad)


def test_rnade_at_its_edges_is_autoregressive_and_integrates_to_one():
    for config in ({"D": 1, "H": 1, "K": 1}, {"D": 3, "H": 2, "K": 2, "order": [2, 0, 1]}):
        model = _build(RNADE, config)
        D = config["D"]
        rank = _position(model)
        for t in range(D):   # the mixture of step t depends only on variables ranked < t
            x = torch.randn(1, D, dtype=torch.float64, requires_grad=True)
            params = torch.cat(model.mixture(x), 2)[0, t]          # (3K,)
            grad, = torch.autograd.grad(params.abs().sum(), x)
            seen = (grad[0] != 0).nonzero().flatten()
            assert all(rank[j] < t for j in seen.tolist())
        x = model.sample(4)
        assert x.shape == (4, D) and x.dtype == torch.float64
        for bad in (-1, 1.5, None):
            with pytest.raises(InvalidArgument):
                model.sample(bad)
    model = _build(RNADE, {"D": 1, "H": 1, "K": 1})
    grid = torch.linspace(-30, 30, 200_001, dtype=torch.float64)[:, None]
    with torch.no_grad():
        mass = torch.trapezoid(model.log_prob(grid).exp(), grid[:, 0]).item()
    assert abs(mass - 1) < 1e-6


@pytest.mark.parametrize("cls", [VAE, IWAE, Autoencoder])
def test_latent_variable_models_at_their_edges(cls):
    for config in ({"D": 1, "hidden": [], "latent": 1}, {"D": 3, "hidden": [1], "latent": 1}):
        model = _build(cls, config)
        x = torch.tensor([[1.0] * config["D"], [0.0] * config["D"]], dtype=torch.float64)
        assert model.training_loss(x).shape == (2,)
        if cls is not Autoencoder:
            assert model.sample(2).shape == (2, config["D"]) and len(model.sample(0)) == 0
            with pytest.raises(InvalidArgument):
                model.sample(-2)


def test_dcgan_and_classifier_at_their_edges():
    G = _build(Generator, {"latent": 1, "width": 1})
    assert G.sample(2, seed=0).shape == (2, 1, 28, 28) and G.sample(0).shape == (0, 1, 28, 28)
    assert G.sample(np.int64(1)).dtype == torch.float64
    for bad in (-1, 0.5, None, "2"):
        with pytest.raises(InvalidArgument, match="num must be an integer"):
            G.sample(bad)
    assert Discriminator(1)(torch.zeros(2, 1, 28, 28)).shape == (2, 1)
    assert DigitClassifier(1)(torch.zeros(2, 1, 28, 28)).shape == (2, 10)


REJECTED = [  # (build, the argument the message must name)
    (lambda: FVSBN(0), "D must be an integer >= 1, got 0"),
    (lambda: FVSBN(-3), "D must be an integer >= 1"),
    (lambda: FVSBN(2.5), "D must be an integer >= 1, got 2.5"),
    (lambda: FVSBN("4"), "D must be an integer"),
    (lambda: FVSBN(True), "D must be an integer"),
    (lambda: NADE(4, H=0), "H must be an integer >= 1"),
    (lambda: NADE(0, H=3), "D must be an integer >= 1"),
    (lambda: MADE(1, hidden=[5]), "D must be an integer >= 2"),
    (lambda: MADE(4, hidden=[0]), r"hidden\[0\] must be an integer >= 1"),
    (lambda: MADE(4, hidden=[3, -1]), r"hidden\[1\] must be an integer >= 1"),
    (lambda: MADE(4, hidden="500"), "hidden must be a list of integers"),
    (lambda: MADE(4, hidden=[3], num_masks=0), "num_masks must be an integer >= 1"),
    (lambda: MADE(4, hidden=[3], seed=-1), "seed must be an integer >= 0"),
    (lambda: MADE(4, hidden=[3], order_agnostic="yes"), "order_agnostic must be True or False"),
    (lambda: RNADE(2, K=0), "K must be an integer >= 1"),
    (lambda: RNADE(2, H=0), "H must be an integer >= 1"),
    (lambda: RNADE(0), "D must be an integer >= 1"),
    (lambda: PixelCNN(channels=0), "channels must be an integer >= 1"),
    (lambda: PixelCNN(hidden=0), "hidden must be an integer >= 1"),
    (lambda: PixelCNN(num_layers=-1), "num_layers must be an integer >= 0"),
    (lambda: PixelCNN(levels=1), "levels must be an integer >= 2"),
    (lambda: PixelCNN(image_size=0), "image_size must be an integer >= 1"),
    (lambda: GatedPixelCNN(num_layers=0), "num_layers must be an integer >= 1"),
    (lambda: GatedPixelCNN(kernel_size=4), "kernel_size must be odd"),
    (lambda: GatedPixelCNN(kernel_size=-1), "kernel_size must be an integer >= 1"),
    (lambda: GatedPixelCNN(kernel_size=0), "kernel_size must be an integer >= 1"),
    (lambda: GatedPixelCNN(hidden=0), "hidden must be an integer >= 1"),
    (lambda: GatedPixelCNN(num_classes=-1), "num_classes must be an integer >= 0"),
    (lambda: RowLSTM(hidden=0), "hidden must be an integer >= 1"),
    (lambda: DiagonalBiLSTM(num_layers=-1), "num_layers must be an integer >= 0"),
    (lambda: RowLSTM(image_size=0), "image_size must be an integer >= 1"),
    (lambda: VAE(latent=0), "latent must be an integer >= 1"),
    (lambda: VAE(hidden=[0]), r"hidden\[0\] must be an integer >= 1"),
    (lambda: VAE(k=0), "k must be an integer >= 1"),
    (lambda: VAE(beta=0), "beta must be a number > 0"),
    (lambda: VAE(beta=float("nan")), "beta must be finite"),
    (lambda: VAE(beta=-1), "beta must be a number > 0"),
    (lambda: VAE(D=0), "D must be an integer >= 1"),
    (lambda: Autoencoder(latent=-2), "latent must be an integer >= 1"),
    (lambda: Generator(latent=0), "latent must be an integer >= 1"),
    (lambda: Generator(width=0), "width must be an integer >= 1"),
    (lambda: Generator(output="gaussian"), "output must be one of"),
    (lambda: Discriminator(0), "width must be an integer >= 1"),
    (lambda: DigitClassifier(0), "width must be an integer >= 1"),
    (lambda: causal_mask(4, "A"), "kernel_size must be odd"),
    (lambda: causal_mask(-3, "A"), "kernel_size must be an integer >= 1"),
    (lambda: causal_mask(3, "C"), "mask_type must be 'A'"),
    (lambda: causal_mask(3, "A", 3, 4, groups=3), "must divide into 3 groups"),
]


@pytest.mark.parametrize("build, message", REJECTED, ids=[m[:40] for _, m in REJECTED])
def test_a_configuration_that_would_break_the_model_is_refused(build, message):
    with pytest.raises(InvalidArgument, match=message):
        build()


def test_completion_arguments_are_checked():
    nade = NADE(4, H=2)
    with pytest.raises(InvalidArgument, match="num_given must be an integer from 0 to 4"):
        nade.sample(1, given=torch.zeros(1, 4), num_given=5)
    cnn = PixelCNN(hidden=1, num_layers=0, image_size=3)
    with pytest.raises(InvalidArgument, match="num_given_rows must be an integer from 0 to 3"):
        cnn.sample(1, given=torch.zeros(1, 1, 3, 3), num_given_rows=4)
    with pytest.raises(InvalidArgument, match="needs given images"):
        cnn.sample(2, num_given_rows=1)


def test_numpy_sizes_are_accepted_everywhere():
    assert FVSBN(np.int64(3)).D == 3 and type(FVSBN(np.int64(3)).D) is int
    assert PixelCNN(hidden=np.int32(1), num_layers=np.int64(0), image_size=np.int16(2)).hidden == 1
    assert RowLSTM(hidden=np.int64(1), num_layers=np.int64(1), image_size=np.int64(2)).hidden == 1
    assert math.isclose(VAE(D=np.int64(3), hidden=[np.int64(2)], latent=np.int64(1)).beta, 1.0)


def test_the_checks_have_teeth():
    """The property checks above fail on the models the validation now refuses: a gated stack
    with no layers (the head reads the pixel it predicts) and a mask that lets a pixel see
    itself (the sum over states is no longer 1)."""
    gated = _build(GatedPixelCNN, {"hidden": 1, "num_layers": 1, "kernel_size": 3, "image_size": 2})
    gated.num_layers = 0                       # what GatedPixelCNN(num_layers=0) used to build
    with pytest.raises(AssertionError, match="depends on input j not before it"):
        _check_autoregressive(gated, 4, gated.logits, (1, 2, 2))
    fvsbn = _build(FVSBN, {"D": 3})
    fvsbn.mask.fill_(1.0)
    with pytest.raises(AssertionError, match="depends on input j not before it"):
        _check_autoregressive(fvsbn, 3, fvsbn.logits, (3,))
    states = torch.tensor(list(itertools.product([0.0, 1.0], repeat=3)), dtype=torch.float64)
    with torch.no_grad():
        assert abs(fvsbn.log_prob(states).exp().sum().item() - 1) > 0.01
