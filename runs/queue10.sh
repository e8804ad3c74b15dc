#!/bin/bash
cd /work/main
export GM_DATA_DIR=/work/shared/data OMP_NUM_THREADS=1
while pgrep -f "masked_diffusion --epochs" > /dev/null; do sleep 15; done
nice -n 5 .venv/bin/python /tmp/orders_preview.py > /tmp/orders_preview.out 2>&1
nice -n 10 .venv/bin/python -m gm_helpers.train vae --epochs 3280 --batch-size 20 --lr 1e-3 --lr-schedule iwae --adam-eps 1e-4 --threads 1 --max-minutes 600 --no-progress --eval-samples 5000 --out runs/vae_paper.pt > runs/vae_paper.log 2>&1
