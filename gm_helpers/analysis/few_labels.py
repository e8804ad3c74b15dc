"""The few-labels experiment: an unsupervised encoder as the start of a classifier.

Labels are expensive, images cheap. Train a classifier on n labelled images three ways: the
trained encoder (an autoencoder's or a VAE's) plus a linear head, all fine-tuned; the same
architecture from random weights; a linear model on raw pixels. Lecture 05 compares them with
100 and 1,000 labels.
"""
from __future__ import annotations

import copy

import torch


class CodeClassifier(torch.nn.Module):
    """``body`` (an encoder, or nothing for raw pixels) then a linear layer to class logits.

    ``CodeClassifier(copy.deepcopy(vae.encoder), 100, 10)``: an encoder-initialised classifier.
    ``forward(x)``: (B, D) -> (B, num_classes) logits.
    """

    def __init__(self, body, body_out: int, num_classes: int = 10):
        super().__init__()
        self.body = body if body is not None else torch.nn.Identity()
        self.head = torch.nn.Linear(body_out, num_classes)

    def forward(self, x):
        return self.head(self.body(x.flatten(1).float()))


def fit_classifier(model, x, y, steps: int = 300, lr: float = 1e-3, weight_decay: float = 1e-4,
                   seed: int = 0):
    """Full-batch Adam on the cross-entropy of a few labelled examples; returns the model."""
    torch.manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    model.train()
    for _ in range(steps):
        loss = torch.nn.functional.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model.eval()


@torch.no_grad()
def accuracy(model, x, y) -> float:
    return (model(x).argmax(1) == y).float().mean().item()


def few_label_experiment(encoder, encoder_out: int, x_pool, y_pool, x_eval, y_eval,
                         num_labels=(100, 1000), seed: int = 0, steps: int = 300) -> dict:
    """Accuracy on (x_eval, y_eval) of three classifiers trained on ``n`` labelled examples
    drawn from the pool, for each n: the trained encoder + a linear head (fine-tuned), the same
    architecture from a random start, and a linear model on raw pixels.

    Returns {n: {"encoder-initialised": acc, "random init": acc, "raw pixels": acc}}.
    """
    results, num_classes = {}, int(y_pool.max()) + 1
    for n in num_labels:
        g = torch.Generator().manual_seed(seed + n)
        idx = torch.randperm(len(x_pool), generator=g)[:n]
        x, y = x_pool[idx].flatten(1).float(), y_pool[idx]
        torch.manual_seed(seed)
        random_body = copy.deepcopy(encoder)
        for module in random_body.modules():
            if hasattr(module, "reset_parameters"):
                module.reset_parameters()
        models = {"encoder-initialised": CodeClassifier(copy.deepcopy(encoder), encoder_out,
                                                        num_classes),
                  "random init": CodeClassifier(random_body, encoder_out, num_classes),
                  "raw pixels": CodeClassifier(None, x.shape[1], num_classes)}
        results[n] = {name: accuracy(fit_classifier(m, x, y, steps=steps, seed=seed),
                                     x_eval.flatten(1).float(), y_eval)
                      for name, m in models.items()}
    return results
