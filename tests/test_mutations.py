"""Tests written to kill the three mutants that survived the suite (issue 11, class 8):

1. the training loop reporting the mean NLL over batches instead of over examples (wrong when
   the last batch is smaller);
2. NADE's completion sampler treating one given pixel as sampled, or one sampled as given;
3. PixelCNN's completion skipping the first row after the given ones.

Each test makes the mutant's result differ from the right one by construction."""
import torch

from gm_helpers.models.nade import NADE
from gm_helpers.models.pixelcnn import GatedPixelCNN, PixelCNN
from gm_helpers.training.loop import evaluate_loss, fit


def test_the_epoch_mean_is_over_examples_not_batches():
    """101 examples in batches of 100 and 1; with a learning rate of 0 the weights do not move,
    so the epoch's mean training NLL must equal the mean over the 101 examples. The mean of the
    two batch means would give the lone last example the weight of a hundred."""
    model = NADE(D=6, H=3)
    with torch.no_grad():
        model.V.zero_()
        model.b.fill_(-3.0)             # all-ones images cost ~18 nats, all-zeros ~0.3
    x = torch.cat([torch.ones(50, 6), torch.zeros(51, 6)])
    optimizer = torch.optim.SGD(model.parameters(), lr=0.0)
    torch.manual_seed(0)
    mean = fit(model, x, num_epochs=1, batch_size=100, optimizer=optimizer,
               progress=False)["train_nll"][0]
    per_example = -model.log_prob(x).detach()
    assert abs(mean - per_example.mean().item()) < 1e-5
    assert abs(mean - evaluate_loss(model, x)) < 1e-5
    torch.manual_seed(0)
    perm = torch.randperm(101)          # the shuffle fit drew
    batch_means = (per_example[perm[:100]].mean() + per_example[perm[100:]].mean()) / 2
    assert abs(batch_means.item() - per_example.mean().item()) > 4   # what the mutant reports


def _certain_nade(D=6):
    """A NADE that draws 1 for every pixel with probability ~1 (output bias +50)."""
    model = NADE(D=D, H=2, order=[3, 0, 5, 1, 4, 2])
    with torch.no_grad():
        model.V.zero_()
        model.b.fill_(50.0)
    return model


def test_nade_completion_copies_exactly_num_given_pixels_in_its_order():
    model = _certain_nade()
    given = torch.zeros(4, 6)           # the model would never draw these 0s
    for num_given in range(0, 7):
        x = model.sample(4, given=given, num_given=num_given)
        order = model.order.tolist()
        for t, d in enumerate(order):   # given in the model's order, then sampled
            assert (x[:, d] == (0.0 if t < num_given else 1.0)).all(), (num_given, t, d)


def _certain_pixelcnn(model):
    with torch.no_grad():
        last = model.head[-1]
        last.weight.zero_()
        last.bias.fill_(50.0)            # p(x = 1) ~ 1 everywhere
    return model


def test_pixelcnn_completion_samples_every_row_after_the_given_ones():
    for model in (PixelCNN(hidden=2, num_layers=1, image_size=5),
                  GatedPixelCNN(hidden=2, num_layers=1, kernel_size=3, image_size=5)):
        model = _certain_pixelcnn(model)
        given = torch.zeros(2, 1, 5, 5)
        for rows in range(0, 6):
            x = model.sample(2, given=given, num_given_rows=rows) if rows else model.sample(2)
            assert (x[:, :, :rows] == 0).all(), rows       # the given rows, untouched
            assert (x[:, :, rows:] == 1).all(), rows       # every later row sampled
