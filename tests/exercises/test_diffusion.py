"""Lecture 08's checkers: the reference passes, and each usual mistake is named."""
import torch

from gm_helpers.exercises.diffusion import check_ancestral_step, check_eps_loss, check_forward_marginal


def forward_marginal(x0, eps, t, betas):
    alpha_bar = torch.prod(1 - betas[:t])
    return alpha_bar.sqrt() * x0 + (1 - alpha_bar).sqrt() * eps


def test_forward_marginal():
    assert check_forward_marginal(forward_marginal)
    f = check_forward_marginal(lambda x0, eps, t, b: (1 - b[t - 1]).sqrt() * x0 + b[t - 1].sqrt() * eps)
    assert not f and "alpha_bar" in f.message
    a = lambda b, t: torch.prod(1 - b[:t])          # noqa: E731
    f = check_forward_marginal(lambda x0, eps, t, b: a(b, t).sqrt() * x0 + (1 - a(b, t)) * eps)
    assert not f and "standard deviation" in f.message
    f = check_forward_marginal(lambda x0, eps, t, b: a(b, t) * x0 + (1 - a(b, t)).sqrt() * eps)
    assert not f and "square root" in f.message
    f = check_forward_marginal(lambda x0, eps, t, b: a(b, t + 1).sqrt() * x0 + (1 - a(b, t + 1)).sqrt() * eps)
    assert not f and "off by one" in f.message
    f = check_forward_marginal(lambda x0, eps, t, b: x0.float())
    assert not f and "wrong values" in f.message


def eps_loss(eps_net, x0, t, eps, alpha_bars):
    a = alpha_bars[t - 1].reshape(-1, *([1] * (x0.dim() - 1)))
    x_t = a.sqrt() * x0 + (1 - a).sqrt() * eps
    return (eps - eps_net(x_t, t)).pow(2).flatten(1).sum(1)


def test_eps_loss():
    assert check_eps_loss(eps_loss)
    f = check_eps_loss(lambda net, x0, t, eps, ab: (eps - net(x0, t)).pow(2).flatten(1).sum(1))
    assert not f and "clean image" in f.message

    def averaged(net, x0, t, eps, ab):
        return eps_loss(net, x0, t, eps, ab) / x0[0].numel()
    f = check_eps_loss(averaged)
    assert not f and "averaged" in f.message

    def noisy_target(net, x0, t, eps, ab):
        a = ab[t - 1].reshape(-1, *([1] * (x0.dim() - 1)))
        return (x0 - net(a.sqrt() * x0 + (1 - a).sqrt() * eps, t)).pow(2).flatten(1).sum(1)
    f = check_eps_loss(noisy_target)
    assert not f and "predicts the noise" in f.message
    def unfinished(*args):
        raise NotImplementedError
    assert "not implemented" in check_eps_loss(unfinished).message


def ancestral_step(x_t, t, eps_hat, z, betas):
    beta, alpha_bar = betas[t - 1], torch.prod(1 - betas[:t])
    mean = (x_t - beta / (1 - alpha_bar).sqrt() * eps_hat) / (1 - beta).sqrt()
    return mean + beta.sqrt() * z if t > 1 else mean


def test_ancestral_step():
    assert check_ancestral_step(ancestral_step)

    def always_noise(x_t, t, eps_hat, z, betas):
        beta, alpha_bar = betas[t - 1], torch.prod(1 - betas[:t])
        return (x_t - beta / (1 - alpha_bar).sqrt() * eps_hat) / (1 - beta).sqrt() + beta.sqrt() * z
    f = check_ancestral_step(always_noise)
    assert not f and "t = 1" in f.message

    def variance(x_t, t, eps_hat, z, betas):
        beta, alpha_bar = betas[t - 1], torch.prod(1 - betas[:t])
        mean = (x_t - beta / (1 - alpha_bar).sqrt() * eps_hat) / (1 - beta).sqrt()
        return mean + beta * z if t > 1 else mean
    f = check_ancestral_step(variance)
    assert not f and "standard deviation" in f.message

    def no_division(x_t, t, eps_hat, z, betas):
        beta, alpha_bar = betas[t - 1], torch.prod(1 - betas[:t])
        mean = x_t - beta / (1 - alpha_bar).sqrt() * eps_hat
        return mean + beta.sqrt() * z if t > 1 else mean
    f = check_ancestral_step(no_division)
    assert not f and "sqrt(alpha_t)" in f.message
