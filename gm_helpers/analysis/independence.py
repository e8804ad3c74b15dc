"""Conditional independence, measured on data by counting (lecture 02).

x is conditionally independent of y given z when

    p(x | y, z) = p(x | z)        for every y and z with p(y, z) > 0,

equivalently when the conditional mutual information is zero:

    I(x; y | z) = sum_{x,y,z} p(x, y, z) log2 [ p(x, y, z) p(z) / (p(x, z) p(y, z)) ]  (bits).

The Markov and AR(k) assumptions of lecture 02 are statements of this kind (a pixel is
independent of the far past given its k predecessors). Here x and y are binary vectors of N
observations and z is an ``(N, m)`` binary array (m = 0 allowed: then I(x; y | z) = I(x; y)).
Probabilities are plug-in estimates, count / N; ``shuffle_within`` gives the baseline that
exact conditional independence would show on the same number of samples.
"""
from __future__ import annotations

import numpy as np

MAX_Z_BITS = 20  # 2**20 contexts of z: the largest count table we build


def _binary_vector(name: str, v) -> np.ndarray:
    v = np.asarray(v)
    if v.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of N observations, got shape {v.shape}")
    if not np.isin(v, (0, 1)).all():
        raise ValueError(f"{name} must be binary: every value 0 or 1")
    return v.astype(np.int64)


def _contexts(z, n: int) -> tuple[np.ndarray, int]:
    """z as one integer per observation (its first column the most significant bit)."""
    z = np.asarray(z)
    if z.ndim == 1:
        z = z[:, None]  # (N,) -> (N, 1)
    if z.ndim != 2 or len(z) != n:
        raise ValueError(f"z must be (N, m) with N = {n} rows, got shape {z.shape}")
    if z.shape[1] > MAX_Z_BITS:
        raise ValueError(f"z has {z.shape[1]} columns; at most {MAX_Z_BITS} (2**m contexts)")
    if not np.isin(z, (0, 1)).all():
        raise ValueError("z must be binary: every value 0 or 1")
    m = z.shape[1]
    return z.astype(np.int64) @ (1 << np.arange(m - 1, -1, -1, dtype=np.int64)), m


def joint_counts(x, y, z) -> np.ndarray:
    """``counts[c, b, a]`` = #{n : z_n = context c, y_n = b, x_n = a}, shape ``(2**m, 2, 2)``."""
    x, y = _binary_vector("x", x), _binary_vector("y", y)
    if len(x) != len(y):
        raise ValueError(f"x and y must have the same length, got {len(x)} and {len(y)}")
    c, m = _contexts(z, len(x))
    return np.bincount((c * 2 + y) * 2 + x, minlength=4 * 2**m).reshape(2**m, 2, 2)


def conditional_table(x, y, z) -> dict:
    """Both sides of p(x = 1 | y, z) = p(x = 1 | z), estimated by counting.

    Returns ``count_yz`` ``(2**m, 2)``, #(z = c, y = b); ``p_x_given_yz`` ``(2**m, 2)``,
    p(x = 1 | z = c, y = b) (NaN where that (c, b) never occurs); ``count_z`` and
    ``p_x_given_z`` ``(2**m,)``, the same with y summed out.
    """
    n = joint_counts(x, y, z).astype(float)  # (C, 2, 2): [z, y, x]
    count_yz, count_z = n.sum(2), n.sum((1, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        return {"count_yz": count_yz.astype(np.int64), "p_x_given_yz": n[:, :, 1] / count_yz,
                "count_z": count_z.astype(np.int64), "p_x_given_z": n[:, :, 1].sum(1) / count_z}


def conditional_mutual_information(x, y, z, base: float = 2.0) -> float:
    """Plug-in I(x; y | z) from counts, in bits (``base=2``) or nats (``base=math.e``).

    Zero exactly when the empirical p(x | y, z) equals p(x | z) wherever (y, z) occurs.
    """
    n = joint_counts(x, y, z).astype(float)  # (C, 2, 2)
    p = n / n.sum()  # p(z, y, x)
    p_z = p.sum((1, 2), keepdims=True)  # (C, 1, 1)
    p_yz, p_xz = p.sum(2, keepdims=True), p.sum(1, keepdims=True)  # (C, 2, 1), (C, 1, 2)
    seen = p > 0  # 0 log 0 = 0
    # I = sum p(x,y,z) log [p(x,y,z) p(z) / (p(x,z) p(y,z))]
    with np.errstate(invalid="ignore", divide="ignore"):  # 0/0 in unseen cells, not used
        ratio = p * p_z / (p_xz * p_yz)
    value = (p[seen] * np.log(ratio[seen])).sum() / np.log(base)
    return float(max(value, 0.0))  # rounding can leave -1e-17 where the truth is 0


def shuffle_within(y, z, seed: int = 0) -> np.ndarray:
    """y with its values permuted among the observations that share the same z.

    Keeps every count of (y, z) and of (x, z) and breaks any link between x and y given z:
    data for which x and y are conditionally independent given z, apart from sampling noise.
    """
    y = _binary_vector("y", y)
    c, _ = _contexts(z, len(y))
    rng = np.random.default_rng(seed)
    out = y.copy()
    for context in np.unique(c):
        where = np.flatnonzero(c == context)
        out[where] = y[rng.permutation(where)]
    return out
