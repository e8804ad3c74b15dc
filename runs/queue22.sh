#!/bin/bash
# Issue 23: the digit DDPM's 10,000 shipped samples with the stochastic strided sampler (50 steps, eta = 1), then the steps table with both noise levels
export GM_DATA_DIR=/work/shared/data OMP_NUM_THREADS=1
PY=.venv/bin/python
$PY -m gm_helpers.train samples --of ddpm.pt --num 10000 --steps 50 --eta 1 --threads 1 --overwrite --out gm_helpers/checkpoints/ddpm_samples.pt > runs/ddpm_samples.log 2>&1
$PY -m gm_helpers.train diffusion_steps --of ddpm.pt --num 300 --steps 10 20 50 100 1000 --eta 0 1 --threads 1 --out gm_helpers/checkpoints/ddpm_steps.json > runs/ddpm_steps.log 2>&1
