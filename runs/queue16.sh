#!/bin/bash
# lecture 08's digit files, once the DDPM's run has ended: ship it, draw 10,000 samples with 50
# DDIM steps, then the steps-against-quality table (500 digits per row)
cd /work/main
export GM_DATA_DIR=/work/shared/data OMP_NUM_THREADS=1
while pgrep -f "queue15.sh" > /dev/null || pgrep -f "queue12.sh" > /dev/null; do sleep 10; done
.venv/bin/python runs/ship.py ddpm.pt >> runs/post.log 2>&1
nice -n 5 .venv/bin/python -m gm_helpers.train samples --of ddpm.pt --num 10000 --steps 50 --threads 1 --out gm_helpers/checkpoints/ddpm_samples.pt >> runs/post.log 2>&1
