r"""Counting parameters, and the tabular models whose counts we compare.

A distribution over n variables with m values each, written as a table, needs m**n - 1 numbers
(they sum to 1, so the last is free). Assumptions buy smaller tables:

    full joint      p(x_1, ..., x_n)                            m**n - 1
    independent     prod_i p(x_i)                                n (m - 1)
    Markov          p(x_1) prod_i p(x_i | x_{i-1})               (m - 1) + (n - 1) m (m - 1)
    AR(k)           prod_i p(x_i | x_{i-k}, ..., x_{i-1})        sum_i m**min(i-1, k) (m - 1)

(For binary variables Markov is 2n - 1; AR(0) is independence, AR(1) is Markov and AR(n - 1)
is the chain rule: exact again, and 2**n - 1 again.) Python integers are exact, so
``num_params("full_joint", 784)`` is the whole 237-digit number 2**784 - 1.

The models fit binary vectors, with exact ``log_prob`` and ancestral ``sample``. Maximum
likelihood is counting (a count divided by its total); additive smoothing adds ``alpha``
pseudo-counts to every cell of every table, so that a state or context never seen in training
keeps a probability above zero.
"""
from __future__ import annotations

import operator

import numpy as np

ASSUMPTIONS = ("full_joint", "independent", "markov", "ar")

MAX_TABLE_BITS = 24  # 2**24 float64 numbers = 128 MB: the largest full table we build


def _as_int(name: str, value) -> int:
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        raise TypeError(f"{name} must be an integer, got {value!r} ({type(value).__name__})")
    return operator.index(value)


def num_params_categorical(m: int) -> int:
    """Free parameters of a categorical distribution over m values: m - 1 (they sum to 1).

    A Bernoulli is m = 2 (one parameter); an RGB pixel is m = 256**3.
    """
    m = _as_int("m", m)
    if m < 2:
        raise ValueError(f"a categorical variable needs at least m = 2 values, got m = {m}")
    return m - 1


def num_params(assumption: str, n: int, k: int = 1, m: int = 2) -> int:
    """Free parameters of a tabular model of n variables with m values each.

    ``assumption`` is one of ``"full_joint"``, ``"independent"``, ``"markov"``, ``"ar"``;
    ``k`` is the AR order (0 <= k < n), used by ``"ar"`` only.
    """
    if assumption not in ASSUMPTIONS:
        raise ValueError(f"unknown assumption {assumption!r}; choose one of {ASSUMPTIONS}")
    n, k = _as_int("n", n), _as_int("k", k)
    free = num_params_categorical(m)  # m - 1, also checks m
    if n < 1:
        raise ValueError(f"need at least one variable, got n = {n}")
    if assumption == "full_joint":
        return m**n - 1
    if assumption == "independent":
        return n * free
    if assumption == "markov":
        # p(x_1): m - 1;  each p(x_i | x_{i-1}): m rows of m - 1
        return free + (n - 1) * m * free
    if not 0 <= k < n:
        raise ValueError(f"AR order k must satisfy 0 <= k < n = {n}, got k = {k}")
    # the first k variables have 0, 1, ..., k-1 parents: sum_{i<k} m**i (m-1) = m**k - 1;
    # the other n - k have k parents each: m**k rows of m - 1
    return (m**k - 1) + (n - k) * m**k * free


# ----------------------------------------------------------------------------- tabular models
def all_binary_states(n: int) -> np.ndarray:
    """Every binary vector of length n, ``(2**n, n)`` uint8, x_1 as the most significant bit."""
    n = _as_int("n", n)
    if not 1 <= n <= MAX_TABLE_BITS:
        raise ValueError(f"can enumerate 1 <= n <= {MAX_TABLE_BITS} bits, got n = {n}")
    idx = np.arange(2**n, dtype=np.int64)[:, None]  # (2**n, 1)
    return ((idx >> np.arange(n - 1, -1, -1)) & 1).astype(np.uint8)  # (2**n, n)


def _check_binary(x, n: int | None = None) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim != 2:
        raise ValueError(f"expected a 2-D array (num_examples, n), got shape {x.shape}")
    if n is not None and x.shape[1] != n:
        raise ValueError(f"the model was fitted on n = {n} variables, got {x.shape[1]}")
    xb = x.astype(np.uint8)  # 1 byte a value: a whole MNIST split stays small
    if xb.max(initial=0) > 1 or (x.dtype != np.uint8 and not np.array_equal(xb, x)):
        raise ValueError("expected binary data: every value must be 0 or 1")
    return xb


def _require_fit(model, table) -> None:
    if table is None:
        raise RuntimeError(f"{type(model).__name__} is not fitted yet: call fit(x) first")


def check_alpha(alpha: float) -> float:
    if not alpha >= 0:
        raise ValueError(f"smoothing alpha must be >= 0, got {alpha}")
    return float(alpha)


class TabularAR:
    """AR(k) on binary vectors: p(x) = prod_i p(x_i | the k variables before it), each a table.

    ``order`` (a permutation of range(n)) says which variable comes first, second, ...;
    ``alpha`` adds pseudo-counts: theta = (count(x_i = 1, ctx) + alpha) / (count(ctx) + 2 alpha).
    A context never seen with alpha = 0 gets theta = 1/2 (its ML estimate is undefined).
    """

    def __init__(self, k: int, alpha: float = 0.0, order=None):
        self.k = _as_int("k", k)
        if not 0 <= self.k <= MAX_TABLE_BITS:
            raise ValueError(f"AR order k must satisfy 0 <= k <= {MAX_TABLE_BITS} (a table of "
                             f"2**k rows per variable), got {k}")
        self.alpha, self.order = check_alpha(alpha), order
        self.theta: list[np.ndarray] | None = None  # theta[i][c] = p(x_i = 1 | context c)

    def _ordered(self, x: np.ndarray) -> np.ndarray:
        if self.order is None:
            return x
        order = np.asarray(self.order)
        if sorted(order.tolist()) != list(range(x.shape[1])):
            raise ValueError(f"order must be a permutation of range({x.shape[1]}), got {order}")
        return x[:, order]

    def _context(self, x: np.ndarray, i: int) -> np.ndarray:
        # context index of the parents x_{i-1}, ..., x_{i-k'}: x_{i-j} is bit j - 1
        c = np.zeros(len(x), dtype=np.int64)
        for j in range(1, min(i, self.k) + 1):
            c |= x[:, i - j].astype(np.int64) << (j - 1)
        return c

    def fit(self, x) -> "TabularAR":
        x = self._ordered(_check_binary(x))
        n = x.shape[1]
        if self.k >= n:
            raise ValueError(f"AR order k must be < n = {n}, got k = {self.k}")
        self.n, self.theta = n, []
        for i in range(n):
            c, size = self._context(x, i), 2 ** min(i, self.k)
            ones = np.bincount(c, weights=x[:, i], minlength=size)  # count(x_i = 1, ctx)
            total = np.bincount(c, minlength=size).astype(float)  # count(ctx)
            with np.errstate(invalid="ignore"):
                theta = (ones + self.alpha) / (total + 2 * self.alpha)
            self.theta.append(np.where(np.isnan(theta), 0.5, theta))
        return self

    def log_prob(self, x) -> np.ndarray:
        """Exact log p(x) in nats, ``(num_examples,)``. -inf for an event of probability 0."""
        _require_fit(self, self.theta)
        x = self._ordered(_check_binary(x, self.n))
        logp = np.zeros(len(x))
        with np.errstate(divide="ignore"):
            for i in range(self.n):
                theta = self.theta[i][self._context(x, i)]
                # log p(x_i | ctx) = x_i log theta + (1 - x_i) log(1 - theta)
                logp += np.where(x[:, i] == 1, np.log(theta), np.log1p(-theta))
        return logp

    def sample(self, num_samples: int, seed: int = 0) -> np.ndarray:
        """Ancestral sampling, one variable at a time in the model's order: ``(S, n)`` uint8."""
        _require_fit(self, self.theta)
        rng = np.random.default_rng(seed)
        z = np.zeros((num_samples, self.n), dtype=np.int64)  # in the model's order
        for i in range(self.n):
            z[:, i] = rng.random(num_samples) < self.theta[i][self._context(z, i)]  # x_i ~ Bern
        x = np.empty_like(z)
        x[:, np.arange(self.n) if self.order is None else np.asarray(self.order)] = z
        return x.astype(np.uint8)

    def num_params(self) -> int:
        _require_fit(self, self.theta)
        return num_params("ar", self.n, k=self.k)


class IndependentBernoulli(TabularAR):
    """p(x) = prod_i Bernoulli(x_i; theta_i): AR(0), n parameters."""

    def __init__(self, alpha: float = 0.0):
        super().__init__(0, alpha)


class MarkovChain(TabularAR):
    """p(x) = p(x_1) prod_i p(x_i | x_{i-1}): AR(1), 2n - 1 parameters."""

    def __init__(self, alpha: float = 0.0, order=None):
        super().__init__(1, alpha, order)


class FullJointTable:
    """One probability for each of the 2**n binary vectors: 2**n - 1 parameters.

    ML: p(s) = (count(s) + alpha) / (N + 2**n alpha). Feasible for n <= 24.
    """

    def __init__(self, alpha: float = 0.0):
        self.alpha, self.p = check_alpha(alpha), None

    @staticmethod
    def _index(x: np.ndarray) -> np.ndarray:
        return x.astype(np.int64) @ (1 << np.arange(x.shape[1] - 1, -1, -1))  # x_1 most significant

    def fit(self, x) -> "FullJointTable":
        x = _check_binary(x)
        self.n = x.shape[1]
        if self.n > MAX_TABLE_BITS:
            raise ValueError(f"a full table over n = {self.n} bits has 2**{self.n} entries; "
                             f"this class builds at most n = {MAX_TABLE_BITS}")
        counts = np.bincount(self._index(x), minlength=2**self.n).astype(float)
        self.p = (counts + self.alpha) / (len(x) + 2**self.n * self.alpha)  # (2**n,)
        return self

    def log_prob(self, x) -> np.ndarray:
        _require_fit(self, self.p)
        with np.errstate(divide="ignore"):
            return np.log(self.p[self._index(_check_binary(x, self.n))])

    def sample(self, num_samples: int, seed: int = 0) -> np.ndarray:
        _require_fit(self, self.p)
        idx = np.random.default_rng(seed).choice(2**self.n, size=num_samples, p=self.p)
        return all_binary_states(self.n)[idx]

    def num_params(self) -> int:
        _require_fit(self, self.p)
        return num_params("full_joint", self.n)

    def conditionals(self) -> list[np.ndarray]:
        """The chain rule read off the table: theta[i][c] = p(x_i = 1 | x_1..x_{i-1} = c).

        p(x_1..x_i) is the table summed over the later variables; dividing consecutive
        marginals gives each conditional. AR(n - 1) with these tables *is* this model.
        """
        _require_fit(self, self.p)
        theta, marg = [], self.p  # marg[c]: p(x_1..x_i = c), c in binary, x_1 most significant
        marginals = [marg]
        for _ in range(self.n):
            marg = marg.reshape(-1, 2).sum(1)  # sum out the last variable
            marginals.append(marg)
        marginals = marginals[::-1]  # marginals[i]: p over the first i variables, (2**i,)
        for i in range(self.n):
            joint = marginals[i + 1].reshape(-1, 2)  # (2**i, 2): p(x_<i = c, x_i)
            with np.errstate(invalid="ignore"):
                cond = joint[:, 1] / marginals[i]
            # c numbers x_1..x_{i-1} with x_{i-1} as bit 0: the same index TabularAR uses
            theta.append(np.nan_to_num(cond, nan=0.5))
        return theta


ORDERINGS = ("raster", "column", "snake", "random")


def image_ordering(name: str, height: int, width: int, seed: int = 0) -> np.ndarray:
    """A visiting order of the pixels of a ``height x width`` image (raster-numbered indices).

    ``"raster"`` row by row; ``"column"`` column by column; ``"snake"`` row by row, every other
    row right to left; ``"random"`` a random permutation drawn with ``seed``.
    """
    if name not in ORDERINGS:
        raise ValueError(f"unknown ordering {name!r}; choose one of {ORDERINGS}")
    grid = np.arange(height * width).reshape(height, width)  # grid[r, c] = raster index
    if name == "raster":
        return grid.ravel()
    if name == "column":
        return grid.T.ravel()
    if name == "snake":
        grid = grid.copy()
        grid[1::2] = grid[1::2, ::-1]
        return grid.ravel()
    return np.random.default_rng(seed).permutation(height * width)
