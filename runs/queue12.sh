#!/bin/bash
cd /work/main
export GM_DATA_DIR=/work/shared/data OMP_NUM_THREADS=1
nice -n 5 .venv/bin/python -m gm_helpers.train ddpm --epochs 40 --lr 1e-3 --lr-decay 0.95 --clip-grad 1 --batch-size 128 --threads 1 --max-minutes 70 --no-progress --out runs/ddpm.pt > runs/ddpm.log 2>&1
