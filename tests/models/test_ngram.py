"""The character AR(k) model: counts against a naive reference, exact normalisation over every
string, the autoregressive property, smoothing, sampling, and bad inputs."""
import collections
import itertools
import math

import numpy as np
import pytest

from gm_helpers.analysis.counting import choose_alpha
from gm_helpers.models.ngram import ASCII_ALPHABET, CharAR

TEXT = "the cat sat on the mat; the rat ate the hat.\nthat cat, that rat.\n"


def naive_log_prob(train, text, k, alpha, alphabet):
    """log p(w_t | the min(t, k) characters before it), from dictionaries of counts."""
    m, out = len(alphabet), []
    for t, w in enumerate(text):
        c = text[max(0, t - k):t]
        j = len(c)
        follows = collections.Counter(train[i + j] for i in range(len(train) - j) if train[i:i + j] == c)
        n_c = sum(follows.values())
        p = (follows[w] + alpha) / (n_c + m * alpha) if n_c else 1 / m
        out.append(math.log(p) if p > 0 else -math.inf)   # alpha = 0: an unseen pair has log 0
    return np.array(out)


@pytest.mark.parametrize("k", [0, 1, 2, 4])
@pytest.mark.parametrize("alpha", [0.0, 0.5])
def test_log_prob_matches_counting_by_hand(k, alpha):
    model = CharAR(k, alpha).fit(TEXT)
    for text in ("the hat sat.", "that", "q", ""):
        got = model.log_prob(text)
        assert got.shape == (len(text),) and got.dtype == np.float64
        np.testing.assert_allclose(got, naive_log_prob(TEXT, text, k, alpha, ASCII_ALPHABET),
                                   rtol=1e-12)


@pytest.mark.parametrize("k, alpha", [(0, 0.3), (1, 0.0), (2, 0.1), (3, 1.0)])
def test_probabilities_of_all_strings_of_a_length_sum_to_one(k, alpha):
    """Exact: over a 3-letter alphabet, p(w_1 .. w_5) summed over all 3**5 strings is 1."""
    model = CharAR(k, alpha, alphabet="abc").fit("abcabbacabcaab")
    total = sum(np.exp(model.log_prob("".join(s)).sum()) for s in itertools.product("abc", repeat=5))
    assert total == pytest.approx(1, abs=1e-12)


@pytest.mark.parametrize("context", ["", "t", "th", "the ", "zzzz"])
def test_each_conditional_is_a_distribution(context):
    p = CharAR(3, 0.01).fit(TEXT).conditional(context)
    assert p.shape == (len(ASCII_ALPHABET),) and (p > 0).all()
    assert p.sum() == pytest.approx(1, abs=1e-12)


def test_conditional_agrees_with_log_prob():
    model = CharAR(2, 0.2).fit(TEXT)
    text = "the rat"
    for t in range(len(text)):
        p = model.conditional(text[:t])
        assert math.log(p[ASCII_ALPHABET.index(text[t])]) == pytest.approx(model.log_prob(text)[t])


def test_character_t_depends_only_on_the_k_before_it():
    """The autoregressive property, with a window: change any character outside the k before
    position t (earlier, or at or after t) and log p(w_t | ...) does not move."""
    model, k, text = CharAR(3, 0.1).fit(TEXT), 3, "the cat sat on the hat"
    base = model.log_prob(text)
    for i in range(len(text)):
        changed = model.log_prob(text[:i] + ("x" if text[i] != "x" else "y") + text[i + 1:])
        moved = np.nonzero(~np.isclose(changed, base, rtol=0, atol=1e-12))[0]
        assert all(i <= t <= i + k for t in moved)   # only w_i itself and the k after it


def test_ml_is_the_count_ratio_and_an_unseen_context_is_uniform():
    model = CharAR(1, 0.0).fit("abab" + "ac")
    p = model.conditional("a")                       # after "a": b twice, c once
    assert p[ASCII_ALPHABET.index("b")] == pytest.approx(2 / 3)
    assert p[ASCII_ALPHABET.index("c")] == pytest.approx(1 / 3)
    np.testing.assert_allclose(model.conditional("z"), 1 / len(ASCII_ALPHABET))
    # contexts of "za": "" (the 6 characters of training), then "z" (never seen)
    np.testing.assert_array_equal(model.context_counts("za"), [6, 0])


def test_smoothing_is_additive():
    alpha, m = 0.5, len(ASCII_ALPHABET)
    p = CharAR(1, alpha).fit("abab" + "ac").conditional("a")
    assert p[ASCII_ALPHABET.index("b")] == pytest.approx((2 + alpha) / (3 + m * alpha))
    assert p[ASCII_ALPHABET.index("q")] == pytest.approx(alpha / (3 + m * alpha))


def test_contexts_seen_are_the_distinct_k_grams_followed_by_a_character():
    assert CharAR(2).fit("abcabd").num_contexts_seen() == 3            # ab, bc, ca ("bd" ends it)
    assert CharAR(0).fit("abc").num_contexts_seen() == 1               # the empty context


def test_num_params_is_m_to_the_k_times_m_minus_1():
    assert CharAR(0).num_params() == 95
    assert CharAR(4, alphabet="abc").num_params() == 3**4 * 2
    assert type(CharAR(8).num_params()) is int and CharAR(8).num_params() == 96**8 * 95


def test_sampling_follows_the_table():
    """With alpha = 0 an AR(1) fitted to 'ababab...' can only alternate; an AR(0) draws each
    character as often as the counts say."""
    assert CharAR(1).fit("ab" * 50).sample(20, seed=3, prompt="a") == "a" + "ba" * 10
    text = CharAR(0, alphabet="xyz").fit("x" * 60 + "y" * 30 + "z" * 10).sample(20_000, seed=0)
    freq = [text.count(c) / len(text) for c in "xyz"]
    np.testing.assert_allclose(freq, [0.6, 0.3, 0.1], atol=0.015)


def test_sampling_is_reproducible_and_keeps_the_prompt():
    model = CharAR(2, 0.01).fit(TEXT)
    a, b = model.sample(50, seed=1, prompt="the "), model.sample(50, seed=1, prompt="the ")
    assert a == b and a.startswith("the ") and len(a) == 54
    assert set(a) <= set(ASCII_ALPHABET) and model.sample(0, prompt="x") == "x"


def test_choose_alpha_accepts_the_model():
    """choose_alpha (lecture 02's grid search) works unchanged: log_prob is per character."""
    choice = choose_alpha(lambda a: CharAR(2, a), TEXT[:40], TEXT[40:], alphas=(0.01, 0.1, 1.0))
    assert choice["alpha"] in (0.01, 0.1, 1.0) and len(choice["valid_nll"]) == 3


@pytest.mark.parametrize("make, error", [
    (lambda: CharAR(-1), ValueError),
    (lambda: CharAR(True), TypeError),
    (lambda: CharAR(2.0), TypeError),
    (lambda: CharAR(9), ValueError),                       # 96**10 overflows int64 codes
    (lambda: CharAR(1, alpha=-0.1), ValueError),
    (lambda: CharAR(1, alphabet="aa"), ValueError),
    (lambda: CharAR(1, alphabet=["a", "b"]), ValueError),
    (lambda: CharAR(1).log_prob("abc"), RuntimeError),     # not fitted
    (lambda: CharAR(1).fit(b"bytes"), TypeError),
    (lambda: CharAR(3).fit("ab"), ValueError),             # too short to count
    (lambda: CharAR(1).fit("caf\u00e9"), ValueError),      # outside the alphabet
    (lambda: CharAR(1, alphabet="ab").fit("ab").log_prob("abc"), ValueError),
    (lambda: CharAR(1).fit("ab").sample(-1), ValueError),
    (lambda: CharAR(1).fit("ab").sample(5, prompt="\u00e9"), ValueError),
])
def test_bad_inputs_are_refused(make, error):
    with pytest.raises(error):
        make()
