#!/bin/bash
cd /work/main
export GM_DATA_DIR=/work/shared/data OMP_NUM_THREADS=1
while pgrep -f "queue13.sh" > /dev/null; do sleep 10; done
.venv/bin/python runs/ship.py masked_diffusion.pt >> runs/post_masked.log 2>&1
nice -n 5 .venv/bin/python -m gm_helpers.train masked_orders --of masked_diffusion.pt --num 50 --out gm_helpers/checkpoints/masked_orders.json >> runs/post_masked.log 2>&1
