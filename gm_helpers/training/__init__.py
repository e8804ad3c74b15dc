"""Training: the loop a lecture prints, and everything long runs need around it.

    bench       How fast does each model train and sample on this machine? A benchmark, not a test
    checkpoint  Checkpoints: safe loading and checking, the shipped files and their manifest
    classifier  Training the digit classifier whose eyes score generated digits, and its command
                lines
    cli         The command line that trains the shipped checkpoints: ``python -m
                gm_helpers.train``
    cli_args    Its arguments: the parser, a resumed run's stored command line, and every check
                made before the data are loaded
    diffusion2d Diffusion models on the 2-d benchmark mixtures of lecture 06: DDPM by its simple
                loss and score networks by denoising, judged by lecture 06's mode table
    diffusion_tables  The tables lecture 08 measures once: sampling steps against sample
                quality, and the masked diffusion model's exact NLL along single orderings
    flows2d     Normalizing flows on the 2-d benchmark mixtures of lecture 06: maximum likelihood,
                measured against the data's entropy and with lecture 06's mode table
    gan         Training GANs: Algorithm 1 as two explicit steps, ``d_step`` and ``g_step``, and
                the DCGAN
    gan_toy     GANs on the 2-d benchmark mixtures: runs you can watch, mode collapse, and two
                remedies
    half        A float16 copy of a finished checkpoint, re-measured: ``python -m gm_helpers.train
                half``
    loop        The training loop of the course, and the helpers it calls: plain, visible PyTorch
    runs        Runs you can stop and resume: everything a long run needs, wrapped around
                ``loop.fit``
    saving      Saving checkpoints: atomic, byte-identical writes, weights in float32 or rounded to
                float16
"""
