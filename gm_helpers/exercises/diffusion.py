r"""Checkers for lecture 08's exercises (diffusion). Same contract as ``gm_helpers.exercises.core``:
run the student's function on several inputs, compare with the reference, and when it disagrees
name the usual mistake: alpha_t where alpha_bar_t belongs, a missing square root, a variance used
as a standard deviation, an off-by-one in the product, the clean image fed to the network, a
loss averaged where it is summed, or noise added at the last step.

Steps are 1-based as in the DDPM paper; ``betas[t - 1]`` is beta_t.

    forward marginal:  alpha_bar_t = prod_{s=1}^t (1 - beta_s)
                       x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) eps
    the loss:          L(x_0) = || eps - eps_theta(x_t, t) ||^2, summed over dimensions
    one ancestral step (sigma_t^2 = beta_t, no noise at t = 1):
                       x_{t-1} = (x_t - beta_t / sqrt(1 - alpha_bar_t) eps_theta) / sqrt(alpha_t) + sigma_t z
"""
from __future__ import annotations

import torch

from gm_helpers.exercises.core import Feedback, judge

BETAS = torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64)


def _alpha_bar(betas, t):
    return torch.prod(1 - betas[:t])


# ----------------------------------------------------------------------------- the forward marginal
def _marginal_cases():
    g = torch.Generator().manual_seed(21)
    cases = []
    for shape, t in [((3,), 1), ((2, 5), 100), ((4, 1, 3, 3), 600)]:
        x0 = torch.randn(*shape, generator=g, dtype=torch.float64)
        eps = torch.randn(*shape, generator=g, dtype=torch.float64)
        cases.append((x0, eps, torch.tensor(t), BETAS.clone()))
    return cases


def _marginal(coef_x, coef_eps):
    return lambda x0, eps, t, betas: coef_x(betas, int(t)) * x0 + coef_eps(betas, int(t)) * eps


def check_forward_marginal(fn) -> Feedback:
    """fn(x0, eps, t, betas) -> x_t drawn from q(x_t | x_0) with the given noise ``eps``; ``t``
    is a 0-d integer tensor (1-based step), ``betas`` the (T,) schedule."""
    def ab(b, t):
        return _alpha_bar(b, t)
    reference = _marginal(lambda b, t: ab(b, t).sqrt(), lambda b, t: (1 - ab(b, t)).sqrt())
    return judge(fn, _marginal_cases(), reference, {
        "you used alpha_t = 1 - beta_t of the last step alone: the marginal needs alpha_bar_t, the "
        "product of (1 - beta_s) over every step s = 1..t":
            _marginal(lambda b, t: (1 - b[t - 1]).sqrt(), lambda b, t: b[t - 1].sqrt()),
        "the square root on the image's coefficient is missing: x_t = sqrt(alpha_bar_t) x_0 + ...":
            _marginal(lambda b, t: ab(b, t), lambda b, t: (1 - ab(b, t)).sqrt()),
        "the noise is scaled by the variance 1 - alpha_bar_t; scale it by the standard deviation, "
        "sqrt(1 - alpha_bar_t)":
            _marginal(lambda b, t: ab(b, t).sqrt(), lambda b, t: 1 - ab(b, t)),
        "both square roots are missing: the coefficients are sqrt(alpha_bar_t) and "
        "sqrt(1 - alpha_bar_t), so that the variances add to 1":
            _marginal(lambda b, t: ab(b, t), lambda b, t: 1 - ab(b, t)),
        "off by one step: step t is betas[t - 1] (1-based); alpha_bar_t multiplies betas[0] .. "
        "betas[t - 1], which is betas[:t]":
            _marginal(lambda b, t: ab(b, t + 1).sqrt(), lambda b, t: (1 - ab(b, t + 1)).sqrt()),
        "off by one step: alpha_bar_t includes step t itself, betas[:t], not betas[:t - 1]":
            _marginal(lambda b, t: ab(b, t - 1).sqrt(), lambda b, t: (1 - ab(b, t - 1)).sqrt()),
        "the noise's coefficient is sqrt(1 - alpha_bar_t), not sqrt(beta_t) or sqrt(1 - beta_t): "
        "the noise of all t steps adds up":
            _marginal(lambda b, t: ab(b, t).sqrt(), lambda b, t: b[t - 1].sqrt()),
    }, "x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) eps: t steps of the chain in one",
        "one x_t per x_0, the same shape")


# ----------------------------------------------------------------------------- the loss
class _EpsNet:
    """A fixed stand-in for eps_theta(x_t, t): a smooth function of both (t as 1-based ints)."""

    def __call__(self, x_t, t):
        t = torch.as_tensor(t, dtype=torch.float64).reshape(-1, *([1] * (x_t.dim() - 1)))
        return torch.tanh(0.7 * x_t + 0.001 * t) - 0.1 * x_t


def _loss_cases():
    g = torch.Generator().manual_seed(23)
    cases = []
    for shape in [(1, 2), (4, 3), (3, 1, 4, 4)]:
        x0 = torch.randn(*shape, generator=g, dtype=torch.float64)
        t = torch.randint(1, 1001, (shape[0],), generator=g)
        eps = torch.randn(*shape, generator=g, dtype=torch.float64)
        cases.append((x0, t, eps, torch.cumprod(1 - BETAS, 0)))
    return cases


def _x_t(x0, t, eps, alpha_bars, sqrt=True):
    a = alpha_bars[t - 1].reshape(-1, *([1] * (x0.dim() - 1)))
    return (a.sqrt() * x0 + (1 - a).sqrt() * eps) if sqrt else (a * x0 + (1 - a) * eps)


def check_eps_loss(fn) -> Feedback:
    """fn(eps_net, x0, t, eps, alpha_bars) -> the loss per example, (B,): ``eps_net(x_t, t)``
    predicts the noise; ``t`` (B,) 1-based steps; ``alpha_bars`` (T,) with alpha_bar_t at t - 1."""
    net = _EpsNet()
    cases = _loss_cases()

    def flat(v):
        return v.flatten(1).sum(1)

    def ref(x0, t, eps, ab):
        return flat((eps - net(_x_t(x0, t, eps, ab), t)) ** 2)
    student = (lambda x0, t, eps, ab: fn(net, x0, t, eps, ab))
    return judge(student, cases, ref, {
        "the network was given the clean image x_0: it must see the noisy x_t = sqrt(alpha_bar_t) "
        "x_0 + sqrt(1 - alpha_bar_t) eps, and predict the eps that made it":
            lambda x0, t, eps, ab: flat((eps - net(x0, t)) ** 2),
        "you compared the prediction with x_0: the network predicts the noise eps, so the loss "
        "is || eps - eps_theta(x_t, t) ||^2":
            lambda x0, t, eps, ab: flat((x0 - net(_x_t(x0, t, eps, ab), t)) ** 2),
        "you averaged over the dimensions: the loss of one example sums them (each pixel's "
        "squared error counts), shape (B,)":
            lambda x0, t, eps, ab: ((eps - net(_x_t(x0, t, eps, ab), t)) ** 2).flatten(1).mean(1),
        "the square roots are missing in x_t: x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) eps":
            lambda x0, t, eps, ab: flat((eps - net(_x_t(x0, t, eps, ab, sqrt=False), t)) ** 2),
        "step t is alpha_bars[t - 1] (1-based steps): you read alpha_bars[t]":
            lambda x0, t, eps, ab: flat((eps - net(_x_t(x0, t.clamp(max=999) + 1, eps, ab), t)) ** 2),
        "the error is not squared: || eps - eps_theta ||^2":
            lambda x0, t, eps, ab: flat((eps - net(_x_t(x0, t, eps, ab), t)).abs()),
    }, "|| eps - eps_theta(sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) eps, t) ||^2: denoising, "
       "one number per example", "one loss per example, shape (B,)")


# ----------------------------------------------------------------------------- one ancestral step
def _step_cases():
    g = torch.Generator().manual_seed(29)
    cases = []
    for shape, t in [((3,), 1), ((2, 4), 10), ((2, 1, 3, 3), 700)]:
        x_t = torch.randn(*shape, generator=g, dtype=torch.float64)
        eps_hat = torch.randn(*shape, generator=g, dtype=torch.float64)
        z = torch.randn(*shape, generator=g, dtype=torch.float64)
        cases.append((x_t, torch.tensor(t), eps_hat, z, BETAS.clone()))
    return cases


def _step(mean_fn, sigma_fn, noise_at_1=False):
    def step(x_t, t, eps_hat, z, betas):
        t = int(t)
        noise = sigma_fn(betas, t) * z if (t > 1 or noise_at_1) else 0
        return mean_fn(x_t, t, eps_hat, betas) + noise
    return step


def _mean(x_t, t, eps_hat, betas):
    beta, a_bar = betas[t - 1], _alpha_bar(betas, t)
    return (x_t - beta / (1 - a_bar).sqrt() * eps_hat) / (1 - beta).sqrt()


def check_ancestral_step(fn) -> Feedback:
    """fn(x_t, t, eps_hat, z, betas) -> x_{t-1}: one step of DDPM's sampler with sigma_t^2 =
    beta_t, the network's prediction ``eps_hat`` and the standard normal draw ``z``; ``t`` a 0-d
    integer tensor (1-based), and no noise at t = 1."""
    sigma = lambda b, t: b[t - 1].sqrt()      # noqa: E731
    return judge(fn, _step_cases(), _step(_mean, sigma), {
        "noise was added at t = 1: the last step returns the mean, x_0 = mu_theta(x_1, 1) (a draw "
        "of noise there would blur the sample)":
            _step(_mean, sigma, noise_at_1=True),
        "the noise is scaled by the variance beta_t; scale it by the standard deviation, "
        "sigma_t = sqrt(beta_t)":
            _step(_mean, lambda b, t: b[t - 1]),
        "the noise's weight is beta_t / sqrt(1 - alpha_bar_t), not sqrt(1 - alpha_bar_t): you "
        "subtracted all of the noise at once (that is the x_0 estimate's numerator)":
            _step(lambda x, t, e, b: (x - (1 - _alpha_bar(b, t)).sqrt() * e) / (1 - b[t - 1]).sqrt(), sigma),
        "the division by sqrt(alpha_t) = sqrt(1 - beta_t) is missing":
            _step(lambda x, t, e, b: x - b[t - 1] / (1 - _alpha_bar(b, t)).sqrt() * e, sigma),
        "you divided by sqrt(alpha_bar_t): one step undoes one step's shrinking, sqrt(alpha_t) = "
        "sqrt(1 - beta_t), not all t of them":
            _step(lambda x, t, e, b: (x - b[t - 1] / (1 - _alpha_bar(b, t)).sqrt() * e)
                  / _alpha_bar(b, t).sqrt(), sigma),
        "the noise prediction is added, not subtracted: mu = (x_t - beta_t / sqrt(1 - alpha_bar_t) "
        "eps_theta) / sqrt(alpha_t)":
            _step(lambda x, t, e, b: (x + b[t - 1] / (1 - _alpha_bar(b, t)).sqrt() * e)
                  / (1 - b[t - 1]).sqrt(), sigma),
    }, "x_{t-1} = (x_t - beta_t / sqrt(1 - alpha_bar_t) eps_theta) / sqrt(alpha_t) + sqrt(beta_t) z, "
       "and no noise at t = 1", "one x_{t-1} per x_t, the same shape")
