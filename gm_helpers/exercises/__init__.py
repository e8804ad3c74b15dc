"""The exercises' checkers: the core that runs student code, one module per lecture.

    autoregressive  Lecture 02's exercises: AR parameter counts, conditionals from a joint, the
                    Markov log-likelihood, and an ancestral sampler for an AR model
    core            The checker core: run the student's code safely, compare with the reference,
                    name the mistake
    diffusion       Checkers for lecture 08's exercises (diffusion): the forward marginal, the
                    noise-prediction loss and one ancestral sampling step
    flows           Checkers for lecture 07's exercises (normalizing flows): the change of
                    variables in 1-d, the coupling layer's log-determinant and its inverse
    gan             Checkers for lecture 06's exercises (GANs)
    made            Lecture 03's exercises: NADE's parameter count, MADE's masks, log-mean-exp,
                    and building a whole MADE (checked by gradients and by exact enumeration)
    pixel           Lecture 04's exercises: the type-A mask, rows above, the PixelRNN skew, the
                    RGB mask and the gated layer
    probability     Lecture 01's exercises: parameter counts, Bayes' rule, the Bernoulli NLL
    vae             Checkers for lecture 05's exercises (the VAE)
"""
