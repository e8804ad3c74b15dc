"""The one type rule of ``gm_helpers.exercises.core``, held for every checker of every lecture.

A right answer passes as a torch tensor or a NumPy array (a Python number where it is one
number), in float32 or float64 (an integer or bool dtype where it is integral), judged to its own
dtype's precision; right values in the wrong shape are told so; and each checker gives the same
verdict on the same answer every time, whatever the notebook's random state.
"""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from gm_helpers.exercises import autoregressive, core, gan, made, pixel, probability, vae
from gm_helpers.exercises.core import TOLERANCE, read_answer, same
from gm_helpers.exercises.pixel import gated_layer_variant
from gm_helpers.models.layers import causal_mask
from tests.exercises.test_autoregressive import solution as ar_sample
from tests.exercises.test_made import small_made

f32 = np.float32
t = torch.as_tensor


def _np(fn):
    """The same answer, handed back as a NumPy array."""
    return lambda *a: fn(*a).detach().numpy()


def _float32(fn):
    """The same answer computed in float32 from float32 copies of the (tensor) inputs."""
    return lambda *a: fn(*[x.float() if torch.is_tensor(x) else x for x in a])


# --- right answers, one entry per accepted type ------------------------------------------------
def posterior(prior, lik, dtype=np.float64):
    joint = prior.astype(dtype) * lik.astype(dtype)
    return joint / joint.sum()


def nll(x, theta, dtype=np.float64):
    x, theta = x.astype(dtype), theta.astype(dtype)
    return -np.sum(x * np.log(theta) + (1 - x) * np.log(1 - theta))


def markov(x, p1, T, dtype=np.float64):
    T, p1 = T.astype(dtype), dtype(p1)
    logp = np.log(p1 if x[0] == 1 else 1 - p1)
    for a, b in zip(x[:-1], x[1:]):
        logp += np.log(T[a, b])
    return logp


def made_mask(m_in, m_out, output):
    return (m_out[:, None] > m_in[None, :]) if output else (m_out[:, None] >= m_in[None, :])


def lme(logp, dtype=np.float64):
    logp = logp.astype(dtype)
    top = logp.max(0)
    return top + np.log(np.exp(logp - top).mean(0))


def type_a(k):
    m = np.zeros((k, k), dtype=np.int64)
    m[: k // 2] = 1
    m[k // 2, : k // 2] = 1
    return m


def skew(x, dtype=np.float64):
    H, W = x.shape
    out = np.zeros((H, H + W - 1), dtype=dtype)
    for i in range(H):
        out[i, i:i + W] = x[i]
    return out


def reparameterize(mu, logvar, eps):
    return mu + (0.5 * logvar).exp() * eps


def kl(mu, logvar):
    return -0.5 * (1 + logvar - mu ** 2 - logvar.exp()).sum(-1)


def elbo(x, logits, mu, logvar):
    return -F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(-1) - kl(mu, logvar)


def d_loss(r, f):
    return -(F.logsigmoid(r).mean() + F.logsigmoid(-f).mean())


def g_loss(f):
    return -F.logsigmoid(f).mean()


def rgb(*a):
    return causal_mask(*a, groups=3)


RIGHT = {  # checker -> {type: a right answer returned in that type}
    probability.check_full_joint_params: {"int": lambda n, m: m**n - 1},
    probability.check_posterior: {
        "float64": posterior, "float32": lambda p, q: posterior(p, q, f32),
        "torch float64": lambda p, q: t(p) * t(q) / (t(p) * t(q)).sum(),
        "torch float32": lambda p, q: t(posterior(p, q, f32))},
    probability.check_bernoulli_nll: {
        "float64": nll, "float32": lambda x, th: nll(x, th, f32),
        "Python float": lambda x, th: float(nll(x, th)), "0-d tensor": lambda x, th: t(nll(x, th))},
    autoregressive.check_ar_params: {"int": lambda n, k: sum(2 ** min(i, k) for i in range(n)),
                                     "int64": lambda n, k: np.int64(2**k - 1 + (n - k) * 2**k)},
    autoregressive.check_conditional_from_joint: {
        "float64": lambda p: p[:, :, 1] / p.sum(2),
        "float32": lambda p: p.astype(f32)[:, :, 1] / p.astype(f32).sum(2),
        "torch float32": lambda p: t(p).float()[:, :, 1] / t(p).float().sum(2)},
    autoregressive.check_markov_log_prob: {
        "Python float": lambda x, p1, T: float(markov(x, p1, T)), "float64": markov,
        "float32": lambda x, p1, T: markov(x, p1, T, f32)},
    autoregressive.check_ar_sampler: {"uint8": ar_sample,
                                      "torch": lambda c, u: torch.as_tensor(ar_sample(c, u)),
                                      "bool": lambda c, u: ar_sample(c, u).astype(bool)},
    made.check_nade_params: {"int": lambda D, H: 2 * H * D + H + D},
    made.check_made_mask: {
        "bool": made_mask, "float32": lambda *a: made_mask(*a).astype(f32),
        "float64": lambda *a: made_mask(*a).astype(float),
        "torch": lambda *a: torch.as_tensor(made_mask(*a)).long()},
    made.check_log_mean_exp: {
        "float64": lme, "float32": lambda lp: lme(lp, f32),
        "torch float64": lambda lp: torch.logsumexp(t(lp), 0) - math.log(len(lp)),
        "torch float32": lambda lp: torch.logsumexp(t(lp).float(), 0) - math.log(len(lp))},
    made.check_made: {"class": small_made()},
    pixel.check_type_a_mask: {"int": type_a, "float32": lambda k: type_a(k).astype(f32),
                              "bool": lambda k: type_a(k).astype(bool),
                              "torch": lambda k: torch.as_tensor(type_a(k)).double()},
    pixel.check_rows_above: {"int": lambda L: 3 + L},
    pixel.check_skew: {"float64": skew, "float32": lambda x: skew(x, f32),
                       "torch": lambda x: torch.as_tensor(skew(x, f32))},
    pixel.check_rgb_mask: {"torch": rgb, "NumPy": lambda *a: rgb(*a).numpy(),
                           "bool": lambda *a: rgb(*a).bool()},
    pixel.check_gated_layer: {"torch float64": gated_layer_variant},
    vae.check_reparameterize: {"float64": reparameterize, "float32": _float32(reparameterize)},
    vae.check_gaussian_kl: {"float64": kl, "float32": _float32(kl), "NumPy": _np(kl),
                            "NumPy float32": _np(_float32(kl))},
    vae.check_elbo: {"float64": elbo, "float32": _float32(elbo), "NumPy": _np(elbo),
                     "NumPy float32": _np(_float32(elbo))},
    gan.check_discriminator_loss: {
        "float64": d_loss, "float32": _float32(d_loss), "NumPy": _np(d_loss),
        "Python float": lambda r, f: d_loss(r, f).item()},
    gan.check_optimal_discriminator: {
        "float64": lambda p, q: p / (p + q), "float32": _float32(lambda p, q: p / (p + q)),
        "NumPy": lambda p, q: (p / (p + q)).numpy()},
    gan.check_generator_loss: {"float64": g_loss, "float32": _float32(g_loss),
                               "NumPy float32": _np(_float32(g_loss)),
                               "Python float": lambda f: g_loss(f).item()},
}
ANSWERS = [(check, kind, fn) for check, kinds in RIGHT.items() for kind, fn in kinds.items()]
IDS = [f"{check.__name__}-{kind}" for check, kind, _ in ANSWERS]


def test_every_checker_has_right_answers_here():
    checkers = {getattr(m, n) for m in (probability, autoregressive, made, pixel, vae, gan)
                for n in dir(m) if n.startswith("check_") and getattr(m, n).__module__ == m.__name__}
    assert checkers == set(RIGHT)


@pytest.mark.parametrize("check, kind, answer", ANSWERS, ids=IDS)
def test_a_right_answer_passes_in_every_accepted_type(check, kind, answer):
    feedback = check(answer)
    assert feedback, feedback.message


@pytest.mark.parametrize("check, kind, answer", ANSWERS, ids=IDS)
def test_the_same_answer_gets_the_same_verdict_20_times(check, kind, answer):
    """Whatever the notebook's random state before each call (a correct float32 reparameterisation
    used to pass about 15 times in 20, its eps drawn anew each time), and the checker leaves that
    state as it found it."""
    verdicts = []
    for call in range(20):
        torch.manual_seed(call)
        np.random.seed(call)
        before = torch.get_rng_state(), np.random.get_state()[1].copy()
        verdicts.append(bool(check(answer)))
        assert torch.equal(torch.get_rng_state(), before[0])
        assert np.array_equal(np.random.get_state()[1], before[1])
    assert verdicts == [True] * 20


# --- right values in the wrong shape --------------------------------------------------------------
@pytest.mark.parametrize("check, answer, message", [
    (probability.check_posterior, lambda p, q: posterior(p, q)[:, None],
     "right values, wrong shape: expected (2,), got (2, 1)"),
    (made.check_log_mean_exp, lambda lp: lme(lp)[None],
     "right values, wrong shape: expected (), got (1,)"),
    (pixel.check_skew, lambda x: skew(x).T,
     "right values, wrong shape: expected (3, 5), got (5, 3) (transposed)"),
    (autoregressive.check_ar_sampler, lambda c, u: ar_sample(c, u).T,
     "right values, wrong shape: expected (6, 4), got (4, 6) (transposed)"),
    (vae.check_gaussian_kl, lambda mu, lv: kl(mu, lv)[:, None],
     "right values, wrong shape: expected (1,), got (1, 1)"),
    (vae.check_elbo, lambda *a: _np(elbo)(*a)[None],
     "right values, wrong shape: expected (1,), got (1, 1)"),
    (gan.check_discriminator_loss, lambda r, f: d_loss(r, f)[None],
     "right values, wrong shape: expected (), got (1,)"),
    (gan.check_generator_loss, lambda f: g_loss(f).reshape(1, 1),
     "right values, wrong shape: expected (), got (1, 1)"),
    (pixel.check_rgb_mask, lambda *a: rgb(*a)[None],
     "right values, wrong shape: expected (3, 3, 1, 1), got (1, 3, 3, 1, 1)"),
])
def test_right_values_in_the_wrong_shape_are_told_so(check, answer, message):
    feedback = check(answer)
    assert not feedback and feedback.message == message


# --- what the rule refuses, and why ----------------------------------------------------------------
@pytest.mark.parametrize("check, answer, words", [
    (gan.check_generator_loss, lambda f: None, "you returned NoneType (is a `return` missing?)"),
    (gan.check_generator_loss, lambda f: "0.7", "return a torch tensor or a NumPy array"),
    (vae.check_gaussian_kl, lambda mu, lv: kl(mu, lv).half(), "torch.float16 tensor"),
    (vae.check_elbo, lambda *a: elbo(*a).bfloat16(), "torch.bfloat16 tensor"),
    (probability.check_posterior, lambda p, q: posterior(p, q, np.float16), "float16"),
    (probability.check_posterior, lambda p, q: posterior(p, q).astype(complex), "complex128"),
    (probability.check_posterior, lambda p, q: posterior(p, q).astype(int), "integer dtype"),
    (gan.check_optimal_discriminator, lambda p, q: (p.float() / (p + q).float()).double(),
     "right only to float32 precision"),
    (gan.check_generator_loss, lambda f: g_loss(f.float()).item(),
     "right only to float32 precision"),
])
def test_answers_outside_the_rule_are_told_why(check, answer, words):
    feedback = check(answer)
    assert not feedback and words in feedback.message, feedback.message


def test_a_numpy_reparameterisation_has_the_right_values_but_no_gradient():
    """The values follow the type rule; the exercise asks for more: gradients through z."""
    feedback = vae.check_reparameterize(_np(reparameterize))
    assert not feedback and "values are right but z carries no gradient" in feedback.message
    assert "NumPy" in feedback.message


@pytest.mark.parametrize("dtype, error, ok", [
    (np.float64, 1e-12, True), (np.float64, 1e-8, False),
    (np.float32, 1e-6, True), (np.float32, 1e-4, False),
])
def test_each_dtype_is_judged_to_its_own_precision(dtype, error, ok):
    want = np.array([1.0, -30.0, 1e-3])
    assert same((want * (1 + error)).astype(dtype), want) is ok
    assert same(torch.as_tensor((want * (1 + error)).astype(dtype)), torch.as_tensor(want)) is ok


def test_the_tolerances_are_the_documented_ones():
    assert TOLERANCE == {"float64": (1e-10, 1e-10), "float32": (1e-5, 1e-5)}
    assert "1e-10, 1e-10" in core.__doc__ and "1e-5,  1e-5" in core.__doc__


@pytest.mark.parametrize("answer, precision", [
    (1.5, "float64"), (3, "exact"), (True, "exact"), (np.float32(1.5), "float32"),
    (torch.tensor(1.5), "float32"), (torch.tensor([1, 2]), "exact"), ([0.5, 0.25], "float64"),
    (2**784, "exact"), (np.zeros(3, dtype=np.uint8), "exact"),
])
def test_read_answer_names_the_precision(answer, precision):
    assert read_answer(answer)[1] == precision


def test_integral_answers_are_exact_whatever_their_dtype():
    assert same(np.int64(7), 7, exact=True) and same(7.0, 7, exact=True)
    assert not same(2.0**784 - 1, 2**784 - 1, exact=True)
    assert same(np.array([True, False]), np.array([1.0, 0.0]))
