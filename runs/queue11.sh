#!/bin/bash
# session of 2026-12-07 (second): lecture 08's models, redone (the draft branch and run files were lost with the environment)
cd /work/main
export GM_DATA_DIR=/work/shared/data OMP_NUM_THREADS=1
for d in ring grid; do
  nice -n 5 .venv/bin/python -m gm_helpers.train ddpm_2d --data $d --seeds 0 1 2 3 4 --steps 10000 --threads 1 --out gm_helpers/checkpoints/ddpm2d_$d.pt > runs/ddpm2d_$d.log 2>&1
done
nice -n 5 .venv/bin/python -m gm_helpers.train masked_diffusion --epochs 40 --lr 1e-3 --lr-decay 0.95 --clip-grad 1 --batch-size 128 --threads 1 --max-minutes 70 --eval-samples 16 --no-progress --out runs/masked_diffusion.pt > runs/masked_diffusion.log 2>&1
