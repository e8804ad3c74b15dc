r"""Probabilistic PCA, fitted by maximum likelihood in closed form.

    M. E. Tipping, C. M. Bishop. "Probabilistic principal component analysis."
    Journal of the Royal Statistical Society B 61(3), 611-622, 1999.

The simplest latent-variable generative model: a q-dimensional code z, a linear map to the
d-dimensional data space, and isotropic Gaussian noise,

    z ~ N(0, I_q),  x | z ~ N(W z + mu, sigma^2 I_d),  so  x ~ N(mu, C),  C = W W^T + sigma^2 I_d.

The objective is the log-likelihood of the N data points, S their sample covariance:

    L(mu, W, sigma^2) = -N/2 [d log(2 pi) + log|C| + tr(C^{-1} S)]      (at mu = the data mean).

With lambda_1 >= ... >= lambda_d the eigenvalues of S (eigenvectors U), the maximum-likelihood
solution is

    mu = mean of x,    sigma^2 = 1/(d - q) sum_{j > q} lambda_j,
    W = U_q (Lambda_q - sigma^2 I)^{1/2} R    (any rotation R; here R = I),

and the posterior of the code is Gaussian:  z | x ~ N(M^{-1} W^T (x - mu), sigma^2 M^{-1}),
M = W^T W + sigma^2 I_q. With R = I, M = Lambda_q and

    E[z | x] = Lambda_q^{-1} (Lambda_q - sigma^2 I)^{1/2} U_q^T (x - mu):

the PCA projection U_q^T (x - mu), coordinate j scaled by (lambda_j - sigma^2)^{1/2} / lambda_j.
What pPCA adds to PCA is a density, log p(x), and a noise level sigma^2.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch


@dataclass
class PPCA:
    """A fitted pPCA model: ``mu`` (d,), ``W`` (d, q), ``sigma2`` (a float), all float64.

    ``eigenvalues`` (d,) are the sample covariance's, largest first (kept for inspection).
    """

    mu: torch.Tensor
    W: torch.Tensor
    sigma2: float
    eigenvalues: torch.Tensor

    @property
    def d(self) -> int:
        return self.W.shape[0]

    @property
    def q(self) -> int:
        return self.W.shape[1]

    def _centred(self, x) -> torch.Tensor:
        return x.to(torch.float64) - self.mu  # (N, d)

    def _M(self) -> torch.Tensor:
        # M = W^T W + sigma^2 I_q                                            (q, q)
        return self.W.T @ self.W + self.sigma2 * torch.eye(self.q, dtype=torch.float64)

    def covariance(self) -> torch.Tensor:
        """C = W W^T + sigma^2 I_d, (d, d): the covariance of the marginal p(x)."""
        return self.W @ self.W.T + self.sigma2 * torch.eye(self.d, dtype=torch.float64)

    def log_prob(self, x, chunk: int = 1024) -> torch.Tensor:
        """log N(x; mu, C) in nats for each row of x (N, d): (N,). A *density* on R^d.

        Computed ``chunk`` rows at a time in float64, so a large data set is never copied whole.
        """
        x = torch.as_tensor(x)
        if x.dim() != 2 or x.shape[1] != self.d:
            raise ValueError(f"expected data of shape (N, d = {self.d}), got {tuple(x.shape)}")
        L = torch.linalg.cholesky(self._M())  # (q, q)
        # log|C| = (d - q) log sigma^2 + log|M|
        logdet = (self.d - self.q) * math.log(self.sigma2) + 2 * L.diagonal().log().sum().item()
        out = []
        for c in x.split(chunk):
            xc = self._centred(c)  # (n, d)
            xW = xc @ self.W  # (n, q)
            # Woodbury: C^{-1} = (I - W M^{-1} W^T) / sigma^2
            maha = ((xc * xc).sum(1) - (xW * torch.cholesky_solve(xW.T, L).T).sum(1)) / self.sigma2
            out.append(-0.5 * (self.d * math.log(2 * math.pi) + logdet + maha))  # (n,)
        return torch.cat(out)

    def posterior_mean(self, x, chunk: int = 1024) -> torch.Tensor:
        """E[z | x] = M^{-1} W^T (x - mu) for each row of x (N, d): the codes, (N, q)."""
        x = torch.as_tensor(x)
        if x.dim() != 2 or x.shape[1] != self.d:
            raise ValueError(f"expected data of shape (N, d = {self.d}), got {tuple(x.shape)}")
        M = self._M()
        return torch.cat([torch.linalg.solve(M, (self._centred(c) @ self.W).T).T
                          for c in x.split(chunk)])  # (N, q)

    def posterior_covariance(self) -> torch.Tensor:
        """Cov[z | x] = sigma^2 M^{-1}, (q, q): the same for every x."""
        return self.sigma2 * torch.linalg.inv(self._M())

    def sample(self, num_samples: int, generator: torch.Generator | None = None,
               noise: bool = True) -> torch.Tensor:
        """Ancestral samples x = W z + mu (+ eps), (num_samples, d). ``noise=False`` returns
        the means W z + mu of p(x | z), which is what one usually looks at."""
        z = torch.randn(num_samples, self.q, generator=generator, dtype=torch.float64)
        x = z @ self.W.T + self.mu  # (S, d)
        if noise:
            x = x + math.sqrt(self.sigma2) * torch.randn(x.shape, generator=generator,
                                                         dtype=torch.float64)
        return x


def _eigh_one_thread(S: torch.Tensor):
    """torch.linalg.eigh on one thread. At d = 784 threads gain little, and on a shared 2-core
    CPU the threaded version was measured 70x slower (96 s against 1.3 s on one thread)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return torch.linalg.eigh(S)
    finally:
        torch.set_num_threads(threads)


def fit_ppca(x, q: int, chunk: int = 1024) -> PPCA:
    """The maximum-likelihood pPCA with a ``q``-dimensional code for data x (N, d), 1 <= q < d."""
    x = torch.as_tensor(x)
    if x.dim() != 2:
        raise ValueError(f"expected data of shape (N, d), got {tuple(x.shape)}")
    N, d = x.shape
    if isinstance(q, bool) or not isinstance(q, int) or not 1 <= q < d:
        raise ValueError(f"the code size q must be an int with 1 <= q < d = {d}, got {q!r}")
    if N < 2:
        raise ValueError(f"need at least 2 data points, got {N}")
    mu = sum(c.to(torch.float64).sum(0) for c in x.split(chunk)) / N  # (d,)
    # S = 1/N sum_n (x_n - mu)(x_n - mu)^T, the ML sample covariance (1/N, not 1/(N - 1)),
    # summed in float64 a chunk of rows at a time so a float32 data set is never copied whole
    S = torch.zeros(d, d, dtype=torch.float64)
    for c in x.split(chunk):
        xc = c.to(torch.float64) - mu  # (chunk, d)
        S += xc.T @ xc
    S /= N  # (d, d)
    eigenvalues, U = _eigh_one_thread(S)  # ascending
    eigenvalues, U = eigenvalues.flip(0), U.flip(1)  # largest first
    # sigma^2 = the mean variance of the d - q discarded directions
    sigma2 = eigenvalues[q:].mean().item()
    if not sigma2 > 1e-12 * eigenvalues[0].item():
        raise ValueError("the discarded eigenvalues are all 0: the data lie in a subspace of "
                         f"q = {q} dimensions or fewer; choose a smaller q")
    # W = U_q (Lambda_q - sigma^2 I)^{1/2}                                  (d, q)
    W = U[:, :q] * (eigenvalues[:q] - sigma2).clamp_min(0).sqrt()
    return PPCA(mu=mu, W=W, sigma2=sigma2, eigenvalues=eigenvalues)
