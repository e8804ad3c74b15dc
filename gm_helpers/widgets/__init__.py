"""The explorers of the lectures: the framework in ``core``, one module per lecture.

    autoregressive  Lecture 02's explorer: AR(k) models on image patches, by order k and pixel
                    ordering
    core            The explorer framework: the logic is plain functions; widgets only call them
    counting        Lecture 01's explorer: how many numbers each assumption needs
    diffusion       Lecture 08's explorer: scrub through a diffusion model's reverse process, from
                    noise to data
    flows           Lecture 07's explorer: a flow's density and samples after each of its layers,
                    from the noise
    gan             Lecture 06's figures and explorers
    made            Lecture 03's explorer: MADE's masks and which inputs each output can reach
    pixel           Lecture 04's explorers: masked-convolution masks (types A and B, RGB groups)
                    and the receptive fields of PixelCNN, Gated PixelCNN and the PixelRNNs, blind
                    spot included
    vae             Lecture 05's explorers: walk the latent space of a VAE
"""
