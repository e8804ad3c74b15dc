"""gm_helpers: the tested package behind the interactive lectures on deep generative models.

The map (each folder's ``__init__.py`` lists its modules):

    data          the datasets: binarized MNIST, grayscale and colour digits, patches, 2-d rings
    viz           plots: images, parameter counts, learning curves, MADE's graph
    diagrams      the block diagrams: the taxonomy, NADE's shared weights, the VAE, the GAN loop
    checks        validation of sizes, choices and command-line arguments, shared by all
    models/       the models, one file per family, and the registry of trainable ones
    analysis/     measuring and comparing: exact enumeration, estimators, latent grids, Bayes,
                  independence, the GAN mixtures, sample quality
    training/     the loop a lecture prints (``fit``), runs around it (resume, budgets, DDP),
                  checkpoints, the command line ``python -m gm_helpers.train``, the benchmark
    widgets/      the explorer framework and one module of explorers per lecture
    exercises/    the checker core and one module of checkers per lecture
    course/       student copies, the claims ledger, notebook execution, the hosting setting, the
                  generated tables and links of the README and the instructor guide

Dependencies point one way: models import only data and checks; analysis imports models;
training imports models and analysis; widgets and exercises import what is below them; course
sits on top. Import what you need, e.g. ``from gm_helpers.data import load_binarized_mnist``;
nothing heavy happens at import time.
"""
__version__ = "0.3.0"
