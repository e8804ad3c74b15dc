"""Dequantization: the bound is above the exact discrete NLL of a small flow, and tightens to it.

A 2-d flow over y = logit(v / 2), v = x + u, defines P(x) for x in {0, 1}^2 exactly: the flow's
mass in the quadrant of sign pattern 2x - 1 (y > 0 exactly when x = 1), computed here by
quadrature on a grid whose cell edges include 0. The four P(x) sum to 1; the one-sample bound
-E[log w] is above -log P(x); the mean weight E[w] is P(x) (unbiased); -log of the mean of many
weights approaches -log P(x).
"""
import itertools
import math

import pytest
import torch

from gm_helpers.checks import InvalidArgument
from gm_helpers.models import flows as F
from gm_helpers.models.dequantization import (
    DequantizedFlow,
    VariationalDequantizer,
    from_logit_space,
    to_logit_space,
)
from tests.helpers import randomised

XS = torch.tensor(list(itertools.product([0, 1], repeat=2)), dtype=torch.float64)  # (4, 2)


@pytest.fixture(scope="module")
def model():
    return DequantizedFlow(randomised(F.realnvp(2, 4, (16,)), seed=3, scale=0.3, dtype=torch.float64))


@pytest.fixture(scope="module")
def exact(model):
    """-log P(x) by quadrature of the flow's density over each quadrant of y."""
    edges = torch.linspace(-20, 20, 801, dtype=torch.float64)      # 0 is an edge
    mid, h = (edges[1:] + edges[:-1]) / 2, edges[1] - edges[0]
    y = torch.cartesian_prod(mid, mid)
    with torch.no_grad():
        mass = model.flow.log_prob(y).exp() * h ** 2
    P = torch.stack([mass[((y > 0).double() == x).all(1)].sum() for x in XS])
    return P


def test_the_discrete_probabilities_sum_to_one(exact):
    assert exact.sum().item() == pytest.approx(1.0, abs=1e-4)
    assert (exact > 0.01).all()


def test_the_one_sample_bound_is_above_the_exact_nll(model, exact):
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        log_w = model.log_weights(XS, 20000, generator=g)       # (k, 4)
    bound = -log_w.mean(0)
    assert (bound > -exact.log() + 0.05).all()


def test_the_mean_weight_is_the_probability_and_the_iw_estimate_approaches_it(model, exact):
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        w = model.log_weights(XS, 100_000, generator=g).exp()    # (k, 4)
    standard_error = w.std(0) / math.sqrt(len(w))
    assert ((w.mean(0) - exact).abs() < 4 * standard_error).all()
    iw = model.nll_bound(XS, 100_000, chunk=20_000, generator=torch.Generator().manual_seed(2))
    one = model.nll_bound(XS, 1, generator=torch.Generator().manual_seed(2))
    assert (iw - (-exact.log())).abs().max() < 0.05
    assert iw.shape == one.shape == (4,)


def test_variational_dequantizer_is_a_density_on_the_unit_cube():
    """q(u|x) integrates to 1 over [0, 1)^2 for each x (quadrature through the flow's change of
    variables: E_q[1 / q(u|x)] estimates the cube's volume, 1)."""
    torch.manual_seed(0)
    q = randomised(VariationalDequantizer(2, 2, (8,)), scale=0.3, dtype=torch.float64)
    with torch.no_grad():
        u, log_q = q(XS, 200_000, generator=torch.Generator().manual_seed(0))
    assert ((u >= 0) & (u <= 1)).all() and u.shape == (200_000, 4, 2) and log_q.shape == (200_000, 4)
    volume = (-log_q).exp().mean(0)
    assert torch.allclose(volume, torch.ones(4, dtype=torch.float64), atol=0.03)


def test_variational_training_tightens_the_bound():
    torch.manual_seed(0)
    x = (torch.rand(512, 4) < torch.tensor([0.2, 0.5, 0.7, 0.9])).float()
    x[:, 3] = x[:, 0]                                          # a dependency to learn
    results = {}
    for name, deq in (("uniform", None), ("variational", VariationalDequantizer(4, 2, (32,)))):
        torch.manual_seed(0)
        m = DequantizedFlow(F.realnvp(4, 4, (32,)), deq)
        opt = torch.optim.Adam(m.parameters(), 3e-3)
        for _ in range(400):
            opt.zero_grad()
            m.training_loss(x).mean().backward()
            opt.step()
        results[name] = m.nll_bound(x, 1, generator=torch.Generator().manual_seed(0)).mean().item()
    assert results["variational"] < results["uniform"] - 0.1


def test_logit_space_round_trip_and_edges():
    v = torch.tensor([[0.0, 1e-7, 0.5, 1.0, 1.5, 2 - 1e-7]], dtype=torch.float64)
    y, logdet = to_logit_space(v, 0.0)
    assert torch.isfinite(y).all() and torch.isfinite(logdet).all()
    assert torch.allclose(from_logit_space(y, 0.0)[:, 1:], v[:, 1:], atol=1e-9)
    assert (y[0, :3] < 0).all() and (y[0, 4:] > 0).all()      # x = 0 <-> y < 0; x = 1 <-> y > 0
    v32 = torch.tensor([[0.0, 2 - 2 ** -23]])
    assert torch.isfinite(to_logit_space(v32, 0.0)[0]).all()


def test_samples_are_binary_and_bad_arguments_are_refused():
    m = DequantizedFlow(F.realnvp(3, 2))
    s = m.sample(5, generator=torch.Generator().manual_seed(0))
    assert s.shape == (5, 3) and set(s.unique().tolist()) <= {0.0, 1.0}
    with pytest.raises(InvalidArgument, match="alpha"):
        DequantizedFlow(F.realnvp(3, 2), alpha=0.5)
    with pytest.raises(InvalidArgument, match="Flow"):
        DequantizedFlow(torch.nn.Linear(3, 3))


@pytest.mark.parametrize("kind, dequantizer", [("maf", "uniform"), ("realnvp", "variational")])
def test_digit_flow_builds_from_plain_values_and_scores_images(kind, dequantizer):
    from gm_helpers.models.dequantization import DigitFlow
    model = DigitFlow(D=16, kind=kind, num_layers=2, hidden=(32,), dequantizer=dequantizer,
                      deq_layers=2, deq_hidden=(16,))
    x = (torch.rand(3, 1, 4, 4, generator=torch.Generator().manual_seed(0)) < 0.5).float()
    assert model.training_loss(x).shape == (3,)
    torch.manual_seed(0)
    log_p = model.log_prob(x, num_samples=50, chunk=20)
    assert log_p.shape == (3,) and torch.isfinite(log_p).all()
    with pytest.raises(InvalidArgument, match="kind"):
        DigitFlow(D=16, kind="glow")
    with pytest.raises(InvalidArgument, match="dequantizer"):
        DigitFlow(D=16, dequantizer="gaussian")


@pytest.mark.parametrize("config", [
    {"D": 16, "kind": "maf", "num_layers": 2, "hidden": [8]},
    {"D": 16, "kind": "realnvp", "num_layers": 2, "hidden": [8], "dequantizer": "variational",
     "deq_layers": 2, "deq_hidden": [8]},
])
def test_digit_flow_checkpoints_round_trip(tmp_path, config):
    """Saved and loaded as every shipped model is (built on the meta device first)."""
    from gm_helpers.models.registry import build_model
    from gm_helpers.training.checkpoint import load_checkpoint
    from gm_helpers.training.saving import save_checkpoint
    model = build_model("digit_flow", config)
    save_checkpoint(tmp_path / "f.pt", model, "digit_flow", config)
    loaded = load_checkpoint(tmp_path / "f.pt")
    x = (torch.rand(2, 16, generator=torch.Generator().manual_seed(0)) < 0.5).float()
    torch.manual_seed(0)
    a = model.nll_bound(x, 5)
    torch.manual_seed(0)
    assert torch.equal(a, loaded.nll_bound(x, 5))
