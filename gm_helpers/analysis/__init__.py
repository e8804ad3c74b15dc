"""Measuring and comparing models: what the lectures compute about them.

    bayes           Bayes' rule in both directions, between generative and discriminative models
    counting        Choosing the smoothing on held-out data, and comparing the tabular models:
                    parameters against train and test NLL, from independence to the full joint
                    table (lectures 01 and 02)
    estimators      Two ways to differentiate an expectation: why the VAE reparameterises
    exact           Exact checks on tiny autoregressive models: what the tests and lecture 3 prove
                    by enumeration
    few_labels      The few-labels experiment: an unsupervised encoder as the start of a
                    classifier (lecture 05)
    flow_layers     Inside a flow: the density and the samples after each of its layers, counted
                    from the noise
    independence    Conditional independence, measured on data by counting (lecture 02)
    latent          Looking inside a VAE: exact integrals for small latents, and walks through the
                    latent space
    mixtures        The 2-d benchmark mixtures of the GAN papers, their mode-coverage protocol,
                    and the optimal discriminator and Jensen-Shannon divergence computed on a grid
    sample_quality  Scoring samples of digits without Inception weights: the eyes of a digit
                    classifier
    scores          Scores and Langevin dynamics: sampling from a density known only through
                    grad log p; denoising score matching (lecture 08)
    timing          How the lectures time models: CPU seconds on one thread, the fastest of a few
                    repeats (lectures 02, 04, 06)
"""
