"""The course's block diagrams, drawn by code; each returns a matplotlib Figure (or draws into ``ax``).

    autoregressive  Diagrams of the autoregressive lectures: NADE's shared weights (03) and the
                    sampling orders of multi-scale models (04)
    drawing         Drawing primitives every diagram shares: a canvas, rounded boxes, arrows, and
                    one colour per role
    flows           Lecture 07's diagram: the affine coupling layer, forward and inverse, and its
                    log-determinant
    gan             The GAN's training loop (06): k discriminator steps, then one generator step
    latent          Diagrams of the latent-variable lecture (05): the VAE's computation and the
                    ELBO's gap
    taxonomy        The taxonomy of generative models by how they treat the likelihood, with each
                    lecture's place
"""
