#!/bin/bash
# masked diffusion after the 2-d DDPMs (queue11's own masked line asked for bf16, which this CPU lacks)
cd /work/main
export GM_DATA_DIR=/work/shared/data OMP_NUM_THREADS=1
while pgrep -f "queue11.sh" > /dev/null || pgrep -f "train ddpm_2d" > /dev/null; do sleep 10; done
nice -n 5 .venv/bin/python -m gm_helpers.train masked_diffusion --epochs 40 --lr 1e-3 --lr-decay 0.95 --clip-grad 1 --batch-size 128 --threads 1 --max-minutes 55 --eval-samples 16 --no-progress --out runs/masked_diffusion.pt > runs/masked_diffusion.log 2>&1
