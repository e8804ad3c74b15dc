r"""Choosing the smoothing on held-out data, and comparing the tabular models: parameters
against train and test NLL, from independence to the full joint table (lectures 01 and 02).
"""
from __future__ import annotations

import numpy as np

from gm_helpers.models.tabular import (
    FullJointTable,
    IndependentBernoulli,
    MarkovChain,
    TabularAR,
    check_alpha,
)

# the smoothing grid: half-decade steps, 1e-4, 3.2e-4, 1e-3, ..., 10 (11 values)
ALPHAS = tuple(float(10.0 ** (e / 2)) for e in range(-8, 3))


def choose_alpha(make_model, train, valid, alphas=ALPHAS) -> dict:
    """Choose the smoothing alpha by the validation NLL: a grid search, never the test set.

    ``make_model(alpha)`` builds an unfitted model; each is fitted on ``train`` and scored on
    ``valid``. Returns ``{"alpha", "alphas", "valid_nll", "model"}``: the chosen alpha (the
    first lowest validation NLL), the grid, the validation NLL (nats) at each grid point, and
    the model fitted at the chosen alpha.
    """
    alphas = [check_alpha(a) for a in alphas]
    if not alphas:
        raise ValueError("alphas is empty: give at least one smoothing value to try")
    models = [make_model(alpha).fit(train) for alpha in alphas]
    nll = [float(-model.log_prob(valid).mean()) for model in models]
    i = int(np.argmin(nll))
    return {"alpha": alphas[i], "alphas": alphas, "valid_nll": nll, "model": models[i]}


def compare_tabular_models(train, test, ks=(2,), order=None, alpha: float = 0.5,
                           full_table: bool = True, valid=None, alphas=ALPHAS) -> list[dict]:
    """Fit each tabular model on ``train``; report parameters and train/test NLL (nats).

    The rows run from the fewest parameters to the most: independent, Markov, AR(k) for each
    k in ``ks`` (all under ``order``), and the full joint table when ``full_table``. Every row
    has the ``alpha`` it was fitted with. Without ``valid`` that is ``alpha`` for all; with
    ``valid``, each model's own alpha is chosen among ``alphas`` by ``choose_alpha`` (``alpha``
    is then unused) and the row adds ``valid_nll`` and ``valid_curve`` (NLL at each alpha).
    """
    makers = [("independent", IndependentBernoulli), ("Markov", lambda a: MarkovChain(a, order))]
    makers += [(f"AR({k})", lambda a, k=k: TabularAR(k, a, order)) for k in ks if k > 1]
    if full_table:
        makers.append(("full joint", FullJointTable))
    rows = []
    for name, make in makers:
        if valid is None:
            model, extra = make(alpha).fit(train), {"alpha": float(alpha)}
        else:
            choice = choose_alpha(make, train, valid, alphas)
            model = choice["model"]
            extra = {"alpha": choice["alpha"], "valid_nll": min(choice["valid_nll"]),
                     "valid_curve": choice["valid_nll"]}
        rows.append({"name": name, "params": model.num_params(),
                     "train_nll": float(-model.log_prob(train).mean()),
                     "test_nll": float(-model.log_prob(test).mean()), "model": model, **extra})
    return rows
