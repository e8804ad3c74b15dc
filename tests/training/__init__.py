"""Tests of gm_helpers.training: the loop, runs, checkpoints, the command line, GANs, the benchmark."""
