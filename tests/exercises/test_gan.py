"""Lecture 06's checkers accept right answers (in several spellings) and name each usual mistake."""
import pytest
import torch
import torch.nn.functional as F

from gm_helpers.exercises.gan import (
    check_discriminator_loss,
    check_generator_loss,
    check_optimal_discriminator,
)


def good_d_loss(real_logits, fake_logits):
    d_real, d_fake = torch.sigmoid(real_logits), torch.sigmoid(fake_logits)
    return -(torch.log(d_real).mean() + torch.log(1 - d_fake).mean())


def bce_d_loss(real_logits, fake_logits):
    return (F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
            + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits)))


@pytest.mark.parametrize("answer, message", [
    (good_d_loss, None),
    (bce_d_loss, None),
    (lambda r, f: -good_d_loss(r, f), "sign error"),
    (lambda r, f: good_d_loss(f, r), "swapped"),
    (lambda r, f: -(torch.sigmoid(r).mean() + (1 - torch.sigmoid(f)).mean()), "log is missing"),
    (lambda r, f: -(F.logsigmoid(r).mean() + F.logsigmoid(f).mean()), "log(1 - D(G(z)))"),
    (lambda r, f: -(F.logsigmoid(r).sum() + F.logsigmoid(-f).sum()), "summed over the batch"),
    (lambda r, f: -(torch.log(r.abs()).mean() + torch.log((1 - f).abs()).mean()), "sigmoid"),
    (lambda r, f: torch.stack([good_d_loss(r, f)] * 2), "one number"),
    (lambda r, f: F.binary_cross_entropy_with_logits(
        torch.cat([r, f]), torch.cat([torch.ones_like(r), torch.zeros_like(f)])),
     "one mean over the concatenated batch"),
    (lambda r, f: F.binary_cross_entropy_with_logits(
        torch.cat([r, f]), torch.cat([torch.ones_like(r), torch.zeros_like(f)])),
     "half of D's loss"),
    (lambda r, f: None, "return a torch tensor"),
    (lambda r, f: 1 / 0, "ZeroDivisionError"),
])
def test_check_discriminator_loss(answer, message):
    feedback = check_discriminator_loss(answer)
    assert bool(feedback) is (message is None), feedback
    if message:
        assert message in repr(feedback)


@pytest.mark.parametrize("answer, message", [
    (lambda p, q: p / (p + q), None),
    (lambda p, q: 1 / (1 + q / p), None),
    (lambda p, q: q / (p + q), "1 - D*"),
    (lambda p, q: p / q, "density ratio"),
    (lambda p, q: p / (p + q).sum(), "pointwise"),
    (lambda p, q: (p / (p + q)).mean(), "return shape"),
])
def test_check_optimal_discriminator(answer, message):
    feedback = check_optimal_discriminator(answer)
    assert bool(feedback) is (message is None), feedback
    if message:
        assert message in repr(feedback)


@pytest.mark.parametrize("answer, message", [
    (lambda f: -torch.log(torch.sigmoid(f)).mean(), None),
    (lambda f: F.softplus(-f).mean(), None),
    (lambda f: F.binary_cross_entropy_with_logits(f, torch.ones_like(f)), None),
    (lambda f: torch.log(1 - torch.sigmoid(f)).mean(), "saturating"),
    (lambda f: F.binary_cross_entropy_with_logits(f, torch.zeros_like(f)),
     "the discriminator's label for fakes"),
    (lambda f: -torch.log(1 - torch.sigmoid(f)).mean(), "BCE(D(G(z)), 0)"),
    (lambda f: torch.log(torch.sigmoid(f)).mean(), "sign error"),
    (lambda f: -torch.sigmoid(f).mean(), "log is missing"),
    (lambda f: (1 - torch.log(torch.sigmoid(f))).mean(), "1 - log D(G(z))"),
    (lambda f: -torch.log(f.abs()).mean(), "-log(logit)"),
    (lambda f: F.softplus(-f).sum(), "summed"),
    (lambda f: 2 * F.softplus(-f).mean(), "wrong values"),
    (lambda f: (_ for _ in ()).throw(NotImplementedError), "not implemented"),
])
def test_check_generator_loss(answer, message):
    feedback = check_generator_loss(answer)
    assert bool(feedback) is (message is None), feedback
    if message:
        assert message in repr(feedback)
