#!/bin/bash
# session of 2026-12-07: after the digit flow's run ends, export it, then lecture 08's 2-d DDPMs, then the digit DDPM
cd /work/main
export GM_DATA_DIR=/work/shared/data OMP_NUM_THREADS=1
while pgrep -f "digit_flow_small.run.pt" > /dev/null; do sleep 20; done
nice -n 5 .venv/bin/python -m gm_helpers.train half runs/digit_flow_small.pt --out gm_helpers/checkpoints/digit_flow.pt --threads 1 --eval-samples 100 > runs/digit_flow_half.log 2>&1
nice -n 5 .venv/bin/python -m gm_helpers.train ddpm_2d --data ring --seeds 0 1 2 3 4 --steps 10000 --out gm_helpers/checkpoints/ddpm2d_ring.pt > runs/ddpm2d_ring.log 2>&1
nice -n 5 .venv/bin/python -m gm_helpers.train ddpm_2d --data grid --seeds 0 1 2 3 4 --steps 10000 --out gm_helpers/checkpoints/ddpm2d_grid.pt > runs/ddpm2d_grid.log 2>&1
nice -n 5 .venv/bin/python -m gm_helpers.train ddpm --epochs 40 --lr 1e-3 --lr-decay 0.95 --clip-grad 1 --batch-size 128 --amp --threads 1 --max-minutes 100 --no-progress --out runs/ddpm.pt > runs/ddpm.log 2>&1
