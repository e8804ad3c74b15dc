r"""AR(k) over the characters of a text: the n-gram language model, counted and smoothed.

C. E. Shannon, *A mathematical theory of communication*, Bell System Technical Journal, 1948
(section 3 draws English from letter n-gram tables: "the series of approximations to English").

The chain rule over a sequence of tokens w_1 ... w_T, truncated to the last k tokens,

    p(w_1, ..., w_T) = prod_t p(w_t | w_{t-k}, ..., w_{t-1})

is lecture 02's AR(k) with m-valued variables, here characters, and one table **shared by every
position t** (a pixel patch had a table per pixel; text is read the same way wherever it
stands). Predicting character t from the k before it is a (k+1)-gram model. Maximum likelihood
is counting, and additive smoothing adds alpha pseudo-counts to each of the m characters:

    p(w | c) = (count(c, w) + alpha) / (count(c) + m alpha)        c: the k characters before w

A context never seen in training gets the uniform 1/m. The first k characters of a text have
fewer than k before them; they use the tables of the shorter contexts, counted the same way.
The table for k has m**k (m - 1) free parameters, almost all of them never seen.
"""
from __future__ import annotations

import numpy as np

from gm_helpers.checks import check_num_samples, check_size
from gm_helpers.models.tabular import check_alpha

# the 95 printable ASCII characters and the newline: the alphabet of the course's prose
ASCII_ALPHABET = "\n" + "".join(chr(c) for c in range(32, 127))


class CharAR:
    """AR(k) over characters: ``log_prob(text)`` gives (T,) log p(w_t | the k before), in nats.

    ``alphabet``: the m characters the model knows (a string of distinct characters); text with
    any other character is refused. ``fit(text)`` counts; ``sample(num_chars)`` draws text.
    """

    def __init__(self, k: int, alpha: float = 0.0, alphabet: str = ASCII_ALPHABET):
        self.alpha = check_alpha(alpha)
        if not isinstance(alphabet, str) or len(alphabet) < 2 or len(set(alphabet)) != len(alphabet):
            raise ValueError(f"alphabet must be a string of at least 2 distinct characters, "
                             f"got {alphabet!r}")
        self.alphabet, self.m = alphabet, len(alphabet)
        # contexts are numbers in base m, and (context, character) pairs too: keep them int64
        max_k = int(np.log(2.0**62) / np.log(self.m)) - 1
        self.k = check_size("k", k, minimum=0, maximum=max_k)
        self._index = np.full(max(map(ord, alphabet)) + 1, -1, np.int64)   # code point -> index
        self._index[[ord(c) for c in alphabet]] = np.arange(self.m)
        self.tables: list[tuple[np.ndarray, ...]] | None = None

    def encode(self, text: str) -> np.ndarray:
        """``text`` -> (T,) int64 character indices into the alphabet."""
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {type(text).__name__}")
        codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
        x = self._index[np.minimum(codes, len(self._index) - 1)]
        x[codes >= len(self._index)] = -1
        if (x < 0).any():
            bad = sorted({c for c in text if c not in self.alphabet})
            raise ValueError(f"characters outside the model's alphabet: {bad[:10]}")
        return x

    def _contexts(self, x: np.ndarray, j: int) -> np.ndarray:
        # (T - j,) the j characters before t, for t = j .. T-1, as one base-m number
        c = np.zeros(len(x) - j, dtype=np.int64)
        for i in range(1, j + 1):
            c = c * self.m + x[j - i:len(x) - i]      # w_{t-1} is the highest digit
        return c

    def fit(self, text: str) -> "CharAR":
        x = self.encode(text)
        if len(x) <= self.k:
            raise ValueError(f"need more than k = {self.k} characters to fit, got {len(x)}")
        self.tables = []
        for j in range(self.k + 1):                   # context lengths 0 .. k
            pairs = self._contexts(x, j) * self.m + x[j:]   # (T - j,) code of (context, w)
            pair_keys, pair_counts = np.unique(pairs, return_counts=True)
            ctx_keys, ctx_counts = np.unique(pairs // self.m, return_counts=True)
            self.tables.append((pair_keys, pair_counts, ctx_keys, ctx_counts))
        return self

    def _require_fit(self) -> None:
        if self.tables is None:
            raise RuntimeError("CharAR is not fitted yet: call fit(text) first")

    @staticmethod
    def _lookup(keys: np.ndarray, counts: np.ndarray, query: np.ndarray) -> np.ndarray:
        i = np.minimum(np.searchsorted(keys, query), len(keys) - 1)
        return np.where(keys[i] == query, counts[i], 0)  # count, 0 where never seen

    def _counts(self, pairs: np.ndarray, j: int) -> tuple[np.ndarray, np.ndarray]:
        pair_keys, pair_counts, ctx_keys, ctx_counts = self.tables[j]
        n_cw = self._lookup(pair_keys, pair_counts, pairs)         # count(c, w)
        n_c = self._lookup(ctx_keys, ctx_counts, pairs // self.m)  # count(c)
        return n_cw, n_c

    def _prob(self, pairs: np.ndarray, j: int) -> np.ndarray:
        n_cw, n_c = self._counts(pairs, j)
        # p(w | c) = (count(c, w) + alpha) / (count(c) + m alpha); an unseen context: 1/m
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(n_c > 0, (n_cw + self.alpha) / (n_c + self.m * self.alpha), 1 / self.m)

    def _pairs(self, x: np.ndarray) -> list[tuple[np.ndarray, int]]:
        """(codes of (context, w_t), context length) for every t: the first k characters one by
        one (the t characters before w_t are all there are), then the rest all at once."""
        self._require_fit()
        parts = [(self._contexts(x[:t + 1], t) * self.m + x[t:t + 1], t)
                 for t in range(min(self.k, len(x)))]
        if len(x) > self.k:
            parts.append((self._contexts(x, self.k) * self.m + x[self.k:], self.k))
        return parts

    def log_prob(self, text: str) -> np.ndarray:
        """(T,) log p(w_t | w_{t-k}, ..., w_{t-1}) of each character of ``text``, in nats."""
        pairs = self._pairs(self.encode(text))
        with np.errstate(divide="ignore"):                       # alpha = 0: log 0 = -inf
            return np.concatenate([np.zeros(0)] + [np.log(self._prob(*part)) for part in pairs])

    def context_counts(self, text: str) -> np.ndarray:
        """(T,) how often the context of each character of ``text`` occurred in training: 0
        where the table has nothing to say and p(w | c) is the uniform 1/m."""
        pairs = self._pairs(self.encode(text))
        return np.concatenate([np.zeros(0, np.int64)] + [self._counts(*part)[1] for part in pairs])

    def conditional(self, context: str) -> np.ndarray:
        """(m,) p(w | the last k characters of ``context``), for every character w."""
        self._require_fit()
        x = self.encode(context)
        x = x[len(x) - min(self.k, len(x)):]                     # the last k (or fewer)
        c = self._contexts(np.append(x, 0), len(x))              # (1,) their code
        return self._prob(c * self.m + np.arange(self.m), len(x))   # (m,)

    def sample(self, num_chars: int, seed: int = 0, prompt: str = "") -> str:
        """``prompt`` and ``num_chars`` characters drawn after it, one at a time (ancestral)."""
        num_chars = check_num_samples(num_chars, "num_chars")
        self.encode(prompt)                                      # refuse a foreign prompt now
        rng = np.random.default_rng(seed)
        text = prompt
        for _ in range(num_chars):
            p = self.conditional(text)                           # p(w_t | w_{t-k} .. w_{t-1})
            text += self.alphabet[rng.choice(self.m, p=p / p.sum())]
        return text

    def num_contexts_seen(self) -> int:
        """How many of the m**k contexts of length k occurred in training: the rows not left at 1/m."""
        self._require_fit()
        return len(self.tables[self.k][2])

    def num_params(self) -> int:
        """Free parameters of the k-context table: m**k contexts, m - 1 numbers each."""
        return self.m**self.k * (self.m - 1)
