"""The models, one file per family; shared layers in ``layers``; the trainable ones in ``registry``.

    classifier  The digit classifier whose eyes score generated digits (lecture 06's label
                histograms and Frechet distances): a small convolutional network, about 98 %
                accurate on held-out digits
    dcgan       A DCGAN for 28x28 binary digits: the generator, the discriminator and instance
                noise
    dequantization  Dequantization: a flow over x + u bounds binary data's NLL (uniform and learned
                q(u|x), and the importance-weighted estimate that tightens the bound)
    diffusion   DDPM: a fixed chain that adds noise, and a network that learns to take it away
                (forward marginal, L_simple, ancestral and DDIM samplers, the ELBO of 2-d data)
    flows       Normalizing flows: invertible layers with exact log-determinants (affine coupling,
                permutation, invertible 1x1 mixing, MAF on MADE's masks, IAF as MAF inverted),
                composed into a density
    fvsbn       FVSBN: the fully visible sigmoid belief network, a logistic regression per pixel
    gan         GAN networks and losses: the MLP generator and discriminator of the 2-d
                experiments, PacGAN's packed discriminator, and the discriminator's and both
                generator losses
    iaf_vae     A VAE whose posterior is a normalizing flow: inverse autoregressive flow steps on z
    layers      Pieces that several models share, written once
    logistic_mixture  PixelCNN++'s likelihood: a discretized mixture of logistics over a
                pixel's levels
    made        MADE: the masked autoencoder for distribution estimation
    nade        NADE: the neural autoregressive distribution estimator
    ngram       AR(k) over the characters of a text: the n-gram language model, counted and
                smoothed
    masked_diffusion  Masked (absorbing-state) diffusion for binary images: an any-order
                autoregressive model with an exact bound on the NLL
    multiscale  Multi-scale sampling orders: which pixels are drawn at which sequential step
                (raster, multi-scale PixelRNN, Reed et al.'s parallel multiscale PixelCNN)
    pixelcnn    PixelCNN, Gated PixelCNN and the PixelCNN with PixelCNN++'s mixture output: the
                chain rule over pixels, computed by masked convolutions
    pixelcnn_cache  Sampling a PixelCNN without recomputing the past: each layer's outputs
                cached, pixel by pixel (the same samples, a fraction of the cost)
    pixelrnn    PixelRNN: two-dimensional LSTMs that read an image pixel by pixel
    ppca        Probabilistic PCA, fitted by maximum likelihood in closed form
    registry    The registry of trainable models: a checkpoint names its model, ``build_model``
                rebuilds it
    rnade       RNADE: NADE for real-valued vectors, a mixture of Gaussians per conditional
    spline_flows  Neural spline flows: coupling layers whose elementwise map is a monotone
                rational-quadratic spline
    tabular     Counting parameters, and the tabular models whose counts we compare
    unet        A small U-Net for 28x28 digits, sized for a CPU: the denoiser of lecture 08's
                diffusion models
    vae         Autoencoders, the variational autoencoder and the importance-weighted bound
"""
